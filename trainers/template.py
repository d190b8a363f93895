"""The part every trainer shares, written once: reuse (or refuse) a finished student, time the training,
write its summary and model card, and save it at its own sequence length. A trainer says only how it fits.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.core.encoder import Encoder
from harness.core.parallel import ParallelData
from harness.core.training import TrainConfig
from trainers.loop import LoopResult
from trainers.save import finished, loop_recipe, origin, prepare_output, recipe_of, save_student


@dataclass
class Fitted:
    """What a trainer's `fit` hands back: the model to save, its training loop's result, the length the
    model encodes at once trained (training truncates for speed; None for a model that reads any length), and
    the trainer's own summary entries."""

    model: Any
    result: LoopResult
    inference_length: int | None
    summary: dict[str, Any] = field(default_factory=dict)  # new keys, or OVERRIDABLE ones replaced


OVERRIDABLE = {"dev"}  # template keys a trainer may replace (align-map: its dev scores after the map, not before)


class StudentTrainer(ABC):
    """A trainer plug-in (the `harness.core.training.Trainer` protocol): `train` is the template, `fit` the
    trainer's own step."""

    name: str
    # settings only the steps after the training loop read (the dtype the student is saved in; a map fitted on the
    # trained model): checkpoints, which hold the loop's state, resume whatever these are; a finished student is
    # still told apart by them
    after_the_loop: frozenset[str] = frozenset({"save_dtype"})

    def train(self, teacher: Encoder, student, data: ParallelData, config: TrainConfig) -> Path:
        output = Path(config.output)
        made_of = origin(self.name, teacher, data)
        if not config.overwrite and finished(output, config, made_of):
            return output
        self.check_launch()  # before the process group starts: preparing the folder waits for every rank
        # the checkpoints' recipe also names the teacher's revision and the base: their targets and start differ
        recipe = recipe_of(config, {**made_of, "teacher_revision": teacher.revision, "student": config.student_name})
        prepare_output(output, loop_recipe(recipe, type(self)), config.overwrite)
        config = replace(config, overwrite=False)  # handled: a nested training (ranking-hn's stage 1) is reused
        started = time.perf_counter()
        fitted = self.fit(teacher, student, data, config)
        summary = summarise(self.name, teacher, data, config, fitted.result, fitted.model, started)
        clashes = (set(summary) & set(fitted.summary)) - OVERRIDABLE
        if clashes:
            raise ValueError(f"trainer {self.name} would overwrite the summary's {sorted(clashes)}")
        summary.update(fitted.summary)
        if fitted.inference_length is not None:
            fitted.model.max_seq_length = fitted.inference_length
        return save_student(fitted.model, output, summary)

    def check_launch(self) -> None:
        """Refuse, with a HarnessError, a launch this trainer cannot train under (by default none)."""
        return None

    @abstractmethod
    def fit(self, teacher: Encoder, student, data: ParallelData, config: TrainConfig) -> Fitted:
        """Train `student` from `teacher` on `data`; saving is the template's."""


def summarise(name: str, teacher: Encoder, data: ParallelData, config: TrainConfig, result: LoopResult, model,
              started: float) -> dict:
    """The training facts that go into the model card and training_summary.json. `steps`, `seconds` and
    `pairs_per_second` are the training loop's (for ranking-hn its second stage), `seconds` and `pairs_per_second`
    of this process's part when the run resumed from a checkpoint; `training_parts` lists every part (one per
    process that trained, earlier ones from the checkpoints) and `training_seconds` is their sum (None when a part
    predates this record); `wall_seconds` is this process's whole fit, everything a trainer does before saving
    (ranking-hn's first stage and mining, align-map's own targets, head fit and dev evaluation)."""
    return {
        "trainer": name, "teacher": teacher.name, "teacher_revision": teacher.revision,
        "data_fingerprint": data.fingerprint,
        "student": config.student_name, "langs": sorted(data.dev),
        "datasets": data.describe(), "data_sources": data.sources, "n_pairs": data.n_pairs,
        "config": config.to_dict(),
        "steps": result.steps, "resumed_from": result.resumed_from, "seconds": result.seconds,
        "training_parts": result.parts, "training_seconds": total_seconds(result.parts),
        "wall_seconds": time.perf_counter() - started,
        "pairs_per_second": result.samples / max(result.seconds, 1e-9),
        "device": str(next(model.parameters()).device), "arithmetic": result.arithmetic,
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "cpu_count": os.cpu_count(), "gpu": _gpu_name(),
        "dev": result.dev, "guards": result.guards,
        "loss_first": result.losses[:5], "loss_last": result.losses[-5:],
    }


def total_seconds(parts: list[dict]) -> float | None:
    """The training seconds of all the parts, None when one of them was not timed."""
    if not parts or any(part["seconds"] is None for part in parts):
        return None
    return round(sum(part["seconds"] for part in parts), 3)


def _gpu_name() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
