"""Distillation throughput (pairs/s): our trainer against the sentence-transformers reference recipe
(SentenceTransformerTrainer + MSELoss) on the same pairs, batch size, sequence length and student.

The pairs are the training mix a de student sees: equal shares of every en-de source (captions,
news, Tatoeba, STSb), so lengths vary as they do in a real run. Quality is checked in the same run:
the dev MSE, mean((student(translation) - teacher(source))^2) on held-out pairs, for every model.
"""

import json
import resource
import time

import numpy as np
import pytest

PER_SOURCE, DEV, BATCH, SEQ = 96, 128, 32, 64
OURS = {"grouped-by-length": dict(micro_batch=16),
        "grouped, 6 lowest layers frozen": dict(micro_batch=16, freeze_layers=6),
        "grouped, 8 lowest layers frozen": dict(micro_batch=16, freeze_layers=8)}
dev_mse: dict[str, float] = {}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from harness.core.data import data_root, read_pairs
    from harness.models import load_encoder
    from trainers.data import ParallelData, ParallelDataset, source_files

    root = data_root()
    datasets, dev = [], []
    for path in source_files(root, "de"):
        pairs = read_pairs(path)
        datasets.append(ParallelDataset(f"{path.parent.name}/en-de", "de", pairs[:PER_SOURCE]))
        dev += pairs[PER_SOURCE:PER_SOURCE + DEV // 4]
    teacher = load_encoder("all-MiniLM-L6-v2")
    pairs = [p for d in datasets for p in d.pairs]
    labels = teacher.encode([s for s, _ in pairs])
    dev_labels = teacher.encode([s for s, _ in dev])
    data = ParallelData(datasets, {"de": dev[:16]})
    return pairs, labels, teacher, data, dev, dev_labels, tmp_path_factory.mktemp("train")


def student():
    from sentence_transformers import SentenceTransformer

    from harness.models import load_sentence_transformer, resolve

    model = load_sentence_transformer(resolve("multilingual-e5-small"), device="cpu")
    assert isinstance(model, SentenceTransformer)
    model.max_seq_length = SEQ
    return model


def held_out_mse(model, dev, dev_labels) -> float:
    vectors = model.encode([t for _, t in dev], batch_size=64, convert_to_numpy=True)
    return float(np.mean((vectors - dev_labels) ** 2))


def test_peer_sentence_transformers_trainer(benchmark, setup):
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MSELoss

    pairs, labels, _, _, dev, dev_labels, tmp = setup
    dataset = Dataset.from_dict({"english": [s for s, _ in pairs], "non_english": [t for _, t in pairs],
                                 "label": [row.tolist() for row in labels]})

    def train():
        model = student()
        args = SentenceTransformerTrainingArguments(output_dir=str(tmp / "peer"), per_device_train_batch_size=BATCH,
                                                    num_train_epochs=1, learning_rate=2e-5, save_strategy="no",
                                                    report_to=[], logging_steps=1000, seed=0)
        start = time.perf_counter()
        SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=MSELoss(model)).train()
        return len(pairs) / (time.perf_counter() - start), model

    benchmark.group = "distillation throughput"
    rate, model = benchmark.pedantic(train, rounds=1, iterations=1)
    benchmark.extra_info["pairs_per_second"] = rate
    benchmark.extra_info["dev_mse"] = dev_mse["peer"] = held_out_mse(model, dev, dev_labels)


@pytest.mark.parametrize("variant", list(OURS))
def test_ours_distill(benchmark, setup, variant):
    from sentence_transformers import SentenceTransformer

    from trainers.config import TrainConfig
    from trainers.distill import DistillTrainer

    pairs, _, teacher, data, dev, dev_labels, tmp = setup
    runs = iter(range(100))

    def train():
        output = tmp / f"ours-{sorted(OURS).index(variant)}-{next(runs)}"
        config = TrainConfig(output=str(output), batch_size=BATCH, max_seq_length=SEQ,
                             checkpoint_every=0, progress=False, cache_dir=str(tmp / "cache"),
                             head_fit_pairs=len(pairs), **OURS[variant])
        path = DistillTrainer().train(teacher, student(), data, config)
        return json.loads((path / "training_summary.json").read_text())["pairs_per_second"], path

    benchmark.group = "distillation throughput"
    rate, path = benchmark.pedantic(train, rounds=1, iterations=1)
    benchmark.extra_info["pairs_per_second"] = rate
    benchmark.extra_info["dev_mse"] = dev_mse[variant] = held_out_mse(SentenceTransformer(str(path)), dev, dev_labels)
    benchmark.extra_info["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert np.isfinite(rate)
    if "peer" in dev_mse:  # equal quality: not worse than the reference recipe on held-out pairs
        assert dev_mse[variant] <= 1.05 * dev_mse["peer"]
