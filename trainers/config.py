"""Hyper-parameters shared by every trainer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class TrainConfig:
    """How to train. Defaults fit a 2-core CPU; CUDA and bf16 are used when a GPU is present."""

    output: str
    student_name: str = "student"  # for the model card
    epochs: int = 1
    batch_size: int = 32
    lr: float = 2e-5
    head_lr: float = 1e-3  # a fresh projection head learns faster than the pretrained body
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_seq_length: int = 64  # covers most evaluation sentences; long news sentences are truncated
    max_pairs: int | None = None  # per language
    dev_pairs: int = 200  # per language, held out
    balanced: bool = True
    seed: int = 0
    checkpoint_every: int = 100
    eval_every: int = 0  # 0: only at the end
    keep_checkpoints: int = 2
    freeze_embeddings: bool = True  # on CPU: Adam over a 100k-row vocabulary costs more than it gives
    freeze_layers: int = 0  # the lowest N transformer layers (and the embeddings) stay as the base has them
    micro_batch: int = 16  # texts per forward, grouped by length (0: the whole batch in one padded forward)
    head: str = "auto"  # auto | none | linear | lstsq
    head_fit_pairs: int = 2000
    scale: float = 20.0  # ranking: similarity scale (1 / temperature)
    device: str | None = None
    progress: bool = True
    cache_dir: str = "cache/teacher"  # teacher embeddings, reused across runs and trainers
    overwrite: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
