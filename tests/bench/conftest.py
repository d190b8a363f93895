"""Benchmarks run only with `tox -e bench` (pytest tests/bench --benchmark-only)."""

import numpy as np
import pytest


def clustered(n: int, dim: int = 384, clusters: int = 200, noise: float = 0.35, seed: int = 0,
              translation_noise: float | None = None):
    """Synthetic aligned sentence embeddings: topical clusters, translations as noisy copies."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    src = centres[rng.integers(0, clusters, n)] + noise * rng.standard_normal((n, dim), dtype=np.float32)
    tgt = src + (noise if translation_noise is None else translation_noise) * rng.standard_normal((n, dim),
                                                                                                   dtype=np.float32)
    src /= np.linalg.norm(src, axis=1, keepdims=True)
    tgt /= np.linalg.norm(tgt, axis=1, keepdims=True)
    return src, tgt


@pytest.fixture(scope="session")
def pairs_by_size():
    cache = {}

    def get(n):
        if n not in cache:
            cache[n] = clustered(n)
        return cache[n]

    return get
