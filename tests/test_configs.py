"""The committed ablation configs still describe the committed results: each names a student whose
records exist, and the settings stored in those records are the ones the config asks for today."""

import json
from pathlib import Path

import pytest

from harness.config import RunConfig
from harness.runner import student_name

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))
TRAINING = ["teacher", "student", "langs", "max_pairs", "epochs", "batch_size", "lr", "max_seq_length",
            "freeze_layers", "balanced", "seed"]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_reproduces_its_committed_student(path):
    config = RunConfig.from_file(path)
    for trainer in config.trainers:
        name = student_name(trainer, config.student, config.langs, config.tag)
        records = sorted((ROOT / "results" / "runs" / name).glob("*/*.json"))
        assert records, f"{path.name}: no committed results for {name}"
        stored = json.loads(records[0].read_text(encoding="utf-8"))["run"]
        wanted = config.to_dict()
        changed = {k: (stored.get(k), wanted[k]) for k in TRAINING if k in stored and stored[k] != wanted[k]}
        assert not changed, f"{path.name} no longer reproduces {name}: {changed}"


def test_there_are_configs():
    assert len(CONFIGS) >= 10
