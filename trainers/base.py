"""The Trainer protocol: every trainer turns (teacher, student base, parallel data) into a saved model."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class Trainer(Protocol):
    """A plug-in trainer. `train` returns the folder of a sentence-transformers model."""

    name: str

    def train(self, teacher: Any, student: Any, data: Any, config: Any) -> Path: ...
