"""Per-item evidence in a record, compactly: arrays as base64 of their zlib-compressed little-endian bytes,
and the bootstrap section built from them (the method, and each metric's interval beside the metric).

A record's evidence reads:
    {"n": 1379,
     "arrays": {"cosine": {"dtype": "<f4", "codec": "zlib", "data": "..."}, "gold": {...}},
     "statistics": {"spearman": ["spearman", ["cosine", "gold"]], ...}}
and its bootstrap section:
    {"method": "percentile bootstrap over items", "level": 0.95, "resamples": 2000,
     "key": "stsb-multi-mt|en-de", "main": "spearman"}

The replicates that averages and comparisons need are not stored: they are recomputed from the evidence
with the seeded resampler (the same resamples for every model of a pair) and cached outside the results
(`harness.results.replicate_cache`). Version-2 records stored the main score's replicates as int16 steps
({"dtype": "<i2", "scale": 0.001, "offset": 69.47, "data": "..."}) and uncompressed arrays (no "codec"):
both still read as they are.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import numpy as np

from harness.core.task import Evidence
from harness.results import stats
from harness.results.replicate_cache import cached_replicates

_DTYPES = {"<f4", "<f8", "|u1", "<i2", "<i4", "|b1"}
CODEC = "zlib"  # lossless: 0/1 flags and ranks shrink ten-fold, float scores by about a seventh


def encode_array(values: np.ndarray) -> dict[str, Any]:
    """A 1-d array as {"dtype", "codec", "data"}: base64 of its zlib-compressed little-endian bytes."""
    values = np.ascontiguousarray(values)
    dtype = values.dtype.newbyteorder("<") if values.dtype.byteorder == ">" else values.dtype
    packed = zlib.compress(values.astype(dtype).tobytes(), 9)
    return {"dtype": dtype.str, "codec": CODEC, "data": base64.b64encode(packed).decode("ascii")}


def decode_array(entry: dict[str, Any], n: int | None = None) -> np.ndarray:
    """The inverse of `encode_array`; an entry without a codec holds the bytes as they are (version 2), and
    version 2's scaled int16 replicates come back as float offsets + scale. With `n`, the array must hold n
    values, and a compressed one is never inflated beyond them (a hostile record cannot fill the memory)."""
    if entry.get("dtype") not in _DTYPES:
        raise ValueError(f"unsupported array dtype {entry.get('dtype')!r}")
    dtype = np.dtype(entry["dtype"])
    try:
        data = base64.b64decode(entry["data"], validate=True)
    except (ValueError, TypeError) as err:
        raise ValueError(f"array data is not base64: {err}") from None
    codec = entry.get("codec")
    if codec == CODEC:
        inflate = zlib.decompressobj()
        try:
            data = inflate.decompress(data, 0 if n is None else n * dtype.itemsize + 1)
        except zlib.error as err:
            raise ValueError(f"array data is not valid {CODEC}: {err}") from None
    elif codec is not None:
        raise ValueError(f"unsupported array codec {codec!r}")
    if n is not None and len(data) != n * dtype.itemsize:
        raise ValueError(f"an array holds {len(data) // dtype.itemsize} values where the evidence has n = {n}")
    values = np.frombuffer(data, dtype=dtype)
    if "scale" in entry:
        return entry.get("offset", 0.0) + values.astype(np.float64) * entry["scale"]
    return values


def evidence_to_json(evidence: Evidence) -> dict[str, Any]:
    return {"n": evidence.n,
            "arrays": {name: encode_array(values) for name, values in sorted(evidence.arrays.items())},
            "statistics": {name: [kind, list(names)] for name, (kind, names) in sorted(evidence.statistics.items())}}


def arrays_of(record: dict[str, Any]) -> dict[str, np.ndarray]:
    """A record's evidence arrays, decoded; each must hold one value per item (the evidence's n)."""
    evidence = record["evidence"]
    return {name: decode_array(entry, evidence["n"]) for name, entry in evidence["arrays"].items()}


def inputs_of(record: dict[str, Any], metric: str) -> tuple[str, list[np.ndarray]]:
    """(statistic, its input arrays) behind one metric of a record with evidence."""
    kind, names = record["evidence"]["statistics"][metric]
    arrays = arrays_of(record)
    return kind, [arrays[name] for name in names]


def resampling_key(task: str, pair: str) -> str:
    """Which items are resampled together: the same task and pair means the same items for every model."""
    return f"{task}|{pair}"


def bootstrap(evidence: Evidence, task: str, pair: str, main: str,
              metrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Add each evidenced metric's 95% interval to `metrics` (as "ci") and return the bootstrap section (the
    replicates go to the cache, not the record: `metric_replicates` finds them there)."""
    key = resampling_key(task, pair)
    for name, (kind, names) in evidence.statistics.items():
        if name not in metrics:
            continue
        inputs = [evidence.arrays[a] for a in names]
        values = cached_replicates(kind, inputs, key)
        low, high = stats.interval(kind, inputs, values)
        metrics[name]["ci"] = [round(low, 4), round(high, 4)]
    return {"method": stats.METHOD, "level": stats.LEVEL, "resamples": stats.RESAMPLES, "key": key, "main": main}


