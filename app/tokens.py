"""Bearer tokens, web sessions and calendar feeds: issuing a secret and finding the user behind one.

Below every domain: the request dependencies, the middleware and the health probe resolve tokens
here without importing the people package, whose routes depend on them.
"""

from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.config import get_settings
from app.errors import NotAuthenticated
from app.models import ApiToken, User
from app.security import digest, new_secret

ERR_BAD_TOKEN = "The token is unknown, expired or revoked; log in again."


def token_issue(
    session: Session, *, user: User, now: datetime, kind: str = "api", ttl: timedelta | None = None
) -> tuple[str, ApiToken]:
    """A new bearer token (or web session, or calendar feed) for the user; only its hash is stored."""
    secret = new_secret()
    ttl = ttl if ttl is not None else timedelta(minutes=get_settings().token_ttl_minutes)
    token = ApiToken(user_id=user.id or 0, token_hash=digest(secret), kind=kind, created_at=now, expires_at=now + ttl)
    session.add(token)
    session.flush()
    return secret, token


def token_live(session: Session, *, secret: str, now: datetime, kind: str) -> ApiToken | None:
    """The token row of a secret if it is of this kind, unrevoked and unexpired; None otherwise."""
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == digest(secret), ApiToken.kind == kind)).first()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    return token


# One query, token and user together, built once: every authenticated request runs it.
_USER_OF_TOKEN = (
    select(User)
    .join(ApiToken, col(ApiToken.user_id) == col(User.id))
    .where(
        col(ApiToken.token_hash) == bindparam("token_hash"),
        col(ApiToken.kind) == bindparam("kind"),
        col(ApiToken.revoked_at).is_(None),
        col(ApiToken.expires_at) > bindparam("now"),
    )
)


def user_from_token(session: Session, *, token: str, now: datetime, kind: str) -> User:
    """The active user a live token belongs to; 401 otherwise."""
    user = session.exec(_USER_OF_TOKEN, params={"token_hash": digest(token), "kind": kind, "now": now}).first()
    if user is None or not user.is_active:
        raise NotAuthenticated(ERR_BAD_TOKEN)
    return user


def token_revoke(session: Session, *, token: str, now: datetime, kind: str = "api") -> None:
    """Revoke a token (logout); revoking an unknown or dead token is a no-op."""
    live = token_live(session, secret=token, now=now, kind=kind)
    if live is not None:
        live.revoked_at = now
        session.add(live)
