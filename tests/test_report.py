"""The report's numbers: averages only over what every model of a view shares, seeds folded into one row,
ties with the best and flags from paired tests, the run's terminal summary."""

import numpy as np
import pytest

from harness.results.overview import differences, flags, load_groups, view
from harness.results.report import build, run_summary
from tests.records import mining_record, sts_record


def accuracy_pair(p: float, n: int = 1000, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.random(n) < p).astype(np.uint8), (rng.random(n) < p).astype(np.uint8)


def mining(model: str, p: float, task: str = "tatoeba", pair: str = "de-en", role: str = "student", **meta) -> dict:
    """A record whose items come from a generator of its own, seeded by what it is: the same record whatever
    the tests before it drew (a shared generator let a wrong average pass in one file order only)."""
    import zlib

    seed = zlib.crc32(f"{model}|{task}|{pair}|{p}".encode())
    record = mining_record(model, *accuracy_pair(p, seed=seed), pair=pair, task_name=task)
    record["model"].update({"role": role, **meta})
    return record


def test_a_language_column_averages_only_what_every_model_has():
    """The -2ep example of issue 14: one model has Tatoeba and FLORES, another Tatoeba alone. Both are
    averaged over Tatoeba alone; FLORES is named as left out."""
    records = [mining("default", 0.99), mining("default", 0.99, task="flores"), mining("2ep", 0.98)]
    columns = {c.label: c for c in view(load_groups(records), ["default", "2ep"])}
    de = columns["mining de"]
    assert de.shared == [("tatoeba", "de-en")] and de.left_out == [("flores", "de-en")]
    assert de.cells["default"].value == pytest.approx(records[0]["metrics"]["acc_margin_mean"]["value"])


def test_a_student_over_seeds_averages_only_the_pairs_every_seed_has():
    """Seeds are folded into one row over the pairs all of them were scored on (their intersection): a pair
    one seed lacks is not averaged over the seeds that have it."""
    records = [mining("s", 0.9), mining("s", 0.5, pair="fr-en"), mining("s-seed1", 0.8)]
    groups = load_groups(records)
    assert groups["s"].seeds == 2 and groups["s"].keys() == {("tatoeba", "de-en")}
    columns = {c.label: c for c in view(groups, ["s"])}
    assert "mining fr" not in columns or "s" not in columns["mining fr"].cells
    expected = np.mean([r["metrics"]["acc_margin_mean"]["value"] for r in (records[0], records[2])])
    assert columns["mining all"].cells["s"].value == pytest.approx(expected)


def test_a_model_without_a_column_is_blank_not_averaged_over_something_else():
    records = [mining("a", 0.9), mining("b", 0.9), mining("a", 0.9, pair="fr-en")]
    columns = {c.label: c for c in view(load_groups(records), ["a", "b"])}
    assert set(columns["mining fr"].cells) == {"a"}  # b has no fr: blank there
    assert columns["mining all"].shared == [("tatoeba", "de-en")]  # the family average: only what both have


def test_seeds_fold_into_one_row_with_their_spread():
    records = [mining("s", 0.90), mining("s-seed1", 0.92, seed=1), mining("s-seed2", 0.94, seed=2)]
    groups = load_groups(records)
    assert list(groups) == ["s"] and groups["s"].seeds == 3
    cell = view(groups, ["s"])[0].cells["s"]
    values = [r["metrics"]["acc_margin_mean"]["value"] for r in records]
    assert cell.value == pytest.approx(np.mean(values)) and cell.seed_sd == pytest.approx(np.std(values, ddof=1))
    assert cell.low < cell.value < cell.high


def test_ties_with_the_best_come_from_paired_tests():
    records = [mining("best", 0.95), mining("close", 0.948), mining("far", 0.85)]
    cells = view(load_groups(records), ["best", "close", "far"])[0].cells
    winner = max(cells, key=lambda name: cells[name].value)
    runner_up = ({"best", "close"} - {winner}).pop()
    assert cells[winner].best and not cells[runner_up].best
    assert cells[runner_up].tied is True  # 0.2 points apart on 1,000 queries: not told apart
    assert cells["far"].tied is False  # 10 points below: significantly worse, even after Holm


def test_a_model_without_replicates_is_neither_tied_nor_below():
    old = mining("old", 0.9)
    old.pop("bootstrap")
    cells = view(load_groups([mining("new", 0.95), old]), ["new", "old"])[0].cells
    assert cells["old"].tied is None  # not testable: no replicates to pair with
    assert [cells["old"].low, cells["old"].high] == old["metrics"]["acc_margin_mean"]["ci"]  # its own interval


