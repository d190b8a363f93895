"""Versioned result records: one per (model, task, language pair), each carrying schema_version.

A record is plain JSON (since version 4 with the parts a model's records share stored beside them, and put
back when read: `harness.results.layout`). Older records are upgraded by named migrations when read; only
`harness migrate` rewrites them.

Version 2 added what resampling needs: `evidence` (per-item arrays and how each metric is computed from
them), `bootstrap` (the method, and the main score's replicates), a `ci` beside each evidenced metric, and
`data_fingerprint` (a hash of the data files the result was computed from).

Version 3 keeps the same information in less room: evidence arrays are zlib-compressed, and what can be
recomputed from the evidence is left out (the main score's replicates, the mining analysis's fixed-bin gap
histograms); a mining analysis keeps its `WORST_KEPT` worst confusions per direction.

Version 4 (this one) changes only the file: one top-level field per line, and the parts many records hold
identically (a student's run block, a dataset's gold scores) stored once in the model's `_shared` folder and
referred to by digest (`harness.results.layout`); read back, a record is what version 3 held.
`harness migrate` rewrites a results folder in this layout (`harness.results.compact`).
"""


from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from typing import Any

from harness.core.version import __version__

SCHEMA_VERSION = 4
REQUIRED = ("schema_version", "model", "task", "pair", "status", "metrics")
WORST_KEPT = 10  # worst confusions a mining record keeps per direction (the report shows all of them)


class RecordError(ValueError):
    """A record that is not a valid result (wrong shape, unknown version)."""


def v1_to_v2_no_evidence(record: dict[str, Any]) -> dict[str, Any]:
    """Version 1 records kept scores only: they load with no evidence, no intervals and no fingerprint, so
    they are shown without intervals and never reused for a new evaluation."""
    return {**record, "schema_version": 2, "evidence": None, "bootstrap": None, "data_fingerprint": None}


def v2_to_v3_read_as_stored(record: dict[str, Any]) -> dict[str, Any]:
    """Version 3 changed how records are stored, not what they mean: a version-2 record's uncompressed arrays,
    stored replicates and fixed-bin histograms are all still read, so it loads as it is. `harness migrate`
    rewrites it compactly."""
    return {**record, "schema_version": 3}


def v3_to_v4_read_as_stored(record: dict[str, Any]) -> dict[str, Any]:
    """Version 4 changed the file, not the record: a version-3 file (indented, every part inline) loads as it
    is; `harness migrate` rewrites it in the version-4 layout."""
    return {**record, "schema_version": 4}


# version n -> the named function upgrading a version-n record to n+1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: v1_to_v2_no_evidence,
                                                                        2: v2_to_v3_read_as_stored,
                                                                        3: v3_to_v4_read_as_stored}


SLACK = 1e-6  # rounding: a correlation of exactly 100 may be stored as 100.00000000000001


def metric_range(name: str) -> tuple[float, float]:
    """The values a metric can take, in the harness's units (scores x 100): correlations from -100 to 100,
    a threshold (a similarity, not a score) any finite value, every other metric (accuracies, error rates,
    F1, nDCG, MRR, recall) from 0 to 100."""
    if "spearman" in name or "pearson" in name:
        return -100.0, 100.0
    if name.endswith("threshold"):
        return -math.inf, math.inf
    return 0.0, 100.0


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_metric(name: str, metric: Any) -> None:
    """A metric entry as every reader needs it: a finite value inside the metric's range, and an interval,
    if any, of two finite, ordered bounds inside that range (the one validator: see `upgrade`)."""
    if not isinstance(metric, dict) or not isinstance(metric.get("value"), (int, float)) \
            or isinstance(metric.get("value"), bool):
        raise RecordError(f"metric {name!r} has no numeric value")
    if not isinstance(metric.get("higher_is_better", True), bool):
        raise RecordError(f"metric {name!r}: higher_is_better must be true or false")
    low, high = metric_range(name)
    if not _number(metric["value"]):
        raise RecordError(f"metric {name!r} is not finite")
    low, high = low - SLACK, high + SLACK
    if not low <= metric["value"] <= high:
        raise RecordError(f"metric {name!r} = {metric['value']!r} is outside its range "
                          f"[{low + SLACK:g}, {high - SLACK:g}]")
    interval = metric.get("ci")
    if interval is None:
        return
    if not (isinstance(interval, list) and len(interval) == 2 and all(_number(v) for v in interval)
            and interval[0] <= interval[1]):
        raise RecordError(f"metric {name!r} has a malformed interval {interval!r}")
    if not (low <= interval[0] and interval[1] <= high):
        raise RecordError(f"metric {name!r} has an interval {interval!r} outside its range "
                          f"[{low + SLACK:g}, {high - SLACK:g}]")


