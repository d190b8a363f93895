"""MSE distillation (Reimers & Gurevych 2020): student(s) ~ teacher(s) and student(t) ~ teacher(s)."""

from __future__ import annotations

import os
import time
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
from trainers.loop import train_loop
from trainers.sampling import BalancedBatches
from trainers.save import finished, save_student
from trainers.teacher_cache import TeacherCache


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


class DistillTrainer:
    """The paper's method: MSE of the student's source and translation embeddings to the teacher's."""

    name = "distill"

    def train(self, teacher: Encoder, student, data: ParallelData, config: TrainConfig) -> Path:
        import torch

        output = Path(config.output)
        if not config.overwrite and finished(output, config):
            return output
        started = time.perf_counter()
        train_targets, dev_targets, cache = teacher_targets(teacher, data, config)
        teacher_dim = train_targets[0].shape[1]
        normalised = are_unit_rows(train_targets[0][:256])
        student.to(pick_device(config))
        inference_length = student.max_seq_length  # training truncates for speed; the saved model does not
        student.max_seq_length = config.max_seq_length  # the head is fitted on what training sees
        fit = fit_sample(student, data, train_targets, config.head_fit_pairs, config.seed) \
            if config.head in ("auto", "lstsq", "orthogonal") else None
        model = attach_head(student, teacher_dim, normalised, head=config.head, fit=fit)
        model.max_seq_length = config.max_seq_length
        labels = [torch.from_numpy(t) for t in train_targets]
        mse = torch.nn.MSELoss()

        def loss_fn(m, items):
            src = [data.train[d].pairs[r][0] for d, r in items]
            tgt = [data.train[d].pairs[r][1] for d, r in items]
            y = torch.stack([labels[d][r] for d, r in items]).to(next(model.parameters()).device)
            emb = encode_with_grad(m, src + tgt, config.micro_batch)
            return mse(emb.float(), torch.cat([y, y]))

        batches = BalancedBatches([len(d.pairs) for d in data.train], config.batch_size, config.seed, config.balanced)
        result = train_loop(model, loss_fn, batches, config, output, dev_callback(data, dev_targets),
                            desc=self.name)
        summary = summarise(self.name, teacher, data, config, result, model, started)
        summary["teacher_embeddings"] = {"cached": len(cache), "computed_this_run": cache.computed}
        model.max_seq_length = inference_length
        return save_student(model, output, summary)


def summarise(name: str, teacher: Encoder, data: ParallelData, config: TrainConfig, result, model,
              started: float) -> dict:
    """The training facts that go into the model card and training_summary.json."""
    return {
        "trainer": name, "teacher": teacher.name, "teacher_revision": teacher.revision,
        "student": config.student_name, "langs": sorted(data.dev),
        "datasets": data.describe(), "n_pairs": data.n_pairs, "config": config.to_dict(),
        "steps": result.steps, "resumed_from": result.resumed_from, "seconds": result.seconds,
        "wall_seconds": time.perf_counter() - started,
        "pairs_per_second": result.samples / max(result.seconds, 1e-9),
        "device": str(next(model.parameters()).device), "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "cpu_count": os.cpu_count(), "gpu": _gpu_name(),
        "dev": result.dev,
        "loss_first": result.losses[:5], "loss_last": result.losses[-5:],
    }


def _gpu_name() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
