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
    write_json_atomic(path, merged_speeds(path, {"base": entry(100.0), "static": entry(9000.0)}, "s1"))
    write_json_atomic(path, merged_speeds(path, {"static": entry(12000.0)}, "s2"))
    speeds = read_speeds(path)
    assert {n: s.sentences_per_second for n, s in speeds.items()} == {"base": 100.0, "static": 12000.0}
    assert (speeds["base"].session, speeds["static"].session) == ("s1", "s2")
    assert read_speeds(tmp_path / "absent.json") == {}


def test_a_multiple_is_taken_within_one_session_only(tmp_path):
    """The same CPU drifts between sessions: a model is set against its reference as measured beside it."""
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, merged_speeds(path, {"base": entry(100.0), "student": entry(90.0)}, "monday"))
    write_json_atomic(path, merged_speeds(path, {"base": entry(70.0), "static": entry(7000.0)}, "tuesday"))
    write_json_atomic(path, merged_speeds(path, {"alone": entry(60.0)}, "wednesday"))
    speeds = read_speeds(path)
    assert speeds["base"].sentences_per_second == 70.0  # the latest measurement is the model's speed
    assert speeds["student"].against("base") == pytest.approx(0.9)  # against Monday's base, not Tuesday's
    assert speeds["static"].against("base") == pytest.approx(100.0)
    assert speeds["alone"].against("base") is None  # no base measured beside it: no multiple
    data = json.loads(path.read_text())
    assert data["schema"] == 2 and data["sessions"]["monday"] == {"base": 100.0, "student": 90.0}
    write_json_atomic(path, merged_speeds(path, {"student": entry(80.0)}, "thursday"))
    assert "monday" not in json.loads(path.read_text())["sessions"]  # no entry refers to it any more


def test_a_file_from_before_sessions_reads_as_one_session_per_machine_and_merges_into_the_new_schema(tmp_path):
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, {"schema": 1, "models": {"base": entry(100.0), "static": entry(9000.0),
                                                     "far": {**entry(10.0), "machine": "another CPU"}}})
    speeds = read_speeds(path)
    assert speeds["static"].against("base") == pytest.approx(90.0) and speeds["far"].against("base") is None
    write_json_atomic(path, merged_speeds(path, {"new": entry(50.0)}, "s1"))
    data = json.loads(path.read_text())
    here, there = "unrecorded (test CPU, 2 cores)", "unrecorded (another CPU)"
    assert {n: e["session"] for n, e in data["models"].items()} == {"base": here, "far": there, "new": "s1",
                                                                    "static": here}
    assert read_speeds(path)["static"].against("base") == pytest.approx(90.0)
    assert read_speeds(path)["far"].against("base") is None  # still not across machines


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not readable as JSON"),
    (json.dumps({"schema": 99, "models": {}}), "schema 1 or 2"),
    (json.dumps({"schema": 2, "models": {"m": {**entry(5.0), "session": "s"}}, "sessions": {}}), "'m': session 's'"),
    (json.dumps({"schema": 2, "models": {}, "sessions": {"s": {"m": 0}}}), "session 's': each model's speed"),
    (json.dumps({"schema": 2, "models": {"m": {**entry(5.0), "session": ["s"]}}, "sessions": {}}), "'m': session"),
    (json.dumps({"schema": 2, "models": {"m": {**entry(7.0), "session": "s"}}, "sessions": {"s": {"m": 1.0}}}),
     "'m': its speed, 7.0, is not the one its session 's' holds"),
    (json.dumps({"schema": 1, "models": {"m": {"sentences_per_second": -3}}}), "'m': sentences_per_second"),
    (json.dumps({"schema": 1, "models": {"m": {"sentences_per_second": "fast"}}}), "positive number"),
    (json.dumps({"schema": True, "models": {}}), "schema 1 or 2"),
    (json.dumps({"schema": 1, "models": {"m": {"sentences_per_second": 5, "texts": "t"}}}), "'m': machine"),
    (json.dumps({"schema": 1, "models": {"m": {"sentences_per_second": 5, "texts": "t", "machine": "c",
                                               "stand_in": ""}}}), "'m': stand_in"),
])
def test_a_damaged_speed_file_is_an_error_naming_it(tmp_path, content, problem):
    path = tmp_path / SPEED_FILE
    path.write_text(content)
    with pytest.raises(HarnessError, match=problem) as err:
        read_speeds(path)
    assert str(path) in str(err.value)
    with pytest.raises(HarnessError):
        merged_speeds(path, {"m": entry(1.0)}, "s")  # nothing is merged into it either


