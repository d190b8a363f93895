"""Encode speed: sentences per second for each model on one machine, measured by the pytest-benchmark run
`tests/bench/test_bench_encode_speed.py` and kept in `results/encode-speed.json`, so that the leaderboard can
set each model's quality beside its speed. The file is versioned JSON, written atomically, one entry per model;
a later measurement of a model replaces its entry and leaves the others.

A shared CPU's speed drifts between benchmark sessions (on the same 512 sentences the base took 13.1 s in one
session and 18.3 s in one a day later, BENCHMARKS.md §10), so a multiple of another model's speed is only taken
within one session: each entry names its session, and the file keeps every session's speeds (`sessions`) for as
long as an entry refers to it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError

SPEED_FILE = "encode-speed.json"
SPEED_SCHEMA = 2
READABLE_SCHEMAS = (1, 2)  # 1: no sessions; its entries are taken as measured together, per machine
UNRECORDED = "unrecorded ({machine})"  # the session of a machine's schema-1 entries carried into a schema-2 file


@dataclass(frozen=True)
class Speed:
    """One model's measured encode speed."""

    model: str
    sentences_per_second: float
    machine: str
    texts: str
    stand_in: str | None = None  # what the speed was measured on when not the model's own weights
    session: str | None = None  # the benchmark session it was measured in
    session_speeds: Mapping[str, float] = field(default_factory=dict, compare=False, repr=False)

    def against(self, other: str) -> float | None:
        """How many times model `other`'s speed this is, `other` measured in the same session (None if it was not)."""
        peer = self.session_speeds.get(other)
        return self.sentences_per_second / peer if peer else None


def read_speeds(path: str | Path) -> dict[str, Speed]:
    """The speeds stored at `path` by model name; {} when there is no such file. A damaged file is an error
    naming the file and the problem (a leaderboard must not silently drop a column)."""
    return _read(Path(path))[1]


def _read(path: Path) -> tuple[dict[str, Any] | None, dict[str, Speed]]:
    """The file's JSON (None when there is no file) and its speeds, checked as `read_speeds` says."""
    if not path.is_file():
        return None, {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HarnessError(f"{path}: not readable as JSON ({err})") from None
    if not isinstance(data, dict) or type(data.get("schema")) is not int or data["schema"] not in READABLE_SCHEMAS \
            or not isinstance(data.get("models"), dict):
        raise HarnessError(f"{path}: not an encode-speed file of schema {' or '.join(map(str, READABLE_SCHEMAS))}")
    sessions = _sessions(path, data) if data["schema"] >= 2 else None
    speeds = {}
    for name, entry in data["models"].items():
        value = entry.get("sentences_per_second") if isinstance(entry, dict) else None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
            raise HarnessError(f"{path}: model {name!r}: sentences_per_second must be a positive number, "
                               f"got {value!r}")
        for key in ("machine", "texts"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise HarnessError(f"{path}: model {name!r}: {key} must name what was measured, got {entry.get(key)!r}")
        stand_in = entry.get("stand_in")
        if stand_in is not None and (not isinstance(stand_in, str) or not stand_in.strip()):
            raise HarnessError(f"{path}: model {name!r}: stand_in must say what was measured instead, got {stand_in!r}")
        session = entry.get("session")
        if sessions is not None and (not isinstance(session, str) or session not in sessions):
            raise HarnessError(f"{path}: model {name!r}: session {session!r} is not among the file's sessions")
        if sessions is not None and sessions[session].get(name) != value:
            raise HarnessError(f"{path}: model {name!r}: its speed, {value}, is not the one its session "
                               f"{session!r} holds ({sessions[session].get(name)})")
        speeds[name] = Speed(name, float(value), entry["machine"], entry["texts"], stand_in, session,
                             sessions[session] if sessions is not None else {})
    if sessions is None:  # schema 1: every entry of a machine counts as one session's
        for name, speed in speeds.items():
            together = {other.model: other.sentences_per_second for other in speeds.values()
                        if other.machine == speed.machine}
            speeds[name] = replace(speed, session_speeds=together)
    return data, speeds


def _sessions(path: Path, data: dict[str, Any]) -> dict[str, dict[str, float]]:
    """A schema-2 file's sessions, checked: each maps the models measured in it to their sentences per second."""
    sessions = data.get("sessions")
    if not isinstance(sessions, dict):
        raise HarnessError(f"{path}: sessions must map each benchmark session to its models' speeds")
    for session, speeds in sessions.items():
        if not isinstance(speeds, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
                for v in speeds.values()):
            raise HarnessError(f"{path}: session {session!r}: each model's speed must be a positive number")
    return sessions


def merged_speeds(path: str | Path, measured: dict[str, dict[str, Any]], session: str) -> dict[str, Any]:
    """The file's content with `measured` ({model: entry}), all measured in `session`, replacing those models'
    entries; the sessions no entry refers to any more are dropped. A schema-1 file's entries join one session per
    machine, `unrecorded (<machine>)`."""
    data = _read(Path(path))[0] or {"models": {}}  # a damaged file is refused, not merged into
    sessions = data.get("sessions", {})
    models = {}
    for name, entry in data["models"].items():
        if "session" not in entry:  # schema 1
            entry = {**entry, "session": UNRECORDED.format(machine=entry["machine"])}
            sessions.setdefault(entry["session"], {})[name] = entry["sentences_per_second"]
        models[name] = entry
    models.update({name: {**entry, "session": session} for name, entry in measured.items()})
    sessions[session] = {**sessions.get(session, {}),
                         **{name: entry["sentences_per_second"] for name, entry in measured.items()}}
    used = {entry["session"] for entry in models.values()}
    return {"schema": SPEED_SCHEMA, "models": dict(sorted(models.items())),
            "sessions": {key: dict(sorted(value.items())) for key, value in sorted(sessions.items()) if key in used}}
