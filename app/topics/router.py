"""Topic endpoints: read, propose, decide."""

from fastapi import APIRouter

from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute
from app.topics import service
from app.topics.presenters import topic_public
from app.topics.schemas import TopicDecision, TopicProposal, TopicPublic

router = APIRouter(tags=["topics"], route_class=TransactionRoute)


@router.get("/groups/{group_id}/topic")
def get_topic(session: SessionDep, user: CurrentUser, group_id: int) -> TopicPublic:
    """The group's topic and its status (members and staff)."""
    return topic_public(service.topic_get(session, user=user, group_id=group_id))


@router.put("/groups/{group_id}/topic")
def propose_topic(
    session: SessionDep, clock: ClockDep, user: CurrentUser, group_id: int, body: TopicProposal
) -> TopicPublic:
    """Propose or re-propose the group's topic (members); the status becomes "proposed"."""
    return topic_public(
        service.topic_propose(
            session, user=user, group_id=group_id, title=body.title, area=body.area, summary=body.summary, now=clock()
        )
    )


@router.post("/groups/{group_id}/topic/decision")
def decide_topic(
    session: SessionDep, clock: ClockDep, user: CurrentUser, group_id: int, body: TopicDecision
) -> TopicPublic:
    """Approve or reject the group's topic with a comment (staff)."""
    return topic_public(
        service.topic_decide(
            session, user=user, group_id=group_id, decision=body.decision, comment=body.comment, now=clock()
        )
    )
