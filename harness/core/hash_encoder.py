"""A deterministic, model-free encoder: the test double every offline test uses."""

from __future__ import annotations

import functools
import hashlib
import re

import numpy as np

from harness.core.vectors import unit_rows_inplace

_TOKEN = re.compile(r"\w+", re.UNICODE)


@functools.lru_cache(maxsize=200_000)
def _feature_vector(feature: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


class HashEncoder:
    """Hashed word and character-trigram features summed into a unit vector.

    Sentences sharing words or spellings get similar vectors, so scores are meaningful enough to
    exercise every code path, and identical on every machine.
    """

    def __init__(self, dim: int = 64, name: str = "hash-encoder"):
        self.dim = dim
        self.name = name
        self.revision = f"hash-v1-d{dim}"

    def _features(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        grams = [w[i:i + 3] for w in words for i in range(max(1, len(w) - 2))]
        return [f"w:{w}" for w in words] + [f"g:{g}" for g in grams]

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for feature in self._features(text):
                out[i] += _feature_vector(feature, self.dim)
            if not out[i].any():
                out[i] = _feature_vector("empty", self.dim)
        return unit_rows_inplace(out)
