"""Encode speed of every model in the leaderboard that can be loaded here: the teacher, the base, the peers and
each student whose folder is in models/ and whose records are in results/runs. Each encodes the same 512
FLORES-200 devtest sentences (the first 64 of eight languages, long news sentences), one call with batch size
64, as the harness encodes. The run writes sentences per second per model into results/encode-speed.json (the
leaderboard's speed column); `-k NAME` measures some models again and keeps the others' entries.

    tox -e bench -- tests/bench/test_bench_encode_speed.py
"""

import os
import platform
import time
from pathlib import Path

import pytest

from harness.core.paths import data_root, dataset_folder
from harness.encoders.specs import BASELINES, DEFAULT_STUDENT, DEFAULT_TEACHER
from harness.results.speed import SPEED_FILE, merged_speeds
from harness.results.store import write_json_atomic

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("eng_Latn", "deu_Latn", "fra_Latn", "spa_Latn", "arb_Arab", "tur_Latn", "zho_Hans", "jpn_Jpan")
PER_LANGUAGE = 64
TEXTS = f"FLORES-200 devtest, first {PER_LANGUAGE} lines of {', '.join(LANGUAGES)}"


def _students() -> list[str]:
    """Folders under models/ whose name has records: the students the leaderboard shows."""
    models, runs = ROOT / "models", ROOT / "results" / "runs"
    if not models.is_dir():
        return []
    return sorted(str(p.relative_to(ROOT)) for p in models.iterdir() if (p / "modules.json").is_file()
                  and (runs / p.name).is_dir())


SPECS = [DEFAULT_TEACHER, DEFAULT_STUDENT, *BASELINES, *_students()]
_MEASURED: dict[str, dict] = {}


def _machine() -> str:
    import torch

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").is_file() \
        else platform.processor()
    return f"{model}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads"


@pytest.fixture(scope="module")
def texts():
    folder = dataset_folder(data_root(), "eval", "flores200-devtest")
    lines = []
    for lang in LANGUAGES:
        path = folder / f"{lang}.devtest"
        if not path.is_file():
            pytest.skip(f"{path} is not here (the data root)")
        lines += path.read_text(encoding="utf-8").splitlines()[:PER_LANGUAGE]
    return lines


@pytest.fixture(scope="module", autouse=True)
def write_speeds():
    yield
    if _MEASURED:
        path = ROOT / "results" / SPEED_FILE
        write_json_atomic(path, merged_speeds(path, _MEASURED))


@pytest.mark.parametrize("spec", SPECS, ids=[Path(s).name for s in SPECS])
def test_encode_speed(benchmark, spec, texts):
    from harness.encoders.adapters import load_encoder

    encoder = load_encoder(str(ROOT / spec) if spec.startswith("models/") else spec, device="cpu")
    encoder.encode(texts[:64])  # warm-up: first-call allocations and lazy loading are not the model's speed
    vectors = benchmark.pedantic(encoder.encode, args=(texts,), rounds=3, iterations=1)
    assert vectors.shape[0] == len(texts)  # every sentence encoded: the speed is for all of them
    median = benchmark.stats.stats.median
    _MEASURED[Path(spec).name] = {"sentences_per_second": round(len(texts) / median, 1), "median_seconds":
                                  round(median, 4), "rounds": 3, "texts": TEXTS, "machine": _machine(),
                                  "measured": time.strftime("%Y-%m-%d")}
