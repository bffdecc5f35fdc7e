"""Milestone, project and course marks as pure functions: no database, no clock; no rounding."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.reviews.aggregate import mean_of


@dataclass(frozen=True)
class MilestoneResult:
    """A group's result for one milestone.

    Nothing submitted: score and multiplier None, mark 0. Submitted but not yet reviewed:
    score and mark None (not yet marked).
    """

    submitted: bool
    score: float | None
    multiplier: float | None
    mark: float | None


NOTHING_SUBMITTED = MilestoneResult(submitted=False, score=None, multiplier=None, mark=0.0)


def milestone_result(*, scores: Sequence[float], multiplier: float) -> MilestoneResult:
    """The result of a submitted milestone: mean review score × the graded version's late multiplier."""
    if not scores:
        return MilestoneResult(submitted=True, score=None, multiplier=multiplier, mark=None)
    score = mean_of(scores)
    return MilestoneResult(submitted=True, score=score, multiplier=multiplier, mark=score * multiplier)


def project_mark(results: Mapping[str, MilestoneResult], weights: Mapping[str, float]) -> float | None:
    """Σ weight/100 × milestone mark over the milestones; None while any milestone is not yet marked."""
    total = 0.0
    for key, weight in weights.items():
        mark = results.get(key, NOTHING_SUBMITTED).mark
        if mark is None:
            return None
        total += weight / 100 * mark
    return total


def course_mark(*, assignment: float | None, project: float | None, assignment_share: float) -> float | None:
    """share × assignments + (1 − share) × project (share in percent, 40 by default); None if either is missing."""
    if assignment is None or project is None:
        return None
    share = assignment_share / 100
    return share * assignment + (1 - share) * project


def with_ballots(result: MilestoneResult, *, ballot_mark: float | None, weight: float) -> MilestoneResult:
    """A reviewed result whose score takes `weight` percent from the poster's ballot mark (0-100); else unchanged."""
    if ballot_mark is None or weight <= 0 or result.score is None or result.multiplier is None:
        return result
    share = weight / 100
    score = (1 - share) * result.score + share * ballot_mark
    return MilestoneResult(submitted=True, score=score, multiplier=result.multiplier, mark=score * result.multiplier)
