"""The injected clock: routes ask for the time through it, so tests can set it."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.db import utcnow

Clock = Callable[[], datetime]


async def get_clock() -> Clock:
    """The server clock (aware UTC); tests override this dependency."""
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a hop every request pays.
    return utcnow


def clock_of(overrides: dict[Any, Any]) -> Clock:
    """The clock the app's dependency overrides give (a test's), else the server clock."""
    override = overrides.get(get_clock)
    return override() if override is not None else utcnow
