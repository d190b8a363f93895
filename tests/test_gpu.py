"""The GPU path, checked on a GPU: a few training steps of every trainer on CUDA, in fp32 and in bf16, against
the same steps on the CPU, and exact search on the GPU against the CPU's.

CI has no GPU, so this module skips there. On a GPU machine: `python -m pytest tests/test_gpu.py -v`
(`tests/gpu/README.md` says how the device check runs it). `HARNESS_CHECK_DEVICE=cpu` runs the same
comparisons with the CPU standing in for the GPU, to check the checks themselves without one.

Tolerances, against the CPU in fp32 on the same batches from the same weights:
- fp32: the first step's loss within 1e-4 (relative), the first and last 5 losses within 1e-3, and the
  trained students' embeddings of probe sentences at cosine >= 0.9999;
- bf16 autocast: the first step's loss within 3e-2, the first and last 5 losses within 1e-1 (a few bf16
  roundings per layer, compounded over 18 steps at a learning rate of 1e-3), and cosine >= 0.99.
Every run must also learn: its last 5 losses average below its first 5.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from harness.app.plugins import TRAINERS
from harness.core.hash_encoder import HashEncoder
from harness.core.training import TrainConfig


def _device() -> str | None:
    wanted = os.environ.get("HARNESS_CHECK_DEVICE")
    if wanted:
        return wanted
    import torch

    return "cuda" if torch.cuda.is_available() else None


DEVICE = _device()
pytestmark = pytest.mark.skipif(DEVICE is None, reason="no GPU here (HARNESS_CHECK_DEVICE=cpu runs the comparisons "
                                                       "with the CPU standing in)")

TOLERANCE = {"fp32": {"first_loss": 1e-4, "losses": 1e-3, "cosine": 0.9999},
             "bf16": {"first_loss": 3e-2, "losses": 1e-1, "cosine": 0.99}}
PROBES = ["Anna kauft 7 Äpfel.", "Anna buys 7 apples.", "Boris achète 14 livres.", "Who buys 21 cars?"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from harness.core.parallel import load_parallel
    from tests.fixtures import make_data_root, make_tiny_bert

    root = make_data_root(tmp_path_factory.mktemp("data"))
    data = load_parallel(root, ["de", "fr"], max_pairs=24, dev_pairs=8)
    return make_tiny_bert(tmp_path_factory.mktemp("bert"), dropout=0.0), data, tmp_path_factory.mktemp("runs")


def train_once(name: str, tiny, device: str, precision: str) -> tuple[dict, np.ndarray]:
    """Train `name` for 18 steps (48 pairs, batch 8, 3 epochs) on `device`; its summary and probe embeddings."""
    from sentence_transformers import SentenceTransformer

    bert, data, folder = tiny
    run = folder / f"{name}-{device}-{precision}"
    config = TrainConfig(output=str(run / "student"), cache_dir=str(run / "cache"), batch_size=8, lr=1e-3, epochs=3,
                         checkpoint_every=0, progress=False, head_fit_pairs=40, max_seq_length=16, device=device,
                         precision=precision)
    path = TRAINERS.get(name)().train(HashEncoder(dim=48), SentenceTransformer(str(bert), device="cpu"), data, config)
    summary = json.loads((path / "training_summary.json").read_text(encoding="utf-8"))
    vectors = SentenceTransformer(str(path), device="cpu").encode(PROBES, convert_to_numpy=True)
    return summary, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def on_cpu(tiny):
    cache: dict[str, tuple[dict, np.ndarray]] = {}

    def get(name: str):
        if name not in cache:
            cache[name] = train_once(name, tiny, "cpu", "fp32")
        return cache[name]

    return get


def relative(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-12)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("name", TRAINERS.names())
def test_training_steps_on_the_device_match_the_cpu(name, precision, tiny, on_cpu):
    reference, ref_vectors = on_cpu(name)
    summary, vectors = train_once(name, tiny, DEVICE, precision)
    limits = TOLERANCE[precision]
    first = float(relative(summary["loss_first"][0], reference["loss_first"][0]))
    losses = relative(summary["loss_first"] + summary["loss_last"], reference["loss_first"] + reference["loss_last"])
    cosines = np.einsum("ij,ij->i", vectors, ref_vectors)
    print(f"\n{name} {DEVICE} {precision}: first-step loss {summary['loss_first'][0]:.6g} (cpu "
          f"{reference['loss_first'][0]:.6g}, rel. diff {first:.2e}); max rel. diff of 10 losses "
          f"{losses.max():.2e}; min cosine to the cpu student {cosines.min():.6f}; "
          f"loss {np.mean(summary['loss_first']):.4g} -> {np.mean(summary['loss_last']):.4g}; "
          f"device {summary['device']} {summary.get('gpu') or ''}")
    assert summary["device"].startswith(DEVICE)
    assert np.mean(summary["loss_last"]) < np.mean(summary["loss_first"]), "the loss did not fall"
    assert first <= limits["first_loss"]
    assert losses.max() <= limits["losses"]
    assert cosines.min() >= limits["cosine"]


def test_exact_search_on_the_device_finds_the_cpus_neighbours():
    from harness.search.knn import SearchConfig, _torch_search_both_ways, search_both_ways

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((50, 384))
    src = (centres[rng.integers(0, 50, 3000)] + rng.standard_normal((3000, 384))).astype(np.float32)
    tgt = (src[rng.permutation(3000)][:2500] + 0.5 * rng.standard_normal((2500, 384))).astype(np.float32)
    src /= np.linalg.norm(src, axis=1, keepdims=True)
    tgt /= np.linalg.norm(tgt, axis=1, keepdims=True)
    cpu = search_both_ways(src, tgt, 4, SearchConfig(use_gpu=False))
    device = _torch_search_both_ways(src, tgt, 4, 4, DEVICE, rows=1024)
    auto = search_both_ways(src, tgt, 4)  # what the tasks call: the GPU when one is there
    for ours in (device, auto):
        for (scores, ids), (ref_scores, ref_ids) in zip(ours, cpu):
            np.testing.assert_allclose(scores, ref_scores, atol=1e-5)
            assert (ids == ref_ids).mean() >= 0.999
    print(f"\nsearch on {DEVICE}: 3000 x 2500, both directions, top-4: neighbours equal to the CPU's "
          f"{(device[0][1] == cpu[0][1]).mean():.4%} forward, {(device[1][1] == cpu[1][1]).mean():.4%} backward")