def test_a_student_is_flagged_only_for_significant_sts_drops():
    def sts(model, noise, **meta):
        gold = np.linspace(0, 5, 800)
        record = sts_record(model, gold + np.random.default_rng(len(model)).normal(0, noise, 800), gold)
        record["model"].update(meta)
        return record

    base = sts("base", 1.0, role="base")
    worse = sts("worse-student", 3.0, role="student", base="base")
    same = sts("same-student", 1.0, role="student", base="base")
    groups = load_groups([base, worse, same])
    flagged = flags(groups)
    assert "worse-student" in flagged and "same-student" not in flagged
    row = differences(groups["worse-student"], groups["base"])[0]
    assert row.difference.difference < 0 and row.p_holm < 0.05
    assert row.difference.difference == pytest.approx(
        worse["metrics"]["spearman"]["value"] - base["metrics"]["spearman"]["value"])


def test_the_run_summary_is_one_line_per_model_touched():
    records = [mining("teacher", 0.5, role="teacher"), mining("student", 0.9), mining("other", 0.8)]
    lines = run_summary(records, ["teacher", "student"])
    assert len(lines) == 3 and lines[0].startswith("teacher") and "mining " in lines[1]
    assert "other" not in "".join(lines) and lines[-1].startswith("(family averages over the pairs all 2")


def test_the_report_views_separate_ablations():
    records = [mining("t", 0.5, role="teacher"), mining("s", 0.9, teacher="t"), mining("x", 0.9, role="ablation")]
    report = build(records, [], "runs")
    assert report.views == {"main": ["t", "s"], "all": ["t", "s", "x"]}


def test_the_main_view_holds_the_students_their_teachers_bases_and_peers():
    records = [mining("t", 0.5, role="teacher"), mining("other-t", 0.5, role="teacher"), mining("b", 0.9, role="base"),
               mining("s", 0.9, teacher="t", base="b"), mining("p", 0.9, role="baseline"),
               mining("x", 0.9, role="ablation", teacher="other-t", base="b")]
    assert build(records, [], "runs").views["main"] == ["t", "b", "s", "p"]  # other-t teaches only an ablation


def test_the_main_view_shows_only_the_students_languages():
    records = [mining("t", 0.5, role="teacher"), mining("t", 0.5, role="teacher", pair="ja-en"),
               mining("s", 0.9, teacher="t"), mining("x", 0.9, role="ablation", pair="ja-en")]
    columns = build(records, [], "runs").columns
    assert {c.lang for c in columns["main"]} == {"de", "all"}  # the teacher's ja is no headline
    assert {c.lang for c in columns["all"]} == {"de", "ja", "all"}


def test_the_students_table_keeps_learning_rates_as_written():
    from harness.results.tables import to_markdown, training_table

    record = mining("s", 0.9, trainer="distill")
    record["run"] = {"langs": ["de", "fr"], "max_pairs": 1000, "epochs": 1, "lr": 2e-5, "max_seq_length": 64,
                     "tasks": ["sts", "mining"], "freeze_layers": 0, "balanced": True}
    row = training_table([record]).loc["s"]
    assert (row["trainer"], row["langs"], row["max_pairs"], row["lr"]) == ("distill", "de,fr", "1000", "2e-05")
    assert " 2e-05 |" in to_markdown(training_table([record]))  # not rounded to 0.0 by the Markdown writer
    assert row["max_steps"] == "all"  # a run from before max_steps existed ran every step
    record["run"].update(max_pairs=None, max_steps=3300)
    row = training_table([record]).loc["s"]
    assert (row["max_pairs"], row["max_steps"]) == ("all", "3300")  # None is shown as its setting's word


def test_ties_are_with_the_best_cell_that_can_be_tested():
    """Issue 19, item 4: when the best of a column is a record without evidence, the others are compared with
    the best testable cell, so a model just below it is still told from one far below; the untestable cell
    gets its own mark, and each comparison keeps its difference and interval for the tooltip."""
    untestable = mining("top", 0.99)
    untestable.pop("bootstrap")
    records = [untestable, mining("ref", 0.95), mining("close", 0.948), mining("far", 0.85)]
    cells = view(load_groups(records), ["top", "ref", "close", "far"])[0].cells
    assert cells["top"].best and cells["top"].tied is None
    assert cells["ref"].reference and cells["ref"].tied and not cells["ref"].best
    assert cells["close"].tied is True and cells["far"].tied is False
    close = cells["close"].vs_reference
    assert close.difference == pytest.approx(cells["close"].value - cells["ref"].value)
    assert close.low <= close.difference <= close.high and cells["far"].vs_reference.high < 0
    report = build(records, [], "runs")
    from harness.results.report import render_html
    from harness.results.report.markdown import overview_markdown

    markdown = overview_markdown(report, "all" if "all" in report.views else "main")
    assert "?" in markdown and "*?" in markdown.replace(" ", "")
    assert "against the best testable cell, Holm p" in render_html(report)


