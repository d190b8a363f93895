"""Every setting of eval, train and run is typed and ranged in one place: a bad value from a flag or a TOML
file is one line naming where it came from, exit 2, before any model loads. Explicit settings beat presets."""

import pytest

from harness.app import runner
from harness.app.cli import main
from harness.app.config import RunConfig, build
from harness.core.settings import SettingError


@pytest.fixture(autouse=True)
def no_model_may_load(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the settings were checked")

    monkeypatch.setattr("harness.encoders.adapters.load_encoder", refuse)
    monkeypatch.setattr("harness.encoders.adapters.load_sentence_transformer", refuse)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def toml(tmp_path, text: str):
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("text, message", [
    ('max_pairs = "abc"\n', "max_pairs must be an integer (or 'all'), got 'abc'"),
    ("max_pairs = -5\n", "max_pairs must be at least 1 (or 'all'), got -5"),
    ("epochs = 1.5\n", "epochs must be an integer, got 1.5"),
    ("lr = 0\n", "lr must be greater than 0, got 0"),
    ('head = "lsq"\n', "head must be one of auto, none, linear, lstsq, orthogonal, got 'lsq' (did you mean 'lstsq'?)"),
    ('tag = "../../escape"\n', "tag may hold only letters, digits, '.', '_' and '-', got '../../escape'"),
    ('seeds = "0,x"\n', "seeds is invalid: seed 'x' is not a non-negative integer"),
    ("balanced = 3\n", "balanced must be true or false, got 3"),
])
def test_bad_toml_values_name_the_file(tmp_path, capsys, data_env, text, message):
    path = toml(tmp_path, text)
    assert main(["run", "--config", path]) == 2
    assert one_error_line(capsys) == f"error: {path}: {message}"


@pytest.mark.parametrize("args, message", [
    (["run", "--max-pairs", "abc"], "max_pairs must be an integer (or 'all'), got 'abc'"),
    (["run", "--batch-size", "0", "--quick"], "batch_size must be at least 1, got 0"),
    (["train", "--epochs", "0"], "epochs must be at least 1, got 0"),
    (["train", "--max-pairs", "-5"], "max_pairs must be at least 1 (or 'all'), got -5"),
    (["eval", "--batch-size", "-1"], "batch_size must be at least 1, got -1"),
    (["eval", "--langs", "de,germna"], "langs is invalid: unknown language 'germna' (did you mean 'german'?)"),
    (["run", "--seeds", ""], "seeds is invalid: no seed given"),
])
def test_bad_flags_have_the_same_message_shape(capsys, data_env, args, message):
    assert main(args) == 2
    assert one_error_line(capsys) == f"error: command line: {message}"


def test_an_empty_data_root_names_the_root_and_the_missing_dataset(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_DATA", str(tmp_path))
    assert main(["eval", "--model", "hash", "--tasks", "sts", "--results-dir", str(tmp_path / "r")]) == 2
    assert one_error_line(capsys) == f"error: data root {tmp_path} has no eval/stsb-multi-mt/ folder: " \
                                     f"`python -m harness data fetch stsb-multi-mt` downloads it (or point " \
                                     f"HARNESS_DATA at a data root that has it)"


def test_an_explicit_setting_wins_over_the_quick_preset(tmp_path):
    assert build(RunConfig, {"quick": True}).max_pairs == 200
    assert build(RunConfig, {"quick": True, "max_pairs": "1000"}).max_pairs == 1000
    from_file = build(RunConfig, {"quick": True}, toml(tmp_path, "max_pairs = 1000\n"))
    assert from_file.max_pairs == 1000 and from_file.tasks == ["stsb-multi-mt", "tatoeba"]  # the rest still quick


def test_flags_beat_the_file_and_values_are_typed(tmp_path):
    config = build(RunConfig, {"lr": "5e-5", "seeds": "2,0,2"}, toml(tmp_path, 'lr = 1e-4\nlangs = "German, fr"\n'))
    assert config.lr == 5e-5 and config.seeds == [2, 0] and config.langs == ["de", "fr"]


def test_configs_built_in_code_are_checked_too():
    with pytest.raises(SettingError, match="RunConfig: epochs must be at least 1, got 0"):
        RunConfig(epochs=0)


def test_help_lists_every_setting_once_with_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split("options:")[1].split())  # unwrapped
    for flag in ("--max-pairs", "--seeds", "--freeze-layers", "--unbalanced", "--train-embeddings", "--quick"):
        assert out.count(flag) == 1
    assert "(default: 1000)" in out and "turn off: balanced batches" in out


def test_validate_checks_before_any_model_loads(data_env, tmp_path, capsys):
    assert main(["validate", "--trainers", "distil"]) == 2
    assert "did you mean 'distill'" in one_error_line(capsys)
    assert runner.validate(build(RunConfig, {"langs": "de", "tasks": "tatoeba"}))[-1] == "ok"


def _bounded_settings():
    """Every setting of every command with a bound: (class, name, spec, lowest allowed, highest allowed)."""
    from harness.app.config import EvalConfig, RunConfig, TrainCommand
    from harness.core.settings import INT_MAX, specs

    found = {}
    for cls in (RunConfig, EvalConfig, TrainCommand):
        for name, spec in specs(cls).items():
            if spec.kind not in ("int", "float"):
                continue
            high = spec.maximum if spec.maximum is not None else (INT_MAX if spec.kind == "int" else None)
            found.setdefault(name, (cls, name, spec, spec.minimum, high))
    return list(found.values())


@pytest.mark.parametrize("cls, name, spec, low, high", _bounded_settings(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_bound_of_every_setting_holds(cls, name, spec, low, high):
    """Each declared bound is enforced at its edge (a bound dropped or moved fails here), and an integer
    setting has a ceiling even when it declares none (issue 22, items 8 and 9)."""
    from harness.core.settings import coerce

    step = 1 if spec.kind == "int" else 1e-9 * max(1.0, abs(high or 1.0))
    if high is not None:
        assert coerce(name, spec, high, "test") == high
        with pytest.raises(SettingError, match=f"{name} must be at most"):
            coerce(name, spec, high + step, "test")
    if low is not None:
        edge = low + (step if spec.exclusive_minimum else 0)
        assert coerce(name, spec, edge, "test") == pytest.approx(edge)
        with pytest.raises(SettingError, match=f"{name} must be (at least|greater than)"):
            coerce(name, spec, low - (0 if spec.exclusive_minimum else step), "test")


def test_the_bounds_that_matter_are_declared():
    """A bound removed from a declaration would pass the edge test above (nothing left to test): these must
    stay. max_seq_length below 4 leaves no room for a sentence between the special tokens."""
    bounds = {name: (spec.minimum, spec.maximum) for _, name, spec, _, _ in _bounded_settings()}
    assert bounds["max_seq_length"] == (4, 8192) and bounds["seed"] == (0, 2**32 - 1)
    assert bounds["batch_size"][0] == 1 and bounds["aligned_share"] == (0.0, 1.0) and bounds["warmup"][1] == 0.99
    with pytest.raises(SettingError, match="seeds is invalid: seed 4294967296 is above 4294967295"):
        build(RunConfig, {"seeds": "0,4294967296"})
