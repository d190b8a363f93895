"""`harness run` end to end on tiny data: train, evaluate side by side, store config, rebuild leaderboard."""

import json

import pytest

from harness.cli import main
from harness.config import RunConfig
from harness.core.errors import DataError


@pytest.fixture
def run_toml(tmp_path, tiny_bert):
    path = tmp_path / "run.toml"
    path.write_text(f'''
teacher = "hash:32"
student = "{tiny_bert}"
langs = "de"
trainers = ["distill"]
tasks = ["stsb-multi-mt", "tatoeba"]
baselines = []
max_pairs = 24
batch_size = 8
head_fit_pairs = 40
results_dir = "{tmp_path / 'results' / 'runs'}"
leaderboard_dir = "{tmp_path / 'results'}"
models_dir = "{tmp_path / 'models'}"
''')
    return path


def test_run_from_config_file(run_toml, data_env, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the teacher cache goes to ./cache
    assert main(["run", "--config", str(run_toml), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "LEADERBOARD" not in out and "# Leaderboard" in out
    runs = tmp_path / "results" / "runs"
    models = sorted(p.name for p in runs.iterdir())
    student = next(m for m in models if m.startswith("distill-"))
    assert len(models) == 3  # teacher, untrained base, trained student
    record = json.loads((runs / student / "tatoeba" / "de-en.json").read_text())
    assert record["model"]["role"] == "student" and record["model"]["trainer"] == "distill"
    assert record["run"]["max_pairs"] == 24 and record["run"]["teacher"] == "hash:32"  # resolved config
    stored = json.loads((tmp_path / "results" / f"run_config-{student}.json").read_text())
    assert stored["batch_size"] == 8
    md = (tmp_path / "results" / "LEADERBOARD.md").read_text()
    assert "| hash:32" in md and f"| {student}" in md
    # flags beat the file
    assert main(["run", "--config", str(run_toml), "--batch-size", "4", "--no-progress"]) == 2  # trained otherwise
    assert "holds a student trained with other settings (batch_size 8 -> 4)" in capsys.readouterr().err


def test_unknown_config_key_names_file_and_suggests(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('techer = "x"\n')
    with pytest.raises(DataError, match="bad.toml: unknown setting 'techer' \\(did you mean 'teacher'\\?\\)"):
        RunConfig.from_file(path)


def test_quick_profile_is_small():
    config = RunConfig(quick=True)
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
    record = json.loads((runs / student / "tatoeba" / "de-en.json").read_text())
    assert record["model"]["base"] == str(tiny_bert) and record["model"]["trained_on"].startswith("cpu")
    assert record["run"]["freeze_layers"] == 1 and record["run"]["tag"] == "f1"
    assert json.loads((tmp_path / "results" / f"run_config-{student}.json").read_text())["tag"] == "f1"
    md = (tmp_path / "results" / "LEADERBOARD.md").read_text()
    assert "Students: how each was trained" in md and f"| {student}" in md


def test_eval_langs_narrow_the_evaluation_not_the_training(run_toml, data_env, tmp_path, capsys):
    both = tmp_path / "both.toml"
    both.write_text(run_toml.read_text().replace('langs = "de"', 'langs = "de,fr"'))
    narrow = tmp_path / "narrow.toml"
    narrow.write_text(both.read_text() + 'eval_langs = "German"\n')
    assert RunConfig.from_file(narrow).eval_langs == ["de"]
    counts = []
    for path in (both, narrow):
        assert main(["validate", "--config", str(path)]) == 0
        out = capsys.readouterr().out
        pairs = int(out.split(" language pairs")[0].rsplit("(", 1)[1])
        counts.append((pairs, out.split("training data: ")[1].split()[0]))
    assert counts[1][0] < counts[0][0] and counts[1][1] == counts[0][1]  # fewer pairs, same training data


def test_each_run_keeps_its_own_settings_file():
    from pathlib import Path

    from harness.runner import run_config_name

    default = run_config_name([Path("models/distill-e5-de-fr")], ["teacher", "e5"])
    twelve = run_config_name([Path("models/distill-e5-de-fr-es")], ["teacher", "e5"])
    assert default == "run_config-distill-e5-de-fr.json" and twelve != default  # untagged runs no longer collide
    both = run_config_name([Path("m/distill-e5-de"), Path("m/ranking-e5-de")], [])
    assert both == "run_config-distill-e5-de_ranking-e5-de-" + both.rsplit("-", 1)[1]  # '+' cleaned, hashed
    scored_only = run_config_name([], ["org/../../evil", "e5"])
    assert Path(scored_only).name == scored_only and scored_only.startswith("run_config-org_")  # stays in results/
