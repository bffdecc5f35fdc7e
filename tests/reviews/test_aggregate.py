"""Aggregation, normalisation and the histogram as pure functions."""

import math

from app.reviews.aggregate import HistogramBin, ReviewStats, normalise_scores, score_histogram, stats_of


def test_stats_of_four_scores_uses_the_population_deviation() -> None:
    # mean 72.5, deviations -12.5, 7.5, -12.5, 17.5 -> variance (156.25+56.25+156.25+306.25)/4 = 168.75
    assert stats_of([60, 80, 60, 90]) == ReviewStats(
        count=4, mean=72.5, median=70.0, stdev=math.sqrt(168.75), min=60, max=90
    )
    assert stats_of([60, 70, 80]) == ReviewStats(
        count=3, mean=70.0, median=70, stdev=math.sqrt(200 / 3), min=60, max=80
    )


def test_stats_of_nothing_is_all_none() -> None:
    assert stats_of([]) == ReviewStats(count=0, mean=None, median=None, stdev=None, min=None, max=None)


def test_normalise_maps_each_reviewer_onto_the_overall_mean_and_spread() -> None:
    # Reviewer 1 is harsh (40, 50, 60), reviewer 2 generous (70, 80, 90): overall mean 65,
    # overall population sd = sqrt(((25²+15²+5²)*2)/6) = sqrt(875/3). Each reviewer's own sd is sqrt(200/3).
    reviews = [(1, "a", 40.0), (1, "b", 50.0), (1, "c", 60.0), (2, "a", 70.0), (2, "b", 80.0), (2, "c", 90.0)]
    result = normalise_scores(reviews)
    spread = math.sqrt(875 / 3) / math.sqrt(200 / 3) * 10  # z = ±1.2247... times overall sd
    assert result[(1, "a")] == result[(2, "a")]
    assert math.isclose(result[(1, "a")], 65 - spread)
    assert math.isclose(result[(1, "b")], 65.0)
    assert math.isclose(result[(2, "c")], 65 + spread)


def test_reviewers_with_fewer_than_three_reviews_are_left_as_is() -> None:
    reviews = [(1, "a", 40.0), (1, "b", 50.0), (1, "c", 60.0), (2, "a", 95.0), (2, "b", 15.0)]
    result = normalise_scores(reviews)
    assert result[(2, "a")] == 95.0
    assert result[(2, "b")] == 15.0
    assert result[(1, "b")] == 52.0  # the overall mean of all five raw scores (mid z = 0)


def test_a_reviewer_without_spread_maps_to_the_overall_mean_and_results_stay_within_0_100() -> None:
    reviews = [(1, "a", 70.0), (1, "b", 70.0), (1, "c", 70.0), (2, "zero", 0.0)]
    reviews += [(2, f"full{i}", 100.0) for i in range(15)]
    result = normalise_scores(reviews)
    assert result[(1, "a")] == result[(1, "b")] == result[(1, "c")] == 90.0  # (210 + 1500) / 19
    # Reviewer 2's lone 0 has z = -3.87; 90 - 3.87 * 19.9 < 0, so it is clamped to 0.
    assert result[(2, "zero")] == 0.0
    assert all(0.0 <= v <= 100.0 for v in result.values())


def test_histogram_bins_of_ten_with_100_in_the_last_bin() -> None:
    bins = score_histogram([0, 9.99, 10, 55, 59.5, 99.9, 100])
    assert [b.count for b in bins] == [2, 1, 0, 0, 0, 2, 0, 0, 0, 2]
    assert bins[0] == HistogramBin(low=0, high=10, count=2)
    assert bins[-1] == HistogramBin(low=90, high=100, count=2)
