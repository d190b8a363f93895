"""The Trainer protocol and the trainer registry (one line per trainer, loaded lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from harness.core.encoder import Encoder
from harness.core.registry import Registry
from trainers.config import TrainConfig
from trainers.data import ParallelData


class Trainer(Protocol):
    """A plug-in trainer: (teacher encoder, student SentenceTransformer, data, config) -> model folder."""

    name: str

    def train(self, teacher: Encoder, student: Any, data: ParallelData, config: TrainConfig) -> Path: ...


TRAINERS: Registry[type] = Registry("trainer")
TRAINERS.register("distill", "trainers.distill:DistillTrainer")
TRAINERS.register("ranking", "trainers.ranking:RankingTrainer")
TRAINERS.register("ranking-hn", "trainers.ranking:HardNegativeRankingTrainer")
