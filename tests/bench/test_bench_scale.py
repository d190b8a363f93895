"""Scale: mining both directions as the candidate count grows to 1M x 384, exact against approximate.

Exact search (one similarity product read both ways) grows as N^2, so at 1M it is estimated from the
measured trend rather than run. The approximate index is IVF with 4-bit product codes (faiss
fast-scan) and an exact re-rank; its recall@1 is measured against exact flat search on a sample of
queries in each direction. The vectors are harder than the 1k-100k mining benchmark's: finer topics
(N / 50 clusters), wider spread inside a topic, and noisier translations.
"""

import time

import numpy as np
import pytest

from tests.bench.conftest import clustered

EXACT_SIZES = [10_000, 100_000]
APPROX_SIZES = [10_000, 100_000, 1_000_000]
SAMPLE = 5_000
NPROBE = 20


def hard_clustered(n: int):
    return clustered(n, clusters=max(200, n // 50), noise=1.0, translation_noise=0.5, seed=n)


@pytest.fixture(scope="module")
def data():
    cache = {}

    def get(n):
        if n not in cache:
            cache.clear()  # 1M pairs take 3 GB: keep one size at a time
            cache[n] = hard_clustered(n)
        return cache[n]

    return get


@pytest.mark.parametrize("n", EXACT_SIZES)
def test_exact_one_product(benchmark, data, n):
    from harness.search.knn import search_both_ways

    src, tgt = data(n)
    benchmark.group = "scale"
    benchmark.extra_info.update(n=n, method="exact")
    (_, fwd), _ = benchmark.pedantic(search_both_ways, args=(src, tgt, 4), rounds=1, iterations=1,
                                     warmup_rounds=1 if n <= 10_000 else 0)
    assert fwd.shape == (n, 4)


@pytest.mark.parametrize("n", APPROX_SIZES)
def test_ivfpq_both_directions(benchmark, data, n):
    import faiss

    from harness.core.vectors import unit_rows as normalise
    from harness.search.knn import SearchConfig, build_index

    src, tgt = data(n)
    config = SearchConfig(index="ivfpq", nprobe=NPROBE, refine_factor=1)
    seconds = {}

    def both_directions():
        found = {}
        for name, queries, corpus in (("fwd", src, tgt), ("bwd", tgt, src)):
            start = time.perf_counter()
            index = build_index(normalise(corpus), config)
            built = time.perf_counter()
            found[name] = (index, index.search(normalise(queries), 4))
            seconds[name] = {"build": built - start, "search": time.perf_counter() - built}
        return found

    benchmark.group = "scale"
    found = benchmark.pedantic(both_directions, rounds=1, iterations=1, warmup_rounds=1 if n <= 10_000 else 0)
    sample = np.random.default_rng(1).choice(n, min(SAMPLE, n), replace=False)
    recall = {}
    for name, queries, corpus in (("fwd", src, tgt), ("bwd", tgt, src)):
        flat = faiss.IndexFlatIP(corpus.shape[1])
        flat.add(corpus)
        _, exact = flat.search(queries[sample], 1)
        index, (_, ids) = found[name]
        recall[name] = float((ids[sample, 0] == exact[:, 0]).mean())
        sweep = {}
        for nprobe in (4, 8, 16, 32):
            faiss.extract_index_ivf(index).nprobe = nprobe
            sweep[nprobe] = float((index.search(queries[sample], 4)[1][:, 0] == exact[:, 0]).mean())
        recall[f"{name}_by_nprobe"] = sweep
    benchmark.extra_info.update(n=n, method=f"ivfpq nprobe={NPROBE}", seconds=seconds, recall_at_1=recall)
    assert min(recall["fwd"], recall["bwd"]) > 0.9
