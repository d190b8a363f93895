"""Bitext mining: kNN in both directions, cosine and ratio-margin scoring, accuracy, xSIM and F1.

The search and LASER's ratio margin live in harness.search (the trainers use them too); this module
turns them into the task's metrics, its per-query evidence and the hard-negative analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.core.encoder import Encoder, encode_side
from harness.core.task import Evidence, LangPair, Metric, PairResult
from harness.core.vectors import unit_rows
from harness.search.knn import DEFAULT_SEARCH, SearchConfig, search_both_ways
from harness.search.mining import MARGIN_K, Neighbours, accuracy, margin_top1
from tasks import hard_negatives
from tasks.base import Task, x100


def weighted_f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    """F1 of nearest-neighbour predictions as classes, averaged with support weights (MTEB's definition)."""
    n_classes = int(max(predicted.max(), gold.max())) + 1
    support = np.bincount(gold, minlength=n_classes).astype(float)
    predicted_count = np.bincount(predicted, minlength=n_classes).astype(float)
    true_pos = np.bincount(gold[predicted == gold], minlength=n_classes).astype(float)
    precision = np.divide(true_pos, predicted_count, out=np.zeros(n_classes), where=predicted_count > 0)
    recall = np.divide(true_pos, support, out=np.zeros(n_classes), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(n_classes), where=denom > 0)
    return float((f1 * support).sum() / support.sum())


def extraction_f1(src_best: tuple[np.ndarray, np.ndarray], tgt_best: tuple[np.ndarray, np.ndarray],
                  n_gold: int) -> dict[str, float]:
    """Best F1 over margin thresholds for pairs mined in both directions ('max' retrieval, as BUCC).

    Candidates are each source's best target and each target's best source; a pair found twice keeps
    its higher margin. Gold pairs are (i, i).
    """
    (fwd_ids, fwd_scores), (bwd_ids, bwd_scores) = src_best, tgt_best
    src_ids = np.concatenate([np.arange(len(fwd_ids)), bwd_ids]).astype(np.int64)
    tgt_ids = np.concatenate([fwd_ids, np.arange(len(bwd_ids))]).astype(np.int64)
    scores = np.concatenate([fwd_scores, bwd_scores]).astype(np.float64)
    # one candidate per distinct (source, target) pair, with the higher of its two margins
    keys = src_ids * (int(tgt_ids.max()) + 1) + tgt_ids
    by_key_then_score = np.lexsort((-scores, keys))
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[by_key_then_score][1:] != keys[by_key_then_score][:-1]
    kept = by_key_then_score[first]
    kept = kept[np.argsort(-scores[kept], kind="stable")]
    correct = (src_ids[kept] == tgt_ids[kept]).astype(float)
    pair_scores = scores[kept]
    true_pos = np.cumsum(correct)
    precision = true_pos / np.arange(1, len(correct) + 1)
    recall = true_pos / n_gold
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(len(correct)),
                   where=(precision + recall) > 0)
    best = int(np.argmax(f1))
    return {"f1": float(f1[best]), "precision": float(precision[best]), "recall": float(recall[best]),
            "threshold": float(pair_scores[best])}


COSINE_EDGES = np.linspace(-1.0, 1.0, 41)
DIRECTIONS = ("fwd", "bwd")  # fwd: xx -> en, bwd: en -> xx
STATISTICS = {
    **{f"acc_{kind}_{way}": ("mean", (f"correct_{kind}_{way}",)) for kind in ("cos", "margin") for way in DIRECTIONS},
    **{f"acc_{kind}_mean": ("mean", (f"correct_{kind}_fwd", f"correct_{kind}_bwd")) for kind in ("cos", "margin")},
    **{f"xsim_error_{way}": ("error", (f"correct_margin_{way}",)) for way in ("fwd", "bwd")},
}


@dataclass
class Mined:
    """Everything one aligned pair of embedding sets yields: metrics, per-query correctness, neighbours."""

    metrics: dict[str, Metric]
    correct: dict[str, np.ndarray]  # correct_{cos,margin}_{fwd,bwd}: one flag per query
    fwd: Neighbours
    bwd: Neighbours


