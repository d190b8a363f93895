"""Hard-negative analysis of kNN output: where a wrong translation sits closer than the right one.

Pure functions over scores, ids and texts; the result is JSON-serialisable data, never printed.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from harness.results.schema import WORST_KEPT

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'-]+", re.UNICODE)


def best_wrong(ids: np.ndarray, scores: np.ndarray, gold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query, the highest-scoring candidate that is not its gold (id -1 when none is listed)."""
    wrong = ids != gold[:, None]
    first = np.argmax(wrong, axis=1)
    has = wrong[np.arange(len(ids)), first]
    wrong_ids = np.where(has, ids[np.arange(len(ids)), first], -1)
    wrong_scores = np.where(has, scores[np.arange(len(ids)), first], -np.inf)
    return wrong_ids, wrong_scores


def gold_gaps(gold_scores: np.ndarray, ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per query: its gold score minus its best wrong candidate's (negative: an error; inf: no wrong listed)."""
    _, wrong_scores = best_wrong(ids, scores, np.arange(len(ids)))
    return gold_scores - wrong_scores


def error_tags(gold: str, wrong: str) -> list[str]:
    """Cheap reasons a wrong candidate may look right: duplicate, numbers, names, length."""
    tags = []
    if gold.strip().casefold() == wrong.strip().casefold():
        tags.append("duplicate")
    numbers_gold, numbers_wrong = set(_NUMBER.findall(gold)), set(_NUMBER.findall(wrong))
    if (numbers_gold or numbers_wrong) and numbers_gold != numbers_wrong:
        tags.append("number_mismatch")
    names_gold, names_wrong = set(_CAPITALISED.findall(gold)), set(_CAPITALISED.findall(wrong))
    if (names_gold or names_wrong) and names_gold != names_wrong:
        tags.append("entity_mismatch")
    ratio = (len(wrong) + 1) / (len(gold) + 1)
    if ratio < 0.5 or ratio > 2.0:
        tags.append("length_ratio")
    return tags


def analyse(
    queries: list[str],
    candidates: list[str],
    gold_scores: np.ndarray,
    ids: np.ndarray,
    scores: np.ndarray,
    worst_n: int = WORST_KEPT,
) -> dict[str, Any]:
    """Summarise hard negatives for one search direction where query i's gold candidate is i.

    `ids`/`scores` are the top-k neighbours (k >= 2) of each query; `gold_scores` the query-gold
    similarities. The gap is gold score minus best wrong score: negative means an error.
    """
    wrong_ids, wrong_scores = best_wrong(ids, scores, np.arange(len(queries)))
    valid = wrong_ids >= 0
    gaps = np.where(valid, gold_scores - wrong_scores, np.inf)
    finite = gaps[valid]
    worst = []
    for i in np.argsort(gaps, kind="stable")[:worst_n]:
        if not valid[i]:
            break
        j = int(wrong_ids[i])
        worst.append({
            "query": queries[i], "gold": candidates[i], "wrong": candidates[j], "wrong_index": j,
            "gold_score": round(float(gold_scores[i]), 6), "wrong_score": round(float(wrong_scores[i]), 6),
            "gap": round(float(gaps[i]), 6), "tags": error_tags(candidates[i], candidates[j]),
        })
    errors = np.flatnonzero(valid & (gaps < 0))
    tag_counts: dict[str, int] = {}
    for i in errors:
        for tag in error_tags(candidates[i], candidates[int(wrong_ids[i])]):
            tag_counts[tag] = tag_counts.get(tag, 0) + 1
    quantiles = np.quantile(finite, [0.05, 0.25, 0.5, 0.75, 0.95]) if len(finite) else [np.nan] * 5
    return {
        "n": int(len(queries)),
        "wrong_outranks_gold": round(100.0 * len(errors) / max(1, len(queries)), 4),
        "gap_mean": round(float(finite.mean()), 6) if len(finite) else None,
        "gap_quantiles": {f"p{p}": round(float(q), 6) for p, q in zip((5, 25, 50, 75, 95), quantiles)},
        "error_tags": dict(sorted(tag_counts.items())),
        "worst": worst,
    }
