"""Score aggregation and per-reviewer normalisation as pure functions: no database, no clock."""

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

MIN_REVIEWS_TO_NORMALISE = 3
SCORE_MIN = 0.0
SCORE_MAX = 100.0

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class ReviewStats:
    """Count, mean, median, population standard deviation, min and max of one submission's scores.

    With no reviews, count is 0 and every other figure is None.
    """

    count: int
    mean: float | None
    median: float | None
    stdev: float | None
    min: float | None
    max: float | None


NO_REVIEWS = ReviewStats(count=0, mean=None, median=None, stdev=None, min=None, max=None)


def mean_of(values: Sequence[float]) -> float:
    """The arithmetic mean of a non-empty sequence."""
    return math.fsum(values) / len(values)


def median_of(values: Sequence[float]) -> float:
    """The median of a non-empty sequence (mean of the two middle values for an even count)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def pstdev_of(values: Sequence[float]) -> float:
    """The population standard deviation (divides by n, not n - 1) of a non-empty sequence."""
    centre = mean_of(values)
    return math.sqrt(math.fsum((v - centre) ** 2 for v in values) / len(values))


def stats_of(scores: Sequence[float]) -> ReviewStats:
    """Aggregate one submission's review scores; the standard deviation is the population one."""
    if not scores:
        return NO_REVIEWS
    return ReviewStats(
        count=len(scores),
        mean=mean_of(scores),
        median=median_of(scores),
        stdev=pstdev_of(scores),
        min=min(scores),
        max=max(scores),
    )


def normalise_scores(reviews: Iterable[tuple[int, K, float]]) -> dict[tuple[int, K], float]:
    """Remove reviewer harshness from (reviewer_id, item, score) triples of one milestone.

    Each reviewer with at least 3 reviews has their scores turned into z-scores over their own
    reviews, then mapped back onto the milestone's overall mean and (population) spread of all
    raw scores, and clamped to 0-100. A reviewer with fewer reviews is left as is; a reviewer
    whose scores are all equal (no spread) is mapped to the overall mean. Returns the score per
    (reviewer_id, item).
    """
    triples = list(reviews)
    if not triples:
        return {}
    overall = [score for _, _, score in triples]
    overall_mean, overall_sd = mean_of(overall), pstdev_of(overall)
    by_reviewer: dict[int, list[tuple[K, float]]] = defaultdict(list)
    for reviewer_id, item, score in triples:
        by_reviewer[reviewer_id].append((item, score))
    result: dict[tuple[int, K], float] = {}
    for reviewer_id, scored in by_reviewer.items():
        if len(scored) < MIN_REVIEWS_TO_NORMALISE:
            result.update({(reviewer_id, item): score for item, score in scored})
            continue
        values = [score for _, score in scored]
        own_mean, own_sd = mean_of(values), pstdev_of(values)
        for item, score in scored:
            z = (score - own_mean) / own_sd if own_sd > 0 else 0.0
            result[(reviewer_id, item)] = min(SCORE_MAX, max(SCORE_MIN, overall_mean + z * overall_sd))
    return result


@dataclass(frozen=True)
class HistogramBin:
    """Scores in [low, high) (the last bin also holds 100)."""

    low: int
    high: int
    count: int


def score_histogram(scores: Iterable[float], *, width: int = 10) -> list[HistogramBin]:
    """Counts of scores in bins of `width` over 0-100 (10 bins by default); 100 falls in the last bin."""
    bins = int(SCORE_MAX) // width
    counts = [0] * bins
    for score in scores:
        index = min(bins - 1, max(0, int(score // width)))
        counts[index] += 1
    return [HistogramBin(low=i * width, high=(i + 1) * width, count=c) for i, c in enumerate(counts)]