def mining_metrics(src_emb: np.ndarray, tgt_emb: np.ndarray, config: SearchConfig = DEFAULT_SEARCH,
                   k: int = MARGIN_K) -> Mined:
    """All mining metrics for aligned embeddings (row i of src translates row i of tgt)."""
    fwd_found, bwd_found = search_both_ways(src_emb, tgt_emb, k, config)
    fwd, bwd = Neighbours(*fwd_found), Neighbours(*bwd_found)
    gold = np.arange(len(src_emb))
    fwd_margin = margin_top1(fwd, bwd.mean_sim)
    bwd_margin = margin_top1(bwd, fwd.mean_sim)
    metrics: dict[str, Metric] = {}
    correct: dict[str, np.ndarray] = {}
    for name, neighbours, margin in (("fwd", fwd, fwd_margin), ("bwd", bwd, bwd_margin)):
        correct[f"correct_cos_{name}"] = neighbours.ids[:, 0] == gold
        correct[f"correct_margin_{name}"] = margin[0] == gold
        acc_cos, acc_margin = accuracy(neighbours.ids[:, 0], gold), accuracy(margin[0], gold)
        metrics[f"acc_cos_{name}"] = Metric(x100(acc_cos))
        metrics[f"acc_margin_{name}"] = Metric(x100(acc_margin))
        metrics[f"xsim_error_{name}"] = Metric(x100(1 - acc_margin), higher_is_better=False)
        metrics[f"f1_cos_{name}"] = Metric(x100(weighted_f1(neighbours.ids[:, 0], gold)))
    for kind in ("cos", "margin"):
        metrics[f"acc_{kind}_mean"] = Metric((metrics[f"acc_{kind}_fwd"].value + metrics[f"acc_{kind}_bwd"].value) / 2)
    extraction = extraction_f1(fwd_margin, bwd_margin, len(gold))
    for key in ("f1", "precision", "recall"):
        metrics[f"extract_{key}"] = Metric(x100(extraction[key]))
    metrics["extract_threshold"] = Metric(extraction["threshold"])
    return Mined(metrics, correct, fwd, bwd)


def cosine_summary(cosines: np.ndarray) -> dict:
    """Mean, quantiles and a fixed-bin histogram of cosines (JSON-ready)."""
    quantiles = np.quantile(cosines, [0.05, 0.25, 0.5, 0.75, 0.95])
    counts, _ = np.histogram(np.clip(cosines, -1.0, 1.0), bins=COSINE_EDGES)
    return {"mean": round(float(cosines.mean()), 6),
            "quantiles": {f"p{p}": round(float(q), 6) for p, q in zip((5, 25, 50, 75, 95), quantiles)},
            "histogram": {"edges": [round(float(e), 3) for e in COSINE_EDGES], "counts": counts.tolist()}}


class BitextMiningTask(Task):
    """Base for mining tasks: subclasses load the two aligned sides of a language pair."""

    search_config = SearchConfig()

    def sentences(self, pair: LangPair) -> list[str]:
        src_texts, tgt_texts = self.data(pair)
        return [*src_texts, *tgt_texts]

    def evaluate_pair(self, encoder: Encoder, pair: LangPair, *, batch_size: int) -> PairResult:
        src_texts, tgt_texts = self.data(pair)
        src = unit_rows(encode_side(encoder, src_texts, "queries", batch_size=batch_size))
        tgt = unit_rows(encode_side(encoder, tgt_texts, "candidates", batch_size=batch_size))
        mined = mining_metrics(src, tgt, self.search_config)
        gold_scores = np.einsum("ij,ij->i", src, tgt)
        analysis = {
            "fwd": hard_negatives.analyse(src_texts, tgt_texts, gold_scores, mined.fwd.ids, mined.fwd.scores),
            "bwd": hard_negatives.analyse(tgt_texts, src_texts, gold_scores, mined.bwd.ids, mined.bwd.scores),
        }
        if hasattr(encoder, "encode_candidates"):  # two models: how close the query side lives to the other's
            same_text = unit_rows(encode_side(encoder, tgt_texts, "queries", batch_size=batch_size))
            analysis["compatibility"] = {
                "translation_to_candidate": cosine_summary(gold_scores),
                "same_text": cosine_summary(np.einsum("ij,ij->i", same_text, tgt)),
            }
        arrays = {name: flags.astype(np.uint8) for name, flags in mined.correct.items()}
        for way, found in (("fwd", mined.fwd), ("bwd", mined.bwd)):
            arrays[f"gap_{way}"] = hard_negatives.gold_gaps(gold_scores, found.ids, found.scores).astype(np.float32)
        return PairResult(pair, mined.metrics, n_items=len(src_texts), analysis=analysis,
                          evidence=Evidence(arrays, STATISTICS))
