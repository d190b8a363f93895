"""A stand-in rebuilt from a student's records has the student's network: held against the real student."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.app.cli import main
from harness.app.plugins import TRAINERS
from harness.app.stand_in import build_stand_in, network_signature, stand_in_command
from harness.core.errors import HarnessError
from harness.results.store import ResultStore


def _students(tmp_path) -> dict[str, dict]:
    runs = tmp_path / "results" / "runs"
    records = ResultStore(runs).records()[0] if runs.is_dir() else []
    return {r["model"]["name"]: r for r in records if r["model"].get("trainer")}


def _trained(run_toml, tmp_path, *flags: str) -> tuple[dict, Path]:
    """Run the small config with `flags`; a record and the folder of the student it adds."""
    before = _students(tmp_path)
    assert main(["run", "--config", str(run_toml), "--no-progress", *flags]) == 0
    (name, record), = ((n, r) for n, r in _students(tmp_path).items() if n not in before)
    return record, tmp_path / "models" / name


@pytest.mark.parametrize("trainer", sorted(TRAINERS.names()))
def test_a_stand_in_has_the_network_of_the_student_it_stands_for(trainer, run_toml, data_env, tmp_path):
    record, student = _trained(run_toml, tmp_path, "--trainers", trainer)
    stand_in = build_stand_in(record, tmp_path / "stand-in")
    assert network_signature(stand_in) == network_signature(student)
    weights = next(p.relative_to(student) for p in sorted(student.rglob("*.safetensors")))
    assert (stand_in / weights).read_bytes() != (student / weights).read_bytes()  # other weights, same shapes


def test_a_student_of_a_sweep_is_rebuilt_with_its_own_value(run_toml, data_env, tmp_path):
    """A swept value lives in the student's model block; a block that says only the run's value would rebuild
    another network (here: no head where the point had one; teacher and student are both 32-d, so `none` is a
    valid head and a different network)."""
    record, student = _trained(run_toml, tmp_path, "--sweep", "head=auto")
    assert record["model"]["sweep"]["value"] == "auto"
    as_the_run_said = {**record, "run": {**record["run"], "head": "none"}}
    assert network_signature(build_stand_in(as_the_run_said, tmp_path / "stand-in")) == network_signature(student)


def test_an_older_run_block_is_rebuilt_as_its_student_was_made(run_toml, data_env, tmp_path):
    """An align-map run from before the teacher-space output existed (its block lacks `teacher_output`) made a
    student with one output: its stand-in has one output, like a student trained with `--teacher-output none`,
    and unlike today's two."""
    record, two_outputs = _trained(run_toml, tmp_path, "--trainers", "align-map")
    older = {**record, "run": {key: value for key, value in record["run"].items() if key != "teacher_output"}}
    stand_in = network_signature(build_stand_in(older, tmp_path / "stand-in"))
    _, one_output = _trained(run_toml, tmp_path, "--trainers", "align-map", "--teacher-output", "none",
                             "--tag", "one")
    assert stand_in == network_signature(one_output)
    assert stand_in != network_signature(two_outputs)


def test_the_signature_sees_a_different_head(run_toml, data_env, tmp_path):
    """The check above can fail: taught by a wider teacher, the student's head has another shape."""
    record, student = _trained(run_toml, tmp_path, "--trainers", "distill")
    wider = {**record, "run": {**record["run"], "teacher": "hash:48"}}
    assert network_signature(build_stand_in(wider, tmp_path / "stand-in")) != network_signature(student)


def test_the_signature_ignores_the_versions_that_wrote_a_folder(tiny_bert, tmp_path):
    import json
    import shutil

    copy = Path(shutil.copytree(tiny_bert, tmp_path / "copy"))
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "transformers_version": "0.0.1"}))
    assert network_signature(copy) == network_signature(tiny_bert)
    (copy / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 3}))
    assert network_signature(copy) != network_signature(tiny_bert)  # a setting of the network is a change


def test_weights_outside_safetensors_are_refused_rather_than_compared_blind(tiny_bert, tmp_path):
    import shutil

    copy = Path(shutil.copytree(tiny_bert, tmp_path / "copy"))
    (copy / "pytorch_model.bin").write_bytes(b"pickled")
    with pytest.raises(HarnessError, match="pytorch_model.bin: weights not in safetensors"):
        network_signature(copy)


REAL = Path(__file__).resolve().parents[1] / "models"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["distill-multilingual-e5-small-de-fr-curve-max_pairs-8000",
                                  "align-map-multilingual-e5-small-de-fr-curve-max_pairs-8000"])
def test_a_stand_in_of_a_real_student_has_its_network(name, tmp_path):
    """At real scale (e5-small, the MiniLM teacher, the shared data): a stand-in built from the committed records
    of a curve student whose folder is here has that folder's network. Skips where the folder is not."""
    if not (REAL / name / "modules.json").is_file():
        pytest.skip(f"{REAL / name} is not here (trained by configs/sweep-*-max-pairs.toml)")
    runs = REAL.parent / "results" / "runs" / name
    record = ResultStore(runs.parent).load(next(runs.glob("*/*.json")))
    assert network_signature(build_stand_in(record, tmp_path / name)) == network_signature(REAL / name)


def test_a_record_without_its_origin_is_refused(tmp_path):
    with pytest.raises(HarnessError, match="lack teacher"):
        stand_in_command({"model": {"name": "m", "trainer": "distill"}, "run": {"student": "x", "langs": ["de"]}},
                         tmp_path)
    with pytest.raises(HarnessError, match="the trainer"):
        stand_in_command({"model": {"name": "m"}, "run": {"teacher": "t", "student": "x", "langs": ["de"]}},
                         tmp_path)