def test_the_report_sets_each_measured_models_speed_beside_its_averages(tmp_path):
    records = [mining("teacher-x", 0.6, role="teacher"), mining("base-x", 0.9, role="base"),
               mining("static-x", 0.8, base="base-x", teacher="teacher-x")]
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, merged_speeds(path, {"base-x": entry(150.0), "static-x": entry(15000.0),
                                                 "not-in-the-records": entry(1.0)}, "s1"))
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
    other = {**entry(500.0), "machine": "another CPU"}  # the fastest, on another machine
    write_json_atomic(path, {"schema": 1, "models": {"base-x": entry(100.0), "base-y": entry(200.0),
                                                     "student-y": entry(400.0), "peer": other}})
    report = build(records, [], "mem", speeds=read_speeds(path))
    rows = {row[0]: row for row in report.speed["all"].rows}  # every model: base-x sorts first of the bases
    assert [row[0] for row in report.speed["all"].rows][-1] == "peer"  # the other machine's block, after the base's
    assert rows["student-y"][3:5] == (2.0, "base-y")  # its own base, not the view's first one
    assert rows["peer"][3:5] == (None, None)  # measured elsewhere: no ratio across machines
    assert rows["base-y"][3:5] == (2.0, "base-x")  # a model that is not a student: against the view's base
    markdown = render_markdown(build(records, [], "mem", speeds=read_speeds(path)))
    assert "Measured on (1): another CPU." in markdown and "Measured on (2): test CPU, 2 cores." in markdown
    assert "| peer | baseline | 500 |  |  | 1 |" in markdown  # the machine column, since there are two


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


def test_a_speed_measured_on_a_stand_in_is_marked_and_says_what_it_was_measured_on(tmp_path):
    records = [mining("base-x", 0.9, role="base"), mining("kept", 0.8, base="base-x"),
               mining("gone", 0.8, base="base-x")]
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, {"schema": 1, "models": {"base-x": entry(100.0), "kept": entry(90.0),
                                                     "gone": {**entry(80.0), "stand_in": "its recipe in miniature"}}})
    speeds = read_speeds(path)
    assert speeds["gone"].stand_in == "its recipe in miniature" and speeds["kept"].stand_in is None
    report = build(records, [], "mem", speeds=speeds)
    assert report.speed["main"].stand_ins == {"gone": "its recipe in miniature"}
    markdown = render_markdown(report)
    assert "| gone | student | 80 † | 0.8 | base-x |" in markdown and "| kept | student | 90 | 0.9 |" in markdown
    assert "†: measured on its recipe in miniature." in markdown
    page = render_html(report)
    assert 'title="measured on its recipe in miniature">' in page and "†: measured on its recipe in miniature." in page


def test_a_table_from_several_sessions_numbers_each_rows_session(tmp_path):
    records = [mining("base-x", 0.9, role="base"), mining("early", 0.8, base="base-x"),
               mining("late", 0.8, base="base-x")]
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, merged_speeds(path, {"base-x": entry(100.0), "early": entry(50.0)}, "day 1"))
    write_json_atomic(path, merged_speeds(path, {"late": entry(40.0)}, "day 2"))
    report = build(records, [], "mem", speeds=read_speeds(path))
    markdown = render_markdown(report)
    assert "| early | student | 50 | 0.5 | base-x | 1 |" in markdown  # against day 1's base
    assert "| late | student | 40 |  |  | 2 |" in markdown  # no base measured on day 2: no multiple
    assert "Session (1): day 1." in markdown and "Session (2): day 2." in markdown and "not comparable" in markdown
    page = render_html(report)
    assert "<th>session</th>" in page and 'title="day 2">2</td>' in page
    assert [row[0] for row in report.speed["main"].rows] == ["base-x", "early", "late"]
    one = tmp_path / "one.json"
    write_json_atomic(one, merged_speeds(one, {"base-x": entry(100.0), "early": entry(50.0)}, "day 1"))
    assert "session |" not in render_markdown(build(records, [], "mem", speeds=read_speeds(one)))


