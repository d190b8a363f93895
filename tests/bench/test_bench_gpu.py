"""GPU throughput of the default student (multilingual-e5-small): encoding (sentences/s) and training (pairs/s),
each against the same work on the same machine's CPU in the same run. Skips where torch sees no GPU.

`python -m pytest tests/bench/test_bench_gpu.py --benchmark-only --benchmark-enable`

- **Texts:** FLORES-200 devtest in the 14 training languages and English (15,180 sentences, news-length:
  longer than most training pairs, so the training rates are conservative).
- **Training:** our loop (`trainers.loop.train_loop`) with the align-map stage-1 loss, MSE of the student's
  English and foreign embeddings to the base's own English embeddings, on FLORES xx-en pairs in balanced
  batches; word embeddings frozen, sequences cut at 64 tokens, bf16 autocast on the GPU (the defaults).
  Each configuration is (pairs per step, texts per forward): `micro_batch` 0 is one padded forward.
"""

from __future__ import annotations

import statistics

import pytest


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


pytestmark = pytest.mark.skipif(not _cuda(), reason="no GPU: the GPU column is measured on a GPU machine")

LANGS = ["ar", "cs", "de", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "tr", "zh"]
GPU_TRAIN = [(128, 0), (128, 64), (256, 64)]
STEPS = 40


@pytest.fixture(scope="module")
def flores() -> dict[str, list[str]]:
    """{language: its 1,012 FLORES devtest sentences}, English included, read as the flores task reads them."""
    from harness.core.paths import data_root
    from harness.core.task import LangPair
    from tasks.flores import FloresMining as Flores

    task = Flores(data_root())
    texts = {}
    for lang in LANGS:
        texts[lang], texts["en"] = task.load_pair(LangPair(lang, "en"))
    return texts


@pytest.fixture(scope="module")
def student():
    from harness.encoders.adapters import load_sentence_transformer
    from harness.encoders.specs import resolve

    cache = {}

    def on(device: str):
        if device not in cache:
            cache[device] = load_sentence_transformer(resolve("multilingual-e5-small"), device=device)
        return cache[device]

    return on


def _encode_rate(benchmark, model, sentences, batch_size: int, rounds: int) -> None:
    model.encode(sentences[:batch_size * 2], batch_size=batch_size)  # warm-up: kernels, allocator, tokenizer
    benchmark.pedantic(model.encode, args=(sentences,), kwargs={"batch_size": batch_size}, rounds=rounds,
                       iterations=1)
    benchmark.extra_info["sentences"] = len(sentences)
    benchmark.extra_info["sentences_per_second"] = round(len(sentences) / benchmark.stats.stats.median, 1)


def test_encode_gpu(benchmark, flores, student):
    sentences = [s for lang in flores for s in flores[lang]]
    _encode_rate(benchmark, student("cuda"), sentences, 256, rounds=3)


def test_encode_cpu_peer(benchmark, flores, student):
    sentences = [s for lang in flores for s in flores[lang][:70]]
    _encode_rate(benchmark, student("cpu"), sentences, 64, rounds=2)


def _train_rate(benchmark, model, flores, batch: int, micro: int, steps: int, tmp) -> None:
    import torch

    from harness.core.parallel import ParallelData, ParallelDataset
    from harness.core.training import TrainConfig
    from trainers.batching import encode_with_grad
    from trainers.loop import train_loop
    from trainers.sampling import BalancedBatches

    datasets = [ParallelDataset(f"flores/en-{lang}", lang, list(zip(flores["en"], flores[lang]))) for lang in LANGS]
    data = ParallelData(datasets, {})
    model.max_seq_length = 64
    with torch.no_grad():
        own = torch.from_numpy(model.encode(flores["en"], batch_size=256, convert_to_numpy=True))
    device = next(model.parameters()).device

    def loss_fn(m, items):
        src = [data.train[d].pairs[r][0] for d, r in items]
        tgt = [data.train[d].pairs[r][1] for d, r in items]
        y = own[[r for _, r in items]].to(device)
        emb = encode_with_grad(m, src + tgt, micro).float()
        return torch.nn.functional.mse_loss(emb, torch.cat([y, y]))

    batches = BalancedBatches([len(d.pairs) for d in datasets], batch, 0, True)
    config = TrainConfig(output=str(tmp), batch_size=batch, micro_batch=micro, max_steps=steps, checkpoint_every=0,
                         progress=False)
    results = []

    def one_round():
        results.append(train_loop(model, loss_fn, batches, config, tmp))

    benchmark.pedantic(one_round, rounds=2, iterations=1, warmup_rounds=1)
    rates = [r.samples / r.seconds for r in results[1:]]  # after the warm-up round
    benchmark.extra_info.update(pairs_per_step=batch, texts_per_forward=micro or 2 * batch, steps=steps,
                                pairs_per_second=round(statistics.median(rates), 1),
                                precision="bf16 autocast" if device.type == "cuda" else "fp32")


@pytest.mark.parametrize("batch,micro", GPU_TRAIN, ids=[f"batch{b}-micro{m}" for b, m in GPU_TRAIN])
def test_train_gpu(benchmark, flores, student, batch, micro, tmp_path):
    _train_rate(benchmark, student("cuda"), flores, batch, micro, STEPS, tmp_path)


def test_train_cpu_peer(benchmark, flores, student, tmp_path):
    """The CPU defaults (32 pairs per step, groups of 16 texts) on the same machine's cores."""
    _train_rate(benchmark, student("cpu"), flores, 32, 16, 3, tmp_path)
