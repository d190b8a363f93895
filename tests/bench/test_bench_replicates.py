"""What schema 3's smaller records cost a reader: the main score's bootstrap replicates of every record of
the base model (STS, mining and retrieval, as committed), got three ways in the same run: decoded from
the int16 steps schema 2 stored in each record (the peer), recomputed from the evidence (an empty cache),
and read back from the replicate cache (every later rebuild)."""

import base64
from pathlib import Path

import numpy as np
import pytest

from harness.results import replicate_cache, stats
from harness.results.evidence import decode_array, inputs_of, resampling_key
from harness.results.store import ResultStore

RUNS = Path(__file__).resolve().parents[2] / "results" / "runs"
MODEL = "multilingual-e5-small"


@pytest.fixture(scope="module")
def records():
    found, _ = ResultStore(RUNS).records(MODEL)
    found = [r for r in found if r["status"] == "ok" and r.get("bootstrap")]
    assert len(found) > 50, "the committed base-model records are the benchmark's input"
    return found


def _inputs(record):
    kind, arrays = inputs_of(record, record["task"]["main_score"])
    return kind, arrays, resampling_key(record["task"]["name"], record["pair"])


def _as_schema_2(values: np.ndarray) -> dict:
    """The replicates as schema 2 stored them: int16 steps of 0.001 points around their mean, base64."""
    centre = float(np.nanmean(values))
    steps = np.round(np.nan_to_num(values - centre) / 0.001).astype("<i2")
    return {"dtype": "<i2", "data": base64.b64encode(steps.tobytes()).decode("ascii"), "scale": 0.001,
            "offset": centre}


def test_replicates_decoded_from_schema_2_records(benchmark, records):
    stored = [_as_schema_2(stats.replicates(*_inputs(r))) for r in records]
    benchmark(lambda: [decode_array(entry) for entry in stored])


def test_replicates_recomputed_from_the_evidence(benchmark, records):
    inputs = [_inputs(r) for r in records]
    benchmark.pedantic(lambda: [stats.replicates(*i) for i in inputs], rounds=3, iterations=1)


def test_replicates_from_a_warm_cache(benchmark, records, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    inputs = [_inputs(r) for r in records]
    for kind, arrays, key in inputs:
        replicate_cache.cached_replicates(kind, arrays, key)

    def from_disk():
        replicate_cache._MEMORY.clear()  # a new process: the disk cache only
        return [replicate_cache.cached_replicates(kind, arrays, key) for kind, arrays, key in inputs]

    benchmark(from_disk)
