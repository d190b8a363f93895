"""Align, then map: the base is distilled towards its own English embeddings (each translation moves next to
its English source; English stays where the base has it), its weights are averaged with the base's, and a
closed-form head, fitted on English sentences, maps that space into the teacher's.

The weight average (`aligned_share`, 0.5 by default; weight-space ensembling as in WiSE-FT, Wortsman et
al. 2022) keeps most of the cross-lingual gain of the alignment and half of its drift on the languages the
student was not trained on: with the de,fr default, STS17 es-es went from 2.0 below the base (significant)
to 0.8 below (not significant), with cross-lingual STSb at +3.0 to +3.4 instead of +4.6 to +4.9.

With the default orthogonal head the map is a rotation: every cosine the aligned student computes is kept,
so its scores are those of the aligned base, and its vectors live as close to the teacher's as a rotation
allows (measured by the teacher-compatibility evaluation). With `head = "lstsq"` the map is the closest
linear one: nearer the teacher, at the cost of the base's own geometry.

So the student has two outputs by default (`teacher_output = "lstsq"`): the rotation as its default output,
and, over the same trunk, the least-squares map as a second one, `model.encode(texts, task="teacher")` (a
sentence-transformers Router; the harness spells it `MODEL#output=teacher`). The first keeps the aligned
base's scores; the second searches the teacher's index (README, "Compatibility without the trade-off").
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np

from harness.core.encoder import Encoder
from harness.core.parallel import ParallelData
from harness.core.training import TrainConfig
from harness.core.vectors import are_unit_rows, unit_rows
from trainers.dev import dev_callback
from trainers.distill import distil
from trainers.head import OWN_OUTPUT, TEACHER_OUTPUT, attach_head, attach_two_heads, embedding_dim
from trainers.teacher_cache import TeacherCache
from trainers.template import Fitted, StudentTrainer


class OwnEmbeddings:
    """The base itself as a frozen teacher: its embeddings are taken (and cached on disk) before it trains."""

    def __init__(self, model, name: str):
        self.model, self.name = model, f"own:{name}"
        digest = hashlib.blake2b(digest_size=8)
        for key, tensor in sorted(model.state_dict().items()):
            digest.update(key.encode())
            digest.update(tensor.detach().cpu().numpy().tobytes())
        self.revision = digest.hexdigest()

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        return self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True)


def english_sentences(data: ParallelData, limit: int) -> list[str]:
    """Up to `limit` distinct English sources, taken evenly across the datasets."""
    seen: dict[str, None] = {}
    rows = max(len(d.pairs) for d in data.train)
    for row in range(rows):
        for dataset in data.train:
            if row < len(dataset.pairs):
                seen.setdefault(dataset.pairs[row][0], None)
                if len(seen) >= limit:
                    return list(seen)
    return list(seen)


def teacher_fit_english(data: ParallelData, english: list[str], limit: int | None) -> list[str]:
    """The English sentences the teacher-space output is fitted on beside `english` (the rotation's), `limit` in
    all: more of the training pairs' English, then that of the pairs the cap left out. None ('same'): none."""
    if limit is None or limit <= len(english):
        return []
    have = set(english)
    pool = [s for s in english_sentences(data, limit) if s not in have] + data.spare_english
    return list(dict.fromkeys(s for s in pool if s not in have))[:limit - len(english)]


class AlignMapTrainer(StudentTrainer):
    """Align the base to its own English space (MSE self-distillation), then map that space into the teacher's
    with a head fitted in closed form on English sentences (orthogonal by default: cosines unchanged)."""

    name = "align-map"
    # the alignment is to the base's own English space: the teacher and the map only come in after it
    after_the_loop = StudentTrainer.after_the_loop | {"teacher", "teacher_revision", "head", "head_fit_pairs",
                                                      "aligned_share", "teacher_output", "teacher_fit_sentences"}

    def fit(self, teacher: Encoder, student, data: ParallelData, config: TrainConfig) -> Fitted:
        own = OwnEmbeddings(student, config.student_name)
        base_weights = {key: tensor.detach().clone() for key, tensor in student.state_dict().items()} \
            if config.aligned_share < 1.0 else {}  # a copy of the base only when it is averaged in
        aligned = distil(own, student, data, replace(config, head="none"), desc=f"{self.name}: align")
        model = aligned.model
        average_with(model, base_weights, config.aligned_share)
        english = english_sentences(data, config.head_fit_pairs)
        cache = TeacherCache(config.cache_dir, teacher)
        targets = cache.embed(english)
        ours = model.encode(english, batch_size=64, convert_to_numpy=True)
        head = "orthogonal" if config.head == "auto" else config.head
        normalised = are_unit_rows(targets[:256])
        two = config.teacher_output not in ("none", head)  # a second output only where it differs from the first
        if two:
            more = teacher_fit_english(data, english, config.teacher_fit_sentences)
            teacher_fit = (np.vstack([ours, model.encode(more, batch_size=64, convert_to_numpy=True)]),
                           np.vstack([targets, cache.embed(more)])) if more else (ours, targets)
            mapped = attach_two_heads(model, targets.shape[1], normalised, (ours, targets), own=head,
                                      teacher=config.teacher_output, teacher_fit=teacher_fit)
        else:
            mapped = attach_head(model, targets.shape[1], normalised, head=head, fit=(ours, targets))
        dev_targets = {lang: cache.embed([s for s, _ in pairs]) for lang, pairs in data.dev.items()}
        summary = {
            "alignment": {"own_embeddings": own.name, "dev_before_average": aligned.result.dev,
                          "aligned_share": config.aligned_share, "own_embeddings_cached": len(aligned.cache),
                          "own_embeddings_computed_this_run": aligned.cache.computed},
            "dev": [{"step": aligned.result.steps, **dev_callback(data, dev_targets)(mapped)}],
            "map": {"head": head, "fitted_on_english_sentences": len(english),
                    "from_dim": embedding_dim(model), "to_dim": int(targets.shape[1]),
                    "mean_cosine_to_teacher": round(_mean_cosine(mapped, english[:512], targets[:512]), 6)},
            "teacher_embeddings": {"cached": len(cache), "computed_this_run": cache.computed},
        }
        if two:
            in_teacher_space = Output(mapped, TEACHER_OUTPUT)
            summary["outputs"] = {
                OWN_OUTPUT: f"the aligned base through the {head} head: its own geometry, for similarity, mining and "
                            f"retrieval among this model's vectors",
                TEACHER_OUTPUT: f"task='{TEACHER_OUTPUT}': the aligned base through a {config.teacher_output} head "
                                f"into {teacher.name}'s space, to search an index that teacher built",
            }
            summary["map"]["teacher_output"] = {
                "head": config.teacher_output, "fitted_on_english_sentences": len(teacher_fit[0]),
                "of_which_from_pairs_not_trained_on": len(set(more) & set(data.spare_english)),
                "mean_cosine_to_teacher": round(_mean_cosine(in_teacher_space, english[:512], targets[:512]), 6),
                "dev": dev_callback(data, dev_targets)(in_teacher_space)}
        return Fitted(mapped, aligned.result, aligned.inference_length, summary)


class Output:
    """One named output of a model with several (a Router's route), with the model's `encode` and `eval`."""

    def __init__(self, model, task: str):
        self.model, self.task = model, task

    def eval(self):
        return self.model.eval()

    def encode(self, texts: list[str], **kwargs) -> np.ndarray:
        return self.model.encode(texts, task=self.task, **kwargs)


def average_with(model, base_weights: dict, aligned_share: float) -> None:
    """Replace each floating-point weight w of `model` by aligned_share * w + (1 - aligned_share) * base.

    Parameters and buffers are visited once each (a tied weight is averaged once, not once per name)."""
    if aligned_share == 1.0:
        return
    import torch

    tensors = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    with torch.no_grad():
        for key, tensor in tensors.items():
            if not tensor.is_floating_point():
                continue
            base = base_weights.get(key)
            if base is None or base.shape != tensor.shape:
                raise ValueError(f"cannot average {key}: the base has {None if base is None else tuple(base.shape)}, "
                                 f"the aligned model {tuple(tensor.shape)}")
            tensor.mul_(aligned_share).add_(base.to(tensor.device, tensor.dtype), alpha=1.0 - aligned_share)


def _mean_cosine(model, texts: list[str], targets: np.ndarray) -> float:
    ours = unit_rows(model.encode(texts, batch_size=64, convert_to_numpy=True))
    return float(np.einsum("ij,ij->i", ours, unit_rows(targets)).mean())
