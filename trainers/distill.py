"""MSE distillation (Reimers & Gurevych 2020): student(s) ~ teacher(s) and student(t) ~ teacher(s)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.core.encoder import Encoder
from harness.core.parallel import ParallelData
from harness.core.training import TrainConfig
from harness.core.vectors import are_unit_rows
from trainers.batching import encode_with_grad
from trainers.dev import dev_callback
from trainers.distributed import pick_device
from trainers.head import attach_head
from trainers.loop import LoopResult, train_loop
from trainers.sampling import BalancedBatches
from trainers.teacher_cache import TeacherCache
from trainers.template import Fitted, StudentTrainer


def teacher_targets(teacher: Encoder, data: ParallelData, config: TrainConfig):
    """Teacher embeddings of every English source (train and dev), via the on-disk cache."""
    cache = TeacherCache(config.cache_dir, teacher)
    train = [cache.embed([s for s, _ in d.pairs], batch_size=64) for d in data.train]
    dev = {lang: cache.embed([s for s, _ in pairs]) for lang, pairs in data.dev.items()}
    return train, dev, cache


def fit_sample(student, data: ParallelData, targets: list[np.ndarray], n: int, seed: int):
    """Student embeddings of sources and translations with their teacher targets, for the closed-form head."""
    rng = np.random.default_rng(seed)
    picks = [(d, r) for d, ds in enumerate(data.train) for r in range(len(ds.pairs))]
    picks = [picks[i] for i in rng.permutation(len(picks))[:n]]
    texts = [data.train[d].pairs[r][0] for d, r in picks] + [data.train[d].pairs[r][1] for d, r in picks]
    y = np.stack([targets[d][r] for d, r in picks])
    return student.encode(texts, batch_size=64, convert_to_numpy=True), np.vstack([y, y])


@dataclass
class Distilled:
    """A student after MSE distillation, still cut to the training length (`inference_length` is its own)."""

    model: object
    result: LoopResult
    cache: TeacherCache
    dev_targets: dict[str, np.ndarray]
    inference_length: int


def similarity_loss(src, tgt, targets):
    """How far the student's cosines between a batch's sentences are from the teacher's between the sources:
    translations against sources, and each side against itself (the graded structure STS reads)."""
    import torch.nn.functional as F

    src, tgt, targets = (F.normalize(x.float(), dim=-1) for x in (src, tgt, targets))
    wanted = targets @ targets.T
    return sum(F.mse_loss(a @ b.T, wanted) for a, b in ((tgt, src), (tgt, tgt), (src, src))) / 3


def distil(teacher: Encoder, student, data: ParallelData, config: TrainConfig, desc: str = "distill") -> Distilled:
    """Fit the head (closed form), then train student(s) ~ teacher(s) and student(t) ~ teacher(s) by MSE (plus
    `similarity_weight` times the similarity-structure term)."""
    import torch

    train_targets, dev_targets, cache = teacher_targets(teacher, data, config)
    teacher_dim = train_targets[0].shape[1]
    normalised = are_unit_rows(train_targets[0][:256])
    student.to(pick_device(config))
    inference_length = student.max_seq_length  # training truncates for speed; the saved model does not
    student.max_seq_length = config.max_seq_length  # the head is fitted on what training sees
    fit = fit_sample(student, data, train_targets, config.head_fit_pairs, config.seed) \
        if config.head in ("auto", "lstsq", "orthogonal") else None
    torch.manual_seed(config.seed)  # a head that starts at random (--head linear) starts the same for a seed
    model = attach_head(student, teacher_dim, normalised, head=config.head, fit=fit)
    model.max_seq_length = config.max_seq_length
    labels = [torch.from_numpy(t) for t in train_targets]
    mse = torch.nn.MSELoss()

    def loss_fn(m, items):
        src = [data.train[d].pairs[r][0] for d, r in items]
        tgt = [data.train[d].pairs[r][1] for d, r in items]
        y = torch.stack([labels[d][r] for d, r in items]).to(next(model.parameters()).device)
        emb = encode_with_grad(m, src + tgt, config.micro_batch).float()
        loss = mse(emb, torch.cat([y, y]))
        if config.similarity_weight:
            loss = loss + config.similarity_weight * similarity_loss(emb[:len(src)], emb[len(src):], y)
        return loss

    batches = BalancedBatches([len(d.pairs) for d in data.train], config.batch_size, config.seed, config.balanced)
    result = train_loop(model, loss_fn, batches, config, Path(config.output), dev_callback(data, dev_targets),
                        desc=desc)
    return Distilled(model, result, cache, dev_targets, inference_length)


class DistillTrainer(StudentTrainer):
    """The paper's method: MSE of the student's source and translation embeddings to the teacher's."""

    name = "distill"

    def fit(self, teacher: Encoder, student, data: ParallelData, config: TrainConfig) -> Fitted:
        done = distil(teacher, student, data, config, self.name)
        return Fitted(done.model, done.result, done.inference_length,
                      {"teacher_embeddings": {"cached": len(done.cache), "computed_this_run": done.cache.computed}})
