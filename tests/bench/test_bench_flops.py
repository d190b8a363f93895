"""The physical limit: exact search is a matrix product, so compare with the machine's sgemm rate."""

import numpy as np

from tasks.knn import search


def test_sgemm(benchmark):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4096, 384), dtype=np.float32)
    b = rng.standard_normal((384, 8192), dtype=np.float32)
    benchmark.group = "sgemm vs flat search (4096 x 8192 x 384)"
    benchmark.extra_info["flop"] = 2 * 4096 * 8192 * 384
    benchmark(np.matmul, a, b)


def test_flat_search_same_shape(benchmark):
    rng = np.random.default_rng(0)
    queries = rng.standard_normal((4096, 384), dtype=np.float32)
    corpus = rng.standard_normal((8192, 384), dtype=np.float32)
    benchmark.group = "sgemm vs flat search (4096 x 8192 x 384)"
    benchmark.extra_info["flop"] = 2 * 4096 * 8192 * 384
    benchmark(search, queries, corpus, 4)
