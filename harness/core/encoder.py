"""The Encoder protocol every model sits behind, and the encode-once cache."""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable

import numpy as np

from harness.core.errors import HarnessError
from harness.core.vectors import unit_rows_inplace


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
    """Wraps an encoder so that each distinct sentence is encoded once per run, as a unit vector.

    Every task scores by cosine, so vectors are L2-normalised once, in place, when they enter the
    cache. Vectors live in the blocks the model returned: a request for exactly one block (the usual
    first request of a list) gets that block back without a copy, so a run holds one copy of its
    embeddings. The cache belongs to one model: a cache keyed by text alone once served one model's
    scores to another in a well-known harness, so each model gets its own instance.
    """

    def __init__(self, inner: Encoder):
        self.inner = inner
        self.name = inner.name
        self.revision = inner.revision
        self._blocks: list[np.ndarray] = []
        self._where: dict[bytes, tuple[int, int]] = {}
        self.encoded = 0  # sentences actually sent to the model
        self.requested = 0

    def _add_block(self, keys: list[bytes], texts: list[str], batch_size: int) -> None:
        vectors = np.ascontiguousarray(self.inner.encode(texts, batch_size=batch_size), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise HarnessError(f"model '{self.name}' returned shape {vectors.shape} for {len(texts)} texts")
        bad = ~np.isfinite(vectors).all(axis=1)
        if bad.any():
            raise NonFiniteEmbeddings(
                f"model '{self.name}' produced NaN/inf embeddings for {int(bad.sum())} of {len(texts)} texts"
            )
        unit_rows_inplace(vectors)
        vectors.setflags(write=False)
        block = len(self._blocks)
        self._blocks.append(vectors)
        self._where.update((key, (block, row)) for row, key in enumerate(keys))
        self.encoded += len(texts)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        self.requested += len(texts)
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts):
            if key not in self._where and key not in missing:
                missing[key] = text
        if missing:
            self._add_block(list(missing), list(missing.values()), batch_size)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        places = [self._where[k] for k in keys]
        block = places[0][0]
        if len(self._blocks[block]) == len(places) and all(p == (block, i) for i, p in enumerate(places)):
            return self._blocks[block]
        return np.stack([self._blocks[b][r] for b, r in places])


class TwoSidedEncoder:
    """Queries through one encoder, candidates through another: a student's queries searched against an index
    its teacher built (teacher compatibility). Tasks ask for a side with `encode_queries` / `encode_candidates`;
    `candidate_langs` are the languages the candidate encoder can index (an English teacher: English).

    Each side keeps its own encode-once cache, so one text encoded on both sides is never mixed up.
    """

    def __init__(self, query: Encoder, candidate: Encoder, candidate_langs: frozenset[str] = frozenset({"en"})):
        # a side that is already a cache is kept as it is: several students can share one teacher cache
        self.query, self.candidate = (side if isinstance(side, CachedEncoder) else CachedEncoder(side)
                                      for side in (query, candidate))
        self.name = f"{query.name}@{candidate.name}"
        self.revision = f"{query.revision}@{candidate.revision}"
        self.candidate_langs = candidate_langs

    @property
    def encoded(self) -> int:
        return self.query.encoded + self.candidate.encoded

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        return self.query.encode(texts, batch_size=batch_size)

    def encode_queries(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        return self.query.encode(texts, batch_size=batch_size)

    def encode_candidates(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        return self.candidate.encode(texts, batch_size=batch_size)

    def dimensions(self) -> tuple[int, int]:
        """(query, candidate) vector sizes: a query can search the other side's index only when they agree."""
        probe = ["dimension probe"]
        return self.query.encode(probe).shape[1], self.candidate.encode(probe).shape[1]


def encode_side(encoder: Encoder, texts: list[str], side: str, *, batch_size: int = 64) -> np.ndarray:
    """`texts` encoded as queries or as candidates: the same for a plain encoder, two models for a two-sided one."""
    method = getattr(encoder, f"encode_{side}", None)
    return method(texts, batch_size=batch_size) if method else encoder.encode(texts, batch_size=batch_size)
