"""k-nearest-neighbour search by inner product: FAISS (GPU when present, flat/IVF/HNSW), torch or numpy.

Exact search runs on a GPU either through a GPU build of FAISS or, when FAISS has no GPU (the PyPI
`faiss-cpu` wheel) but torch has one, through torch: blocks of the similarity matrix and `torch.topk`.

Inputs are L2-normalised first (harness.core.vectors), so inner product is cosine similarity. `search_both_ways` answers
both directions of an exact search from a single similarity product (what mining needs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.core.vectors import unit_rows


@dataclass(frozen=True)
class SearchConfig:
    """How to search: 'flat' is exact; 'ivf', 'ivfpq' and 'hnsw' are approximate, for millions of candidates.

    'ivfpq' scans 4-bit product codes (faiss fast-scan) inside the probed lists and re-ranks what it
    finds with the exact vectors, so its scores are exact cosines; only a missed neighbour is approximate.
    """

    index: str = "flat"
    backend: str = "auto"  # auto | faiss | torch | numpy (auto: FAISS on its GPU, else torch on a GPU, else CPU)
    nprobe: int = 16
    nlist: int | None = None  # IVF lists; None: about 4 * sqrt(n) for ivf, sqrt(n) for ivfpq
    train_per_list: int = 64  # IVF k-means sample size per list (faiss warns below 39)
    kmeans_iters: int = 10
    refine_factor: int = 8  # ivfpq: candidates per wanted neighbour that are re-ranked exactly
    hnsw_m: int = 32
    ef_search: int = 128
    use_gpu: bool | None = None  # None: use a GPU when faiss or torch has one


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
        nlist = config.nlist or int(4 * math.sqrt(len(corpus)))
        nlist = max(1, min(nlist, len(corpus) // 39))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = config.kmeans_iters
        sample = corpus[np.random.default_rng(0).permutation(len(corpus))[: config.train_per_list * nlist]]
        index.train(sample)
        index.nprobe = config.nprobe
    elif config.index == "ivfpq":
        if dim % 4:
            raise ValueError(f"ivfpq needs a dimension divisible by 4, not {dim}")
        nlist = max(1, min(config.nlist or int(math.sqrt(len(corpus))), len(corpus) // 39))
        index = faiss.index_factory(dim, f"IVF{nlist},PQ{dim // 4}x4fs,RFlat", faiss.METRIC_INNER_PRODUCT)
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.niter = config.kmeans_iters
        index.train(corpus[np.random.default_rng(0).permutation(len(corpus))[: config.train_per_list * nlist]])
        ivf.nprobe = config.nprobe
        index.k_factor = config.refine_factor
    elif config.index == "hnsw":
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = config.ef_search
    else:
        raise ValueError(f"unknown index type {config.index!r}; use flat, ivf, ivfpq or hnsw")
    use_gpu = config.use_gpu if config.use_gpu is not None else gpu_available()
    if use_gpu and config.index in ("flat", "ivf"):  # faiss has no GPU form of HNSW or refined fast-scan
        index = faiss.index_cpu_to_all_gpus(index)
    index.add(corpus)
    return index


def gpu_available() -> bool:
    """True when FAISS has a GPU (its GPU build on a GPU machine)."""
    faiss = _faiss()
    return bool(faiss and hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0)


def torch_gpu() -> str | None:
    """'cuda' when torch sees a GPU, else None (torch is imported only to ask)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return None
    return "cuda" if torch.cuda.is_available() else None


def torch_device(config: SearchConfig) -> str | None:
    """The torch device an exact search runs on, or None when FAISS or numpy does it."""
    if config.index != "flat" or config.backend in ("faiss", "numpy"):
        return None
    if config.backend == "torch":
        return "cpu" if config.use_gpu is False else (torch_gpu() or "cpu")
    wants_gpu = config.use_gpu is not False
    if wants_gpu and not gpu_available():  # FAISS on its GPU comes first; torch's GPU next
        return torch_gpu()
    return None


def search(queries: np.ndarray, corpus: np.ndarray, k: int,
           config: SearchConfig = DEFAULT_SEARCH) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) of each query among the corpus, best first, by cosine similarity."""
    queries, corpus = unit_rows(queries), unit_rows(corpus)
    k = min(k, len(corpus))
    device = torch_device(config)
    if device is not None:
        return _torch_search_both_ways(queries, corpus, k, 0, device)[0]
    use_numpy = config.backend == "numpy" or (config.backend == "auto" and _faiss() is None)
    if use_numpy:
        if config.index != "flat":
            raise ValueError("the numpy backend only does exact (flat) search")
        return _numpy_search(queries, corpus, k)
    scores, ids = build_index(corpus, config).search(queries, k)
    return scores, ids.astype(np.int64)


def search_both_ways(src: np.ndarray, tgt: np.ndarray, k: int, config: SearchConfig = DEFAULT_SEARCH,
                     ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Top-k of every source among the targets and of every target among the sources.

    Exact CPU search computes the similarity matrix once, block by block, and reads each block by rows
    and by columns, which halves the dominant cost of two separate searches. Approximate indexes and
    GPUs go through FAISS, one search per direction.
    """
    device = torch_device(config)
    if device is not None:
        return _torch_search_both_ways(unit_rows(src), unit_rows(tgt), min(k, len(tgt)), min(k, len(src)), device)
    use_gpu = config.use_gpu if config.use_gpu is not None else gpu_available()
    if config.index != "flat" or use_gpu or config.backend == "faiss":
        return search(src, tgt, k, config), search(tgt, src, k, config)
    src, tgt = unit_rows(src), unit_rows(tgt)
    return _one_product_search(src, tgt, min(k, len(tgt)), min(k, len(src)))


