"""Retrieval metrics against mteb's evaluator (pytrec_eval underneath) on the same rankings."""

import numpy as np
import pytest

from harness.search.knn import search
from tasks.retrieval import CUTOFF, ranks_of_gold, retrieval_metrics


def test_metrics_match_mteb_retrieval_scores():
    from mteb._evaluators.retrieval_metrics import calculate_retrieval_scores

    rng = np.random.default_rng(0)
    pool = rng.standard_normal((300, 24)).astype(np.float32)
    gold = rng.integers(0, 300, 150)
    queries = pool[gold] + 1.2 * rng.standard_normal((150, 24)).astype(np.float32)
    scores, ids = search(queries, pool, 100)
    ours = retrieval_metrics(ranks_of_gold(ids[:, :CUTOFF], gold))
    results = {f"q{i}": {f"d{j}": float(s) for j, s in zip(ids[i], scores[i])} for i in range(150)}
    qrels = {f"q{i}": {f"d{g}": 1} for i, g in enumerate(gold)}
    theirs = calculate_retrieval_scores(results, qrels, [1, 10])
    assert 0.2 < theirs.ndcg["NDCG@10"] < 0.95  # neither trivial nor hopeless
    assert ours["ndcg@10"].value / 100 == pytest.approx(theirs.ndcg["NDCG@10"], abs=1e-4)
    assert ours["recall@1"].value / 100 == pytest.approx(theirs.recall["Recall@1"], abs=1e-4)
    assert ours["recall@10"].value / 100 == pytest.approx(theirs.recall["Recall@10"], abs=1e-4)
    assert ours["mrr@10"].value / 100 == pytest.approx(theirs.mrr["MRR@10"], abs=1e-4)


def test_ranks_of_gold():
    ids = np.array([[3, 1, 2], [0, 1, 2], [5, 6, 7]])
    assert ranks_of_gold(ids, np.array([1, 0, 9])).tolist() == [2, 1, 0]
    metrics = retrieval_metrics(np.array([1, 2, 0]))
    assert metrics["recall@1"].value == pytest.approx(100 / 3)
    assert metrics["mrr@10"].value == pytest.approx(100 * (1 + 0.5) / 3)