def invalid_metric(metrics: dict[str, Any]) -> str | None:
    """Why a freshly computed set of metrics cannot be stored as a result ('spearman' is not finite, ...), or
    None: a score that is NaN, infinite or out of range makes the pair fail, never an 'ok' record."""
    for name, metric in metrics.items():
        try:
            check_metric(name, metric)
        except RecordError as err:
            return str(err)
    return None


def finite_or_none(value: Any) -> Any:
    """`value` with every NaN or infinite float inside it replaced by None (JSON has no NaN: a description
    that cannot be computed is absent, not a token a strict parser rejects)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def make_record(*, model: dict[str, str], task: dict[str, str], pair: str, metrics: dict[str, dict[str, Any]],
                n_items: int, seconds: float, analysis: dict[str, Any] | None = None,
                error: str | None = None, run: dict[str, Any] | None = None,
                evidence: dict[str, Any] | None = None, bootstrap: dict[str, Any] | None = None,
                data_fingerprint: str | None = None) -> dict[str, Any]:
    """Build a record. `task` is the task's metadata snapshot; `metrics` maps a name to
    {value, higher_is_better[, ci]}."""
    return {
        "schema_version": SCHEMA_VERSION,
        "harness_version": __version__,
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "model": model,
        "task": task,
        "pair": pair,
        "status": "failed" if error else "ok",
        "error": error,
        "n_items": n_items,
        "timing": {"seconds": round(seconds, 3)},
        "metrics": metrics,
        "analysis": finite_or_none(analysis),
        "evidence": evidence,
        "bootstrap": bootstrap,
        "data_fingerprint": data_fingerprint,
        "run": run or {},
    }


def upgrade(record: dict[str, Any]) -> dict[str, Any]:
    """Validate a loaded record and bring it to the current schema version."""
    if not isinstance(record, dict):
        raise RecordError("not a JSON object")
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        raise RecordError(f"missing field(s) {', '.join(missing)}")
    version = record["schema_version"]
    if not isinstance(version, int) or version > SCHEMA_VERSION or version < 1:
        raise RecordError(f"unsupported schema_version {version!r} (this harness reads 1..{SCHEMA_VERSION})")
    while version < SCHEMA_VERSION:
        record = MIGRATIONS[version](record)
        version = record["schema_version"]
    for part, keys in (("model", ("name",)), ("task", ("name", "family", "main_score"))):
        if not isinstance(record[part], dict) or not all(isinstance(record[part].get(k), str) for k in keys):
            raise RecordError(f"{part} must be an object with string fields {', '.join(keys)}")
    if not isinstance(record["pair"], str) or record["status"] not in ("ok", "failed"):
        raise RecordError("pair must be a string and status 'ok' or 'failed'")
    if not isinstance(record["metrics"], dict):
        raise RecordError(f"metrics is a {type(record['metrics']).__name__}, not an object of named metrics")
    if isinstance(record.get("bootstrap"), dict) and record.get("evidence"):
        from harness.results.evidence import refresh_intervals  # evidence decoding: loaded only when needed

        try:
            record = refresh_intervals(record)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise RecordError(f"malformed evidence: {err}") from None
    for name, metric in record["metrics"].items():
        check_metric(name, metric)
    return record