BLOCK_BYTES = 1 << 30  # a block of the similarity matrix, and its copy for the column merge, stay under 1 GiB


def _torch_search_both_ways(src: np.ndarray, tgt: np.ndarray, k_fwd: int, k_bwd: int, device: str,
                            rows: int | None = None):
    """Exact top-k both ways with torch on `device` (a GPU): each block of the similarity matrix is read by
    rows (the forward neighbours) and by columns (merged into a running top-k of every target). Blocks hold
    as many rows as fit BLOCK_BYTES (1M targets: 134 rows), at most 4,096. k_bwd = 0 skips the backward
    direction."""
    import torch

    if rows is None:
        rows = max(1, min(4096, BLOCK_BYTES // (2 * 4 * max(1, len(tgt)))))
    targets = _readonly_tensor(tgt).to(device)
    fwd_scores = np.empty((len(src), k_fwd), dtype=np.float32)
    fwd_ids = np.empty((len(src), k_fwd), dtype=np.int64)
    col_scores = torch.full((len(tgt), k_bwd), -torch.inf, device=device)
    col_ids = torch.zeros((len(tgt), k_bwd), dtype=torch.int64, device=device)
    for start in range(0, len(src), rows):
        queries = _readonly_tensor(src[start:start + rows]).to(device)
        sims = queries @ targets.T
        values, ids = torch.topk(sims, k_fwd, dim=1)
        fwd_scores[start:start + len(queries)] = values.cpu().numpy()
        fwd_ids[start:start + len(queries)] = ids.cpu().numpy()
        if k_bwd:
            block_ids = torch.arange(start, start + len(queries), device=device).expand(len(tgt), -1)
            merged, at = torch.topk(torch.cat([col_scores, sims.T], dim=1), k_bwd, dim=1)
            col_ids = torch.gather(torch.cat([col_ids, block_ids], dim=1), 1, at)
            col_scores = merged
    backward = (col_scores.cpu().numpy(), col_ids.cpu().numpy())
    return (fwd_scores, fwd_ids), backward


def _readonly_tensor(x: np.ndarray):
    """A torch view of a (possibly read-only, as the encode cache returns) array; it is only read."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(x)


def _one_product_search(src: np.ndarray, tgt: np.ndarray, k_fwd: int, k_bwd: int, rows: int = 1024):
    import torch

    targets = _readonly_tensor(tgt)
    fwd_scores = np.empty((len(src), k_fwd), dtype=np.float32)
    fwd_ids = np.empty((len(src), k_fwd), dtype=np.int64)
    columns = _ColumnTopK(len(tgt), k_bwd)
    block = torch.empty((min(rows, len(src)), len(tgt)), dtype=torch.float32)
    for start in range(0, len(src), rows):
        queries = _readonly_tensor(src[start:start + rows])
        sims = torch.mm(queries, targets.T, out=block[: len(queries)])
        values, ids = torch.topk(sims, k_fwd, dim=1)
        fwd_scores[start:start + len(queries)] = values.numpy()
        fwd_ids[start:start + len(queries)] = ids.numpy()
        columns.update(sims, start)
    return (fwd_scores, fwd_ids), columns.result()


class _ColumnTopK:
    """Running top-k of each column over row blocks of a similarity matrix.

    A column-wise top-k of a row-major block is slow (strided), so a block is only scanned for entries
    above each column's current k-th best; those few candidates are merged by sorting. When too many
    entries qualify (the first block, or rows that arrive in increasing order of similarity) the block is
    transposed and reduced with a row-wise top-k instead. Ties keep the lower row id, as a stable sort does.
    """

    def __init__(self, n_columns: int, k: int):
        self.k = k
        self.scores = np.full((n_columns, k), -np.inf, dtype=np.float32)
        self.ids = np.zeros((n_columns, k), dtype=np.int64)

    def update(self, block, row_offset: int) -> None:
        import torch

        if np.isfinite(self.scores[:, -1]).all():
            rows, cols = (block > torch.from_numpy(self.scores[:, -1])).nonzero(as_tuple=True)
            if len(rows) <= 8 * self.scores.size:
                self._merge(cols.numpy(), block[rows, cols].numpy(), rows.numpy() + row_offset)
                return
        k = min(self.k, block.shape[0])
        values, rows = torch.topk(block.T.contiguous(), k, dim=1)
        cols = np.repeat(np.arange(block.shape[1]), k)
        self._merge(cols, values.numpy().ravel(), rows.numpy().ravel() + row_offset)

    def _merge(self, cols: np.ndarray, values: np.ndarray, rows: np.ndarray) -> None:
        touched = np.unique(cols)
        k = self.k
        all_cols = np.concatenate([np.repeat(touched, k), cols])
        all_values = np.concatenate([self.scores[touched].ravel(), values])
        all_rows = np.concatenate([self.ids[touched].ravel(), rows])
        # one float64 key orders by column, then by descending cosine (cosines lie in [-1, 1]); the stable
        # sort keeps earlier rows first among ties, since kept entries precede the new block's rows;
        # empty slots (-inf) map to -2, below any cosine
        below = 1.0 - np.maximum(all_values.astype(np.float64), -2.0)
        order = np.argsort(all_cols * 4.0 + below, kind="stable")
        all_cols, all_values, all_rows = all_cols[order], all_values[order], all_rows[order]
        rank = np.arange(len(all_cols)) - np.searchsorted(all_cols, all_cols, side="left")
        keep = rank < k
        self.scores[all_cols[keep], rank[keep]] = all_values[keep]
        self.ids[all_cols[keep], rank[keep]] = all_rows[keep]

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        return self.scores, self.ids
