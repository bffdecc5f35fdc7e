"""Instants, durations and numbers as people read them, shared by the pages, the CSV files and the emails."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def local_time(instant: datetime | None, timezone: str = "UTC") -> str:
    """An instant in the course's time zone: '2026-11-01 23:59 (UTC+08:00)'."""
    if instant is None:
        return "—"
    local = instant.astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def duration(delta: timedelta | None) -> str:
    """A lateness as people read it: '1 d 6 h 0 min', '59 s', '—' for none."""
    if delta is None or delta <= timedelta(0):
        return "—"
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def number(value: float | None, digits: int = 2, *, absent: str = "—") -> str:
    """A score, mark, multiplier or number of hours rounded for display only; `absent` when there is none."""
    if value is None:
        return absent
    return f"{value:.{digits}f}"
