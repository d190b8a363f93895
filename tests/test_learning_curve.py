"""Learning curves: the fitted line against scipy's, the data needed to reach a peer, where a curve flattens,
two curves compared, and what the report shows of them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from harness.results.learning_curve import (
    compare_curves,
    fit_curve,
    fit_table,
    gap_table,
    learning_curves,
    pairs_text,
    pooled_seed_sd,
)
from harness.results.overview import load_groups
from harness.results.report import model as report_model
from harness.results.report.markdown import render_markdown
from harness.results.sweeps import sweep_curves
from tests.records import mining_record

ITEMS = 4000  # items per record: enough that a point's interval is narrower than the gaps the tests plant


def correct(accuracy: float, seed: int) -> np.ndarray:
    """Per-item correctness with exactly round(accuracy * ITEMS) hits, placed at random."""
    hits = np.zeros(ITEMS, dtype=bool)
    hits[np.random.default_rng(seed).permutation(ITEMS)[:round(accuracy * ITEMS)]] = True
    return hits


def point(of: str, value, accuracy: float, seed: int = 0, setting: str = "max_pairs") -> dict:
    name = f"{of}-{setting}-{value}" + (f"-seed{seed}" if seed else "")
    stream = 100 * seed + sum(map(ord, f"{of}{value}"))  # each student gets other items right
    record = mining_record(name, correct(accuracy, stream), correct(accuracy, stream + 1))
    record["model"].update(role="ablation", sweep={"setting": setting, "value": value, "of": of, "id": of})
    return record


def peer(name: str, accuracy: float) -> dict:
    record = mining_record(name, correct(accuracy, 3), correct(accuracy, 4))
    record["model"]["role"] = "baseline"
    return record


def log_line(intercept: float, per_doubling: float, values) -> dict:
    return {v: (intercept + per_doubling * math.log2(v)) / 100 for v in values}


VALUES = (500, 1000, 2000, 4000, 16000)


def test_the_line_is_scipys_least_squares_fit_and_reaches_the_peer_where_it_crosses():
    scores = log_line(40.0, 2.0, VALUES)  # 57.9 at 500 ... 67.9 at 16,000
    records = [point("a", v, s) for v, s in scores.items()] + [peer("use", 0.72)]
    groups = load_groups(records)
    (curve,) = sweep_curves(groups)
    fit = fit_curve(curve, groups)
    line = fit.families["mining"]
    observed = [p.cells["mining"].value for p in curve.points]
    expected = scipy_stats.linregress(np.log2(VALUES), observed)
    assert line.per_doubling.value == pytest.approx(expected.slope, abs=1e-9)
    assert line.intercept == pytest.approx(expected.intercept, abs=1e-9)
    assert line.per_doubling.low < line.per_doubling.value < line.per_doubling.high
    assert 1.5 < line.per_doubling.low and line.per_doubling.high < 2.5
    (reach,) = line.reach
    crossing = 2 ** ((reach.score - expected.intercept) / expected.slope)
    assert reach.peer == "use" and reach.pairs.value == pytest.approx(crossing, rel=1e-9)
    assert 2 ** 16 < reach.pairs.value < 2 ** 17  # 72 = 40 + 2 log2(n) at n = 65,536
    assert reach.pairs.low < reach.pairs.value < reach.pairs.high < math.inf and reach.unreached == 0
    assert line.flat_from is None  # every doubling is significantly above the last


def test_a_flat_curve_never_reaches_a_peer_above_it_on_many_resamples_and_is_flat_from_its_start():
    records = [point("a", v, 0.60) for v in VALUES] + [peer("use", 0.70)]
    groups = load_groups(records)
    fit = fit_curve(sweep_curves(groups)[0], groups)
    line = fit.families["mining"]
    assert line.per_doubling.low < 0 < line.per_doubling.high
    assert line.flat_from == 500
    (reach,) = line.reach
    assert reach.unreached > 0.2 and (reach.pairs is None or reach.pairs.high == math.inf)
    assert "never" in fit_table(fit).loc["mining"].iloc[-1]


def test_a_peer_below_the_curve_needs_no_extrapolation():
    records = [point("a", v, s) for v, s in log_line(40.0, 2.0, VALUES).items()] + [peer("weak", 0.30)]
    groups = load_groups(records)
    fit = fit_curve(sweep_curves(groups)[0], groups)
    assert fit.families["mining"].reach == []


def test_the_seed_spread_is_pooled_over_the_points_with_seeds_and_widens_the_interval():
    scores = log_line(40.0, 2.0, VALUES)
    plain = [point("a", v, s) for v, s in scores.items()]
    seeds = {500: (0.010, -0.012), 1000: (0.015, -0.005)}  # seeds 1 and 2 off seed 0 by these
    seeded = plain + [point("a", v, scores[v] + d, seed=k + 1) for v, ds in seeds.items() for k, d in enumerate(ds)]
    fits = []
    for records in (plain, seeded):
        groups = load_groups(records)
        (curve,) = sweep_curves(groups)
        fits.append((curve, fit_curve(curve, groups)))
    curve, fit = fits[1]
    expected = [np.asarray(p.seed_values["mining"]) for p in curve.points if p.seeds > 1]
    squares = sum(float(((x - x.mean()) ** 2).sum()) for x in expected)
    assert pooled_seed_sd(curve, "mining") == pytest.approx(math.sqrt(squares / 4))
    assert fits[0][1].seed_sd["mining"] is None and fit.seed_sd["mining"] > 0.5
    width = [f.families["mining"].per_doubling.high - f.families["mining"].per_doubling.low for _, f in fits]
    assert width[1] > width[0]


def test_two_curves_are_compared_at_the_values_both_have():
    a = log_line(40.0, 2.0, VALUES)
    records = [point("a", v, s) for v, s in a.items()] + [point("b", v, a[v] + 0.04) for v in VALUES[:3]] \
        + [point("b", 8000, 0.6)]
    groups = load_groups(records)
    curves = sweep_curves(groups)
    comparison = compare_curves(curves[0], curves[1], groups)
    assert [g.value for g in comparison.gaps] == [500, 1000, 2000]
    for gap in comparison.gaps:
        assert gap.difference == pytest.approx(4.0, abs=0.01) and gap.significant and gap.low < 4.0 < gap.high
    table = gap_table(comparison)
    assert list(table.index) == ["500", "1000", "2000"] and table.loc["500", "mining"].startswith("+4.00 [")


def test_only_count_sweeps_with_three_numbered_points_are_fitted():
    records = [point("lr", v, 0.5 + v, setting="lr") for v in (0.01, 0.02, 0.03)] \
        + [point("two", v, 0.5) for v in (500, 1000)] \
        + [point("all", v, 0.5) for v in (500, 1000, None)]
    groups = load_groups(records)
    curves = sweep_curves(groups)
    fits, comparisons = learning_curves(curves, groups)
    assert fits == [None, None, None]
    assert {(c.a, c.b) for c in comparisons} == {("all", "two")}  # lr is not a learning curve


def test_pairs_are_printed_in_two_figures_with_the_curves_edges_named():
    assert pairs_text(65432.1, 500) == "65,000"
    assert pairs_text(120.0, 500) == "< 500"
    assert pairs_text(math.inf, 500) == "never"


def test_the_report_shows_the_fit_and_the_comparison(tmp_path):
    a = log_line(40.0, 2.0, VALUES)
    records = [point("a", v, s) for v, s in a.items()] + [point("b", v, a[v] + 0.04) for v in VALUES] \
        + [peer("use", 0.72)]
    report = report_model.build(records, [], "synthetic")
    assert [fit.of for fit in report.curve_fits] == ["a", "b"] and len(report.curve_comparisons) == 1
    md = render_markdown(report)
    assert "Fitted: score = a + b log2(pairs per language)" in md
    assert "pairs/lang to reach use" in md and "### b minus a, by max_pairs" in md
    from harness.results.report.page import render_html

    html = render_html(report)
    assert "b minus a, by max_pairs" in html and "gain per doubling [95%]" in html
