"""Reading the outbox (staff), a user's own notices and preferences, retrying, and one sender round."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from app.access import STAFF_ROLES, course_for, is_row_id
from app.audit.service import audit_record
from app.config import Settings
from app.errors import Conflict, Forbidden, NotFound
from app.models import Notice, NoticeOptOut, User
from app.notify.schedule import digests_schedule, reminders_schedule
from app.notify.sender import DeliveryStats, notices_deliver
from app.outbox.render import OPTIONAL_KINDS

log = logging.getLogger(__name__)

STATUSES = ("pending", "sending", "sent", "failed", "skipped")
ERR_NO_NOTICE = "No such notice."
ERR_NOT_FAILED = "Only a failed notice can be retried; this one is {status}."
MSG_NO_SMTP = "Email is not configured (TRACKER_SMTP_URL is unset): notices wait in the outbox and are not sent."


def notice_preferences(session: Session, *, user: User) -> dict[str, bool]:
    """Whether the user receives each optional kind (reminders, digests); true unless turned off."""
    off = set(session.exec(select(NoticeOptOut.kind).where(NoticeOptOut.user_id == user.id)))
    return {kind: kind not in off for kind in OPTIONAL_KINDS}


def notice_preferences_set(session: Session, *, user: User, choices: dict[str, bool], now: datetime) -> dict[str, bool]:
    """Turn optional kinds on or off (kinds not named stay as they are); audited when something changes."""
    before = notice_preferences(session, user=user)
    rows = {o.kind: o for o in session.exec(select(NoticeOptOut).where(NoticeOptOut.user_id == user.id))}
    for kind, wanted in choices.items():
        if wanted and kind in rows:
            session.delete(rows[kind])
        elif not wanted and kind not in rows:
            session.add(NoticeOptOut(user_id=user.id or 0, kind=kind, created_at=now))
    session.flush()
    after = notice_preferences(session, user=user)
    if after != before:
        audit_record(
            session,
            at=now,
            actor=user,
            action="notice.preferences",
            entity="user",
            entity_id=user.id,
            course_id=None,
            before=before,
            after=after,
        )
    return after


def my_notices(session: Session, *, user: User, limit: int = 100) -> list[Notice]:
    """The notices written to the user that were sent, newest first."""
    return list(
        session.exec(
            select(Notice)
            .where(Notice.user_id == user.id, Notice.status == "sent")
            .order_by(col(Notice.sent_at).desc(), col(Notice.id).desc())
            .limit(limit)
        )
    )


def my_notice(session: Session, *, user: User, notice_id: int) -> Notice:
    """One sent notice of the user, with its bodies; NotFound for anyone else's."""
    notice = session.get(Notice, notice_id) if is_row_id(notice_id) else None
    if notice is None or notice.user_id != user.id or notice.status != "sent":
        raise NotFound(ERR_NO_NOTICE)
    return notice


@dataclass(frozen=True)
class OutboxPage:
    """A course's notices of one status (or all), newest first, with the count of each status."""

    notices: list[tuple[Notice, User]]
    counts: dict[str, int]


def outbox_list(
    session: Session, *, user: User, course_id: int, status: str | None = None, limit: int = 200
) -> OutboxPage:
    """The course's outbox (staff): who is told what, and whether it went."""
    course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    query = select(Notice, User).join(User, col(User.id) == col(Notice.user_id)).where(Notice.course_id == course_id)
    if status is not None:
        query = query.where(Notice.status == status)
    rows = session.exec(query.order_by(col(Notice.id).desc()).limit(limit)).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(
        {
            s: n
            for s, n in session.exec(
                select(Notice.status, func.count(col(Notice.id)))
                .where(Notice.course_id == course_id)
                .group_by(col(Notice.status))
            )
        }
    )
    return OutboxPage(notices=[(n, u) for n, u in rows], counts=counts)


def notice_retry(session: Session, *, user: User, notice_id: int, now: datetime) -> tuple[Notice, User]:
    """Put a failed notice back in the queue with fresh attempts (staff of its course); audited."""
    notice = session.get(Notice, notice_id) if is_row_id(notice_id) else None
    if notice is None or notice.course_id is None:
        raise NotFound(ERR_NO_NOTICE)
    try:
        course_for(session, course_id=notice.course_id, user=user, roles=STAFF_ROLES)
    except (NotFound, Forbidden):  # the outbox is the staff's: to a student its notices do not exist
        raise NotFound(ERR_NO_NOTICE) from None
    if notice.status != "failed":
        raise Conflict(ERR_NOT_FAILED.format(status=notice.status), code="notice_not_failed")
    audit_record(
        session,
        at=now,
        actor=user,
        action="notice.retry",
        entity="notice",
        entity_id=notice.id,
        course_id=notice.course_id,
        before={"status": notice.status, "attempts": notice.attempts, "last_error": notice.last_error},
    )
    notice.status, notice.attempts, notice.next_attempt_at, notice.claimed_until = "pending", 0, now, None
    session.add(notice)
    session.flush()
    recipient = session.get(User, notice.user_id)
    assert recipient is not None  # the notice's foreign key names the user
    return notice, recipient


@dataclass(frozen=True)
class RoundResult:
    """What one sender round wrote and delivered."""

    reminders: int
    digests: int
    delivery: DeliveryStats


def notify_round(engine: Engine, *, settings: Settings, clock: Callable[[], datetime]) -> RoundResult:
    """One round of the sender: write due reminders and digests (committed), then deliver what is due."""
    with Session(engine, expire_on_commit=False) as session:
        now = clock()
        reminders = reminders_schedule(session, now=now)
        digests = digests_schedule(session, now=now)
        session.commit()
    return RoundResult(
        reminders=reminders, digests=digests, delivery=notices_deliver(engine, settings=settings, clock=clock)
    )


class SenderLoop(threading.Thread):
    """The sender running beside the web server: a round, then a pause, until stopped."""

    def __init__(self, engine: Engine, *, settings: Settings, clock: Callable[[], datetime]) -> None:
        super().__init__(name="notice-sender", daemon=True)
        self.engine, self.settings, self.clock = engine, settings, clock
        self.stopping = threading.Event()

    def run(self) -> None:
        """Rounds until `stop`; a failing round is logged and the next one tries again."""
        while not self.stopping.is_set():
            try:
                result = notify_round(self.engine, settings=self.settings, clock=self.clock)
                if result.delivery.sent or result.delivery.retrying or result.delivery.failed:
                    log.info(
                        "notices: %d sent, %d to retry, %d failed",
                        result.delivery.sent,
                        result.delivery.retrying,
                        result.delivery.failed,
                    )
            except Exception:
                log.exception("the notice sender's round failed; trying again in %s s", self.settings.notify_interval_s)
            self.stopping.wait(self.settings.notify_interval_s)

    def stop(self) -> None:
        """Finish the current round and end."""
        self.stopping.set()
