"""The committed ablation configs still describe the committed results: each names students whose records
exist, the settings stored in those records are the ones the config asks for today, and every committed
student is made by some config (or by the default run)."""

import json
from pathlib import Path

import pytest

from harness.app.config import RunConfig, build
from harness.app.plan import TRAIN_FIELDS, student_name, swept_configs
from harness.core.training import recipe_differences
from tests.records import read_record

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "results" / "runs"
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))
TRAINING = ["teacher", "student", "langs", "max_pairs", "epochs", "batch_size", "lr", "max_seq_length",
            "freeze_layers", "balanced", "head", "aligned_share", "teacher_output"]


def students_of(config: RunConfig) -> list[tuple[str, int, RunConfig]]:
    """(name, seed, the configuration it was trained with) of each student a config makes, sweeps included."""
    return [(student_name(trainer, config.student, config.langs, variant.tag, seed), seed, variant)
            for trainer in config.trainers for variant, _ in swept_configs(config) for seed in config.seeds]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_reproduces_its_committed_students(path):
    config = build(RunConfig, config_file=path)
    for name, seed, variant in students_of(config):
        records = sorted((RUNS / name).glob("*/*.json"))
        assert records, f"{path.name}: no committed results for {name}"
        stored = read_record(records[0])["run"]
        wanted = {**variant.to_dict(), "seed": seed}
        changed = {k: (stored.get(k), wanted[k]) for k in [*TRAINING, "seed"] if k in stored and stored[k] != wanted[k]}
        assert not changed, f"{path.name} no longer reproduces {name}: {changed}"
        # and the run's own reuse check agrees, settings added since (compared at their old values) included
        trainer = next(t for t in config.trainers if name.startswith(f"{t}-"))
        recorded = {k: stored[k] for k in TRAIN_FIELDS if k in stored}
        differs = recipe_differences(recorded, {k: wanted[k] for k in TRAIN_FIELDS}, trainer)
        assert not differs, f"{path.name}: a run would refuse {name}: {differs}"


def test_every_committed_student_comes_from_a_config_or_the_default_run():
    made = {name for path in CONFIGS for name, _, _ in students_of(build(RunConfig, config_file=path))}
    made |= {name for name, _, _ in students_of(RunConfig(seeds=[0, 1, 2]))}  # the README's `run --seeds 0,1,2`
    paper = build(RunConfig, {"seeds": [1, 2]}, ROOT / "configs" / "paper-scale.toml")  # and the later GPU seeds
    made |= {name for name, _, _ in students_of(paper)}
    committed = set()
    for folder in RUNS.iterdir():
        record = json.loads(next(folder.glob("*/*.json")).read_text(encoding="utf-8"))
        if record["model"].get("role") == "student":
            committed.add(record["model"]["name"])  # a folder's name is shortened past 80 characters
    assert committed, "no committed students"
    assert committed <= made, f"students no config makes: {sorted(committed - made)}"


def test_every_seed_of_a_long_student_name_joins_seed_zeros_group():
    """The paper-scale names are near the 80-character limit: a seed suffix must not push the stem into
    shortening, or seed 1 would be a different row from seed 0 in every table."""
    from harness.results.overview import group_name

    langs = ["ar", "cs", "de", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "tr", "zh"]
    names = [student_name("align-map", "m/multilingual-e5-small", langs, "paper-scale-two-outputs", seed)
             for seed in (0, 1, 12)]
    assert names[1] == names[0] + "-seed1" and names[2] == names[0] + "-seed12"
    assert {group_name(name) for name in names} == {names[0]}
    long_tag = "x" * 120  # a stem that must be shortened is shortened the same way for every seed
    shortened = [student_name("distill", "m/base", ["de"], long_tag, seed) for seed in (0, 3)]
    assert len(shortened[0]) <= 89 and shortened[1] == shortened[0] + "-seed3"
