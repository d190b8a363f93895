"""Translation ranking (the mUSE / LaBSE contrast): a bi-encoder trained so that each source ranks
its translation first among the batch's translations (symmetric in-batch softmax with a scale).

`ranking-hn` adds the second stage: mine hard negatives (nearest wrong translations, skipping
duplicates and near-duplicates of the gold) with the stage-1 model, then retrain with them.
"""

from __future__ import annotations

from pathlib import Path

from harness.core.encoder import Encoder
from harness.core.parallel import ParallelData
from harness.core.training import TrainConfig
from harness.search.mining import nearest_wrong
from trainers.batching import encode_with_grad
from trainers.dev import dev_callback
from trainers.distributed import pick_device
from trainers.loop import train_loop
from trainers.sampling import BalancedBatches
from trainers.template import Fitted, StudentTrainer

NEAR_DUPLICATE = 0.95  # a candidate this close to the gold translation is likely a paraphrase, not a negative


def ranking_loss(src, tgt, scale: float, negatives=None):
    """Symmetric in-batch softmax loss; `negatives` (one per pair) widen the source->target side."""
    import torch
    import torch.nn.functional as F

    src, tgt = F.normalize(src.float(), dim=-1), F.normalize(tgt.float(), dim=-1)
    candidates = tgt if negatives is None else torch.cat([tgt, F.normalize(negatives.float(), dim=-1)])
    labels = torch.arange(len(src), device=src.device)
    forward = F.cross_entropy(scale * src @ candidates.T, labels)
    backward = F.cross_entropy(scale * tgt @ src.T, labels)
    return (forward + backward) / 2


class RankingTrainer(StudentTrainer):
    """Stage 1: in-batch random negatives only."""

    name = "ranking"

    def fit(self, teacher: Encoder, student, data: ParallelData, config: TrainConfig) -> Fitted:
        return self._fit(student, data, config, negatives=None)

    def _fit(self, student, data: ParallelData, config: TrainConfig, negatives) -> Fitted:
        model = student.to(pick_device(config))
        inference_length = model.max_seq_length  # training truncates for speed; the saved model does not
        model.max_seq_length = config.max_seq_length

        def loss_fn(m, items):
            src = [data.train[d].pairs[r][0] for d, r in items]
            tgt = [data.train[d].pairs[r][1] for d, r in items]
            if negatives is None:
                emb = encode_with_grad(m, src + tgt, config.micro_batch)
                return ranking_loss(emb[:len(src)], emb[len(src):], config.scale)
            neg_rows = [(d, int(negatives[d][r])) for d, r in items]
            neg = [data.train[d].pairs[r][1] for d, r in neg_rows if r >= 0]
            emb = encode_with_grad(m, src + tgt + neg, config.micro_batch)
            n = len(src)
            return ranking_loss(emb[:n], emb[n:2 * n], config.scale, emb[2 * n:] if neg else None)

        batches = BalancedBatches([len(d.pairs) for d in data.train], config.batch_size, config.seed, config.balanced)
        result = train_loop(model, loss_fn, batches, config, Path(config.output), dev_callback(data, None),
                            desc=self.name)
        summary = {}
        if negatives is not None:
            found = sum(int((n >= 0).sum()) for n in negatives)
            summary["hard_negatives"] = {"pairs_with_negative": found, "pairs": data.n_pairs}
        return Fitted(model, result, inference_length, summary)


class HardNegativeRankingTrainer(RankingTrainer):
    """Stage 1 (ranking), then mine hard negatives with that model, then retrain with them."""

    name = "ranking-hn"

    def fit(self, teacher: Encoder, student, data: ParallelData, config: TrainConfig) -> Fitted:
        from dataclasses import replace

        from sentence_transformers import SentenceTransformer

        stage1_dir = Path(config.output) / "stage1"
        # stage 1 is stored in float32 whatever the student's save_dtype: stage 2 starts from its exact weights
        RankingTrainer().train(teacher, student, data, replace(config, output=str(stage1_dir), save_dtype="float32"))
        stage1 = SentenceTransformer(str(stage1_dir), device=pick_device(config))
        negatives = []
        for dataset in data.train:
            src = stage1.encode([s for s, _ in dataset.pairs], batch_size=64, convert_to_numpy=True)
            tgt_texts = [t for _, t in dataset.pairs]
            tgt = stage1.encode(tgt_texts, batch_size=64, convert_to_numpy=True)
            negatives.append(nearest_wrong(src, tgt, tgt_texts, near_duplicate=NEAR_DUPLICATE))
        return self._fit(stage1, data, config, negatives)