def test_the_renderers_lay_out_the_view_model_they_are_given():
    """The view model holds the numbers; the page shows them as they stand there. A panel's comparison and
    a side table's score edited in the model appear edited in the page, so no renderer recomputes them."""
    from harness.core.vocabulary import ROLE_COLOURS
    from harness.results.report import render_html
    from harness.results.report.model import Scored

    records = [mining("b", 0.6, role="base"), mining("s", 0.9, base="b"),
               sts_record("s", np.linspace(0, 1, 40), np.linspace(0, 1, 40) ** 2, pair="en-ar")]
    records[-1]["task"]["name"] = "sts17"
    records[-1]["model"].update({"role": "student", "base": "b"})
    report = build(records, [], "runs")
    assert [p.name for p in report.panels] == ["s"] and report.panels[0].comparisons[0].other == "b"
    (name, role, cells, _), = report.sts17.rows
    cells[("sts17", "en-ar")] = Scored(12.3456, 1.0, 2.0)
    report.panels[0].comparisons[0].other = "a-base-named-here"
    page = render_html(report)
    assert "12.3<small>1.0&ndash;2.0</small>" in page and "a-base-named-here" in page
    for role, colour in ROLE_COLOURS.items():  # the badges' colours come from the vocabulary, as the figures' do
        assert f".role-{role} {{ background: {colour}; }}" in page


def test_a_panel_and_a_flag_test_two_single_models_exactly():
    """A student right on 4 queries its base gets wrong, in both directions, and equal elsewhere: the panel
    gives McNemar's mid-p (0.0625), as the gate does, not the bootstrap's 0.045. A correlation goes through
    the permutation test: the panel's and the flag's p-value are the gate's."""
    from harness.results.evidence import paired_difference
    from tests.records import mining_record

    base = np.ones(100, dtype=np.uint8)
    base[:4] = 0
    right = np.ones(100, dtype=np.uint8)
    records = [mining_record("b", base, base), mining_record("s", right, right)]
    records[0]["model"]["role"] = "base"
    records[1]["model"].update({"role": "student", "base": "b"})
    rng = np.random.default_rng(7)
    gold = rng.normal(size=80)
    for name, noise in (("b", 0.3), ("s", 1.2)):  # the student's STS far below its base: flagged
        records.append(sts_record(name, gold + noise * rng.normal(size=80), gold, pair="de-de"))
        records[-1]["model"].update(records[0 if name == "b" else 1]["model"])
    groups = load_groups(records)
    rows = {row.task: row for row in differences(groups["s"], groups["b"])}
    assert rows["tatoeba"].difference.p_value == pytest.approx(0.0625)
    assert rows["stsb-multi-mt"].difference == paired_difference(records[2], records[3], "spearman")
    (flagged,) = flags(groups)["s"]  # the flag reads the same test, Holm over the student's STS pairs (one)
    assert flagged.difference == rows["stsb-multi-mt"].difference and flagged.p_holm == flagged.difference.p_value


def perfect_but(model: str, wrong: int, task: str = "flores", pair: str = "de-en", role: str = "student",
                n: int = 1000) -> dict:
    """A mining record with `wrong` of n queries wrong in each direction."""
    flags_ = np.ones(n, dtype=np.uint8)
    flags_[:wrong] = 0
    record = mining_record(model, flags_, flags_.copy(), pair=pair, task_name=task)
    record["model"].update({"role": role})
    return record


def saturation_records():
    """flores de-en: everyone at 99.9-100 (saturated; the English teacher at 10 is not counted on it);
    flores fr-en: 100 against 99.0, which 10 wrong answers a side tell apart; tatoeba de-en: far from the
    ceiling."""
    return [perfect_but("a", 0), perfect_but("b", 1), perfect_but("t", 900, role="teacher"),
            perfect_but("a", 0, pair="fr-en"), perfect_but("b", 10, pair="fr-en"),
            perfect_but("t", 900, pair="fr-en", role="teacher"),
            mining("a", 0.9), mining("b", 0.8), mining("t", 0.1, role="teacher")]


