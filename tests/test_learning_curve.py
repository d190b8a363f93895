"""Learning curves: the fitted line against scipy's, the data needed to reach a peer, where a curve flattens,
two curves compared, and what the report shows of them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from harness.app.config import RunConfig, build
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
from harness.results.plots import TICK_GAP, overlaps, sweep_figure, tick_gaps, tick_labels
from harness.results.report import model as report_model
from harness.results.report.markdown import render_markdown
from harness.results.sweeps import point_text, sweep_curves
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
    record["model"].update(role="ablation", trainer="distill",
                           sweep={"setting": setting, "value": value, "of": of, "id": "stored ids are not read"})
    # the run block the curve's recipe is worked out from: `of` stands for the recipe (its lr), and one point in
    # two was made with another dev-evaluation cadence, which does not change what it learnt
    lr = 1e-5 * (1 + sum(map(ord, of)) % 50)
    record["run"] = {**RUN, setting: value, "seed": seed, "lr": lr, "eval_every": 0 if str(value)[0] in "13" else None}
    return record


RUN = build(RunConfig, {}).recorded()


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
    assert line.no_gain_after is None  # every doubling is significantly above the last
    assert line.residual_sd < 0.3  # a straight line through points drawn on one


def test_a_flat_curve_never_reaches_a_peer_above_it_on_many_resamples_and_is_flat_from_its_start():
    records = [point("a", v, 0.60) for v in VALUES] + [peer("use", 0.70)]
    groups = load_groups(records)
    fit = fit_curve(sweep_curves(groups)[0], groups)
    line = fit.families["mining"]
    assert line.per_doubling.low < 0 < line.per_doubling.high
    assert line.no_gain_after == "500"
    (reach,) = line.reach
    assert reach.unreached > 0.2 and reach.pairs.high == math.inf
    assert "never on" in fit_table(fit).loc["mining", "pairs/lang to reach use"]


def test_a_peer_below_the_curve_needs_no_extrapolation():
    records = [point("a", v, s) for v, s in log_line(40.0, 2.0, VALUES).items()] + [peer("weak", 0.30)]
    groups = load_groups(records)
    fit = fit_curve(sweep_curves(groups)[0], groups)
    assert fit.families["mining"].reach == [] and fit.families["mining"].below == [("weak", 30.0)]
    assert fit_table(fit).loc["mining", "pairs/lang to reach weak"] == "reached (its 30.0)"


def test_a_best_point_not_significantly_above_a_peer_is_level_with_it_and_the_line_still_says_where_it_crosses():
    scores = log_line(40.0, 2.0, VALUES)  # 67.9 at 16,000
    records = [point("a", v, s) for v, s in scores.items()] + [peer("near", 0.675), peer("far", 0.64)]
    groups = load_groups(records)
    fit = fit_curve(sweep_curves(groups)[0], groups)
    line = fit.families["mining"]
    assert line.below == [("far", 64.0)]  # 3.9 points under the best point: significantly, so reached
    (reach,) = line.reach
    label, ahead = reach.level
    observed = [p.cells["mining"].value for p in sweep_curves(groups)[0].points]
    assert label == "16,000" and ahead.value == pytest.approx(max(observed) - 67.5, abs=1e-9)
    assert ahead.low < 0 < ahead.value < ahead.high  # above the peer by a point estimate only
    expected = scipy_stats.linregress(np.log2(VALUES), observed)
    assert reach.pairs.value == pytest.approx(2 ** ((67.5 - expected.intercept) / expected.slope), rel=1e-6)
    text = fit_table(fit).loc["mining", "pairs/lang to reach near"]
    assert text.startswith(pairs_text(reach.pairs.value, 500, 16000)) and "level at 16,000: +0.4" in text
    assert fit_table(fit).loc["mining", "pairs/lang to reach far"] == "reached (its 64.0)"


def test_a_best_point_a_hair_below_a_peer_is_level_with_it_too_and_one_far_below_is_not():
    records = [point("a", v, s) for v, s in log_line(40.0, 2.0, VALUES).items()]
    records += [peer("above", 0.683), peer("far", 0.75)]
    groups = load_groups(records)
    reach = {r.peer: r for r in fit_curve(sweep_curves(groups)[0], groups).families["mining"].reach}
    label, ahead = reach["above"].level
    assert label == "16,000" and ahead.low < ahead.value < 0 < ahead.high  # below by its estimate only
    assert reach["far"].level is None  # 7 points above the best point: significantly


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
    assert pooled_seed_sd(curve, "mining") == pytest.approx((math.sqrt(squares / 4), 4))
    assert fits[0][1].seed_sd["mining"] is None and fit.seed_sd["mining"][0] > 0.5
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
    assert list(table.index) == ["500", "1,000", "2,000"] and table.loc["500", "mining"].startswith("+4.00 [")


def test_two_alls_on_other_numbers_of_pairs_are_not_compared():
    a = log_line(40.0, 2.0, VALUES)
    records = [point(of, v, s) for of in "ab" for v, s in a.items()] + [point(of, None, 0.7) for of in "ab"]
    records[-2]["model"]["sweep"]["pairs_per_language"] = 30000
    records[-1]["model"]["sweep"]["pairs_per_language"] = 90000
    groups = load_groups(records)
    comparison = compare_curves(*sweep_curves(groups), groups)
    assert sorted({g.value for g in comparison.gaps}) == list(VALUES)  # numbered budgets only
    records[-1]["model"]["sweep"]["pairs_per_language"] = 30000
    groups = load_groups(records)
    assert None in {g.value for g in compare_curves(*sweep_curves(groups), groups).gaps}


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
    assert pairs_text(65432.1, 500, 16000) == "65,000"
    assert pairs_text(120.0, 500, 16000) == "< 500"
    assert pairs_text(math.inf, 500, 16000) == "never"
    assert pairs_text(1.6e119, 500, 16000) == "> 16,000,000"


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


def test_undefined_replicates_are_left_out_not_counted_as_never():
    records = [point("a", v, s) for v, s in log_line(40.0, 2.0, VALUES).items()] + [peer("use", 0.72)]
    groups = load_groups(records)
    (curve,) = sweep_curves(groups)
    use = groups["use"]
    score = next(iter(use.members["use"].values()))
    replicates = score.replicates.copy()
    replicates[:100] = np.nan  # a degenerate resample, as an STS replicate can be
    score.__dict__["replicates"] = replicates
    (reach,) = fit_curve(curve, groups).families["mining"].reach
    assert reach.unreached == 0 and reach.pairs.high < math.inf


def test_points_scored_on_other_data_are_not_paired():
    records = [point("a", v, s) for v, s in log_line(40.0, 2.0, VALUES).items()]
    records[2]["data_fingerprint"] = "other"
    groups = load_groups(records)
    assert fit_curve(sweep_curves(groups)[0], groups) is None


def test_the_figure_draws_the_line_on_a_value_axis_and_not_among_categories():
    numbered = [point("a", v, s) for v, s in log_line(40.0, 2.0, VALUES).items()]
    with_all = numbered + [point("a", None, 0.7)]
    for records, drawn in ((numbered, True), (with_all, False)):
        groups = load_groups(records)
        (curve,) = sweep_curves(groups)
        fit = fit_curve(curve, groups)
        # an `all` recorded without its pairs per language has no place on the axis: left out of the fit
        assert fit is not None and fit.values == list(VALUES)
        figure, plain = sweep_figure(curve, fit), sweep_figure(curve)
        assert not any(overlaps(figure.legend, box) for box in figure.axes)
        taller = (figure.legend[3] - figure.legend[1]) - (plain.legend[3] - plain.legend[1])
        assert (taller > 5) == drawn  # the line's legend entry is there only where the line is drawn


def test_an_all_point_joins_the_fit_at_the_pairs_per_language_its_run_recorded():
    # `all` trained on 3,000 pairs per language: it goes between 2,000 and 4,000, and so does a cap of 50,000
    # that no language fills, on another curve
    scores = log_line(40.0, 2.0, (*VALUES, 3000))
    records = [point("a", v, scores[v]) for v in VALUES] + [point("a", None, scores[3000])]
    records[-1]["model"]["sweep"]["pairs_per_language"] = 3000
    groups = load_groups(records)
    (curve,) = sweep_curves(groups)
    assert curve.numeric and [p.value for p in curve.points] == [500, 1000, 2000, None, 4000, 16000]
    fit = fit_curve(curve, groups)
    assert fit.values == [500, 1000, 2000, 3000, 4000, 16000]
    assert fit.labels == ["500", "1,000", "2,000", "all (3,000)", "4,000", "16,000"]
    observed = [p.cells["mining"].value for p in curve.points]
    expected = scipy_stats.linregress(np.log2(fit.values), observed)
    assert fit.families["mining"].per_doubling.value == pytest.approx(expected.slope, rel=1e-9)
    assert fit_table(fit).loc["mining", "points fitted"] == "500, 1,000, 2,000, all (3,000), 4,000, 16,000"
    md = render_markdown(report_model.build(records, [], "x"))
    rows = [md.index(f"| {label} | a-max_pairs-{value} | 1 |")
            for label, value in (("2,000", 2000), ("all (3,000 per language)", None), ("4,000", 4000))]
    assert rows == sorted(rows)  # the table in the axis's order
    assert tick_labels(curve, numeric=True)[3] == "all\n3,000"  # `all` over the pairs it stands for
    figure, plain = sweep_figure(curve, fit), sweep_figure(curve)
    assert (figure.legend[3] - figure.legend[1]) - (plain.legend[3] - plain.legend[1]) > 5  # the line is drawn
    capped = [point("b", v, scores[v]) for v in (500, 1000, 2000)] + [point("b", 50000, scores[3000])]
    capped[-1]["model"]["sweep"]["pairs_per_language"] = 3000
    groups = load_groups(capped)
    (curve,) = sweep_curves(groups)
    assert [p.at for p in curve.points] == [500, 1000, 2000, 3000]
    assert fit_curve(curve, groups).labels[-1] == "50,000 (3,000)"
    assert point_text("max_pairs", curve.points[-1]) == "50,000 (3,000 per language)"  # one number format
    assert tick_labels(curve, numeric=True) == ["500", "1,000", "2,000", "50,000\n3,000"]  # the count under the cap
    assert tick_labels(curve, numeric=False)[-1] == "50,000"  # categories: no axis to place it on


def test_the_report_is_the_same_when_built_twice():
    records = [point("a", v, s) for v, s in log_line(40.0, 2.0, VALUES).items()] + [peer("use", 0.72)]
    first, second = (render_markdown(report_model.build(records, [], "synthetic")) for _ in range(2))
    assert first == second and "pairs/lang to reach use" in first


def test_tick_labels_crowded_on_a_long_log_axis_are_slanted_apart():
    # the de,fr curve's axis: 250 to 16,000 and `all` at 81,964 pairs per language, where '8,000' ran into '16,000'
    values = (250, 500, 1000, 2000, 4000, 8000, 16000)
    scores = log_line(40.0, 2.0, (*values, 81964))

    def three_families(value, score):  # three panels side by side, as the report draws sts, mining, retrieval
        records = []
        for family in ("sts", "mining", "retrieval"):
            record = point("a", value, score)
            record["task"].update(name=f"{family}-task", family=family)
            if value is None:
                record["model"]["sweep"]["pairs_per_language"] = 81964
            records.append(record)
        return records

    records = [r for v in (*values, None) for r in three_families(v, scores[v or 81964])]
    groups = load_groups(records)
    (curve,) = sweep_curves(groups)
    figure = sweep_figure(curve, fit_curve(curve, groups))
    assert len(figure.ticks) == 3 and all(len(ticks) == len(values) + 1 for ticks in figure.ticks)
    assert not any(overlaps(figure.legend, box) for box in figure.axes)
    roomy = sweep_figure(sweep_curves(load_groups([r for v in (500, 4000, 16000)
                                                   for r in three_families(v, scores[v])]))[0])

    def heights(ticks):  # of the one-line labels (`all` has its pairs under it)
        return {round(box[3] - box[1], 1) for box in ticks[:-1]}

    # level labels, one line high, have room between them; crowded ones are slanted: their boxes are taller
    (line,) = heights(roomy.ticks[0])
    assert all(heights(ticks) == {line} and min(tick_gaps(ticks)) >= TICK_GAP for ticks in roomy.ticks)
    assert all(min(heights(ticks)) > 1.5 * line for ticks in figure.ticks)
