"""Keeping secrets out of the logs: a calendar-feed URL is a credential."""

import logging
import re

FEED_SECRET = re.compile(r"(/calendar/)[^/?\s]+(\.ics)")
REDACTED = r"\1[redacted]\2"


class RedactFeedSecrets(logging.Filter):
    """Rewrites calendar-feed secrets in a log record's message and arguments before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact, and always let the record through."""
        if isinstance(record.msg, str):
            record.msg = FEED_SECRET.sub(REDACTED, record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(FEED_SECRET.sub(REDACTED, a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's access and error loggers (once)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactFeedSecrets) for f in logger.filters):
            logger.addFilter(RedactFeedSecrets())
