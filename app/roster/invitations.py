"""The roster import of course staff who are not admins: lines for non-members become invitations.

Staff of one course must neither enrol another course's people nor learn which student numbers,
emails or usernames have accounts. So for these importers every line that is not already a
member of this course gets the same answer, "invited", whatever it matched:

- a line matching no account creates a pending account that joins when its owner activates it
  with the code emailed to the line's address (staff never see that code);
- a line matching an account outside the course invites that account; its owner is emailed and
  joins only by accepting (a never-activated account is emailed a fresh activation code instead).

Neither kind is a member until its person acts, and neither notice appears in the course's outbox.
Admins import directly (roster_import), as before.
"""

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.access import LECTURER, STAFF_ROLES, course_for
from app.audit.service import audit_record
from app.config import get_settings
from app.models import Course, CourseInvitation, User
from app.outbox.events import notice_activation, notice_invitation
from app.people.service import activation_issue
from app.roster.service import (
    MSG_OTHER_ROLE,
    MSG_SAME_USER,
    RosterResult,
    RosterRow,
    roster_import,
    roster_lecturers_check,
    roster_matches,
    roster_parse,
    roster_refuse,
)

INVITATION_TTL = timedelta(days=14)
MSG_LECTURER_NEEDS_ADMIN = "Only an admin adds a lecturer; this line names no lecturer of this course."


def _free_username(session: Session, wanted: str, taken: set[str]) -> str:
    """The student number's username, or the first free `<it>.<n>` when another account holds it.

    `taken` starts with the accounts' usernames that equal some line's student number, so only a
    line whose username is taken costs queries.
    """
    candidate, n = wanted, 1
    while candidate in taken or (
        candidate != wanted and session.exec(select(User.id).where(User.username == candidate)).first() is not None
    ):
        n += 1
        candidate = f"{wanted}.{n}"
    taken.add(candidate)
    return candidate


def _open_invitees(session: Session, *, course: Course, now: datetime) -> set[int]:
    """Accounts that already hold an open invitation to this course (a re-import invites them again never)."""
    return set(
        session.exec(
            select(CourseInvitation.user_id).where(
                CourseInvitation.course_id == course.id,
                col(CourseInvitation.accepted_at).is_(None),
                col(CourseInvitation.declined_at).is_(None),
                col(CourseInvitation.expires_at) > now,
            )
        ).all()
    )


def _invite(session: Session, *, course: Course, actor: User, row: RosterRow, target: User, now: datetime) -> None:
    """One invitation and its notice."""
    expires_at = now + INVITATION_TTL
    session.add(
        CourseInvitation(
            course_id=course.id or 0,
            user_id=target.id or 0,
            role=row.role,
            student_no=row.student_no,
            name=row.name,
            email=row.email,
            invited_by=actor.id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    if target.password_hash is None:
        # Never activated: the owner needs a code to log in at all, and activating is the consent.
        code = activation_issue(session, user=target, now=now)
        code_expires = now + timedelta(days=get_settings().activation_ttl_days)
        notice_activation(
            session, course=course, user=target, code=code, expires_at=code_expires, now=now, invited=True
        )
    else:
        notice_invitation(session, course=course, user=target, role=row.role, expires_at=expires_at, now=now)


def _plan(
    session: Session, *, course: Course, rows: list[RosterRow]
) -> tuple[list[User], list[tuple[RosterRow, User | None]], set[str]]:
    """Members already in place, (line, outside account or None) for every other line, and taken usernames.

    Only facts about this course's members may decide an error: a line is checked against a member
    it names, and otherwise never refused for what it matched outside the course.
    """
    by_sno, by_email, by_username, roles = roster_matches(session, course=course, rows=rows)
    errors: list[dict[str, object]] = []
    members: dict[int, tuple[User, int]] = {}
    invites: list[tuple[RosterRow, User | None]] = []
    for row in rows:
        a, b = by_sno.get(row.student_no.lower()), by_email.get(row.email)
        member = next((u for u in (a, b) if u is not None and u.id in roles), None)
        if member is None:
            if row.role == LECTURER:
                errors.append({"line": row.line, "message": MSG_LECTURER_NEEDS_ADMIN})
            else:
                invites.append((row, b or a))
            continue
        uid = member.id or 0
        if uid in members:
            errors.append(
                {"line": row.line, "message": MSG_SAME_USER.format(username=member.username, first=members[uid][1])}
            )
        elif roles[uid] != row.role:
            errors.append(
                {"line": row.line, "message": MSG_OTHER_ROLE.format(username=member.username, role=roles[uid])}
            )
        else:
            members[uid] = (member, row.line)
    roster_refuse(errors)
    return [user for user, _ in members.values()], invites, set(by_username)


def roster_invite(
    session: Session, *, course: Course, actor: User, rows: list[RosterRow], now: datetime
) -> RosterResult:
    """Import as non-admin staff: members stay, every other line becomes an invitation (see the module)."""
    already, invites, taken = _plan(session, course=course, rows=rows)
    result = RosterResult(already_enrolled=already, invited=len(invites))
    created = {
        row.line: User(
            username=_free_username(session, row.username, taken),
            name=row.name,
            email=row.email,
            student_no=row.student_no,
            created_at=now,
        )
        for row, target in invites
        if target is None
    }
    session.add_all(created.values())
    session.flush()
    # Two lines reaching one account (and accounts invited before) get one invitation, and the same answer.
    done = _open_invitees(session, course=course, now=now)
    for row, found in invites:
        target = found or created[row.line]
        if target.id not in done:
            done.add(target.id or 0)
            _invite(session, course=course, actor=actor, row=row, target=target, now=now)
    session.flush()
    audit_record(
        session,
        at=now,
        actor=actor,
        action="roster.import",
        entity="course",
        entity_id=course.id,
        course_id=course.id,
        # Only what the importer wrote: which lines reached accounts stays out of the course's log.
        after={"invited": [row.student_no for row, _ in invites], "already_enrolled": len(already)},
    )
    return result


def roster_import_for(
    session: Session, *, user: User, course_id: int, data: bytes, now: datetime, email_codes: bool = False
) -> RosterResult:
    """The roster import as course staff request it: admins enrol directly, other staff invite."""
    access = course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    if user.is_admin:
        return roster_import(session, course=access.course, actor=user, data=data, now=now, email_codes=email_codes)
    rows = roster_parse(data)
    roster_lecturers_check(rows, may_enrol_lecturers=access.is_lecturer)
    return roster_invite(session, course=access.course, actor=user, rows=rows, now=now)
