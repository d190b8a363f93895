"""Bitext-mining primitives shared by the mining tasks and the trainers: neighbours, LASER's ratio margin,
translation accuracy (the dev callback's and the task's), and the nearest wrong translation (hard-negative
mining).

The margin follows LASER (Artetxe & Schwenk 2019; `mine_bitexts.py`, `xsim.py`): the ratio of the cosine
to the mean cosine of each side's k nearest neighbours on the other side, with k = 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.core.vectors import unit_rows
from harness.search.knn import DEFAULT_SEARCH, SearchConfig, search

MARGIN_K = 4


@dataclass
class Neighbours:
    """Top-k neighbours of each query among the candidates (one search direction)."""

    scores: np.ndarray  # (n, k) cosine, best first
    ids: np.ndarray  # (n, k)

    @property
    def mean_sim(self) -> np.ndarray:
        return self.scores[:, :MARGIN_K].mean(axis=1)


def ratio_margin(fwd: Neighbours, bwd_mean: np.ndarray) -> np.ndarray:
    """Ratio-margin scores of each query's k candidates: cos(x, y) / ((mean_k(x) + mean_k(y)) / 2)."""
    return fwd.scores / ((fwd.mean_sim[:, None] + bwd_mean[fwd.ids]) / 2.0)


def margin_top1(fwd: Neighbours, bwd_mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(best candidate id, its margin score) per query, re-ranking the k cosine neighbours by margin."""
    margins = ratio_margin(fwd, bwd_mean)
    best = np.argmax(margins, axis=1)
    rows = np.arange(len(best))
    return fwd.ids[rows, best], margins[rows, best]


def accuracy(predicted: np.ndarray, gold: np.ndarray) -> float:
    """Share of queries whose prediction is their gold candidate."""
    return float(np.mean(predicted == gold))


def translation_accuracy(src: np.ndarray, tgt: np.ndarray, config: SearchConfig = DEFAULT_SEARCH) -> float:
    """Share of sources whose nearest target by cosine is their own translation (row i of each side)."""
    _, ids = search(src, tgt, 1, config)
    return accuracy(ids[:, 0], np.arange(len(src)))


def nearest_wrong(src: np.ndarray, tgt: np.ndarray, tgt_texts: list[str], *, k: int = 10,
                  near_duplicate: float = 0.95, config: SearchConfig = DEFAULT_SEARCH) -> np.ndarray:
    """Index of each source's nearest wrong target (-1 when none of its k neighbours qualifies).

    Skips the gold itself, exact duplicates of the gold text, and near-duplicates (cosine to the gold
    translation >= `near_duplicate`), which would teach a model to push apart paraphrases.
    """
    tgt = unit_rows(tgt)
    _, ids = search(src, tgt, min(k, len(tgt)), config)
    folded = [t.strip().casefold() for t in tgt_texts]
    negatives = np.full(len(src), -1, dtype=np.int64)
    for i, row in enumerate(ids):
        for j in row:
            if j != i and j >= 0 and folded[j] != folded[i] and float(tgt[i] @ tgt[j]) < near_duplicate:
                negatives[i] = j
                break
    return negatives
