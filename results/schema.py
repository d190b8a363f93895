"""Versioned result records: one per (model, task, language pair), each carrying schema_version.

A record is plain JSON. Older records are upgraded by named migrations, never rewritten in place.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from typing import Any

from harness import __version__

SCHEMA_VERSION = 1
REQUIRED = ("schema_version", "model", "task", "pair", "status", "metrics")


class RecordError(ValueError):
    """A record that is not a valid result (wrong shape, unknown version)."""


# version n -> function upgrading a version-n record to n+1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def make_record(*, model: dict[str, str], task: dict[str, str], pair: str, metrics: dict[str, dict[str, Any]],
                n_items: int, seconds: float, analysis: dict[str, Any] | None = None,
                error: str | None = None, run: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build a record. `task` is the task's metadata snapshot; `metrics` maps name -> {value, higher_is_better}."""
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
    return record