def refresh_intervals(record: dict[str, Any]) -> dict[str, Any]:
    """A record whose intervals were computed by an earlier method, with each evidenced metric's interval
    recomputed from its stored evidence by the current one (no model needed); the replicates stay."""
    section = record.get("bootstrap") or {}
    if not record.get("evidence") or not section or section.get("method") == stats.METHOD:
        return record
    arrays = arrays_of(record)
    metrics = {name: dict(metric) for name, metric in record["metrics"].items()}
    for name, (kind, names) in record["evidence"]["statistics"].items():
        if name in metrics and "ci" in metrics[name] and stats.per_item(kind, [arrays[a] for a in names]) is not None:
            low, high = stats.interval(kind, [arrays[a] for a in names], np.array([]))
            metrics[name]["ci"] = [round(low, 4), round(high, 4)]
    return {**record, "metrics": metrics, "bootstrap": {**section, "method": stats.METHOD}}


def main_replicates(record: dict[str, Any]) -> np.ndarray | None:
    """The replicates of a record's main score (the task's), or None for a record without evidence or
    intervals."""
    if not record.get("bootstrap"):
        return None
    return metric_replicates(record, record["task"]["main_score"])


def has_evidence(record: dict[str, Any], metric: str) -> bool:
    evidence = record.get("evidence") or {}
    return metric in (evidence.get("statistics") or {})


def metric_replicates(record: dict[str, Any], metric: str) -> np.ndarray | None:
    """The bootstrap replicates of one metric of a record, recomputed from the evidence (cached), or, for a
    version-2 record's main score, as it stored them: the same resamples either way, so replicates of two
    models on the same items pair up."""
    if not has_evidence(record, metric):
        return None
    section = record.get("bootstrap") or {}
    if metric == section.get("main") and section.get("resamples") == stats.RESAMPLES and section.get("replicates"):
        return decode_array(section["replicates"])
    kind, arrays = inputs_of(record, metric)
    return cached_replicates(kind, arrays, resampling_key(record["task"]["name"], record["pair"]))


def same_items(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when two records were scored on the same items: same task, pair, data and item count."""
    if (a["task"]["name"], a["pair"]) != (b["task"]["name"], b["pair"]):
        return False
    if a.get("data_fingerprint") and b.get("data_fingerprint") and a["data_fingerprint"] != b["data_fingerprint"]:
        return False
    return (a.get("evidence") or {}).get("n") == (b.get("evidence") or {}).get("n")


def consistent(record: dict[str, Any], metric: str, tolerance: float = 1e-3) -> bool:
    """True when the evidence reproduces the stored score (a record edited by hand, or corrupted, does not)."""
    if not has_evidence(record, metric):
        return True
    kind, arrays = inputs_of(record, metric)
    return abs(stats.point_estimate(kind, arrays) - record["metrics"][metric]["value"]) <= tolerance


def paired_difference(old: dict[str, Any], new: dict[str, Any], metric: str) -> stats.Difference | None:
    """new minus old on the same items, in the metric's own direction; None when it cannot be paired.

    Exact where an exact test exists: the sign-flip mid-p test for accuracies and other means of half-unit
    items, the paired permutation test for a correlation with the gold; the bootstrap otherwise (nDCG, MRR)."""
    if not (has_evidence(old, metric) and has_evidence(new, metric) and same_items(old, new)):
        return None
    reps_old, reps_new = metric_replicates(old, metric), metric_replicates(new, metric)
    (kind, arrays_old), (_, arrays_new) = inputs_of(old, metric), inputs_of(new, metric)
    value_old, value_new = old["metrics"][metric]["value"], new["metrics"][metric]["value"]
    items_old, items_new = stats.per_item(kind, arrays_old), stats.per_item(kind, arrays_new)
    if items_old is not None and items_new is not None:
        return stats.exact_paired(value_old, value_new, reps_old, reps_new, items_old, items_new)
    if len(arrays_old) == 2 and np.array_equal(arrays_old[1], arrays_new[1]):  # a correlation with one gold
        return stats.correlation_paired(value_old, value_new, reps_old, reps_new, kind, arrays_old[0],
                                        arrays_new[0], arrays_old[1], resampling_key(old["task"]["name"], old["pair"]))
    return stats.compare_replicates(value_old, value_new, reps_old, reps_new)
