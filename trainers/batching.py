"""Sentence embeddings with gradients, grouped by length so that mixed batches spend little on padding."""

from __future__ import annotations


def encode_with_grad(model, texts: list[str], micro_batch: int = 0):
    """Sentence embeddings of `texts` through `model` (a SentenceTransformer, possibly DDP-wrapped).

    With `micro_batch` > 0 the texts are tokenised once, sorted by token count and run through the model
    in groups of that size, each padded only to its own longest text; the embeddings come back in the
    input order, so the loss and its gradient are those of the whole batch. Mixed-length batches (news
    next to captions) otherwise spend most of their compute on padding. A DDP-wrapped model takes one
    forward per step, so it always gets the whole batch.
    """
    import torch

    inner = getattr(model, "module", model)
    features = (inner.preprocess if hasattr(inner, "preprocess") else inner.tokenize)(texts)
    device = next(inner.parameters()).device
    if micro_batch <= 0 or micro_batch >= len(texts) or model is not inner or "attention_mask" not in features:
        features = {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}
        return model(features)["sentence_embedding"]
    lengths = features["attention_mask"].sum(dim=1)
    order = torch.argsort(lengths, stable=True)
    parts = []
    for start in range(0, len(texts), micro_batch):
        rows = order[start:start + micro_batch]
        width = int(lengths[rows].max())
        group = {k: _rows(v, rows, width, len(texts)).to(device) if hasattr(v, "to") else v
                 for k, v in features.items()}
        parts.append(model(group)["sentence_embedding"])
    return torch.cat(parts)[torch.argsort(order)]


def _rows(value, rows, width: int, n: int):
    """The given rows of a per-text tensor, cut to `width` tokens when it is (texts, tokens)."""
    if getattr(value, "ndim", 0) >= 1 and value.shape[0] == n:
        value = value[rows]
        return value[:, :width] if value.ndim == 2 else value
    return value
