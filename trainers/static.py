"""A static student: one vector per token of the base's multilingual tokenizer, mean pooled (sentence-transformers'
`StaticEmbedding`), trained with the paper's loss: student(s) ~ teacher(s) and student(t) ~ teacher(s), by MSE.

Encoding is a table lookup and an average, so it runs at thousands of sentences a second on a CPU; the price is
word order and context, which a static model cannot see.

The table starts from the base's input embeddings, mapped into the teacher's space by a least-squares fit of the
mean token vectors of sources and translations to the teacher's vectors of the sources (a closed-form head, as
`distill` fits, folded into the table: a mean of mapped vectors is the map of their mean, so the folded model is
exactly the base's table plus that head). Training then moves each token's
vector, by SparseAdam (only the rows a batch uses move; no weight decay) at `head_lr`: the table is a table of
output vectors, like a head, not a transformer.

Every training text is tokenised once, before the first step, and batches are gathered from those token ids.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.core.encoder import Encoder
from harness.core.errors import HarnessError
from harness.core.parallel import ParallelData
from harness.core.training import TrainConfig
from harness.core.vectors import are_unit_rows
from trainers.dev import dev_callback
from trainers.distill import similarity_loss, teacher_targets
from trainers.head import normalize_module
from trainers.loop import train_loop
from trainers.sampling import BalancedBatches
from trainers.template import Fitted, StudentTrainer


def base_table(student) -> tuple[object, np.ndarray]:
    """A copy of the base's fast tokenizer, reading whole texts (no padding, no truncation), and the base's input
    embeddings (one row per token id)."""
    from tokenizers import Tokenizer

    tokenizer = getattr(student, "tokenizer", None)
    backend = getattr(tokenizer, "_tokenizer", tokenizer)
    if backend is None or not hasattr(backend, "encode_batch"):
        raise HarnessError("trainer static: the base has no fast (Rust) tokenizer to build a static model on")
    transformer = getattr(student[0], "auto_model", None)
    if transformer is None:
        raise HarnessError("trainer static: the base is not a transformer whose input embeddings can seed the table")
    weights = transformer.get_input_embeddings().weight.detach().float().cpu().numpy()
    if backend.get_vocab_size() > len(weights):
        raise HarnessError(f"trainer static: the base's tokenizer has {backend.get_vocab_size()} tokens but its "
                           f"embedding table {len(weights)} rows")
    # a copy: transformers leaves its last call's padding and truncation on the base's own object, and a static
    # model saves its tokenizer as it is (a truncation kept there would cut every text it encodes)
    copy = Tokenizer.from_str(backend.to_str())
    copy.no_padding()
    copy.no_truncation()
    return copy, weights


@dataclass
class TokenIds:
    """Many texts' token ids, flat: text i is `ids[starts[i]:starts[i + 1]]`."""

    ids: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, tokenizer, texts: list[str], chunk: int = 8192) -> TokenIds:
        """The token ids of `texts` under a `tokenizers.Tokenizer`, without special tokens (as StaticEmbedding)."""
        lengths, pieces = [], []
        for begin in range(0, len(texts), chunk):
            for encoding in tokenizer.encode_batch(texts[begin:begin + chunk], add_special_tokens=False):
                lengths.append(len(encoding.ids))
                pieces.append(np.asarray(encoding.ids, dtype=np.int64))
        starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        return cls(np.concatenate(pieces) if pieces else np.zeros(0, np.int64), starts)

    def row(self, i: int) -> np.ndarray:
        """Text i's token ids."""
        return self.ids[self.starts[i]:self.starts[i + 1]]


