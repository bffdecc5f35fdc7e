"""Users, bearer tokens, and activation codes."""

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.access import is_row_id
from app.audit.service import audit_record
from app.config import get_settings
from app.errors import BadRequest, Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from app.models import ActivationCode, ApiToken, CourseMember, GroupMembership, ProjectGroup, User
from app.outbox.events import notice_account_disabled, notice_password_changed
from app.people.invitations import invitations_accept_on_activation
from app.security import digest, hash_password, new_secret, verify_password
from app.tokens import token_issue

MIN_PASSWORD_LENGTH = 8
ERR_BAD_LOGIN = "Wrong username or password."
ERR_BAD_CODE = "The activation code is unknown, used or expired."
ERR_WRONG_PASSWORD = "The current password is wrong."
ERR_SAME_PASSWORD = "The new password must differ from the current one."
ERR_ADMIN_ONLY = "Only an administrator disables or enables accounts."
ERR_NO_USER = "No such user."
ERR_SELF_DISABLE = "You cannot disable your own account."
# The kinds of token that sign a person in; a calendar feed only reads deadlines and stays.
LOGIN_KINDS = ("api", "web")


def password_check(password: str) -> None:
    """Refuse passwords too short to be safe."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password")


def user_create(
    session: Session,
    *,
    username: str,
    now: datetime,
    password: str | None = None,
    name: str = "",
    email: str | None = None,
    student_no: str | None = None,
    is_admin: bool = False,
) -> User:
    """Create a user; 409 when the username, email or student number is taken."""
    if password is not None:
        password_check(password)
    clashes = [
        (User.username, username, "username"),
        (User.email, email, "email"),
        (User.student_no, student_no, "student number"),
    ]
    for column, value, label in clashes:
        if value is not None and session.exec(select(User.id).where(column == value)).first() is not None:
            raise Conflict(f"A user with this {label} already exists: {value}.")
    user = User(
        username=username,
        name=name,
        email=email,
        student_no=student_no,
        is_admin=is_admin,
        password_hash=hash_password(password) if password is not None else None,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def login_account(session: Session, *, username: str) -> tuple[int | None, str | None]:
    """The id and password hash of the account that may log in under `username` (None, None otherwise)."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.is_active or not user.password_hash:
        return None, None
    return user.id, user.password_hash


def login_issue(session: Session, *, user_id: int, now: datetime, kind: str = "api") -> tuple[str, ApiToken]:
    """A token for an account whose password was just verified; 401 if it was disabled meanwhile."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated(ERR_BAD_LOGIN)
    return token_issue(session, user=user, now=now, kind=kind)


def tokens_revoke(session: Session, *, user: User, kind: str, now: datetime, keep: str = "") -> list[ApiToken]:
    """Revoke every live token of this kind the user holds (e.g. their calendar feed) but `keep` (a hash)."""
    live = list(
        session.exec(
            select(ApiToken)
            .where(
                ApiToken.user_id == user.id,
                ApiToken.kind == kind,
                col(ApiToken.revoked_at).is_(None),
                col(ApiToken.expires_at) > now,
                ApiToken.token_hash != keep,
            )
            .order_by(col(ApiToken.id))
        )
    )
    for token in live:
        token.revoked_at = now
        session.add(token)
    return live


def password_change(
    session: Session, *, user: User, current_password: str, new_password: str, keep_token: str | None, now: datetime
) -> int:
    """Set a new password after checking the current one; every other login of the user ends.

    `keep_token` is the secret of the session or bearer token making the change, which stays
    live; returns how many other tokens were revoked.
    """
    if not verify_password(user.password_hash, current_password):
        raise InvalidInput(ERR_WRONG_PASSWORD, field="current_password", code="wrong_password")
    if current_password == new_password:
        raise InvalidInput(ERR_SAME_PASSWORD, field="new_password")
    try:
        password_check(new_password)
    except InvalidInput as exc:
        raise InvalidInput(exc.detail, field="new_password") from None
    user.password_hash = hash_password(new_password)
    session.add(user)
    kept = digest(keep_token) if keep_token else ""
    revoked = [t for kind in LOGIN_KINDS for t in tokens_revoke(session, user=user, kind=kind, now=now, keep=kept)]
    audit_record(
        session,
        at=now,
        actor=user,
        action="user.password_change",
        entity="user",
        entity_id=user.id,
        course_id=None,
        after={"revoked_tokens": len(revoked)},
    )
    notice_password_changed(session, user=user, now=now)
    return len(revoked)


def account_set_active(session: Session, *, admin: User, user_id: int, active: bool, now: datetime) -> User:
    """Disable (every session and token stops at once) or enable an account (admins only)."""
    if not admin.is_admin:
        raise Forbidden(ERR_ADMIN_ONLY, code="admin_only")
    target = session.get(User, user_id) if is_row_id(user_id) else None
    if target is None:
        raise NotFound(ERR_NO_USER)
    if target.id == admin.id and not active:
        raise Conflict(ERR_SELF_DISABLE)
    before = target.is_active
    target.is_active = active
    session.add(target)
    if not active:
        for kind in (*LOGIN_KINDS, "feed"):
            tokens_revoke(session, user=target, kind=kind, now=now)
        if before:
            notice_account_disabled(session, user=target, now=now)
    audit_record(
        session,
        at=now,
        actor=admin,
        action="user.enable" if active else "user.disable",
        entity="user",
        entity_id=target.id,
        course_id=None,
        before={"is_active": before},
        after={"is_active": active},
    )
    return target


def activation_issue(session: Session, *, user: User, now: datetime) -> str:
    """A one-time activation code for the user (earlier unused codes stay valid until they expire)."""
    code = new_secret(9)
    ttl = timedelta(days=get_settings().activation_ttl_days)
    session.add(ActivationCode(user_id=user.id or 0, code_hash=digest(code), created_at=now, expires_at=now + ttl))
    return code


def activation_redeem(session: Session, *, code: str, password: str, now: datetime) -> User:
    """Set a new user's password from a one-time code; the code is spent and open invitations are joined."""
    password_check(password)
    row = session.exec(select(ActivationCode).where(ActivationCode.code_hash == digest(code))).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise BadRequest(ERR_BAD_CODE, code="bad_activation_code")
    user = session.get(User, row.user_id)
    assert user is not None
    user.password_hash = hash_password(password)
    row.used_at = now
    session.add_all([user, row])
    invitations_accept_on_activation(session, user=user, now=now)
    return user


def user_memberships(session: Session, *, user: User) -> tuple[list[CourseMember], list[ProjectGroup]]:
    """The user's course roles and current groups."""
    roles = list(
        session.exec(select(CourseMember).where(CourseMember.user_id == user.id).order_by(col(CourseMember.course_id)))
    )
    groups = list(
        session.exec(
            select(ProjectGroup)
            .join(GroupMembership, col(GroupMembership.group_id) == col(ProjectGroup.id))
            .where(GroupMembership.user_id == user.id, col(GroupMembership.left_at).is_(None))
            .order_by(col(ProjectGroup.course_id))
        )
    )
    return roles, groups
