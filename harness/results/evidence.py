"""Per-item evidence in a record, compactly: arrays as base64 of their little-endian bytes, and the
bootstrap section built from them (each metric's interval, and the main score's replicates so that a
report or a gate compares models without resampling again).

A record's evidence reads:
    {"n": 1379,
     "arrays": {"cosine": {"dtype": "<f4", "data": "..."}, "gold": {...}},
     "statistics": {"spearman": ["spearman", ["cosine", "gold"]], ...}}
and its bootstrap section:
    {"method": "percentile bootstrap over items", "level": 0.95, "resamples": 2000,
     "key": "stsb-multi-mt|en-de", "main": "spearman",
     "replicates": {"dtype": "<i2", "scale": 0.001, "offset": 69.47, "data": "..."}}
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from harness.core.task import Evidence
from harness.results import stats

_DTYPES = {"<f4", "<f8", "|u1", "<i2", "<i4", "|b1"}
REPLICATE_SCALE = 0.001  # replicates are stored as int16 offsets from the score, at least this far apart


def encode_array(values: np.ndarray) -> dict[str, Any]:
    """A 1-d array as {"dtype", "data"}: base64 of its little-endian bytes."""
    values = np.ascontiguousarray(values)
    dtype = values.dtype.newbyteorder("<") if values.dtype.byteorder == ">" else values.dtype
    return {"dtype": dtype.str, "data": base64.b64encode(values.astype(dtype).tobytes()).decode("ascii")}


def decode_array(entry: dict[str, Any]) -> np.ndarray:
    """The inverse of `encode_array` (scaled int16 replicates come back as float offsets + scale)."""
    if entry.get("dtype") not in _DTYPES:
        raise ValueError(f"unsupported array dtype {entry.get('dtype')!r}")
    values = np.frombuffer(base64.b64decode(entry["data"]), dtype=np.dtype(entry["dtype"]))
    if "scale" in entry:
        return entry.get("offset", 0.0) + values.astype(np.float64) * entry["scale"]
    return values


def evidence_to_json(evidence: Evidence) -> dict[str, Any]:
    return {"n": evidence.n,
            "arrays": {name: encode_array(values) for name, values in sorted(evidence.arrays.items())},
            "statistics": {name: [kind, list(names)] for name, (kind, names) in sorted(evidence.statistics.items())}}


def arrays_of(record: dict[str, Any]) -> dict[str, np.ndarray]:
    """A record's evidence arrays, decoded."""
    return {name: decode_array(entry) for name, entry in record["evidence"]["arrays"].items()}


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
    """Add each evidenced metric's 95% interval to `metrics` (as "ci") and return the bootstrap section."""
    key = resampling_key(task, pair)
    main_replicates = None
    for name, (kind, names) in evidence.statistics.items():
        if name not in metrics:
            continue
        inputs = [evidence.arrays[a] for a in names]
        values = stats.replicates(kind, inputs, key)
        low, high = stats.interval(kind, inputs, values)
        metrics[name]["ci"] = [round(low, 4), round(high, 4)]
        if name == main:
            main_replicates = values
    section = {"method": stats.METHOD, "level": stats.LEVEL, "resamples": stats.RESAMPLES, "key": key,
               "main": main}
    if main_replicates is not None:
        section["replicates"] = encode_replicates(main_replicates, metrics[main]["value"])
    return section


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


def encode_replicates(values: np.ndarray, centre: float) -> dict[str, Any]:
    """Replicates as int16 steps around the score: 0.001 points apart, coarser only when a replicate lies
    more than 32 points away (tiny user files). NaN, from a degenerate resample, is stored as the score."""
    offsets = np.nan_to_num(np.asarray(values, dtype=np.float64) - centre)
    scale = max(REPLICATE_SCALE, float(np.abs(offsets).max(initial=0.0)) / 32000.0)
    steps = np.round(offsets / scale).astype("<i2")
    return {**encode_array(steps), "scale": scale, "offset": float(centre)}


def main_replicates(record: dict[str, Any]) -> np.ndarray | None:
    """The stored replicates of a record's main score, or None for a record without evidence."""
    section = record.get("bootstrap") or {}
    entry = section.get("replicates")
    return decode_array(entry) if entry else None


def has_evidence(record: dict[str, Any], metric: str) -> bool:
    evidence = record.get("evidence") or {}
    return metric in (evidence.get("statistics") or {})


def metric_replicates(record: dict[str, Any], metric: str) -> np.ndarray | None:
    """The bootstrap replicates of one metric of a record: stored for the main score, else recomputed from
    the evidence (the same resamples either way, so replicates of two models on the same items pair up)."""
    if not has_evidence(record, metric):
        return None
    section = record.get("bootstrap") or {}
    if metric == section.get("main") and section.get("resamples") == stats.RESAMPLES and section.get("replicates"):
        return decode_array(section["replicates"])
    kind, arrays = inputs_of(record, metric)
    return stats.replicates(kind, arrays, resampling_key(record["task"]["name"], record["pair"]))


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
