"""The contract between trainer plug-ins and the framework: the settings every trainer takes, and the
Trainer protocol. Defaults fit a 2-core CPU; trainers use CUDA and bf16 when a GPU is present.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from harness.core.encoder import Encoder
from harness.core.paths import TEACHER_CACHE_DIR
from harness.core.settings import SEED_MAX, check_fields, setting

HEADS = ("auto", "none", "linear", "lstsq", "orthogonal")
PRECISIONS = ("auto", "fp32", "bf16")
SAVE_DTYPES = ("float32", "float16")
TEACHER_OUTPUTS = ("lstsq", "none")


@dataclass
class TrainSettings:
    """How a student is trained: one declaration per setting, shared by `run`, `train` and TOML files."""

    max_pairs: int | None = setting(1000, "training pairs per language, or 'all' (README: 'How the default was "
                                          "chosen')",
                                    kind="int", minimum=1, nullable="all")
    dev_pairs: int = setting(200, "pairs per language held out for the dev callback", minimum=0)
    epochs: int = setting(1, "passes over the training pairs", minimum=1)
    max_steps: int | None = setting(None, "stop after this many optimiser steps, the learning-rate schedule "
                                          "shortened to match (all: every step of every epoch)",
                                    kind="int", minimum=1, nullable="all")
    batch_size: int = setting(32, "training pairs per step", minimum=1, maximum=65536)
    lr: float = setting(2e-5, "learning rate of the transformer", minimum=0.0, exclusive_minimum=True, maximum=1.0)
    head: str = setting("auto", "projection head: auto = closed-form least squares (none for --student "
                                "teacher); orthogonal = the closest rotation, which keeps every cosine",
                        choices=HEADS)
    head_lr: float = setting(1e-3, "learning rate of the projection head", minimum=0.0, exclusive_minimum=True,
                             maximum=10.0)
    head_fit_pairs: int = setting(2000, "pairs the closed-form head is fitted on", minimum=1)
    warmup: float = setting(0.1, "share of the steps with a linear learning-rate warm-up", minimum=0.0,
                            maximum=0.99)
    weight_decay: float = setting(0.01, "AdamW weight decay", minimum=0.0)
    max_seq_length: int = setting(64, "tokens per training sentence (evaluation is not cut)", minimum=4,
                                  maximum=8192)
    freeze_layers: int = setting(0, "keep the lowest N transformer layers fixed", minimum=0)
    freeze_embeddings: bool = setting(True, "keep the word embeddings fixed", flag="--train-embeddings")
    micro_batch: int = setting(16, "texts per forward pass, grouped by length (0: one padded forward per batch)",
                               minimum=0)
    balanced: bool = setting(True, "balanced batches: the same share from every dataset", flag="--unbalanced")
    scale: float = setting(20.0, "ranking: similarity scale (1 / temperature)", minimum=0.0, exclusive_minimum=True)
    similarity_weight: float = setting(0.0, "distill: weight of a second term matching the student's cosines between "
                                            "a batch's sentences to the teacher's (0: the paper's MSE alone)",
                                       minimum=0.0)
    aligned_share: float = setting(0.5, "align-map: share of the aligned weights in the student, the rest the "
                                        "base's (1: the aligned model; 0.5: halfway back to the base)",
                                   minimum=0.0, exclusive_minimum=True, maximum=1.0)
    teacher_output: str = setting("lstsq", "align-map: a second output, task='teacher', in the teacher's space "
                                           "(lstsq: the closest linear map; none: the rotation's one output)",
                                  choices=TEACHER_OUTPUTS)
    teacher_fit_sentences: int | None = setting(10000, "align-map: English sentences the teacher-space output is "
                                                       "fitted on (at least the rotation's): the training pairs' "
                                                       "English, then that of the pairs the cap left out (same: "
                                                       "the rotation's head_fit_pairs alone)",
                                                kind="int", minimum=1, nullable="same")
    precision: str = setting("auto", "arithmetic of the training steps: auto = bf16 autocast on a GPU that has "
                                     "it, else fp32", choices=PRECISIONS)
    save_dtype: str = setting("float32", "weights of the saved student (float16 halves the folder; it loads as "
                                         "float32)", choices=SAVE_DTYPES)
    seed: int = setting(0, "random seed: data subset, batch order, head fit", minimum=0, maximum=SEED_MAX)
    checkpoint_every: int = setting(100, "steps between checkpoints (0: none)", minimum=0)
    eval_every: int | None = setting(None, "steps between dev evaluations (auto: about 6 in a run when the guards "
                                           "are on; 0: at the end only, and before the first step with the guards "
                                           "on)", kind="int", minimum=0, nullable="auto")
    guards: bool = setting(True, "stop a student whose embeddings collapse (exit 3), flag one whose dev accuracy "
                                 "falls while its loss falls (README: 'Guards against silent failure')",
                           flag="--no-guards")
    keep_checkpoints: int = setting(2, "checkpoints kept on disk", minimum=1)

    def __post_init__(self) -> None:
        check_fields(self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainConfig(TrainSettings):
    """One training job: the shared settings plus where it writes and on which device."""

    output: str = ""
    student_name: str = "student"  # for the model card
    device: str | None = None
    progress: bool = True
    cache_dir: str = TEACHER_CACHE_DIR  # teacher embeddings, reused across runs and trainers
    overwrite: bool = False


# settings that change how or where a student is computed, but not what it learns
INCIDENTAL = frozenset({"checkpoint_every", "eval_every", "guards", "keep_checkpoints", "micro_batch", "output",
                        "progress", "overwrite", "device", "cache_dir", "student_name"})


# settings only some trainers read: {setting: (the trainers that read it, its value before it existed)}
TRAINER_ONLY = {"aligned_share": (("align-map",), 1.0), "teacher_output": (("align-map",), "none"),
                "teacher_fit_sentences": (("align-map",), None)}


def setting_text(name: str, value: Any) -> str:
    """A training setting as tables print it: lists joined, floats short (2e-05), and None as the word the
    setting's declaration gives it (max_pairs and max_steps: 'all')."""
    from harness.core.settings import specs

    if value is None:
        spec = specs(TrainSettings).get(name)
        return spec.nullable if spec is not None and spec.nullable else ""
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# settings read only when another setting is not at a value: {setting: (the other, the value that makes it unread)}
READ_UNLESS = {"teacher_fit_sentences": ("teacher_output", "none")}


