"""Week-16 rules as pure functions: talk times, the order of talks, board numbers. No database, no clock."""

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TALK_MINUTES = 10
DEFAULT_CHANGEOVER_MINUTES = 2
BALLOT_MAX_SCORE = 5


class NoSuchLocalTime(ValueError):
    """A wall-clock time skipped by a daylight-saving change (it never happens in that time zone)."""


@dataclass(frozen=True)
class Break:
    """A pause after the `after`-th talk of a session; it takes the place of that talk's changeover."""

    after: int
    minutes: int


@dataclass(frozen=True)
class Span:
    """A stretch of time as instants in UTC."""

    starts_at: datetime
    ends_at: datetime


def session_start(day: date, start_time: time, timezone: str) -> datetime:
    """The UTC instant of a session's local start; NoSuchLocalTime inside a spring-forward gap.

    An ambiguous time (the repeated hour in autumn) means its first occurrence.
    """
    zone = ZoneInfo(timezone)
    local = datetime.combine(day, start_time, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NoSuchLocalTime(
            f"{day.isoformat()} {start_time:%H:%M} does not exist in {timezone} (the clocks skip it)."
        )
    return instant


def talk_spans(
    *, start: datetime, count: int, talk_minutes: int, changeover_minutes: int, breaks: Sequence[Break]
) -> tuple[list[Span], list[Span]]:
    """The talks' and the breaks' spans, back to back from `start`.

    Durations are elapsed time, so a session that runs across a daylight-saving change keeps
    exact 10-minute talks while the wall clock jumps. A break after the last talk is dropped.
    """
    pause = {b.after: b.minutes for b in breaks}
    talks: list[Span] = []
    pauses: list[Span] = []
    at = start
    for index in range(1, count + 1):
        end = at + timedelta(minutes=talk_minutes)
        talks.append(Span(at, end))
        if index == count:
            break
        if index in pause:
            pauses.append(Span(end, end + timedelta(minutes=pause[index])))
            at = end + timedelta(minutes=pause[index])
        else:
            at = end + timedelta(minutes=changeover_minutes)
    return talks, pauses


def first_overlap(spans: Sequence[tuple[int, Span]]) -> tuple[int, int] | None:
    """The ids of two spans that overlap (touching ends do not), or None."""
    ordered = sorted(spans, key=lambda item: (item[1].starts_at, item[1].ends_at, item[0]))
    for (a, first), (b, second) in itertools.pairwise(ordered):
        if second.starts_at < first.ends_at:
            return a, b
    return None


def talk_order(ranked: Sequence[int], *, mode: str, seed: int | None) -> list[int]:
    """The order of the talks: ranking order, or a shuffle that the same seed always repeats."""
    order = list(ranked)
    if mode == "random":
        # Sorted first, so the result depends on the seed and the set of groups only.
        order.sort()
        random.Random(seed).shuffle(order)
    return order


def fill_sessions(order: Sequence[int], capacities: Sequence[int | None]) -> list[list[int]] | None:
    """Deal the groups into sessions in turn, each up to its capacity (None: no limit); None if they do not fit."""
    result: list[list[int]] = []
    rest = list(order)
    for capacity in capacities:
        take = len(rest) if capacity is None else min(capacity, len(rest))
        result.append(rest[:take])
        rest = rest[take:]
    return None if rest else result


def board_numbers(taken: dict[int, int], newcomers: Sequence[int]) -> dict[int, int]:
    """Numbers for groups without a board: the lowest free ones, in the given order; boards held stay put."""
    used = set(taken.values())
    assigned: dict[int, int] = {}
    candidate = 1
    for group_id in newcomers:
        while candidate in used:
            candidate += 1
        assigned[group_id] = candidate
        used.add(candidate)
    return assigned


def ballot_mark(scores: Sequence[int]) -> float | None:
    """The mean ballot score on the 0-100 scale of review scores (5 of 5 = 100); None without ballots."""
    if not scores:
        return None
    return sum(scores) * 100 / (BALLOT_MAX_SCORE * len(scores))
