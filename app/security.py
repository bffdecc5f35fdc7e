"""Password hashing (argon2) and opaque secrets stored only as their SHA-256."""

import hashlib
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash (False for users without one)."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def dummy_password_hash() -> str:
    """A hash of a random password with the same cost as real ones, compared when an account is
    unknown or not activated, so that such a login takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(32))


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random secret for tokens and activation codes."""
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()
