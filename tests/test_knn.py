import numpy as np
import pytest

from harness.core.vectors import unit_rows as normalise
from harness.search.knn import SearchConfig, search, search_both_ways


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    return rng.standard_normal((300, 32)).astype(np.float32), rng.standard_normal((500, 32)).astype(np.float32)


def brute_force(q, c, k):
    sims = normalise(q) @ normalise(c).T
    ids = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, ids, axis=1), ids


@pytest.mark.parametrize("backend", ["faiss", "numpy", "torch"])
def test_flat_search_matches_brute_force(vectors, backend):
    q, c = vectors
    scores, ids = search(q, c, 5, SearchConfig(backend=backend))
    ref_scores, ref_ids = brute_force(q, c, 5)
    np.testing.assert_allclose(scores, ref_scores, atol=1e-5)
    assert (ids == ref_ids).mean() > 0.999  # ties may order differently


@pytest.mark.parametrize("index", ["ivf", "ivfpq", "hnsw"])
def test_approximate_indexes_find_most_exact_neighbours(index):
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((20, 128))  # 4-bit product codes need sentence-like dimensions to separate points
    corpus = (centres[rng.integers(0, 20, 4000)] + rng.standard_normal((4000, 128))).astype(np.float32)
    queries = corpus[:200] + 0.3 * rng.standard_normal((200, 128)).astype(np.float32)
    _, exact = search(queries, corpus, 1)
    _, approx = search(queries, corpus, 1, SearchConfig(index=index, nprobe=8))
    assert (exact[:, 0] == approx[:, 0]).mean() >= 0.95


def test_k_is_capped_by_corpus_size(vectors):
    q, c = vectors
    scores, ids = search(q[:3], c[:2], 10)
    assert ids.shape == (3, 2)


@pytest.mark.parametrize("order", ["random", "increasing"])
def test_both_ways_from_one_product_matches_two_brute_force_searches(vectors, order):
    src, tgt = vectors
    src = np.concatenate([src] * 9)  # 2,700 rows: several row blocks, so the running column top-k merges
    if order == "increasing":  # rows that get closer to every target: each block replaces the column top-k
        src = src[np.argsort((normalise(src) @ normalise(tgt).T).mean(axis=1))]
    (fwd_scores, fwd_ids), (bwd_scores, bwd_ids) = search_both_ways(src, tgt, 4)
    ref_fwd_scores, ref_fwd_ids = brute_force(src, tgt, 4)
    ref_bwd_scores, _ = brute_force(tgt, src, 4)
    np.testing.assert_allclose(fwd_scores, ref_fwd_scores, atol=1e-5)
    np.testing.assert_allclose(bwd_scores, ref_bwd_scores, atol=1e-5)
    assert (fwd_ids == ref_fwd_ids).mean() > 0.999
    # every source appears 9 times, so ids may differ among tied copies: check each id carries its score
    sims = normalise(src) @ normalise(tgt).T
    np.testing.assert_allclose(sims[bwd_ids, np.arange(len(tgt))[:, None]], bwd_scores, atol=1e-5)


def test_both_ways_with_fewer_rows_than_k():
    rng = np.random.default_rng(2)
    src, tgt = rng.standard_normal((2, 8)).astype(np.float32), rng.standard_normal((6, 8)).astype(np.float32)
    (fwd_scores, fwd_ids), (bwd_scores, bwd_ids) = search_both_ways(src, tgt, 4)
    assert fwd_ids.shape == (2, 4) and bwd_ids.shape == (6, 2)
    np.testing.assert_allclose(bwd_scores, brute_force(tgt, src, 2)[0], atol=1e-6)


def test_both_ways_through_faiss_agrees_with_one_product(vectors):
    src, tgt = vectors
    ours = search_both_ways(src, tgt, 4)
    two_searches = search_both_ways(src, tgt, 4, SearchConfig(backend="faiss"))
    for (a_scores, a_ids), (b_scores, b_ids) in zip(ours, two_searches):
        np.testing.assert_allclose(a_scores, b_scores, atol=1e-5)
        assert (a_ids == b_ids).mean() > 0.999


def test_both_ways_takes_read_only_cache_arrays_without_warnings(vectors, recwarn):
    src, tgt = (normalise(v).copy() for v in vectors)
    src.setflags(write=False)
    tgt.setflags(write=False)
    (_, fwd_ids), _ = search_both_ways(src, tgt, 2)
    assert fwd_ids.shape == (300, 2)
    assert not [w for w in recwarn if "not writable" in str(w.message)]


def test_the_torch_path_both_ways_in_small_blocks_matches_brute_force(vectors):
    """The GPU path (torch blocks and a running column top-k), run on the CPU with blocks smaller than the data."""
    from harness.search.knn import _torch_search_both_ways

    src, tgt = (normalise(v) for v in vectors)
    (fwd_scores, fwd_ids), (bwd_scores, bwd_ids) = _torch_search_both_ways(src, tgt, 4, 3, "cpu", rows=64)
    ref_fwd_scores, ref_fwd_ids = brute_force(src, tgt, 4)
    ref_bwd_scores, ref_bwd_ids = brute_force(tgt, src, 3)
    np.testing.assert_allclose(fwd_scores, ref_fwd_scores, atol=1e-5)
    np.testing.assert_allclose(bwd_scores, ref_bwd_scores, atol=1e-5)
    assert (fwd_ids == ref_fwd_ids).mean() > 0.999 and (bwd_ids == ref_bwd_ids).mean() > 0.999


def test_auto_search_takes_the_torch_gpu_only_when_faiss_has_none(monkeypatch):
    import harness.search.knn as knn

    monkeypatch.setattr(knn, "torch_gpu", lambda: "cuda")
    monkeypatch.setattr(knn, "gpu_available", lambda: False)
    assert knn.torch_device(SearchConfig()) == "cuda"
    assert knn.torch_device(SearchConfig(use_gpu=False)) is None
    assert knn.torch_device(SearchConfig(index="ivf")) is None  # approximate indexes stay with FAISS
    monkeypatch.setattr(knn, "gpu_available", lambda: True)
    assert knn.torch_device(SearchConfig()) is None  # FAISS's own GPU comes first
