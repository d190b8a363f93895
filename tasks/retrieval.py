"""Cross-lingual retrieval: queries in one language rank a pool of candidates, one gold each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.core.encoder import Encoder
from harness.core.task import Evidence, LangPair, Metric, PairResult
from harness.results.stats import point_estimate
from harness.search.knn import SearchConfig, search
from tasks.base import Task, encode_sides

CUTOFF = 10
STATISTICS = {f"ndcg@{CUTOFF}": (f"ndcg@{CUTOFF}", ("rank",)), f"mrr@{CUTOFF}": (f"mrr@{CUTOFF}", ("rank",)),
              "recall@1": ("hit@1", ("rank",)), f"recall@{CUTOFF}": (f"hit@{CUTOFF}", ("rank",))}


@dataclass(frozen=True)
class RetrievalSet:
    """Queries, a candidate pool, and for each query the index of its relevant candidate."""

    queries: list[str]
    candidates: list[str]
    gold: list[int]


def ranks_of_gold(ids: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """1-based rank of the gold candidate in each query's top list, 0 when it is not listed."""
    hits = ids == gold[:, None]
    return np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0)


def retrieval_metrics(ranks: np.ndarray) -> dict[str, Metric]:
    """nDCG@10, MRR@10, Recall@1 and Recall@10 (x100) for one relevant candidate per query."""
    return {name: Metric(point_estimate(kind, [ranks])) for name, (kind, _) in STATISTICS.items()}


class RetrievalTask(Task):
    """Base for retrieval tasks: subclasses build the query/pool set for a language pair."""

    search_config = SearchConfig()

    def sentences(self, pair: LangPair) -> list[str]:
        data = self.data(pair)
        return [*data.queries, *data.candidates]

    def evaluate_pair(self, encoder: Encoder, pair: LangPair, *, batch_size: int) -> PairResult:
        data = self.data(pair)
        queries, pool = encode_sides(encoder, data.queries, data.candidates, batch_size)
        _, ids = search(queries, pool, CUTOFF, self.search_config)
        ranks = ranks_of_gold(ids, np.asarray(data.gold))
        evidence = Evidence({"rank": ranks.astype(np.uint8)}, STATISTICS)
        return PairResult(pair, retrieval_metrics(ranks), n_items=len(data.queries), evidence=evidence)
