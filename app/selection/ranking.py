"""Ranking reports for the presentation selection, as pure functions: no database, no clock.

Order: higher mean score, then higher median, then earlier receipt of the graded report, then
lower group id. Reports without reviews (only in a forced run) come after every scored one;
groups with no report are not ranked at all: they follow with rank None and never present.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.reviews.aggregate import mean_of, median_of

# The rule that separated a place from its neighbours, in the order they are applied.
TIE_BREAKS = ("score", "median", "received_at", "group_id")
UNREVIEWED = "unreviewed"
NO_REPORT = "no_report"
_EPSILON_DIGITS = 9  # means of floats: 75.0 and 74.99999999999999 are the same score


@dataclass(frozen=True)
class Candidate:
    """A group's report as the ranking sees it: its (possibly normalised) review scores and receipt time."""

    group_id: int
    group_name: str
    scores: Sequence[float]
    received_at: datetime | None  # None: the group submitted no report


@dataclass(frozen=True)
class RankRow:
    """One place of the ranking; `tie_break` names the rule that decided it against its neighbours."""

    rank: int | None
    group_id: int
    group_name: str
    score: float | None
    median: float | None
    reviews: int
    received_at: datetime | None
    tie_break: str
    presenting: bool


def _key(c: Candidate) -> tuple[int, float, float, datetime, int]:
    assert c.received_at is not None
    if not c.scores:
        return (1, 0.0, 0.0, c.received_at, c.group_id)
    return (
        0,
        -round(mean_of(c.scores), _EPSILON_DIGITS),
        -round(median_of(c.scores), _EPSILON_DIGITS),
        c.received_at,
        c.group_id,
    )


def _deciding_level(a: tuple[int, float, float, datetime, int], b: tuple[int, float, float, datetime, int]) -> int:
    # Index into TIE_BREAKS of the first rule on which two adjacent keys differ.
    if a[0] != b[0] or a[1] != b[1]:
        return 0
    for level, index in ((1, 2), (2, 3)):
        if a[index] != b[index]:
            return level
    return 3


def rank_reports(candidates: Sequence[Candidate], *, slots: int) -> list[RankRow]:
    """The full ranking table: the top `slots` ranked reports present (all of them when fewer)."""
    with_report = sorted((c for c in candidates if c.received_at is not None), key=_key)
    keys = [_key(c) for c in with_report]
    rows: list[RankRow] = []
    for i, c in enumerate(with_report):
        levels = [_deciding_level(keys[j], keys[i]) for j in (i - 1, i + 1) if 0 <= j < len(keys)]
        rule = TIE_BREAKS[max(levels, default=0)]
        if not c.scores and rule == "score":
            rule = UNREVIEWED
        rows.append(
            RankRow(
                rank=i + 1,
                group_id=c.group_id,
                group_name=c.group_name,
                score=mean_of(c.scores) if c.scores else None,
                median=median_of(c.scores) if c.scores else None,
                reviews=len(c.scores),
                received_at=c.received_at,
                tie_break=rule,
                presenting=i < slots,
            )
        )
    for c in sorted((c for c in candidates if c.received_at is None), key=lambda c: c.group_id):
        rows.append(
            RankRow(
                rank=None,
                group_id=c.group_id,
                group_name=c.group_name,
                score=None,
                median=None,
                reviews=0,
                received_at=None,
                tie_break=NO_REPORT,
                presenting=False,
            )
        )
    return rows
