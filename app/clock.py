"""The injected clock: routes ask for the time through it, so tests can set it."""

from collections.abc import Callable
from datetime import datetime

from app.db import utcnow

Clock = Callable[[], datetime]


def get_clock() -> Clock:
    """The server clock (aware UTC); tests override this dependency."""
    return utcnow
