"""The physical limit: exact search is a matrix product, so compare with the machine's sgemm rate."""

import numpy as np
import pytest

from harness.search.knn import search

QUERIES, CANDIDATES, DIM = 4096, 8192, 384


@pytest.fixture
def operands(benchmark):
    rng = np.random.default_rng(0)
    benchmark.group = f"sgemm vs flat search ({QUERIES} x {CANDIDATES} x {DIM})"
    benchmark.extra_info["flop"] = 2 * QUERIES * CANDIDATES * DIM
    return rng.standard_normal((QUERIES, DIM), dtype=np.float32), rng.standard_normal((CANDIDATES, DIM),
                                                                                        dtype=np.float32)


def test_sgemm(benchmark, operands):
    queries, corpus = operands
    corpus_t = np.ascontiguousarray(corpus.T)
    benchmark(np.matmul, queries, corpus_t)


def test_flat_search_same_shape(benchmark, operands):
    queries, corpus = operands
    scores, _ = benchmark(search, queries, corpus, 4)
    assert scores.shape == (QUERIES, 4)