def test_the_rows_come_in_a_block_per_session_the_bases_first_and_fastest_first_within_each(tmp_path):
    """Speeds of different sessions are not comparable, so one session's fast CPU does not lift its rows above
    another's: the base's session first, numbered (1), then the others by name."""
    records = [mining("base-x", 0.9, role="base")] + [mining(n, 0.8, base="base-x") for n in ("a", "b", "c", "d")]
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, merged_speeds(path, {"c": entry(500.0)}, "day 1"))
    write_json_atomic(path, merged_speeds(path, {"base-x": entry(100.0), "a": entry(50.0), "b": entry(80.0)},
                                          "day 2"))
    write_json_atomic(path, merged_speeds(path, {"d": entry(900.0)}, "day 3"))
    table = build(records, [], "mem", speeds=read_speeds(path)).speed["main"]
    assert [row[0] for row in table.rows] == ["base-x", "b", "a", "c", "d"]
    assert table.session_ids == ["day 2", "day 1", "day 3"]
    markdown = render_markdown(build(records, [], "mem", speeds=read_speeds(path)))
    assert "| b | student | 80 | 0.8 | base-x | 1 |" in markdown and "| d | student | 900 |  |  | 3 |" in markdown
    assert "Session (1): day 2." in markdown and "Session (2): day 1." in markdown
    page = render_html(build(records, [], "mem", speeds=read_speeds(path)))
    assert 'title="day 1">2</td>' in page and 'title="day 2">1</td>' in page  # the HTML numbers them alike
    speed = page[page.index('<table class="speed">'):]
    speed = speed[:speed.index("</table>")]
    assert speed.count('class="group-start"') == 2  # a rule where day 1's block starts, and day 3's


def test_a_model_scored_with_a_prompt_or_one_output_is_set_against_the_base_of_the_model_it_marks(tmp_path):
    """The base with a prompt is an ablation of the base itself: its records name no base to be trained from. It is
    set against that base, not the view's (here the other base, which sorts first), and a student's output against
    the student's base; a trained model whose base is not known gets no multiple."""
    records = [mining("a-base", 0.9, role="base"), mining("z-base", 0.9, role="base"),
               mining("z-base#prompt=query:", 0.9, role="ablation"),
               mining("student", 0.8, base="z-base"), mining("student#output=teacher", 0.8, role="ablation"),
               mining("orphan", 0.8, role="ablation")]
    path = tmp_path / SPEED_FILE
    speeds = {"a-base": 10.0, "z-base": 100.0, "z-base#prompt=query:": 90.0, "student": 80.0,
              "student#output=teacher": 70.0, "orphan": 60.0}
    write_json_atomic(path, merged_speeds(path, {n: entry(v) for n, v in speeds.items()}, "s"))
    rows = {row[0]: row for row in build(records, [], "mem", speeds=read_speeds(path)).speed["all"].rows}
    assert rows["z-base#prompt=query:"][3] == pytest.approx(0.9) and rows["z-base#prompt=query:"][4] == "z-base"
    assert rows["student#output=teacher"][3] == pytest.approx(0.7) and rows["student#output=teacher"][4] == "z-base"
    assert rows["student"][3:5] == (0.8, "z-base")
    assert rows["orphan"][3:5] == (None, None)
    assert rows["z-base"][3:5] == (10.0, "a-base")  # a base is set against the view's (the first)


def test_a_students_base_is_read_from_any_of_its_records(tmp_path):
    """A record scored later by another path (an opt-in task) may lack the base: the group still knows it."""
    late = mining("student", 0.8, pair="ar-en")  # sorts before de-en: the group's first record
    assert "base" not in late["model"]
    records = [mining("a-base", 0.9, role="base"), mining("z-base", 0.9, role="base"), late,
               mining("student", 0.8, base="z-base")]
    path = tmp_path / SPEED_FILE
    write_json_atomic(path, merged_speeds(path, {"a-base": entry(10.0), "z-base": entry(100.0),
                                                 "student": entry(80.0)}, "s"))
    rows = {row[0]: row for row in build(records, [], "mem", speeds=read_speeds(path)).speed["all"].rows}
    assert rows["student"][3:5] == (0.8, "z-base")
