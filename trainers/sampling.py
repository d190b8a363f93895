"""Balanced multi-dataset batching (Reimers & Gurevych 2020): every mini-batch draws about the same
number of pairs from each dataset, and smaller datasets are repeated (reshuffled on each pass).

An epoch has as many samples as all datasets together, so the budget is the same as unbalanced
sampling; only the mix inside each batch changes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class BalancedBatches:
    """Deterministic batches of (dataset index, row index) pairs, resumable at any step.

    `sizes[d]` is the number of rows in dataset d. Batch b of epoch e depends only on (seed, e, b).
    """

    def __init__(self, sizes: list[int], batch_size: int, seed: int = 0, balanced: bool = True):
        if not sizes or min(sizes) < 1:
            raise ValueError("every dataset needs at least one row")
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        self.sizes = list(sizes)
        self.batch_size = batch_size
        self.seed = seed
        self.balanced = balanced

    def __len__(self) -> int:
        return -(-sum(self.sizes) // self.batch_size)

    def _quota(self, batch: int) -> list[int]:
        """Rows per dataset in one batch: equal shares, the remainder rotating over datasets.

        With more datasets than rows in a batch (many languages x sources), each batch takes one row
        from each of `batch_size` datasets and the next batch goes on where it stopped, so the shares
        are equal over consecutive batches instead of within one.
        """
        share, extra = divmod(self.batch_size, len(self.sizes))
        return [share + (1 if (d - batch) % len(self.sizes) < extra else 0) for d in range(len(self.sizes))]

    def epoch(self, epoch: int, start: int = 0) -> Iterator[list[tuple[int, int]]]:
        """Batches of one epoch, from batch `start` on (for resuming)."""
        rng = np.random.default_rng([self.seed, epoch])
        if not self.balanced:
            order = [(d, r) for d, size in enumerate(self.sizes) for r in range(size)]
            perm = rng.permutation(len(order))
            for b in range(start, len(self)):
                yield [order[i] for i in perm[b * self.batch_size:(b + 1) * self.batch_size]]
            return
        # One endless shuffled stream per dataset; a dataset that runs out is reshuffled and repeated.
        streams = [_Stream(size, np.random.default_rng([self.seed, epoch, d])) for d, size in enumerate(self.sizes)]
        for b in range(len(self)):
            batch = [(d, streams[d].next()) for d, count in enumerate(self._quota(b)) for _ in range(count)]
            shuffled = [batch[i] for i in rng.permutation(len(batch))]  # drawn for skipped batches too
            if b >= start:
                yield shuffled


class _Stream:
    def __init__(self, size: int, rng: np.random.Generator):
        self.size, self.rng = size, rng
        self.order, self.pos, self.passes = rng.permutation(size), 0, 0

    def next(self) -> int:
        if self.pos == self.size:
            self.order, self.pos, self.passes = self.rng.permutation(self.size), 0, self.passes + 1
        self.pos += 1
        return int(self.order[self.pos - 1])
