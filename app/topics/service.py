"""Topics: a group proposes {title, area, summary}; staff approve or reject it with a comment."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app.access import group_for
from app.audit.service import audit_record
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Topic, User
from app.outbox.events import notice_topic_decision

AREAS = ("computer vision", "nlp", "reinforcement learning", "recommender systems", "other")
PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"

ERR_UNKNOWN_AREA = f"The area must be one of: {', '.join(AREAS)}."
ERR_ONLY_MEMBERS_PROPOSE = "Only the group's members propose its topic."
ERR_ONLY_STAFF_DECIDE = "Only course staff approve or reject a topic."
ERR_NO_TOPIC = "The group has not proposed a topic yet."
ERR_REJECT_NEEDS_COMMENT = "Say why the topic is rejected: a rejection needs a comment."


def _snapshot(topic: Topic) -> dict[str, Any]:
    return {
        "title": topic.title,
        "area": topic.area,
        "summary": topic.summary,
        "status": topic.status,
        "decision_comment": topic.decision_comment,
    }


def topic_area_normalise(area: str) -> str:
    """The stored spelling of an area ("NLP" -> "nlp"); 422 for an unknown one."""
    value = " ".join(area.split()).lower()
    if value not in AREAS:
        raise InvalidInput(ERR_UNKNOWN_AREA, field="area")
    return value


def topic_of(session: Session, *, group_id: int) -> Topic | None:
    """The group's topic, if it proposed one."""
    return session.exec(select(Topic).where(Topic.group_id == group_id)).first()


def topic_is_approved(session: Session, *, group_id: int) -> bool:
    """Whether the group's topic is approved (the proposal milestone requires it)."""
    topic = topic_of(session, group_id=group_id)
    return topic is not None and topic.status == APPROVED


def topic_get(session: Session, *, user: User, group_id: int) -> Topic:
    """The group's topic, for its members and the course staff; 404 when none was proposed."""
    group_for(session, group_id=group_id, user=user)
    topic = topic_of(session, group_id=group_id)
    if topic is None:
        raise NotFound(ERR_NO_TOPIC)
    return topic


def topic_propose(
    session: Session, *, user: User, group_id: int, title: str, area: str, summary: str, now: datetime
) -> Topic:
    """A member proposes (or re-proposes) the group's topic; any earlier decision is cleared."""
    access = group_for(session, group_id=group_id, user=user)
    if not access.is_member:
        raise Forbidden(ERR_ONLY_MEMBERS_PROPOSE)
    title = title.strip()
    if not title:
        raise InvalidInput("The title may not be blank.", field="title")
    area = topic_area_normalise(area)
    topic = topic_of(session, group_id=group_id)
    before = _snapshot(topic) if topic else None
    if topic is None:
        topic = Topic(group_id=group_id, title=title, area=area, summary=summary.strip(), updated_at=now)
    topic.title, topic.area, topic.summary = title, area, summary.strip()
    topic.status, topic.decision_comment, topic.decided_by, topic.decided_at = PROPOSED, None, None, None
    topic.updated_at = now
    session.add(topic)
    session.flush()
    audit_record(
        session,
        at=now,
        actor=user,
        action="topic.propose",
        entity="topic",
        entity_id=topic.id,
        course_id=access.course.id,
        before=before,
        after=_snapshot(topic),
    )
    return topic


def topic_decide(session: Session, *, user: User, group_id: int, decision: str, comment: str, now: datetime) -> Topic:
    """Staff approve or reject the group's topic, with a comment (required to reject)."""
    access = group_for(session, group_id=group_id, user=user)
    if not access.is_staff:
        raise Forbidden(ERR_ONLY_STAFF_DECIDE)
    topic = topic_of(session, group_id=group_id)
    if topic is None:
        raise Conflict(ERR_NO_TOPIC, code="no_topic")
    comment = comment.strip()
    if decision == "reject" and not comment:
        raise InvalidInput(ERR_REJECT_NEEDS_COMMENT, field="comment")
    before = _snapshot(topic)
    topic.status = APPROVED if decision == "approve" else REJECTED
    topic.decision_comment = comment or None
    topic.decided_by = user.id
    topic.decided_at = now
    session.add(topic)
    session.flush()
    audit_record(
        session,
        at=now,
        actor=user,
        action=f"topic.{decision}",
        entity="topic",
        entity_id=topic.id,
        course_id=access.course.id,
        before=before,
        after=_snapshot(topic),
    )
    notice_topic_decision(session, course=access.course, group=access.group, topic=topic, now=now)
    return topic
