"""Distillation throughput (pairs/s): our trainer against the sentence-transformers reference recipe
(SentenceTransformerTrainer + MSELoss) on the same pairs, batch size, sequence length and student."""

import time

import numpy as np
import pytest

PAIRS, BATCH, SEQ = 256, 32, 64


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from harness.core.data import data_root, read_pairs
    from harness.models import load_encoder
    from trainers.data import ParallelData, ParallelDataset

    root = data_root()
    pairs = read_pairs(root / "parallel" / "stsb-mt-train" / "en-de.tsv.gz")[:PAIRS]
    teacher = load_encoder("all-MiniLM-L6-v2")
    labels = teacher.encode([s for s, _ in pairs])
    data = ParallelData([ParallelDataset("stsb-mt-train/en-de", "de", pairs)], {"de": pairs[:16]})
    return pairs, labels, teacher, data, tmp_path_factory.mktemp("train")


def student():
    from sentence_transformers import SentenceTransformer

    from harness.models import load_sentence_transformer, resolve

    model = load_sentence_transformer(resolve("multilingual-e5-small"), device="cpu")
    assert isinstance(model, SentenceTransformer)
    model.max_seq_length = SEQ
    return model


def test_peer_sentence_transformers_trainer(benchmark, setup):
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MSELoss

    pairs, labels, _, _, tmp = setup
    dataset = Dataset.from_dict({"english": [s for s, _ in pairs], "non_english": [t for _, t in pairs],
                                 "label": [row.tolist() for row in labels]})

    def train():
        model = student()
        args = SentenceTransformerTrainingArguments(output_dir=str(tmp / "peer"), per_device_train_batch_size=BATCH,
                                                    num_train_epochs=1, learning_rate=2e-5, save_strategy="no",
                                                    report_to=[], logging_steps=1000, seed=0)
        start = time.perf_counter()
        SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=MSELoss(model)).train()
        return PAIRS / (time.perf_counter() - start)

    benchmark.group = "distillation throughput"
    rate = benchmark.pedantic(train, rounds=1, iterations=1)
    benchmark.extra_info["pairs_per_second"] = rate


def test_ours_distill(benchmark, setup):
    import resource

    from trainers.config import TrainConfig
    from trainers.distill import DistillTrainer

    _, _, teacher, data, tmp = setup
    runs = iter(range(100))

    def train():
        config = TrainConfig(output=str(tmp / f"ours-{next(runs)}"), batch_size=BATCH, max_seq_length=SEQ,
                             checkpoint_every=0, progress=False, cache_dir=str(tmp / "cache"), head_fit_pairs=PAIRS)
        path = DistillTrainer().train(teacher, student(), data, config)
        import json

        return json.loads((path / "training_summary.json").read_text())["pairs_per_second"]

    benchmark.group = "distillation throughput"
    rate = benchmark.pedantic(train, rounds=1, iterations=1)
    benchmark.extra_info["pairs_per_second"] = rate
    benchmark.extra_info["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert np.isfinite(rate)
