"""Encode speeds beside the leaderboard: the file the benchmark writes, merged and validated, and the report's
"Quality against speed" table (sentences per second, the multiple of the base's, the family averages)."""

import json

import pytest

from harness.core.errors import HarnessError
from harness.results.report import build, render_html, render_markdown, write_leaderboard
from harness.results.speed import SPEED_FILE, merged_speeds, read_speeds
from harness.results.store import write_json_atomic
from tests.records import write
from tests.test_report import mining


def entry(speed: float) -> dict:
    return {"sentences_per_second": speed, "machine": "test CPU, 2 cores", "texts": "512 sentences"}


def test_a_later_measurement_replaces_its_models_and_keeps_the_others(tmp_path):
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, merged_speeds(path, {"base": entry(100.0), "static": entry(9000.0)}))
    write_json_atomic(path, merged_speeds(path, {"static": entry(12000.0)}))
    speeds = read_speeds(path)
    assert {n: s.sentences_per_second for n, s in speeds.items()} == {"base": 100.0, "static": 12000.0}
    assert speeds["static"].times(speeds["base"]) == 120.0
    assert read_speeds(tmp_path / "absent.json") == {}


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not readable as JSON"),
    (json.dumps({"schema": 99, "models": {}}), "schema 1"),
    (json.dumps({"schema": 1, "models": {"m": {"sentences_per_second": -3}}}), "'m': sentences_per_second"),
    (json.dumps({"schema": 1, "models": {"m": {"sentences_per_second": "fast"}}}), "positive number"),
    (json.dumps({"schema": True, "models": {}}), "schema 1"),
    (json.dumps({"schema": 1, "models": {"m": {"sentences_per_second": 5, "texts": "t"}}}), "'m': machine"),
])
def test_a_damaged_speed_file_is_an_error_naming_it(tmp_path, content, problem):
    path = tmp_path / SPEED_FILE
    path.write_text(content)
    with pytest.raises(HarnessError, match=problem) as err:
        read_speeds(path)
    assert str(path) in str(err.value)
    with pytest.raises(HarnessError):
        merged_speeds(path, {"m": entry(1.0)})  # nothing is merged into it either


def test_the_report_sets_each_measured_models_speed_beside_its_averages(tmp_path):
    records = [mining("teacher-x", 0.6, role="teacher"), mining("base-x", 0.9, role="base"),
               mining("static-x", 0.8, base="base-x", teacher="teacher-x")]
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, merged_speeds(path, {"base-x": entry(150.0), "static-x": entry(15000.0),
                                                 "not-in-the-records": entry(1.0)}))
    report = build(records, [], "mem", speeds=read_speeds(path))
    table = report.speed["main"]
    assert [row[0] for row in table.rows] == ["static-x", "base-x"]  # fastest first; the teacher was not measured
    name, role, speed, times, reference, machine, cells = table.rows[0]
    assert (speed, reference, machine) == (15000.0, "base-x", "test CPU, 2 cores") and times == pytest.approx(100.0)
    assert table.columns == ["mining all (1 pairs)"]
    assert cells[0].value == pytest.approx(report.columns["main"][-1].cells["static-x"].value)
    markdown = render_markdown(report)
    assert "## Quality against speed" in markdown and "| static-x | student | 15,000 | 100 | base-x |" in markdown
    assert "Measured on: test CPU, 2 cores." in markdown and "machine |" not in markdown  # one machine: no column
    page = render_html(report)
    assert 'id="speed"' in page and 'href="#speed"' in page and "15,000" in page
    assert set(report.speed) == {"main", "all"}  # one table per view, as the overview has
    assert build(records, [], "mem").speed == {}  # no file: no section
    assert "Quality against speed" not in render_markdown(build(records, [], "mem"))