def bags(texts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Texts' token ids as nn.EmbeddingBag takes them: all ids in one array, and where each text starts."""
    offsets = np.zeros(len(texts), dtype=np.int64)
    np.cumsum([len(t) for t in texts[:-1]], out=offsets[1:])
    return (np.concatenate(texts) if texts else np.zeros(0, np.int64)), offsets


def mean_vectors(table: np.ndarray, tokens: TokenIds) -> np.ndarray:
    """Each text's mean token vector under `table` (zeros for a text without tokens): a sparse averaging matrix
    (text x token, 1/length per token) times the table, without gathering a row per token."""
    from scipy.sparse import csr_matrix

    lengths = np.diff(tokens.starts)
    weights = np.repeat(1.0 / np.maximum(lengths, 1), lengths)
    averaging = csr_matrix((weights, tokens.ids, tokens.starts), shape=(len(lengths), len(table)))
    return np.asarray(averaging @ table.astype(np.float64), dtype=np.float32)


RCOND = 1e-6


def folded_table(table: np.ndarray, tokens: TokenIds, targets: np.ndarray) -> np.ndarray:
    """`table` mapped into the teacher's space: the least-squares affine map from the texts' mean token vectors
    to their teacher targets, applied to every row (so every token, seen in the fit or not, starts mapped)."""
    x = mean_vectors(table, tokens).astype(np.float64)  # the fit in float64: sentences' means are nearly collinear
    x1 = np.hstack([x, np.ones((len(x), 1))])
    # directions the sentences barely span are cut (relative singular value below 1e-6): fitted there, the map
    # would be huge and every token outside the fit would be thrown far off
    solution, *_ = np.linalg.lstsq(x1, targets.astype(np.float64), rcond=RCOND)
    return (table @ solution[:-1] + solution[-1]).astype(np.float32)


class StaticTrainer(StudentTrainer):
    """A static-embedding student (token vectors, mean pooled) distilled from the teacher by MSE."""

    name = "static"

    def check_launch(self) -> None:
        """Its loop runs on the CPU, which NCCL, torchrun's backend on a GPU machine, cannot reduce over."""
        import torch

        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and torch.cuda.is_available():
            raise HarnessError("trainer static trains on the CPU (a lookup and a mean): run it without torchrun on a "
                               "GPU machine")

    def fit(self, teacher: Encoder, student, data: ParallelData, config: TrainConfig) -> Fitted:
        import time

        import torch
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding

        tokenizer, weights = base_table(student)
        began = time.perf_counter()
        train_targets, dev_targets, cache = teacher_targets(teacher, data, config)
        teacher_seconds = time.perf_counter() - began
        began = time.perf_counter()
        sources = [TokenIds.of(tokenizer, [s for s, _ in d.pairs]) for d in data.train]
        translations = [TokenIds.of(tokenizer, [t for _, t in d.pairs]) for d in data.train]
        tokenise_seconds = time.perf_counter() - began
        rng = np.random.default_rng(config.seed)
        picks = [(d, r) for d, ds in enumerate(data.train) for r in range(len(ds.pairs))]
        picks = [picks[i] for i in rng.permutation(len(picks))[:config.head_fit_pairs]]
        # fitted as it is trained: a source and its translation, both to the teacher's vector of the source
        ids, offsets = bags([sources[d].row(r) for d, r in picks] + [translations[d].row(r) for d, r in picks])
        fit_tokens = TokenIds(ids, np.append(offsets, len(ids)))  # the ids tokenised above, not tokenised again
        fit_targets = np.tile(np.stack([train_targets[d][r] for d, r in picks]), (2, 1))
        table = folded_table(weights[:tokenizer.get_vocab_size()], fit_tokens, fit_targets)
        modules = [StaticEmbedding(tokenizer, embedding_weights=torch.from_numpy(table))]
        if are_unit_rows(train_targets[0][:256]):
            modules.append(normalize_module())
        model = SentenceTransformer(modules=modules, device="cpu")  # a lookup and a mean: the CPU is the fast place
        labels = [torch.from_numpy(t) for t in train_targets]
        mse = torch.nn.MSELoss()

        def loss_fn(m, items):
            # one bag list for the whole step, sources then translations: a forward per dataset would leave
            # autograd adding one sparse gradient to the next, dozens of times a step
            ids, offsets = bags([sources[d].row(r) for d, r in items] + [translations[d].row(r) for d, r in items])
            features = {"input_ids": torch.from_numpy(ids), "offsets": torch.from_numpy(offsets)}
            emb = m(features)["sentence_embedding"]
            src, tgt = emb[:len(items)], emb[len(items):]
            y = torch.stack([labels[d][r] for d, r in items])
            loss = mse(emb, torch.cat([y, y]))
            if config.similarity_weight:
                loss = loss + config.similarity_weight * similarity_loss(src, tgt, y)
            return loss

        # a step's gradient touches only the rows of its tokens: sparse rows and SparseAdam skip the rest (on
        # e5-small's 113,794 rows, a 2-core CPU's step was about 6x faster than a dense gradient and AdamW)
        model[0].embedding.sparse = True
        batches = BalancedBatches([len(d.pairs) for d in data.train], config.batch_size, config.seed, config.balanced)
        result = train_loop(model, loss_fn, batches, config, Path(config.output), dev_callback(data, dev_targets),
                            desc=self.name,
                            make_optimizer=lambda: torch.optim.SparseAdam(list(model.parameters()), lr=config.head_lr),
                            rate_flag="--head-lr")
        model[0].embedding.sparse = False  # saved and used as sentence-transformers builds it
        summary = {
            "teacher_embeddings": {"cached": len(cache), "computed_this_run": cache.computed,
                                   "seconds": round(teacher_seconds, 3)},
            "static": {"tokens": int(table.shape[0]), "dim": int(table.shape[1]),
                       "initial_table": f"the base's input embeddings, mapped to the teacher by least squares on "
                                        f"{len(picks)} pairs (source and translation)",
                       "table_lr": config.head_lr, "tokenise_seconds": round(tokenise_seconds, 3)},
        }
        return Fitted(model, result, None, summary)
