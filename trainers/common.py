"""Pieces every trainer uses: batch encoding with gradients, the dev-set callback, saving with a card."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from trainers.data import ParallelData

SUMMARY = "training_summary.json"


def read_summary(folder: Path) -> dict[str, Any]:
    """The training summary a student folder carries (written last by `save_summary_and_card`)."""
    return json.loads((Path(folder) / SUMMARY).read_text(encoding="utf-8"))


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


def dev_callback(data: ParallelData, teacher_vectors: dict[str, np.ndarray] | None, batch_size: int = 64):
    """A function model -> dev metrics: translation accuracy per language and, with a teacher, MSE.

    Accuracy: share of dev sources whose nearest dev target (cosine) is their translation, x100.
    MSE: mean squared error between student(translation) and teacher(source), as in training.
    """
    def evaluate(model) -> dict[str, Any]:
        model.eval()
        scores: dict[str, Any] = {}
        for lang, pairs in data.dev.items():
            src = model.encode([s for s, _ in pairs], batch_size=batch_size, convert_to_numpy=True)
            tgt = model.encode([t for _, t in pairs], batch_size=batch_size, convert_to_numpy=True)
            a = src / np.linalg.norm(src, axis=1, keepdims=True)
            b = tgt / np.linalg.norm(tgt, axis=1, keepdims=True)
            hits = np.argmax(a @ b.T, axis=1) == np.arange(len(a))
            scores[f"dev_acc_{lang}"] = round(100.0 * float(hits.mean()), 3)
            if teacher_vectors is not None and teacher_vectors[lang].shape[1] == tgt.shape[1]:
                scores[f"dev_mse_{lang}"] = round(float(np.mean((tgt - teacher_vectors[lang]) ** 2)), 8)
        return scores

    return evaluate


# settings that do not change what is learned
_INCIDENTAL = {"output", "progress", "overwrite", "device", "checkpoint_every", "eval_every", "keep_checkpoints",
               "cache_dir", "micro_batch"}


def finished(output: Path, config=None) -> bool:
    """True when `output` holds a completed training (its summary is written last).

    With `config`, a completed training made with other settings is an error rather than a silent reuse.
    """
    from harness.core.errors import HarnessError

    if not ((output / SUMMARY).is_file() and (output / "modules.json").is_file()):
        return False
    if config is not None:
        stored = read_summary(output).get("config", {})
        wanted = config.to_dict()
        changed = [k for k in wanted if k not in _INCIDENTAL and k in stored and stored[k] != wanted[k]]
        if changed:
            diff = ", ".join(f"{k} {stored[k]!r} -> {wanted[k]!r}" for k in changed)
            raise HarnessError(f"{output} holds a student trained with other settings ({diff}); "
                               f"delete it, or train into another folder (train: --output or --overwrite; "
                               f"run: a tag)")
    return True


def is_main_process() -> bool:
    """False on the non-zero ranks of a torchrun launch: only rank 0 writes files."""
    import os

    return os.environ.get("RANK", "0") == "0"


def save_student(model, output: Path, summary: dict[str, Any]) -> Path:
    """Save a sentence-transformers folder, its model card, and the training summary (last).

    Under torchrun, rank 0 saves and every rank waits for it, so that all can read the folder next.
    """
    if is_main_process():
        output.mkdir(parents=True, exist_ok=True)
        model.save(str(output), safe_serialization=True)
        save_summary_and_card(output, summary)
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
    return output


def save_summary_and_card(output: Path, summary: dict[str, Any]) -> None:
    """(Re)write README.md from `summary`, then the summary itself (its presence marks completion)."""
    (output / "README.md").write_text(model_card(summary), encoding="utf-8")
    tmp = output / f".{SUMMARY}.tmp"
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(output / SUMMARY)


def model_card(summary: dict[str, Any]) -> str:
    """A Markdown model card: teacher, base, trainer, languages, data, hyper-parameters, scores."""
    lines = [
        f"# {summary['trainer']} student: {summary['student']} <- {summary['teacher']}",
        "",
        "A multilingual sentence-embedding model made with the distillation harness "
        "(Reimers & Gurevych 2020 setup). Load it with `SentenceTransformer(path)`.",
        "",
        f"- **Trainer:** `{summary['trainer']}`",
        f"- **Teacher:** `{summary['teacher']}` ({summary.get('teacher_revision', '?')})",
        f"- **Student base:** `{summary['student']}`",
        f"- **Languages:** {', '.join(summary['langs'])}",
        f"- **Training pairs:** {summary['n_pairs']} over {len(summary['datasets'])} datasets "
        f"({'balanced' if summary['config']['balanced'] else 'unbalanced'} batches)",
        f"- **Steps:** {summary['steps']}, {summary['seconds']:.0f} s, {summary['pairs_per_second']:.1f} pairs/s "
        f"on {summary['device']}",
        "",
        "## Data",
        "",
        "| dataset | pairs |",
        "|---|---|",
        *[f"| {name} | {count} |" for name, count in summary["datasets"].items()],
        "",
        "## Hyper-parameters",
        "",
        "| name | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in sorted(summary["config"].items())],
        "",
        "## Scores",
        "",
    ]
    dev = summary.get("dev") or []
    if dev:
        lines += ["Held-out dev pairs (final step):", "", "| metric | value |", "|---|---|",
                  *[f"| {k} | {v} |" for k, v in dev[-1].items() if k != "step"], ""]
    evaluation = summary.get("evaluation") or {}
    if evaluation:
        lines += ["Harness evaluation:", "", "| task | pair | metric | value |", "|---|---|---|---|",
                  *[f"| {row['task']} | {row['pair']} | {row['metric']} | {row['value']:.2f} |" for row in evaluation],
                  ""]
    return "\n".join(lines)