def test_the_averages_cover_the_pairs_every_measured_model_has_not_those_of_an_unmeasured_one(tmp_path):
    """A model without a speed does not narrow the table's averages to its own languages (the overview's do)."""
    records = [mining("base-x", 0.9, role="base"), mining("base-x", 0.9, pair="fr-en", role="base"),
               mining("student-x", 0.8, base="base-x"), mining("student-x", 0.8, pair="fr-en", base="base-x"),
               mining("es-student", 0.7, pair="es-en", base="base-x")]
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, {"schema": 1, "models": {"base-x": entry(100.0), "student-x": entry(100.0)}})
    table = build(records, [], "mem", speeds=read_speeds(path)).speed["main"]
    assert table.columns == ["mining all (2 pairs)"]  # de-en and fr-en: es-student was not measured
    row = next(r for r in table.rows if r[0] == "student-x")
    both = [records[2]["metrics"]["acc_margin_mean"]["value"], records[3]["metrics"]["acc_margin_mean"]["value"]]
    assert row[6][0].value == pytest.approx(sum(both) / 2)


def test_a_measured_model_scored_on_few_pairs_shows_its_speed_without_narrowing_the_averages(tmp_path):
    pairs = ["de-en", "fr-en", "es-en", "ar-en"]
    records = [mining(name, 0.9, pair=pair, **meta) for name, meta in (("base-x", {"role": "base"}),
                                                                       ("wide", {"base": "base-x"}))
               for pair in pairs] + [mining("narrow", 0.8, pair="tr-en", base="base-x")]
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, {"schema": 1, "models": {n: entry(100.0) for n in ("base-x", "wide", "narrow")}})
    table = build(records, [], "mem", speeds=read_speeds(path)).speed["main"]
    assert table.columns == ["mining all (4 pairs)"]  # not emptied by narrow's one pair, which no one else has
    rows = {row[0]: row for row in table.rows}
    assert rows["narrow"][2] == 100.0 and rows["narrow"][6] == [None]  # its speed, and no average over other data
    assert rows["wide"][6][0] is not None


def test_a_student_is_set_against_its_own_base_and_only_on_the_same_machine(tmp_path):
    records = [mining("base-x", 0.9, role="base"), mining("base-y", 0.9, role="base"),
               mining("student-y", 0.8, base="base-y"), mining("peer", 0.7, role="baseline")]
    path = tmp_path / SPEED_FILE
    other = {**entry(50.0), "machine": "another CPU"}
    write_json_atomic(path, {"schema": 1, "models": {"base-x": entry(100.0), "base-y": entry(200.0),
                                                     "student-y": entry(400.0), "peer": other}})
    report = build(records, [], "mem", speeds=read_speeds(path))
    rows = {row[0]: row for row in report.speed["all"].rows}  # every model: base-x sorts first of the bases
    assert rows["student-y"][3:5] == (2.0, "base-y")  # its own base, not the view's first one
    assert rows["peer"][3:5] == (None, None)  # measured elsewhere: no ratio across machines
    assert rows["base-y"][3:5] == (2.0, "base-x")  # a model that is not a student: against the view's base
    markdown = render_markdown(build(records, [], "mem", speeds=read_speeds(path)))
    assert "Measured on (1): another CPU." in markdown and "Measured on (2): test CPU, 2 cores." in markdown
    assert "| peer | baseline | 50 |  |  | 1 |" in markdown  # the machine column, since there are two


def test_write_leaderboard_reads_the_speeds_beside_its_outputs(tmp_path):
    runs = tmp_path / "runs"
    for record in (mining("base-x", 0.9, role="base"), mining("static-x", 0.8, base="base-x")):
        write(runs, record)
    write_json_atomic(tmp_path / SPEED_FILE, {"schema": 1, "models": {"static-x": entry(5000.0)}})
    md = write_leaderboard(runs, tmp_path)[0].read_text()
    assert "| static-x | student | 5,000 |  |" in md  # no base measured: no multiple
    (tmp_path / SPEED_FILE).write_text("{broken")
    with pytest.raises(HarnessError, match=SPEED_FILE):
        write_leaderboard(runs, tmp_path)
