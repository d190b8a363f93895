"""Row-wise L2 normalisation: the one implementation every layer uses (tasks score by cosine)."""

from __future__ import annotations

import numpy as np

TINY = 1e-12  # a zero row stays zero instead of dividing by zero


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as a contiguous float32 array (zero rows stay zero).

    Input that is already normalised float32 (what the encode cache returns) comes back without a copy.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if len(x) and np.allclose(norms, 1.0, atol=1e-5):
        return x
    return x / np.maximum(norms, TINY)


def unit_rows_inplace(x: np.ndarray) -> np.ndarray:
    """Scale the rows of a writable float array to unit length in place, and return it."""
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), TINY)
    return x


def are_unit_rows(x: np.ndarray, atol: float = 1e-3) -> bool:
    """True when every row of `x` has length 1 within `atol` (e.g. a teacher that normalises its output)."""
    return bool(len(x)) and bool(np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=atol))
