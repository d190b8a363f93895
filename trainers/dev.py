"""The dev-set callback: translation accuracy per language and, with a teacher, the MSE trained on."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.parallel import ParallelData
from harness.search.mining import translation_accuracy
from trainers.guards import SPREAD_SAMPLE, spread


def dev_callback(data: ParallelData, teacher_vectors: dict[str, np.ndarray] | None, batch_size: int = 64):
    """A function model -> dev metrics: translation accuracy per language and, with a teacher, MSE.

    Accuracy: share of dev sources whose nearest dev target (cosine) is their translation, x100.
    MSE: mean squared error between student(translation) and teacher(source), as in training.
    Spread (trainers.guards): of the dev sources' and translations' embeddings together, for the collapse guard.
    """
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
            # an even sample over every language's sources and translations, so that none is left out
            rows = np.concatenate(seen)
            take = np.linspace(0, len(rows) - 1, min(len(rows), SPREAD_SAMPLE)).astype(int)
            scores.update(spread(rows[take]))
        return scores

    return evaluate