def test_a_pair_every_model_aces_is_saturated_and_left_out_of_the_averages():
    from harness.results.overview import saturated

    groups = load_groups(saturation_records())
    assert saturated(groups, ["a", "b", "t"]) == [("flores", "de-en")]
    columns = {c.label: c for c in view(groups, ["a", "b", "t"])}
    mining_all = columns["mining all"]
    assert mining_all.saturated == [("flores", "de-en")] and ("flores", "de-en") not in mining_all.shared
    assert mining_all.shared == [("flores", "fr-en"), ("tatoeba", "de-en")]
    expected = np.mean([r["metrics"]["acc_margin_mean"]["value"] for r in saturation_records()
                        if r["model"]["name"] == "b" and (r["task"]["name"], r["pair"]) in mining_all.shared])
    assert mining_all.cells["b"].value == pytest.approx(expected)
    kept = {c.label: c for c in view(groups, ["a", "b", "t"], ceiling=None)}["mining all"]
    assert kept.saturated == [] and ("flores", "de-en") in kept.shared  # the setting that turns it off


def test_a_pair_is_not_saturated_when_the_teacher_is_judged_on_english_or_one_model_is_below_the_ceiling():
    from harness.results.overview import saturated

    records = [perfect_but("a", 0, task="xquad", pair="en-en"), perfect_but("b", 0, task="xquad", pair="en-en"),
               perfect_but("t", 300, task="xquad", pair="en-en", role="teacher"),
               perfect_but("a", 0, pair="it-en"), perfect_but("b", 20, pair="it-en")]
    assert saturated(load_groups(records), ["a", "b", "t"]) == []
    assert saturated(load_groups(records[:2]), ["a", "b"]) == [("xquad", "en-en")]
    assert saturated(load_groups(records[:1]), ["a"]) == []  # one model: nothing to tell apart


def test_the_report_names_the_saturated_pairs_and_the_summary_too(tmp_path):
    from harness.results.report import render_html, render_markdown

    report = build(saturation_records(), [], "synthetic")
    assert report.saturated("main") == [("flores", "de-en")]
    markdown = render_markdown(report)
    assert "Saturated, left out of the averages: flores de-en." in markdown and "de-en (saturated)" in markdown
    assert 'id="saturated-main"' in render_html(report)
    assert "saturated, left out of the averages: flores de-en" in run_summary(saturation_records(), ["a", "b", "t"])[-1]
    assert "Saturated" not in render_markdown(build(saturation_records(), [], "synthetic", ceiling=None))


def test_a_seed_far_below_its_agreeing_siblings_is_flagged_in_the_report_and_markdown():
    """sentence-transformers #1172 planted: seeds 0 and 1 converge (90, 91), seed 2 does not (60)."""
    from harness.results.overview import failed_seeds
    from harness.results.report.markdown import overview_markdown

    records = [mining("s", 0.90, role="student"), mining("s-seed1", 0.91, role="student"),
               mining("s-seed2", 0.60, role="student"), mining("ok", 0.90), mining("ok-seed1", 0.90),
               mining("ok-seed2", 0.89)]  # drawn: 88.35, 88.7 and 88.5
    groups = load_groups(records)
    failed = failed_seeds(groups["s"])
    assert [f.member for f in failed] == ["s-seed2"] and failed[0].pairs == 1
    assert failed[0].siblings - failed[0].value == pytest.approx(30.5, abs=3)
    assert failed_seeds(groups["ok"]) == []
    report = build(records, [], "test")
    assert set(report.failed_seeds) == {"s"} and report.agreeing_seeds == {"ok"}
    row = next(line for line in overview_markdown(report, "main").splitlines() if line.startswith("| s |"))
    assert "s-seed2 failed" in row


@pytest.mark.parametrize("accuracies", [
    (0.90, 0.60),  # two seeds: which one failed cannot be told
    (0.90, 0.80, 0.60),  # the siblings of the lowest disagree among themselves: no convergence to fail against
])
def test_no_seed_is_flagged_without_agreeing_siblings(accuracies):
    from harness.results.overview import failed_seeds

    names = ["s"] + [f"s-seed{i}" for i in range(1, len(accuracies))]
    groups = load_groups([mining(name, p) for name, p in zip(names, accuracies)])
    assert failed_seeds(groups["s"]) == []
