"""The contract between task plug-ins and the framework: metadata, language pairs, typed metrics,
per-item evidence, and what one evaluated pair returns. Records snapshot these, so results never
import tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from harness.core.encoder import Encoder
from harness.core.vocabulary import FAMILIES


@dataclass(frozen=True)
class TaskMetadata:
    """What a task is; snapshotted into every result so that results never import tasks."""

    name: str
    family: str
    dataset: str
    split: str
    main_score: str
    description: str
    reference: str = ""
    version: str = "1"

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"task {self.name}: family must be one of {FAMILIES}, not {self.family!r}")

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class LangPair:
    """A (source, target) language pair in canonical codes; 'de-en' means de queries, en candidates."""

    src: str
    tgt: str

    @property
    def key(self) -> str:
        return f"{self.src}-{self.tgt}"


@dataclass(frozen=True)
class Metric:
    """A score and its direction. Scores in [0, 1] are reported x100, as the field does."""

    value: float
    higher_is_better: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"value": round(float(self.value), 6), "higher_is_better": self.higher_is_better}


@dataclass
class Evidence:
    """What resampling needs: per-item arrays (row i of each is item i) and, for each metric with an
    interval, how it is computed from them: (statistic, array names), e.g. ("spearman", ("cosine", "gold")).

    Statistics are the ones harness.results.stats knows: mean, spearman, pearson, ndcg@K, mrr@K, hit@K.
    """

    arrays: dict[str, np.ndarray]
    statistics: dict[str, tuple[str, tuple[str, ...]]]

    @property
    def n(self) -> int:
        return len(next(iter(self.arrays.values()))) if self.arrays else 0


@dataclass
class PairResult:
    """The outcome of one task on one language pair: metrics, evidence, optional analysis, or a failure."""

    pair: LangPair
    metrics: dict[str, Metric] = field(default_factory=dict)
    n_items: int = 0
    evidence: Evidence | None = None
    analysis: dict[str, Any] | None = None
    seconds: float = 0.0
    error: str | None = None
    data_fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class Task(Protocol):
    """What the framework asks of a task plug-in (tasks.base.Task implements the language loop)."""

    metadata: TaskMetadata
    follows_requested_languages: bool  # False for file tasks, which declare their own pair

    def pairs(self, langs: list[str]) -> list[LangPair]: ...

    def validate(self, langs: list[str]) -> None: ...

    def fingerprint(self, pair: LangPair) -> str: ...

    def sentences(self, pair: LangPair) -> list[str]: ...

    def evaluate(self, encoder: Encoder, langs: list[str], *, batch_size: int = 64,
                 skip: Callable[[LangPair], bool] = ...) -> Iterator[PairResult]: ...
