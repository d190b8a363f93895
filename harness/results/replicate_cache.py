"""Bootstrap replicates, computed once and kept outside the results.

Replicates are derived data: the seeded resampler (`stats.resample_counts`) and a record's per-item
evidence give them back exactly. Storing them in every record made them a fifth of the results folder;
recomputing them for a full leaderboard takes about a minute on two cores. So they are cached by content:
the key is a hash of the statistic, the resampling key, the number of resamples and the input arrays'
bytes, and a hash of `stats.py`, so a changed array, task, pair or resampler can never meet a stale entry.
The cache lives under `$HARNESS_CACHE/replicates` (default ~/.cache/distill-harness), 16 kB per record
and never pruned: delete the folder at any time. A cache that cannot be read or written is skipped,
never an error. Within a process the last few thousand results are also kept in memory (one thread).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.core.paths import cache_root
from harness.results import stats

CACHE_FORMAT = "1"  # part of every key: bump it when what a replicate means changes
# ... and so is the resampling code itself: an edited stats.py never meets the replicates of the old one
CODE = hashlib.blake2b(Path(stats.__file__).read_bytes(), digest_size=8).hexdigest()
MEMORY_ENTRIES = 4096  # 2,000 float64 each: 64 MB at most


def cache_folder() -> Path:
    return cache_root() / "replicates"


def content_key(kind: str, arrays: Sequence[np.ndarray], key: str, resamples: int) -> str:
    digest = hashlib.blake2b(f"{CACHE_FORMAT}|{CODE}|{kind}|{key}|{resamples}|{len(arrays)}".encode(),
                             digest_size=20)
    for values in arrays:
        values = np.ascontiguousarray(values)
        digest.update(f"|{values.dtype.str}|{values.shape}|".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


_MEMORY: dict[str, np.ndarray] = {}  # digest -> replicates, oldest first


def cached_replicates(kind: str, arrays: Sequence[np.ndarray], key: str,
                      resamples: int = stats.RESAMPLES) -> np.ndarray:
    """`stats.replicates(kind, arrays, key, resamples)`, from the cache when it has them (read-only array)."""
    digest = content_key(kind, arrays, key, resamples)
    if digest in _MEMORY:
        return _MEMORY[digest]
    values = _read(digest, resamples)
    if values is None:
        values = np.asarray(stats.replicates(kind, arrays, key, resamples), dtype=np.float64)
        _write(digest, values)
    values.setflags(write=False)
    if len(_MEMORY) >= MEMORY_ENTRIES:
        _MEMORY.pop(next(iter(_MEMORY)))
    _MEMORY[digest] = values
    return values


def _path(digest: str) -> Path:
    return cache_folder() / digest[:2] / f"{digest}.npy"


def _read(digest: str, resamples: int) -> np.ndarray | None:
    try:
        values = np.load(_path(digest), allow_pickle=False)
    except (OSError, ValueError, EOFError):  # missing, foreign, or empty after a crash mid-write
        return None
    if values.dtype != np.float64 or values.shape != (resamples,):
        return None  # a foreign or truncated file: recompute and replace it
    return values


def _write(digest: str, values: np.ndarray) -> None:
    """Atomically (a temporary file renamed over the entry), so a reader never sees half an entry."""
    path = _path(digest)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            np.save(out, values, allow_pickle=False)
        os.replace(temporary, path)
    except OSError:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
