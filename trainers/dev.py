"""The dev-set callback: translation accuracy per language and, with a teacher, the MSE trained on."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.parallel import ParallelData
from harness.search.mining import translation_accuracy
from trainers.guards import SPREAD_SAMPLE, TEACHER_VARIANCE, VARIANCE, spread


def dev_callback(data: ParallelData, teacher_vectors: dict[str, np.ndarray] | None, batch_size: int = 64):
    """A function model -> dev metrics: translation accuracy per language and, with a teacher, MSE.

    Accuracy: share of dev sources whose nearest dev target (cosine) is their translation, x100.
    MSE: mean squared error between student(translation) and teacher(source), as in training.
    Spread (trainers.guards): of the dev sources' and translations' embeddings together, for the collapse guard,
    and, with a teacher, that of the teacher's vectors of the dev sources (the targets' own spread).
    """
    targets = np.concatenate(list(teacher_vectors.values())) if teacher_vectors else None
    target_spread = {TEACHER_VARIANCE: spread(even_sample(targets))[VARIANCE]} if targets is not None else {}

    def evaluate(model) -> dict[str, Any]:
        model.eval()
        scores: dict[str, Any] = {}
        seen: list[np.ndarray] = []
        for lang, pairs in data.dev.items():
            src = model.encode([s for s, _ in pairs], batch_size=batch_size, convert_to_numpy=True)
            tgt = model.encode([t for _, t in pairs], batch_size=batch_size, convert_to_numpy=True)
            scores[f"dev_acc_{lang}"] = round(100.0 * translation_accuracy(src, tgt), 3)
            if teacher_vectors is not None and teacher_vectors[lang].shape[1] == tgt.shape[1]:
                scores[f"dev_mse_{lang}"] = round(float(np.mean((tgt - teacher_vectors[lang]) ** 2)), 8)
            seen += [src, tgt]
        if seen:
            scores.update(spread(even_sample(np.concatenate(seen))), **target_spread)
        return scores

    return evaluate


def even_sample(rows: np.ndarray) -> np.ndarray:
    """At most SPREAD_SAMPLE rows spread evenly over `rows`, so that no language (or side) is left out."""
    return rows[np.linspace(0, len(rows) - 1, min(len(rows), SPREAD_SAMPLE)).astype(int)]
