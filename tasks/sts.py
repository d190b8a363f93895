"""Semantic textual similarity: cosine of the two sentences' embeddings against gold scores."""

from __future__ import annotations

import numpy as np

from harness.core.encoder import Encoder
from harness.core.errors import HarnessError
from harness.core.task import Evidence, LangPair, Metric, PairResult
from harness.core.vectors import unit_rows
from tasks.base import Task, x100

STATISTICS = {"spearman": ("spearman", ("cosine", "gold")), "pearson": ("pearson", ("cosine", "gold"))}


MIN_PAIRS = 3  # Spearman and Pearson of fewer points are undefined or always +-1


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of row i of `a` with row i of `b`."""
    return np.einsum("ij,ij->i", unit_rows(a), unit_rows(b))


def sts_metrics(predicted: np.ndarray, gold: np.ndarray) -> dict[str, Metric]:
    """Spearman and Pearson correlation (x100) of predicted similarities with gold scores (scipy's)."""
    from scipy.stats import pearsonr, spearmanr

    if len(gold) < MIN_PAIRS:
        raise ValueError(f"STS needs at least {MIN_PAIRS} scored pairs")
    return {
        "spearman": Metric(x100(spearmanr(predicted, gold).statistic)),
        "pearson": Metric(x100(pearsonr(predicted, gold).statistic)),
    }


class STSTask(Task):
    """Base for STS tasks: subclasses return the scored pairs for a language pair."""

    def validate(self, langs: list[str]) -> None:
        """Read every pair now; a pair too small to correlate is bad input, found before any model loads."""
        super().validate(langs)
        for pair in self.pairs(langs):
            if len(self.data(pair)) < MIN_PAIRS:
                raise HarnessError(f"{self.metadata.name} {pair.key}: {len(self.data(pair))} scored pair(s); a "
                                   f"correlation needs at least {MIN_PAIRS}")

    def sentences(self, pair: LangPair) -> list[str]:
        return [text for item in self.data(pair) for text in (item.s1, item.s2)]

    def evaluate_pair(self, encoder: Encoder, pair: LangPair, *, batch_size: int) -> PairResult:
        items = self.data(pair)
        first = encoder.encode([item.s1 for item in items], batch_size=batch_size)
        second = encoder.encode([item.s2 for item in items], batch_size=batch_size)
        predicted = cosine_rows(first, second)
        gold = np.array([item.score for item in items])
        evidence = Evidence({"cosine": predicted.astype(np.float32), "gold": gold.astype(np.float32)}, STATISTICS)
        return PairResult(pair, sts_metrics(predicted, gold), n_items=len(items), evidence=evidence)