# settings a trainer does not read at all: a static student has no transformer (lr, freezing, sequence length),
# no head (its table is the head), and SparseAdam has no weight decay
NOT_READ = {"static": frozenset({"lr", "weight_decay", "head", "max_seq_length", "freeze_layers",
                                 "freeze_embeddings"})}


def unused_by(trainer: str) -> frozenset[str]:
    """The settings `trainer` does not read: its students are not told apart by them."""
    return frozenset(key for key, (readers, _) in TRAINER_ONLY.items() if trainer not in readers) \
        | NOT_READ.get(trainer, frozenset())


def legacy_values(trainer: str) -> dict[str, Any]:
    """What the settings `trainer` reads were in effect before they existed (older summaries lack them)."""
    return {key: before for key, (readers, before) in TRAINER_ONLY.items() if trainer in readers}


def recipe_differences(stored: dict[str, Any], wanted: dict[str, Any], trainer: str) -> dict[str, tuple]:
    """How a stored recipe (a finished student's settings and origin, or the run block of its records) differs
    from `wanted`: {name: (stored, wanted)}. The one reuse check: the runner, the trainers and the plan use it.

    Incidental settings and those `trainer` does not read are not compared; one it reads that `stored` lacks
    (an older student) is compared at the value it had before it existed; other keys `stored` lacks are not
    compared at all."""
    stored = {**legacy_values(trainer), **stored}
    ignore = INCIDENTAL | unused_by(trainer)
    ignore |= {key for key, (other, value) in READ_UNLESS.items() if wanted.get(other, stored.get(other)) == value
               and stored.get(other, value) == value}
    return {k: (stored[k], v) for k, v in wanted.items() if k not in ignore and k in stored and stored[k] != v}


SWEEP_ORIGIN = ("teacher", "student", "langs", "parallel")  # beside the training settings: what a sweep's points share


def sweep_recipe_id(run: dict[str, Any], swept: str, trainer: str | None = None) -> str:
    """A short hash of the recipe a sweep's points share: every training setting but the swept one, the seed, the
    incidental ones (how a student is made, not what: `eval_every`, `micro_batch`) and those `trainer` does not
    read, with the teacher, the student, the languages and the parallel data. Computed from a run's settings or
    a record's run block alike: a setting the block lacks counts at the value it had before it existed (its
    default for most), so two sweeps of one setting with other recipes are two curves, and points made with
    other incidental settings are one."""
    import hashlib
    import json
    from dataclasses import fields

    from harness.core.settings import default_of

    run = {**(legacy_values(trainer) if trainer else {}), **run}
    skip = INCIDENTAL | (unused_by(trainer) if trainer else frozenset()) | {swept, "seed"}
    shared = {f.name: run.get(f.name, default_of(TrainSettings, f.name)) for f in fields(TrainSettings)
              if f.name not in skip}
    shared.update({k: run.get(k) for k in SWEEP_ORIGIN})
    return hashlib.sha256(json.dumps(shared, sort_keys=True, default=str).encode()).hexdigest()[:12]


def differences_text(differences: dict[str, tuple]) -> str:
    """`max_pairs 1000 -> 10, lr 2e-05 -> 0.0001`: a recipe's differences for a one-line error."""
    return ", ".join(f"{k} {setting_text(k, old)} -> {setting_text(k, new)}" for k, (old, new) in differences.items())


@runtime_checkable
class Trainer(Protocol):
    """A plug-in trainer: (teacher encoder, student SentenceTransformer, parallel data, config) -> model folder."""

    name: str

    def train(self, teacher: Encoder, student: Any, data: Any, config: Any) -> Path: ...
