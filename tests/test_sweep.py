"""`run --sweep NAME=V1,V2,...`: parsing, one student per value (times seeds), the value in its records, and
the report's curve drawn from the records alone."""

import json

import pytest

from harness.app.cli import main
from harness.app.config import RunConfig, build
from harness.app.sweep import parse_sweep, sweepable
from harness.core.errors import HarnessError
from harness.results.plots import overlaps, sweep_figure
from harness.results.report import model as report_model
from harness.results.store import ResultStore
from harness.results.sweeps import sweep_curves
from tests.records import read_record


def test_values_are_typed_and_checked_like_the_setting():
    assert parse_sweep("max_pairs=500,1000,all").values == (500, 1000, None)
    assert parse_sweep("max_pairs=2000").values == (2000,)  # one value: a point, or seeds, added to a curve
    assert parse_sweep("lr = 1e-5, 3e-5").values == (1e-5, 3e-5)
    assert parse_sweep("freeze-embeddings=true,false").setting == "freeze_embeddings"
    assert parse_sweep("head=lstsq,orthogonal").values == ("lstsq", "orthogonal")
    assert parse_sweep("max_pairs=500,all").label(None) == "max_pairs-all"
    assert parse_sweep("max_pairs=16000").label(16000) == "max_pairs-16000"  # names stay ungrouped (tables group)
    assert parse_sweep("teacher_fit_sentences=1000,same").label(None) == "teacher_fit_sentences-same"
    assert parse_sweep("lr=2e-5,1e-4").label(2e-5) == "lr-2e-05"


@pytest.mark.parametrize("text, message", [
    ("max_pairs", "is not NAME=V1,V2"),
    ("max_pair=1,2", "did you mean 'max_pairs'"),
    ("seed=1,2", "use --seeds"),
    ("langs=de,fr", "cannot be swept"),
    ("max_pairs=", "gives no value of max_pairs"),
    ("max_pairs= , ", "gives no value of max_pairs"),
    ("max_pairs=500,500", "given twice"),
    ("lr=1e-5,1.0000001e-5", "names the same student as another: 1e-05"),
    ("guards=true,false", "cannot be swept"),  # how a student is made, not what it learns
    ("checkpoint_every=10,20", "cannot be swept"),
    ("lr=0,1e-5", "lr must be greater than 0"),
    ("head=auto,foo", "must be one of"),
    ("max_pairs=ten,20", "must be an integer"),
])
def test_a_bad_sweep_is_one_clear_error(text, message):
    with pytest.raises(HarnessError, match=message):
        parse_sweep(text)


def test_every_sweepable_setting_is_a_training_number_choice_or_switch():
    names = sweepable()
    assert {"max_pairs", "lr", "epochs", "freeze_layers", "head", "freeze_embeddings"} <= set(names)
    assert "seed" not in names and "langs" not in names and "teacher" not in names


