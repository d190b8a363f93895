"""Task metadata, typed metrics and the Task base class that owns the language-pair loop."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.core.encoder import Encoder, NonFiniteEmbeddings

FAMILIES = ("sts", "mining", "retrieval")


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

    @property
    def crosslingual(self) -> bool:
        return self.src != self.tgt


@dataclass(frozen=True)
class Metric:
    """A score and its direction. Scores in [0, 1] are reported x100, as the field does."""

    value: float
    higher_is_better: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"value": round(float(self.value), 6), "higher_is_better": self.higher_is_better}


@dataclass
class PairResult:
    """The outcome of one task on one language pair: metrics, optional analysis, or a failure."""

    pair: LangPair
    metrics: dict[str, Metric] = field(default_factory=dict)
    n_items: int = 0
    analysis: dict[str, Any] | None = None
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Task(ABC):
    """Base class: subclasses declare metadata, their language pairs and one per-pair evaluation."""

    metadata: TaskMetadata

    @abstractmethod
    def languages(self) -> list[str]:
        """Canonical codes this task has data for."""

    @abstractmethod
    def pairs(self, langs: list[str]) -> list[LangPair]:
        """The language pairs this task evaluates for the requested languages (may be empty)."""

    @abstractmethod
    def load_pair(self, pair: LangPair) -> Any:
        """Read and validate the data of one language pair (raises DataError on bad input)."""

    @abstractmethod
    def evaluate_pair(self, encoder: Encoder, pair: LangPair, *, batch_size: int) -> PairResult:
        """Encode and score one language pair."""

    def data(self, pair: LangPair) -> Any:
        """`load_pair`, read once per task instance."""
        cache = self.__dict__.setdefault("_data_cache", {})
        if pair not in cache:
            cache[pair] = self.load_pair(pair)
        return cache[pair]

    def validate(self, langs: list[str]) -> None:
        """Read every pair's data now, so bad input fails before any model loads."""
        for pair in self.pairs(langs):
            self.data(pair)

    def evaluate(
        self,
        encoder: Encoder,
        langs: list[str],
        *,
        batch_size: int = 64,
        skip: Callable[[LangPair], bool] = lambda pair: False,
    ) -> Iterator[PairResult]:
        """Evaluate every pair for `langs`, yielding as each finishes so callers can save as they go.

        A model producing NaN/inf fails only its own pair; data errors propagate to the caller.
        """
        for pair in self.pairs(langs):
            if skip(pair):
                continue
            start = time.perf_counter()
            try:
                result = self.evaluate_pair(encoder, pair, batch_size=batch_size)
            except NonFiniteEmbeddings as err:
                result = PairResult(pair, error=str(err))
            result.seconds = time.perf_counter() - start
            yield result


def x100(value: float) -> float:
    return 100.0 * float(value)
