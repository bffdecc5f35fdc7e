"""Writing notices into the outbox, in the caller's transaction (services never commit).

`notice_enqueue` only adds rows to the session it is given: when the change that caused the
notice rolls back, the notice goes with it; when it commits, the notice is in the outbox and
the sender will deliver it.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.config import get_settings
from app.models import CourseMember, GroupMembership, Notice, NoticeOptOut, User
from app.outbox.render import OPTIONAL_KINDS, notice_render

# Kinds that go even to a disabled account: it must learn what happened to it.
TO_DISABLED_ACCOUNTS = frozenset({"account_disabled"})


def link(path: str) -> str:
    """An absolute link for an email, under the public address of the service."""
    return get_settings().public_url.rstrip("/") + path


def opted_out(session: Session, *, kind: str, user_ids: Iterable[int]) -> set[int]:
    """Which of these users turned `kind` off (always none for the kinds that cannot be turned off)."""
    ids = list(user_ids)
    if kind not in OPTIONAL_KINDS or not ids:
        return set()
    return set(
        session.exec(select(NoticeOptOut.user_id).where(NoticeOptOut.kind == kind, col(NoticeOptOut.user_id).in_(ids)))
    )


def _deliverable(users: Iterable[User], kind: str) -> list[User]:
    return [u for u in users if u.email and (u.is_active or kind in TO_DISABLED_ACCOUNTS)]


def notice_enqueue(
    session: Session,
    *,
    kind: str,
    users: Iterable[User],
    context: dict[str, Any],
    now: datetime,
    course_id: int | None = None,
    secret: str | None = None,
    expires_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> list[Notice]:
    """Add one notice of `kind` per user with an address to the session (nothing is committed).

    `context` is rendered once per user with `user` added. Users without an email address,
    disabled accounts and users who turned an optional kind off are left out.
    """
    recipients = _deliverable(users, kind)
    skipped = opted_out(session, kind=kind, user_ids=[u.id or 0 for u in recipients])
    notices = []
    for user in recipients:
        if user.id in skipped:
            continue
        rendered = notice_render(kind, {**context, "user": user})
        notice = Notice(
            kind=kind,
            user_id=user.id or 0,
            course_id=course_id,
            to_address=user.email or "",
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            secret=secret,
            created_at=now,
            next_attempt_at=now,
            expires_at=expires_at,
            dedupe_key=f"{dedupe_key}:u{user.id}" if dedupe_key else None,
        )
        session.add(notice)
        notices.append(notice)
    return notices


def notice_rows_once(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows whose dedupe key is new, skipping the rest without an error; returns how many went in.

    Two senders computing the same reminder race on the unique key; ON CONFLICT DO NOTHING lets
    the loser carry on instead of failing its whole transaction.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    table = Notice.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        statement: Any = pg_insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
    elif dialect == "sqlite":
        statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
    else:
        statement = insert(table)
    # RETURNING counts the rows that went in (psycopg reports no rowcount for a batch insert).
    return len(session.connection().execute(statement.returning(table.c.id), rows).all())


def notice_row(
    *,
    kind: str,
    user: User,
    course_id: int | None,
    context: dict[str, Any],
    now: datetime,
    dedupe_key: str,
    expires_at: datetime | None,
) -> dict[str, Any]:
    """One outbox row as a plain mapping, for `notice_rows_once`."""
    rendered = notice_render(kind, {**context, "user": user})
    return {
        "kind": kind,
        "user_id": user.id,
        "course_id": course_id,
        "to_address": user.email,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "dedupe_key": f"{dedupe_key}:u{user.id}",
        "secret": None,
        "status": "pending",
        "attempts": 0,
        "last_error": None,
        "created_at": now,
        "next_attempt_at": now,
        "claimed_until": None,
        "expires_at": expires_at,
        "sent_at": None,
    }


def group_members(session: Session, *, group_id: int) -> list[User]:
    """The group's current members, by name."""
    return list(
        session.exec(
            select(User)
            .join(GroupMembership, col(GroupMembership.user_id) == col(User.id))
            .where(GroupMembership.group_id == group_id, col(GroupMembership.left_at).is_(None))
            .order_by(col(User.name), col(User.id))
        )
    )


def course_people(session: Session, *, course_id: int, roles: Iterable[str]) -> list[User]:
    """The course's members with one of these roles, by name."""
    return list(
        session.exec(
            select(User)
            .join(CourseMember, col(CourseMember.user_id) == col(User.id))
            .where(CourseMember.course_id == course_id, col(CourseMember.role).in_(list(roles)))
            .order_by(col(User.name), col(User.id))
        )
    )


def course_group_members(session: Session, *, course_id: int) -> dict[int, list[User]]:
    """Every group's current members who have an email address, in one query: group id -> users by name.

    Members without an address are never sent anything, so they are not loaded: a course of a
    thousand groups would otherwise build four thousand user rows for nothing.
    """
    by_group: dict[int, list[User]] = defaultdict(list)
    for group_id, user in session.exec(
        select(GroupMembership.group_id, User)
        .join(User, col(User.id) == col(GroupMembership.user_id))
        .where(
            GroupMembership.course_id == course_id,
            col(GroupMembership.left_at).is_(None),
            col(User.email).is_not(None),
            User.email != "",
        )
        .order_by(col(User.name), col(User.id))
    ):
        by_group[group_id].append(user)
    return by_group
