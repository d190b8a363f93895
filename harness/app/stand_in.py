"""A stand-in for a student whose folder is gone: its recipe, read back from its records (the run block with the
student's own seed and swept value), trained for two steps on a few pairs. The stand-in has the network today's
code builds from that recipe (the student's modules, sizes, outputs and tokenizer, unless a trainer changed since)
with other weights, so what depends on the network alone, such as encode speed, can still be measured for a
student whose weights were never kept. `network_signature` says what
"the same network" means, so a test can hold a stand-in against the student it stands for.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from harness.app.config import DRY_RUN, TrainCommand, build
from harness.core.errors import HarnessError
from harness.core.training import SWEEP_ORIGIN, TrainSettings, legacy_values

# the dry run's miniature (a handful of pairs and steps, no checkpoints) without its guards: none of these
# settings changes the modules or their sizes, only the data the weights and heads are fitted on
MINIATURE = {**{key: DRY_RUN[key] for key in ("max_pairs", "dev_pairs", "max_steps", "head_fit_pairs",
                                                "checkpoint_every")},
             "epochs": 1, "teacher_fit_sentences": None, "eval_every": 0, "guards": False}

STAND_IN_TEXT = (f"a stand-in: the recipe of its records trained {MINIATURE['max_steps']} steps on "
                 f"{MINIATURE['max_pairs']} pairs per language; the student's modules, sizes and tokenizer, other "
                 "weights (its own folder is not here)")

_RECIPE = frozenset(f.name for f in fields(TrainSettings))
# what a save writes that is not the network: the library versions that wrote it, and the tokenizer's last
# truncation and padding (the training length, which encoding does not use)
_VOLATILE = {"config_sentence_transformers.json": ("__version__",), "config.json": ("transformers_version",),
             "tokenizer.json": ("truncation", "padding")}


def stand_in_command(record: dict[str, Any], output: str | Path) -> TrainCommand:
    """The `harness train` command that rebuilds the student of `record` (any of its result records) in miniature
    into `output`. A setting the records lack (an older run) takes the value it had before it existed."""
    from harness.app.runner import own_settings

    model = record.get("model", {})
    trainer = model.get("trainer")
    run = {**(record.get("run") or {}), **own_settings(model)}
    missing = [key for key in ("teacher", "student", "langs") if key not in run]
    if not trainer or missing:
        raise HarnessError(f"{model.get('name', 'the record')}: the records lack "
                           f"{', '.join(missing) or 'the trainer'}: the recipe cannot be rebuilt")
    recipe = {**legacy_values(trainer), **{key: value for key, value in run.items() if key in _RECIPE}}
    origin = {key: run[key] for key in SWEEP_ORIGIN if key in run}  # what a recipe has beside its settings
    return build(TrainCommand, {**recipe, **MINIATURE, **origin, "trainer": trainer, "output": str(output),
                                "evaluate": False, "progress": False, "overwrite": True})


def build_stand_in(record: dict[str, Any], output: str | Path, log=lambda line: None) -> Path:
    """Train the miniature of `stand_in_command` and return its folder."""
    from harness.app.runner import train

    path, _ = train(stand_in_command(record, output), log=log)
    return path


def network_signature(folder: str | Path) -> dict[str, Any]:
    """What makes a model folder's network, without its weights' values: each file that defines the model
    (`model_files`: no card, summary, checkpoint or stage-1 model) by its sha256, JSON without the keys that say
    which library versions wrote it, and each weights file's tensors by name, dtype and shape. Two folders with
    equal signatures compute the same operations on the same tokens."""
    from safetensors import safe_open

    from harness.encoders.specs import model_files

    folder = Path(folder)
    signature: dict[str, Any] = {}
    for path in model_files(folder):
        relative = str(path.relative_to(folder))
        if path.suffix == ".safetensors":
            with safe_open(str(path), framework="pt") as weights:
                signature[relative] = sorted((name, str(weights.get_slice(name).get_dtype()),
                                              weights.get_slice(name).get_shape()) for name in weights.keys())
        elif path.suffix == ".json":
            signature[relative] = _json_digest(path)
        elif path.suffix == ".bin":
            raise HarnessError(f"{path}: weights not in safetensors: their shapes cannot be read safely")
        else:
            signature[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return signature


def _json_digest(path: Path) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = {key: value for key, value in data.items() if key not in _VOLATILE.get(path.name, ())}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
