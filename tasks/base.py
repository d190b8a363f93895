"""The Task base class: owns the language-pair loop, reads each pair's data once and fingerprints it.

Subclasses declare metadata, the language pairs they have, how to load one pair, and how to score it.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any

from harness.core.data import fingerprint, recording_reads
from harness.core.encoder import Encoder, NonFiniteEmbeddings, encode_side
from harness.core.task import LangPair, PairResult, TaskMetadata

PIVOT = "en"


class Task(ABC):
    """Base class of every task plug-in (it satisfies harness.core.task.Task)."""

    metadata: TaskMetadata
    follows_requested_languages = True  # file tasks declare their own pair instead

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

    def sentences(self, pair: LangPair) -> list[str]:
        """Every text this pair's evaluation encodes (the leak filter keeps them out of training). The family
        bases list theirs; a plug-in task that lists none is not guarded by the leak filter."""
        return []

    def data(self, pair: LangPair) -> Any:
        """`load_pair`, read once per task instance; the files it read give the pair's fingerprint."""
        cache = self.__dict__.setdefault("_data_cache", {})
        if pair not in cache:
            with recording_reads() as used:
                cache[pair] = self.load_pair(pair)
            self.__dict__.setdefault("_fingerprints", {})[pair] = fingerprint(used)
        return cache[pair]

    def fingerprint(self, pair: LangPair) -> str:
        """A hash of the names and contents of the files this pair's data came from."""
        self.data(pair)
        return self.__dict__["_fingerprints"][pair]

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
            result.data_fingerprint = self.fingerprint(pair)
            yield result


def x100(value: float) -> float:
    return 100.0 * float(value)


def pairs_with_pivot(available: list[str], langs: list[str], *, same: bool, both_ways: bool) -> list[LangPair]:
    """Pairs X-en for each requested X this task has; optionally X-X and en-X, and en-en first."""
    pairs = [LangPair(PIVOT, PIVOT)] if same and PIVOT in available else []
    for lang in langs:
        if lang == PIVOT or lang not in available:
            continue
        pairs.append(LangPair(lang, PIVOT))
        if both_ways:
            pairs.append(LangPair(PIVOT, lang))
        if same:
            pairs.append(LangPair(lang, lang))
    return pairs


def encode_sides(encoder: Encoder, queries: list[str], candidates: list[str], batch_size: int):
    """(query vectors, candidate vectors): one model for both, or, for a two-sided encoder, the student's
    queries against the index its teacher built."""
    return (encode_side(encoder, queries, "queries", batch_size=batch_size),
            encode_side(encoder, candidates, "candidates", batch_size=batch_size))
