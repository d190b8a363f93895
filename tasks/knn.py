"""k-nearest-neighbour search by inner product: FAISS (GPU when present, flat/IVF/HNSW) or numpy.

Inputs are L2-normalised first, so inner product is cosine similarity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def normalise(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation into a contiguous float32 array (zero rows stay zero).

    Already-normalised float32 input (what the encode cache returns) is passed through without a copy.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if len(x) and np.allclose(norms, 1.0, atol=1e-5):
        return x
    return x / np.maximum(norms, 1e-12)


@dataclass(frozen=True)
class SearchConfig:
    """How to search: 'flat' is exact; 'ivf' and 'hnsw' are approximate, for millions of candidates."""

    index: str = "flat"
    backend: str = "auto"  # auto | faiss | numpy
    nprobe: int = 16
    hnsw_m: int = 32
    ef_search: int = 128
    use_gpu: bool | None = None  # None: use a GPU when faiss has one


DEFAULT_SEARCH = SearchConfig()


def _faiss():
    try:
        import faiss
    except ImportError:  # pragma: no cover - faiss is a dependency, but the numpy path keeps working
        return None
    return faiss


def _numpy_search(queries: np.ndarray, corpus: np.ndarray, k: int, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    scores = np.empty((len(queries), k), dtype=np.float32)
    ids = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        sims = queries[start:start + chunk] @ corpus.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < sims.shape[1] else np.tile(
            np.arange(sims.shape[1]), (len(sims), 1))
        top_scores = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        ids[start:start + chunk] = np.take_along_axis(top, order, axis=1)
        scores[start:start + chunk] = np.take_along_axis(top_scores, order, axis=1)
    return scores, ids


def build_index(corpus: np.ndarray, config: SearchConfig):
    """A FAISS inner-product index over `corpus` (normalised), moved to GPU when one is available."""
    faiss = _faiss()
    dim = corpus.shape[1]
    if config.index == "flat":
        index = faiss.IndexFlatIP(dim)
    elif config.index == "ivf":
        nlist = max(1, min(int(4 * math.sqrt(len(corpus))), len(corpus) // 39))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = corpus[np.random.default_rng(0).permutation(len(corpus))[: 256 * nlist]]
        index.train(sample)
        index.nprobe = config.nprobe
    elif config.index == "hnsw":
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = config.ef_search
    else:
        raise ValueError(f"unknown index type {config.index!r}; use flat, ivf or hnsw")
    use_gpu = config.use_gpu if config.use_gpu is not None else gpu_available()
    if use_gpu and config.index != "hnsw":
        index = faiss.index_cpu_to_all_gpus(index)
    index.add(corpus)
    return index


def gpu_available() -> bool:
    faiss = _faiss()
    return bool(faiss and hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0)


def search(queries: np.ndarray, corpus: np.ndarray, k: int,
           config: SearchConfig = DEFAULT_SEARCH) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) of each query among the corpus, best first, by cosine similarity."""
    queries, corpus = normalise(queries), normalise(corpus)
    k = min(k, len(corpus))
    use_numpy = config.backend == "numpy" or (config.backend == "auto" and _faiss() is None)
    if use_numpy:
        if config.index != "flat":
            raise ValueError("the numpy backend only does exact (flat) search")
        return _numpy_search(queries, corpus, k)
    scores, ids = build_index(corpus, config).search(queries, k)
    return scores, ids.astype(np.int64)
