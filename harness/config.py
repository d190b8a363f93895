"""Run configuration: built from the CLI (or a file), validated before any model loads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.languages import parse_langs

DEFAULT_LANGS = ["de", "fr"]
DEFAULT_TASKS = ["sts", "mining", "retrieval"]


@dataclass
class EvalConfig:
    """What `harness eval` does: which models, on which tasks and languages, written where."""

    models: list[str]
    langs: list[str] = field(default_factory=lambda: list(DEFAULT_LANGS))
    tasks: list[str] = field(default_factory=lambda: list(DEFAULT_TASKS))
    results_dir: str = "results/runs"
    batch_size: int = 64
    device: str | None = None
    trust_remote_code: bool = False
    overwrite: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        self.langs = parse_langs(self.langs)
        if not self.models:
            raise HarnessError("no model given")
        if not self.tasks:
            raise HarnessError("no task given")
        if self.batch_size < 1:
            raise HarnessError(f"--batch-size must be positive, got {self.batch_size}")

    @property
    def results_path(self) -> Path:
        return Path(self.results_dir)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_list(text: str) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c']"""
    return [item.strip() for item in text.split(",") if item.strip()]
