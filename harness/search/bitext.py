"""Mining translation pairs from two monolingual corpora, as LASER's `mine_bitexts.py` does: k nearest
neighbours both ways, the ratio margin (k = 4), one of its candidate modes, then a threshold, fixed or
calibrated on gold pairs (the BUCC protocol: the threshold that maximises F1).

Candidate modes (LASER's `--retrieval`):
- forward: each source sentence with its best target;
- backward: each target sentence with its best source;
- intersection: the pairs both directions agree on;
- max: both directions' candidates, best first, each sentence used once (LASER's default for mining).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from harness.search.knn import SearchConfig, search, search_both_ways
from harness.search.mining import MARGIN_K, Neighbours, margin_top1

MODES = ("max", "intersection", "forward", "backward")
EXACT_BELOW = 50_000  # both sides at most this long: exact search (BENCHMARKS.md §2: 100k took 79 s exact)
APPROXIMATE = SearchConfig(index="ivfpq", nprobe=20, refine_factor=1)  # the 1M setting of BENCHMARKS.md §2


@dataclass
class Candidates:
    """Mined pairs as indices into the two corpora, with their margin scores, best first."""

    src: np.ndarray
    tgt: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    def above(self, threshold: float) -> Candidates:
        keep = self.scores >= threshold
        return Candidates(self.src[keep], self.tgt[keep], self.scores[keep])


def search_config(n_src: int, n_tgt: int, exact_below: int = EXACT_BELOW) -> SearchConfig:
    """Exact search for corpora up to `exact_below` sentences a side, the benchmarked approximate index above."""
    if max(n_src, n_tgt) <= exact_below:
        return SearchConfig()
    return APPROXIMATE


def neighbours_both_ways(src: np.ndarray, tgt: np.ndarray, config: SearchConfig, k: int = MARGIN_K,
                         seconds: dict[str, float] | None = None) -> tuple[Neighbours, Neighbours]:
    """The k nearest targets of every source and sources of every target. An exact CPU search reads one
    similarity product both ways; an approximate one builds and searches an index per direction, and
    `seconds` (when given) gets each direction's time."""
    if config.index == "ivfpq" and src.shape[1] % 4:  # fast-scan codes need a dimension divisible by 4
        config = SearchConfig(index="ivf", nprobe=config.nprobe)
    if config.index == "flat":
        started = time.perf_counter()
        fwd, bwd = search_both_ways(src, tgt, k, config)
        if seconds is not None:
            seconds["search both ways (one product)"] = time.perf_counter() - started
        return Neighbours(*fwd), Neighbours(*bwd)
    found = []
    for name, queries, corpus in (("forward", src, tgt), ("backward", tgt, src)):
        started = time.perf_counter()
        found.append(Neighbours(*search(queries, corpus, k, config)))
        if seconds is not None:
            seconds[f"search {name}"] = time.perf_counter() - started
    return found[0], found[1]


def _best_first(src: np.ndarray, tgt: np.ndarray, scores: np.ndarray) -> Candidates:
    order = np.lexsort((tgt, src, -scores))  # ties in a fixed order: by source, then target
    return Candidates(src[order].astype(np.int64), tgt[order].astype(np.int64), scores[order].astype(np.float64))


def candidates(fwd: Neighbours, bwd: Neighbours, mode: str = "max") -> Candidates:
    """The candidate pairs of one of LASER's modes, scored by ratio margin, best first."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    fwd_best, fwd_scores = margin_top1(fwd, bwd.mean_sim)
    bwd_best, bwd_scores = margin_top1(bwd, fwd.mean_sim)
    sources, targets = np.arange(len(fwd_best)), np.arange(len(bwd_best))
    if mode == "forward":
        return _best_first(sources, fwd_best, fwd_scores)
    if mode == "backward":
        return _best_first(bwd_best, targets, bwd_scores)
    if mode == "intersection":
        agree = bwd_best[fwd_best] == sources
        return _best_first(sources[agree], fwd_best[agree], fwd_scores[agree])
    found = _best_first(np.concatenate([sources, bwd_best]), np.concatenate([fwd_best, targets]),
                        np.concatenate([fwd_scores, bwd_scores]))
    used_src = np.zeros(len(sources), dtype=bool)
    used_tgt = np.zeros(len(targets), dtype=bool)
    keep = np.zeros(len(found), dtype=bool)
    for row, (i, j) in enumerate(zip(found.src, found.tgt)):  # greedy, best first: each sentence once
        if not used_src[i] and not used_tgt[j]:
            used_src[i] = used_tgt[j] = keep[row] = True
    return Candidates(found.src[keep], found.tgt[keep], found.scores[keep])


@dataclass(frozen=True)
class Quality:
    """How mined pairs at one threshold compare with the gold pairs."""

    threshold: float
    precision: float
    recall: float
    f1: float
    mined: int
    correct: int


def quality_at(found: Candidates, gold: set[tuple[int, int]], threshold: float) -> Quality:
    """Precision, recall and F1 of the candidates scoring at least `threshold` against `gold`."""
    kept = found.above(threshold)
    correct = sum((int(i), int(j)) in gold for i, j in zip(kept.src, kept.tgt))
    precision = correct / len(kept) if len(kept) else 0.0
    recall = correct / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Quality(threshold, precision, recall, f1, len(kept), correct)


def calibrate(found: Candidates, gold: set[tuple[int, int]]) -> Quality:
    """The threshold that maximises F1 on `gold` (BUCC): each candidate's score is tried as the threshold; ties
    keep the higher threshold (fewer pairs). With no candidate, the threshold is +inf and F1 is 0."""
    if not len(found) or not gold:
        return Quality(math.inf, 0.0, 0.0, 0.0, 0, 0)
    hit = np.fromiter(((int(i), int(j)) in gold for i, j in zip(found.src, found.tgt)), dtype=bool, count=len(found))
    correct = np.cumsum(hit)
    mined = np.arange(1, len(found) + 1)
    # a threshold keeps every candidate with an equal score: only the last of a run of ties is a valid cut
    last_of_tie = np.append(found.scores[1:] != found.scores[:-1], True)
    precision, recall = correct / mined, correct / len(gold)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0.0)
    f1 = np.where(last_of_tie, f1, -1.0)
    best = int(np.argmax(f1))
    return Quality(float(found.scores[best]), float(precision[best]), float(recall[best]), float(f1[best]),
                   int(mined[best]), int(correct[best]))
