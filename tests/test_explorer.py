"""The mining explorer's gap histogram (issue 21, item 7): drawn over the range the gaps take, with 0 inside."""

import numpy as np

from harness.results.explorer import GAP_BINS, gap_histogram


def test_the_histogram_spans_the_gaps_and_includes_zero():
    rng = np.random.default_rng(0)
    gaps = np.concatenate([rng.normal(0.06, 0.02, 990), [-0.01] * 9, [np.inf]])  # inf: no wrong candidate listed
    hist = gap_histogram(gaps)
    low, high = hist["range"]
    assert low <= 0.0 < high < 0.2  # not -1 to +1
    assert sum(hist["counts"]) == 999 and len(hist["counts"]) == GAP_BINS
    assert sum(count > 0 for count in hist["counts"]) >= 20  # the gaps fill the plot, not one bar
    edges = np.linspace(low, high, GAP_BINS + 1)
    expected, _ = np.histogram(np.clip(gaps[np.isfinite(gaps)], low, high), bins=edges)
    assert hist["counts"] == expected.tolist()


def test_outliers_fall_in_the_end_bars_and_all_positive_gaps_still_show_zero():
    gaps = np.concatenate([np.linspace(0.02, 0.1, 1000), [0.9]])
    hist = gap_histogram(gaps)
    assert hist["range"][0] == 0.0 and hist["range"][1] < 0.2
    assert hist["counts"][-1] >= 1 and sum(hist["counts"]) == 1001


def test_no_finite_gap_gives_an_empty_histogram_not_an_error():
    assert sum(gap_histogram(np.array([np.inf, np.inf]))["counts"]) == 0


def test_zero_is_a_bin_edge_so_no_bar_mixes_errors_and_right_answers():
    rng = np.random.default_rng(1)
    for gaps in (rng.normal(0.05, 0.03, 500), rng.normal(-0.2, 0.3, 500), rng.uniform(0.01, 0.2, 500)):
        low, high = gap_histogram(gaps)["range"]
        steps = (0.0 - low) / ((high - low) / GAP_BINS)
        assert abs(steps - round(steps)) < 1e-6 and low <= 0.0 <= high
