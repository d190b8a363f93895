"""`harness run` end to end on tiny data: train, evaluate side by side, store config, rebuild leaderboard."""

import json

import pytest

from harness.app.cli import main
from harness.app.config import RunConfig, build
from harness.core.errors import HarnessError
from tests.records import read_record


def test_run_from_config_file(run_toml, data_env, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the teacher cache goes to ./cache
    assert main(["run", "--config", str(run_toml), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "# " not in out and out.strip().splitlines()[-1].startswith("report: ")  # a summary, not the tables
    runs = tmp_path / "results" / "runs"
    models = sorted(p.name for p in runs.iterdir())
    student = next(m for m in models if m.startswith("distill-"))
    compat = [m for m in models if "_hash_32-" in m]  # queries through a model, the index through the teacher
    assert len(models) - len(compat) == 3 and len(compat) == 2  # teacher, base, student; student and base @ teacher
    pairing = read_record(next(runs / m / "tatoeba" / "de-en.json" for m in compat if m.startswith(student)))
    assert pairing["model"]["role"] == "compat" and pairing["model"]["candidates"] == "hash:32"
    assert set(pairing["analysis"]["compatibility"]) == {"translation_to_candidate", "same_text"}
    record = read_record(runs / student / "tatoeba" / "de-en.json")
    assert record["model"]["role"] == "student" and record["model"]["trainer"] == "distill"
    assert record["run"]["max_pairs"] == 24 and record["run"]["teacher"] == "hash:32"  # resolved config
    stored = json.loads((tmp_path / "results" / "run_configs" / f"{student}.json").read_text())
    assert stored["batch_size"] == 8
    summary = [line for line in out.splitlines() if line.startswith(("hash:32", student))]
    assert len(summary) == 2 and "sts " in summary[1] and "mining " in summary[1]  # one line per model touched
    md = (tmp_path / "results" / "LEADERBOARD.md").read_text()
    assert "| hash:32" in md and f"| {student}" in md
    # flags beat the file
    assert main(["run", "--config", str(run_toml), "--batch-size", "4", "--no-progress"]) == 2  # trained otherwise
    assert "holds a student trained with other settings (batch_size 8 -> 4)" in capsys.readouterr().err


def test_a_used_name_never_takes_a_student_made_another_way(run_toml, data_env, tmp_path, capsys, monkeypatch):
    """A fresh clone has the committed students' records but not their folders: a run with other settings
    must not train a new student under their name and overwrite them (issue 22, item 1)."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--config", str(run_toml), "--no-progress"]) == 0
    runs = tmp_path / "results" / "runs"
    student = next(p for p in (tmp_path / "models").iterdir())
    before = {p: p.read_bytes() for p in runs.rglob("*.json")}
    import shutil

    shutil.rmtree(student)  # as in a fresh clone: records, no folder
    capsys.readouterr()
    assert main(["run", "--config", str(run_toml), "--max-pairs", "10", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"results stored under {student.name} were made with other settings" in err
    assert "(max_pairs 24 -> 10)" in err and "--tag" in err and str(runs / student.name) in err
    assert not student.exists() and {p: p.read_bytes() for p in runs.rglob("*.json")} == before
    assert main(["validate", "--config", str(run_toml), "--max-pairs", "10", "--tag", "small"]) == 0
    assert main(["validate", "--config", str(run_toml), "--max-pairs", "10", "--overwrite"]) == 0
    # the same recipe again retrains the same student, and the records it recomputes are left as they were
    assert main(["run", "--config", str(run_toml), "--no-progress"]) == 0
    assert student.is_dir() and {p: p.read_bytes() for p in runs.rglob("*.json")} == before


def test_train_twice_then_run_the_same_recipe_is_no_conflict(run_toml, data_env, tmp_path, capsys, monkeypatch):
    """The recipe check must not refuse what is the same student: `train` run again, then `run` (or
    `validate`) with the same recipe under the same name. `train`'s scoring writes records whose run block
    holds the encoding batch size, not a recipe; they are not read as one."""
    monkeypatch.chdir(tmp_path)
    args = ["train", "--teacher", "hash:32", "--student", str(build(RunConfig, config_file=run_toml).student),
            "--langs", "de", "--trainer", "distill", "--max-pairs", "24", "--batch-size", "8", "--head-fit-pairs",
            "40", "--eval-tasks", "stsb-multi-mt", "--results-dir", str(tmp_path / "results" / "runs"),
            "--output", str(tmp_path / "models" / "distill-tiny-de"), "--no-progress"]
    assert main(args) == 0
    assert main(args) == 0  # finished the same way: reused
    assert main(["validate", "--config", str(run_toml)]) == 0
    assert main([*args[:-3], "--batch-size", "4", "--output", str(tmp_path / "models" / "distill-tiny-de"),
                 "--no-progress"]) == 2
    assert "train into another folder (--output), or --overwrite" in capsys.readouterr().err


def test_checkpoints_of_another_recipe_stop_a_sweep_before_its_first_student_trains(run_toml, data_env, tmp_path,
                                                                                     capsys, monkeypatch):
    """A killed run's checkpoints, rerun with other settings: the trainer would refuse them too, but only when
    their student's turn came, after the sweep's earlier students had trained for hours."""
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--config", str(run_toml), "--sweep", "max_pairs=16,24"]) == 0
    names = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("students: "))
    first, second = names.removeprefix("students: ").split(", ")
    checkpoints = tmp_path / "models" / second / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "recipe.json").write_text(json.dumps({"trainer": "distill", "lr": 0.5, "max_pairs": 24}))
    assert main(["validate", "--config", str(run_toml), "--sweep", "max_pairs=16,24"]) == 2
    assert "checkpoints of a run with other settings (lr 0.5 -> 2e-05)" in capsys.readouterr().err
    assert main(["run", "--config", str(run_toml), "--sweep", "max_pairs=16,24", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {checkpoints}: checkpoints of a run with other settings (lr 0.5 -> 2e-05); resuming "
                   f"them would mix two recipes: rerun with its settings, or start afresh (train: --overwrite; "
                   f"run: another tag, or --overwrite)")
    assert not (tmp_path / "models" / first).exists() and not (tmp_path / "results" / "runs").exists()
    assert main(["validate", "--config", str(run_toml), "--sweep", "max_pairs=16,24", "--lr", "0.5"]) == 0
    assert main(["validate", "--config", str(run_toml), "--sweep", "max_pairs=16,24", "--overwrite"]) == 0
    # the base, which the folder's name holds only the last part of, is the plan's to compare too
    base = str(build(RunConfig, config_file=run_toml).student)
    (checkpoints / "recipe.json").write_text(json.dumps({"trainer": "distill", "student": f"elsewhere/{base}"}))
    assert main(["validate", "--config", str(run_toml), "--sweep", "max_pairs=16,24"]) == 2
    assert f"(student elsewhere/{base} -> {base})" in capsys.readouterr().err
    # and the teacher's revision, found without loading it (the hash teacher's revision names its size)
    (checkpoints / "recipe.json").write_text(json.dumps({"trainer": "distill", "teacher_revision": "hash-v1-d16"}))
    assert main(["validate", "--config", str(run_toml), "--sweep", "max_pairs=16,24"]) == 2
    assert "(teacher_revision hash-v1-d16 -> hash-v1-d32)" in capsys.readouterr().err
    (checkpoints / "recipe.json").write_text(json.dumps({"trainer": "distill", "teacher_revision": "hash-v1-d32"}))
    assert main(["validate", "--config", str(run_toml), "--sweep", "max_pairs=16,24"]) == 0


def test_the_plan_holds_align_map_checkpoints_to_its_alignment_not_to_the_teacher(run_toml, data_env, tmp_path,
                                                                                    capsys, monkeypatch):
    """align-map's loop aligns the base to its own English space: its checkpoints resume under another teacher, so
    the plan neither refuses them for the teacher's revision nor hashes a teacher for them; a hub teacher's
    revision is left to the trainer (its load may download another snapshot than the one cached)."""
    from harness.app.plan import teacher_revision

    monkeypatch.chdir(tmp_path)
    args = ["validate", "--config", str(run_toml), "--trainers", "align-map"]
    assert main(args) == 0
    name = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("students: "))
    checkpoints = tmp_path / "models" / name.removeprefix("students: ") / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "recipe.json").write_text(json.dumps({"trainer": "align-map", "teacher_revision": "hash-v1-d16"}))
    asked = []
    monkeypatch.setattr("harness.app.plan.teacher_revision", lambda teacher: asked.append(teacher) or "hash-v1-d32")
    assert main(args) == 0 and asked == []
    (checkpoints / "recipe.json").write_text(json.dumps({"trainer": "align-map", "lr": 0.5}))
    assert main(args) == 2
    assert "(lr 0.5 -> 2e-05)" in capsys.readouterr().err
    monkeypatch.undo()
    assert teacher_revision("hash:16") == "hash-v1-d16"
    assert teacher_revision("someone/not-here") is None


def test_unknown_config_key_names_file_and_suggests(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('techer = "x"\n')
    with pytest.raises(HarnessError, match="bad.toml: unknown setting 'techer' \\(did you mean 'teacher'\\?\\)"):
        build(RunConfig, config_file=path)


def test_quick_profile_is_small():
    config = build(RunConfig, {"quick": True})
    assert config.max_pairs == 200 and config.baselines == [] and "retrieval" not in config.tasks
    assert config.results_dir.startswith("results/quick")


def test_run_validates_before_loading_models(data_env, tmp_path, capsys):
    assert main(["run", "--trainers", "distil", "--results-dir", str(tmp_path)]) == 2
    assert "did you mean 'distill'" in capsys.readouterr().err


def test_validate_checks_everything_without_loading_models(run_toml, data_env, capsys):
    assert main(["validate", "--config", str(run_toml)]) == 0
    out = capsys.readouterr().out
    assert "tasks: stsb-multi-mt, tatoeba" in out and "training data:" in out and out.strip().endswith("ok")
    assert main(["validate", "--config", str(run_toml), "--trainers", "distil"]) == 2


def test_tagged_ablation_from_a_copy_of_the_teacher(run_toml, data_env, tmp_path, tiny_bert, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = run_toml.read_text().replace('teacher = "hash:32"', f'teacher = "{tiny_bert}"')
    text = text.replace(f'student = "{tiny_bert}"', 'student = "teacher"')
    ablation = tmp_path / "ablation.toml"
    ablation.write_text(text + 'tag = "f1"\nfreeze_layers = 1\n')
    assert main(["run", "--config", str(ablation), "--no-progress"]) == 0
    runs = tmp_path / "results" / "runs"
    student = "distill-teacher-de-f1"
    names = sorted(p.name for p in runs.iterdir())
    assert len(names) == 2 and student in names  # the teacher is also the base: one folder for both
    record = read_record(runs / student / "tatoeba" / "de-en.json")
    assert record["model"]["base"] == str(tiny_bert) and record["model"]["trained_on"].startswith("cpu")
    assert record["run"]["freeze_layers"] == 1 and record["run"]["tag"] == "f1"
    assert json.loads((tmp_path / "results" / "run_configs" / f"{student}.json").read_text())["tag"] == "f1"
    md = (tmp_path / "results" / "LEADERBOARD.md").read_text()
    assert "Students: how each was trained" in md and f"| {student}" in md


def test_eval_langs_narrow_the_evaluation_not_the_training(run_toml, data_env, tmp_path, capsys):
    both = tmp_path / "both.toml"
    both.write_text(run_toml.read_text().replace('langs = "de"', 'langs = "de,fr"'))
    narrow = tmp_path / "narrow.toml"
    narrow.write_text(both.read_text() + 'eval_langs = "German"\n')
    assert build(RunConfig, config_file=narrow).eval_langs == ["de"]
    counts = []
    for path in (both, narrow):
        assert main(["validate", "--config", str(path)]) == 0
        out = capsys.readouterr().out
        pairs = int(out.split(" language pairs")[0].rsplit("(", 1)[1])
        counts.append((pairs, out.split("training data: ")[1].split()[0]))
    assert counts[1][0] < counts[0][0] and counts[1][1] == counts[0][1]  # fewer pairs, same training data


def test_each_run_keeps_its_own_settings_file():
    from pathlib import Path

    from harness.app.runner import run_settings_path

    default = run_settings_path("results", [Path("models/distill-e5-de-fr")], ["teacher", "e5"])
    twelve = run_settings_path("results", [Path("models/distill-e5-de-fr-es")], ["teacher", "e5"])
    assert default == Path("results/run_configs/distill-e5-de-fr.json") and twelve != default  # no collisions
    both = run_settings_path("results", [Path("m/distill-e5-de"), Path("m/ranking-e5-de")], []).name
    assert both == "distill-e5-de_ranking-e5-de-" + both.rsplit("-", 1)[1]  # '+' cleaned, hashed
    scored_only = run_settings_path("results", [], ["org/../../evil", "e5"])
    assert scored_only.parent == Path("results/run_configs") and scored_only.name.startswith("org_")  # stays put


def test_a_run_reads_each_data_file_once(run_toml, data_env, tmp_path, monkeypatch):
    """The plan reads every task file and every parallel file; training and evaluation read nothing again,
    even with two seeds (two samples of the same parallel files) and pairs sharing files."""
    import builtins
    from collections import Counter
    from pathlib import Path

    reads: Counter = Counter()
    real_read, real_open = Path.read_bytes, builtins.open

    def count(path) -> None:
        path = Path(path).resolve()
        if path.is_relative_to(data_env.resolve()):
            reads[path.relative_to(data_env.resolve()).as_posix()] += 1

    def counting_read(self):
        count(self)
        return real_read(self)

    def counting_open(file, *args, **kwargs):  # any other way of reading a data file counts too
        if isinstance(file, (str, Path)):
            count(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(Path, "read_bytes", counting_read)
    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--config", str(run_toml), "--seeds", "0,1", "--tasks", "sts,tatoeba", "--no-progress"]) == 0
    assert reads and max(reads.values()) == 1, [name for name, n in reads.items() if n > 1]
    assert {"parallel/big/en-de.tsv.gz", "eval/stsb-multi-mt/stsb-en-test.csv", "eval/tatoeba/tatoeba.deu-eng.deu",
            "eval/sts17/STS2017.gs/STS.gs.track5.en-en.txt"} <= set(reads)
    runs = tmp_path / "results" / "runs"
    assert {p.name for p in runs.iterdir()} >= {"distill-st-de", "distill-st-de-seed1"}  # one student per seed
    seed1 = read_record(runs / "distill-st-de-seed1" / "tatoeba" / "de-en.json")
    assert seed1["model"]["seed"] == 1 and seed1["run"]["seed"] == 1


def test_a_changed_dataset_is_computed_again(data_env, tiny_root, tmp_path, monkeypatch, capsys):
    """Stored results are keyed by model revision, task version and the fingerprint of the data files."""
    import shutil

    root = tmp_path / "data"
    shutil.copytree(tiny_root, root)
    monkeypatch.setenv("HARNESS_DATA", str(root))
    args = ["eval", "--model", "hash", "--langs", "de", "--tasks", "tatoeba,stsb-multi-mt",
            "--results-dir", str(tmp_path / "runs"), "--no-progress"]
    assert main(args) == 0
    before = json.loads((tmp_path / "runs" / "hash" / "tatoeba" / "de-en.json").read_text())
    assert main(args) == 0 and "0 written, 5 reused" in capsys.readouterr().out
    path = root / "eval" / "tatoeba" / "tatoeba.deu-eng.deu"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[1], lines[0], *lines[2:]]) + "\n", encoding="utf-8")  # two lines swapped
    assert main(args) == 0
    assert "1 written, 4 reused" in capsys.readouterr().out
    after = json.loads((tmp_path / "runs" / "hash" / "tatoeba" / "de-en.json").read_text())
    assert after["data_fingerprint"] != before["data_fingerprint"]
    assert after["metrics"]["acc_cos_fwd"]["value"] < before["metrics"]["acc_cos_fwd"]["value"]


def test_reuse_takes_the_new_labels_but_not_records_without_intervals(data_env, tmp_path, capsys):
    runs = tmp_path / "runs"
    args = ["eval", "--model", "hash", "--langs", "de", "--tasks", "tatoeba", "--results-dir", str(runs),
            "--no-progress"]
    assert main([*args, "--no-intervals"]) == 0
    path = runs / "hash" / "tatoeba" / "de-en.json"
    assert json.loads(path.read_text())["bootstrap"] is None
    assert main([*args, "--role", "teacher"]) == 0  # no interval stored: computed again, not reused
    assert "1 written, 0 reused" in capsys.readouterr().out
    record = json.loads(path.read_text())
    assert record["bootstrap"] and record["model"]["role"] == "teacher"
    assert main([*args, "--role", "baseline"]) == 0  # reused, and relabelled by the run that reused it
    assert "0 written, 1 reused" in capsys.readouterr().out
    assert json.loads(path.read_text())["model"]["role"] == "baseline"


def test_compat_tasks_take_mining_and_retrieval_only(run_toml, data_env, capsys):
    assert main(["validate", "--config", str(run_toml), "--compat-tasks", "stsb-multi-mt"]) == 2
    assert "'stsb-multi-mt' is an sts task" in capsys.readouterr().err


def test_a_student_made_from_another_teacher_is_not_reused(run_toml, data_env, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--config", str(run_toml), "--no-progress", "--compat-tasks", ""]) == 0
    assert main(["run", "--config", str(run_toml), "--teacher", "hash:16", "--no-progress", "--compat-tasks", ""]) == 2
    assert "holds a student trained with other settings (teacher hash:32 -> hash:16)" in capsys.readouterr().err


def test_the_paper_scale_config_runs_as_a_dry_run(tmp_path, tiny_bert, monkeypatch, capsys):
    """configs/paper-scale.toml, the GPU entry point, end to end on the CPU with --dry-run: two steps, STS17."""
    import shutil
    from pathlib import Path

    from safetensors.numpy import load_file

    from tests.fixtures import make_data_root

    config = Path(__file__).resolve().parent.parent / "configs" / "paper-scale.toml"
    paper = build(RunConfig, config_file=config)
    root = make_data_root(tmp_path / "data")
    for lang in paper.langs:  # every language gets the German pairs: what the text says does not matter here
        if lang not in ("de", "fr"):
            shutil.copy(root / "parallel" / "big" / "en-de.tsv.gz", root / "parallel" / "big" / f"en-{lang}.tsv.gz")
    monkeypatch.setenv("HARNESS_DATA", str(root))
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--config", str(config), "--dry-run", "--teacher", "hash:32", "--student", str(tiny_bert),
                 "--no-progress"]) == 0
    dry = build(RunConfig, {"dry_run": True}, config)
    assert (dry.max_steps, dry.max_pairs, dry.tasks, dry.results_dir) == (2, 32, ["sts17"], "results/dry-run/runs")
    assert (dry.epochs, dry.save_dtype, dry.langs) == (paper.epochs, "float16", paper.langs)  # the rest is the file's
    (student,) = (tmp_path / "models" / "dry-run").iterdir()
    assert student.name.endswith(f"-14-languages-7100e8-{paper.tag}")
    summary = json.loads((student / "training_summary.json").read_text())
    assert summary["steps"] == 2 and summary["n_pairs"] == 14 * 32 and summary["langs"] == sorted(paper.langs)
    assert {str(t.dtype) for t in load_file(str(student / "model.safetensors")).values()} == {"float16"}
    records = sorted(p.relative_to(tmp_path / "results" / "dry-run" / "runs")
                     for p in (tmp_path / "results" / "dry-run" / "runs").glob("*/*/*.json"))
    assert {r.parts[1] for r in records} == {"sts17"} and len({r.parts[0] for r in records}) == 3  # teacher, base, it
    assert "report: results/dry-run/leaderboard.html" in capsys.readouterr().out


def test_a_teacher_of_another_dimension_runs_to_the_end(tmp_path, tiny_bert, data_env, monkeypatch, capsys):
    """A 48-d teacher and a 32-d base (as all-mpnet-base-v2 and e5-small): the student gets a head to 48 and is
    checked against the teacher's index; the base cannot be, and is skipped with one line, not a traceback."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--teacher", "hash:48", "--student", str(tiny_bert), "--langs", "de", "--trainers", "align-map",
                 "--tasks", "tatoeba", "--compat-tasks", "tatoeba", "--baselines", "", "--max-pairs", "40",
                 "--dev-pairs", "8", "--batch-size", "8", "--head-fit-pairs", "40",
                 "--results-dir", str(tmp_path / "runs"), "--leaderboard-dir", str(tmp_path / "lb"),
                 "--models-dir", str(tmp_path / "models"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    skipped = [line for line in err.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 1 and "32-dimensional" in skipped[0] and "48-dimensional" in skipped[0]
    models = [json.loads(next(p.glob("*/*.json")).read_text())["model"] for p in (tmp_path / "runs").iterdir()]
    compat = sorted(model["queries"] for model in models if model["role"] == "compat")
    # the student's two outputs each search the teacher's index, and the base does not
    assert len(compat) == 2 and compat[1] == f"{compat[0]}#output=teacher", compat
    assert (tmp_path / "lb" / "leaderboard.html").is_file()


def test_a_rerun_that_reuses_everything_leaves_every_file_as_it_was(run_toml, data_env, tmp_path, monkeypatch):
    """`git status` clean after a plain run that reused everything (issue 22): records, run config and the
    leaderboard are byte-identical after the second run, whether or not it shows progress (a display setting
    is not recorded), and the run config no longer carries `progress`."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--config", str(run_toml)]) == 0
    written = {p: p.read_bytes() for p in (tmp_path / "results").rglob("*") if p.is_file()}
    settings = next((tmp_path / "results" / "run_configs").iterdir())
    assert "progress" not in json.loads(settings.read_text())
    assert main(["run", "--config", str(run_toml), "--no-progress"]) == 0
    assert {p: p.read_bytes() for p in (tmp_path / "results").rglob("*") if p.is_file()} == written