def test_a_bad_sweep_on_the_command_line_exits_2_in_one_line(capsys):
    assert main(["run", "--sweep", "max_pairs=", "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: sweep: 'max_pairs=' gives no value of max_pairs (e.g. max_pairs=500,1000)"


def test_a_setting_the_trainer_does_not_read_is_refused(run_toml_text, data_env, tmp_path, capsys):
    config_file = tmp_path / "sweep.toml"
    config_file.write_text(run_toml_text)  # trainers = ["distill"]
    assert main(["run", "--config", str(config_file), "--sweep", "aligned_share=0.3,0.5"]) == 2
    assert "distill does not read aligned_share" in capsys.readouterr().err


def test_a_dry_run_of_a_sweep_stays_small(tmp_path, run_toml_text):
    from harness.app.plan import swept_configs

    config_file = tmp_path / "sweep.toml"
    config_file.write_text(run_toml_text + 'sweep = "max_pairs=500,all"\n')
    variants = swept_configs(build(RunConfig, {"dry_run": True}, config_file))
    assert [(v.max_pairs, v.tag, s["value"]) for v, s in variants] == [(32, "max_pairs-500", 500),
                                                                       (32, "max_pairs-all", None)]


def test_an_all_point_records_the_pairs_per_language_it_trains_on(run_toml_text, data_env, tmp_path, monkeypatch):
    from harness.app.plan import plan_run

    monkeypatch.chdir(tmp_path)
    config_file = tmp_path / "sweep.toml"
    config_file.write_text(run_toml_text + 'sweep = "max_pairs=12,100000,all"\n')
    plan = plan_run(build(RunConfig, {}, config_file))
    numbered, capped, everything = plan.students
    assert "pairs_per_language" not in numbered.sweep  # every language fills 12: the value says it
    langs = len(plan.config.langs)
    assert numbered.data.n_pairs == 12 * langs < everything.data.n_pairs < 100000 * langs
    assert everything.sweep["pairs_per_language"] == round(everything.data.n_pairs / langs)
    assert capped.sweep["pairs_per_language"] == everything.sweep["pairs_per_language"]  # the same data


def test_a_refresh_keeps_what_only_the_training_run_knew(tmp_path):
    from harness.app.runner import _refresh
    from harness.results.schema import make_record

    store = ResultStore(tmp_path)
    sweep = {"setting": "max_pairs", "value": 12, "of": "s", "id": "x"}
    record = make_record(model={"name": "s-max_pairs-12", "role": "student", "sweep": sweep},
                         task={"name": "t", "family": "sts", "main_score": "spearman"}, pair="de-en",
                         metrics={"spearman": {"value": 50.0, "higher_is_better": True}}, n_items=3, seconds=1.0)
    store.write(record)
    _refresh(store, record, {"name": "s-max_pairs-12", "role": "ablation"})  # an eval that knows nothing of it
    stored = store.read("s-max_pairs-12", "t", "de-en")
    assert stored["model"] == {"name": "s-max_pairs-12", "role": "ablation", "sweep": sweep}


def test_the_plan_has_one_student_per_value_and_seed(tmp_path, run_toml_text):
    config_file = tmp_path / "sweep.toml"
    config_file.write_text(run_toml_text + 'sweep = "max_pairs=12,24"\ntag = "curve"\n')
    from harness.app.plan import swept_configs

    config = build(RunConfig, {"seeds": [0, 1]}, config_file)
    variants = swept_configs(config)
    assert [(v.max_pairs, v.tag, s["setting"], s["value"]) for v, s in variants] == [
        (12, "curve-max_pairs-12", "max_pairs", 12), (24, "curve-max_pairs-24", "max_pairs", 24)]
    assert all(v.lr == config.lr and v.seeds == [0, 1] for v, _ in variants)
    assert len({s["id"] for _, s in variants}) == 1  # one recipe: one curve
    other = swept_configs(build(RunConfig, {"seeds": [0, 1], "lr": 1e-4}, config_file))
    assert other[0][1]["id"] != variants[0][1]["id"]  # another recipe: another curve


@pytest.fixture
def run_toml_text(run_toml):
    return run_toml.read_text() + 'compat_tasks = ["tatoeba"]\n'


def test_a_sweep_runs_end_to_end_and_the_report_draws_its_curve(run_toml_text, data_env, tmp_path, monkeypatch,
                                                                capsys):
    monkeypatch.chdir(tmp_path)
    config_file = tmp_path / "sweep.toml"
    config_file.write_text(run_toml_text)
    assert main(["run", "--config", str(config_file), "--sweep", "max_pairs=12,24", "--seeds", "0,1",
                 "--no-progress"]) == 0
    runs = tmp_path / "results" / "runs"
    students = sorted(p.name for p in runs.iterdir() if p.name.startswith("distill-") and "_hash" not in p.name)
    assert students == ["distill-st-de-max_pairs-12", "distill-st-de-max_pairs-12-seed1",
                        "distill-st-de-max_pairs-24", "distill-st-de-max_pairs-24-seed1"]
    record = read_record(runs / "distill-st-de-max_pairs-12-seed1" / "tatoeba" / "de-en.json")
    sweep = record["model"]["sweep"]
    assert {k: sweep[k] for k in ("setting", "value", "of")} == {"setting": "max_pairs", "value": 12,
                                                                 "of": "distill-st-de"}
    assert record["run"]["max_pairs"] == 12 and record["run"]["seed"] == 1  # what this student was trained with
    compat = next(p for p in runs.iterdir() if p.name.startswith("distill-st-de-max_pairs-12_"))
    paired = read_record(compat / "tatoeba" / "de-en.json")  # its queries, the teacher's index
    assert paired["model"]["sweep"]["value"] == 12 and paired["run"]["max_pairs"] == 12
    summary = json.loads((models := tmp_path / "models" / "distill-st-de-max_pairs-12" /
                          "training_summary.json").read_text())
    assert summary["config"]["max_pairs"] == 12, models
    stored = json.loads((tmp_path / "results" / "run_configs" / "distill-st-de-max_pairs-24-seed1.json").read_text())
    assert stored["max_pairs"] == 24 and stored["seed"] == 1 and stored["sweep"] == "max_pairs=12,24"

    records, _ = ResultStore(runs).records()
    (curve,) = sweep_curves(report_model.load_groups(records))
    assert curve.setting == "max_pairs" and [p.value for p in curve.points] == [12, 24]
    assert [p.seeds for p in curve.points] == [2, 2] and set(curve.references) == {"base", "teacher"}
    assert set(curve.pairs) == {"sts", "mining"}
    for point in curve.points:
        mining = point.cells["mining"]
        assert mining.low <= mining.value <= mining.high and mining.seed_sd is not None
        assert len(point.seed_values["mining"]) == 2
    md = (tmp_path / "results" / "LEADERBOARD.md").read_text()
    assert "### distill-st-de: max_pairs" in md and "| 24 | distill-st-de-max_pairs-24 | 2 |" in md
    html = (tmp_path / "results" / "leaderboard.html").read_text()
    assert 'id="sweeps"' in html and 'alt="distill-st-de: scores against max_pairs"' in html

    figure = sweep_figure(curve)
    width = figure.width
    assert figure.legend[0] >= 0 and figure.legend[2] <= width and figure.legend[1] >= 0  # inside the figure
    assert not any(overlaps(figure.legend, box) for box in figure.axes)

    # the same setting swept again with another recipe: a second curve, not more points on the first
    assert main(["run", "--config", str(config_file), "--sweep", "max_pairs=36,48", "--lr", "1e-4",
                 "--no-progress"]) == 0
    records, _ = ResultStore(runs).records()
    curves = sweep_curves(report_model.load_groups(records))
    assert sorted([p.value for p in c.points] for c in curves) == [[12, 24], [36, 48]]


def test_a_curves_recipe_ignores_how_its_points_were_made_but_not_what_they_learnt():
    from harness.core.training import sweep_recipe_id

    run = build(RunConfig, {}).recorded()
    shared = sweep_recipe_id(run, "max_pairs")
    made_otherwise = {**run, "eval_every": 0, "micro_batch": 0, "checkpoint_every": 0, "max_pairs": 4000, "seed": 2}
    assert sweep_recipe_id(made_otherwise, "max_pairs") == shared
    assert sweep_recipe_id({**run, "lr": 1e-4}, "max_pairs") != shared
    assert sweep_recipe_id({**run, "langs": ["es"]}, "max_pairs") != shared
    older = {k: v for k, v in run.items() if k != "similarity_weight"}  # a block from before the setting existed
    assert sweep_recipe_id(older, "max_pairs") == shared


def test_a_curves_recipe_counts_a_missing_setting_at_its_value_before_it_existed():
    from harness.core.training import sweep_recipe_id

    run = build(RunConfig, {}).recorded()  # aligned_share 0.5, the default today
    older = {k: v for k, v in run.items() if k != "aligned_share"}  # align-map before it was averaged: 1.0
    assert sweep_recipe_id(older, "max_pairs", "align-map") != sweep_recipe_id(run, "max_pairs", "align-map")
    assert sweep_recipe_id(older, "max_pairs", "align-map") == \
        sweep_recipe_id({**run, "aligned_share": 1.0}, "max_pairs", "align-map")
    # a setting the trainer does not read does not make another curve
    assert sweep_recipe_id({**run, "lr": 1.0}, "max_pairs", "static") == sweep_recipe_id(run, "max_pairs", "static")
