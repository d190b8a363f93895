"""Versioned result records: one per (model, task, language pair), each carrying schema_version.

A record is plain JSON. Older records are upgraded by named migrations when read, never rewritten in place.

Version 2 (this one) adds what resampling needs: `evidence` (per-item arrays and how each metric is
computed from them), `bootstrap` (the method, and the main score's replicates), a `ci` beside each
evidenced metric, and `data_fingerprint` (a hash of the data files the result was computed from).
"""


from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from typing import Any

from harness.core.version import __version__

SCHEMA_VERSION = 2
REQUIRED = ("schema_version", "model", "task", "pair", "status", "metrics")


class RecordError(ValueError):
    """A record that is not a valid result (wrong shape, unknown version)."""


def v1_to_v2_no_evidence(record: dict[str, Any]) -> dict[str, Any]:
    """Version 1 records kept scores only: they load with no evidence, no intervals and no fingerprint, so
    they are shown without intervals and never reused for a new evaluation."""
    return {**record, "schema_version": 2, "evidence": None, "bootstrap": None, "data_fingerprint": None}


# version n -> the named function upgrading a version-n record to n+1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: v1_to_v2_no_evidence}


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
        "analysis": analysis,
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
    for name, metric in record["metrics"].items():
        if not isinstance(metric, dict) or not isinstance(metric.get("value"), (int, float)):
            raise RecordError(f"metric {name!r} has no numeric value")
        if not math.isfinite(metric["value"]):
            raise RecordError(f"metric {name!r} is not finite")
        interval = metric.get("ci")
        if interval is not None and not (isinstance(interval, list) and len(interval) == 2
                                         and all(isinstance(v, (int, float)) for v in interval)):
            raise RecordError(f"metric {name!r} has a malformed interval {interval!r}")
    return record
