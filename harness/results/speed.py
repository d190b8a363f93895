"""Encode speed: sentences per second for each model on one machine, measured by the pytest-benchmark run
`tests/bench/test_bench_encode_speed.py` and kept in `results/encode-speed.json`, so that the leaderboard can
set each model's quality beside its speed. The file is versioned JSON, written atomically, one entry per model;
a later measurement of a model replaces its entry and leaves the others.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError

SPEED_FILE = "encode-speed.json"
SPEED_SCHEMA = 1


@dataclass(frozen=True)
class Speed:
    """One model's measured encode speed."""

    model: str
    sentences_per_second: float
    machine: str
    texts: str

    def times(self, other: Speed) -> float:
        """How many times `other`'s speed this is."""
        return self.sentences_per_second / other.sentences_per_second


def read_speeds(path: str | Path) -> dict[str, Speed]:
    """The speeds stored at `path` by model name; {} when there is no such file. A damaged file is an error
    naming the file and the problem (a leaderboard must not silently drop a column)."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HarnessError(f"{path}: not readable as JSON ({err})") from None
    if not isinstance(data, dict) or type(data.get("schema")) is not int or data["schema"] != SPEED_SCHEMA \
            or not isinstance(data.get("models"), dict):
        raise HarnessError(f"{path}: not an encode-speed file of schema {SPEED_SCHEMA}")
    speeds = {}
    for name, entry in data["models"].items():
        value = entry.get("sentences_per_second") if isinstance(entry, dict) else None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
            raise HarnessError(f"{path}: model {name!r}: sentences_per_second must be a positive number, "
                               f"got {value!r}")
        for key in ("machine", "texts"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise HarnessError(f"{path}: model {name!r}: {key} must name what was measured, got {entry.get(key)!r}")
        speeds[name] = Speed(name, float(value), entry["machine"], entry["texts"])
    return speeds


def merged_speeds(path: str | Path, measured: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The file's content with `measured` ({model: entry}) replacing those models' entries."""
    path = Path(path)
    read_speeds(path)  # refuse to merge into a damaged file
    models = json.loads(path.read_text(encoding="utf-8"))["models"] if path.is_file() else {}
    models.update(measured)
    return {"schema": SPEED_SCHEMA, "models": dict(sorted(models.items()))}
