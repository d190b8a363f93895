"""The Encoder protocol every model sits behind, an encode-once cache, and a hash encoder double."""

from __future__ import annotations

import hashlib
import re
from typing import Protocol, runtime_checkable

import numpy as np

from harness.core.errors import HarnessError


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns sentences into a (n, dim) float32 array of embeddings."""

    name: str
    revision: str

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray: ...


class NonFiniteEmbeddings(HarnessError):
    """A model produced NaN or inf: its scores would be meaningless."""


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class CachedEncoder:
    """Wraps an encoder so that each distinct sentence is encoded once per run.

    The cache belongs to one model: a cache keyed by text alone once served one model's scores to
    another in a well-known harness, so each model gets its own instance.
    """

    def __init__(self, inner: Encoder):
        self.inner = inner
        self.name = inner.name
        self.revision = inner.revision
        self._cache: dict[bytes, np.ndarray] = {}
        self.encoded = 0  # sentences actually sent to the model
        self.requested = 0

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        self.requested += len(texts)
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts):
            if key not in self._cache and key not in missing:
                missing[key] = text
        if missing:
            vectors = np.asarray(self.inner.encode(list(missing.values()), batch_size=batch_size), dtype=np.float32)
            if vectors.shape[0] != len(missing):
                raise HarnessError(f"model '{self.name}' returned {vectors.shape[0]} vectors for {len(missing)} texts")
            bad = ~np.isfinite(vectors).all(axis=1)
            if bad.any():
                raise NonFiniteEmbeddings(
                    f"model '{self.name}' produced NaN/inf embeddings for {int(bad.sum())} of {len(missing)} texts"
                )
            self._cache.update(zip(missing, vectors))
            self.encoded += len(missing)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys])


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashEncoder:
    """A deterministic, model-free encoder for tests: hashed word and character-trigram features.

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

    def _vector(self, feature: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for feature in self._features(text):
                out[i] += self._vector(feature)
            if not out[i].any():
                out[i] = self._vector("empty")
        return out / np.linalg.norm(out, axis=1, keepdims=True)
