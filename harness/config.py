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
    model_meta: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> role, base, teacher, trainer
    run_info: dict[str, Any] = field(default_factory=dict)  # stored in every record (the resolved run config)

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


QUICK = {"max_pairs": 200, "tasks": ["stsb-multi-mt", "tatoeba"], "baselines": [], "head_fit_pairs": 400,
         "results_dir": "results/quick/runs", "leaderboard_dir": "results/quick", "models_dir": "models/quick"}


@dataclass
class RunConfig:
    """What `harness run` does: train students from a teacher, evaluate everything side by side,
    write results and regenerate the leaderboard. Loadable from TOML (`--config run.toml`)."""

    teacher: str = "all-MiniLM-L6-v2"
    student: str = "multilingual-e5-small"
    langs: list[str] = field(default_factory=lambda: list(DEFAULT_LANGS))
    trainers: list[str] = field(default_factory=lambda: ["distill"])
    tasks: list[str] = field(default_factory=lambda: list(DEFAULT_TASKS))
    baselines: list[str] = field(default_factory=lambda: ["use-multilingual"])
    max_pairs: int | None = 500  # per language; more lowers STS at CPU budgets (README, 'Student quality')
    dev_pairs: int = 200  # per language, held out for the dev callback
    epochs: int = 1
    batch_size: int = 32
    lr: float = 2e-5
    head: str = "auto"
    head_lr: float = 1e-3
    head_fit_pairs: int = 2000
    max_seq_length: int = 64
    freeze_layers: int = 0
    micro_batch: int = 16
    balanced: bool = True
    tag: str = ""  # appended to student folder names, so ablations of one trainer live side by side
    eval_langs: list[str] | None = None  # evaluate on these languages only (default: the training languages)
    seed: int = 0
    results_dir: str = "results/runs"
    leaderboard_dir: str = "results"
    models_dir: str = "models"
    device: str | None = None
    trust_remote_code: bool = False
    progress: bool = True
    quick: bool = False

    def __post_init__(self) -> None:
        self.langs = parse_langs(self.langs)
        if self.eval_langs is not None:
            self.eval_langs = parse_langs(self.eval_langs)
        if self.quick:
            for key, value in QUICK.items():
                setattr(self, key, value)
        if not self.trainers and not self.baselines and not self.teacher:
            raise HarnessError("nothing to run")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def base_model(self) -> str:
        """The model students start from: the student spec, or the teacher itself for 'teacher'."""
        return self.teacher if self.student == "teacher" else self.student

    @property
    def evaluation_langs(self) -> list[str]:
        """The languages scored: `eval_langs` when given, else the training languages."""
        return self.eval_langs or self.langs

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> RunConfig:
        """Read a TOML file whose keys are this class's fields; `overrides` (CLI flags) win."""
        import tomllib

        from harness.core.errors import DataError
        from harness.core.registry import did_you_mean

        path = Path(path)
        try:
            with open(path, "rb") as handle:
                values = tomllib.load(handle)
        except FileNotFoundError:
            raise DataError(path, "file not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise DataError(path, f"invalid TOML: {err}") from None
        known = list(cls.__dataclass_fields__)
        for key in values:
            if key not in known:
                raise DataError(path, f"unknown setting '{key}'{did_you_mean(key, known)}")
        for key in ("langs", "trainers", "tasks", "baselines", "eval_langs"):
            if isinstance(values.get(key), str):
                values[key] = split_list(values[key])
        return cls(**{**values, **overrides})
