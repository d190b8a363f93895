"""Atomic reads and writes of result records under results/runs/<model>/<task>/<pair>.json.

Names are sanitised so that no model or task name can escape the store's root. A stored record is reused
only for the same model revision, task version and data fingerprint (`ResultStore.reusable`). The parts a
model's records share are stored once under results/runs/<model>/_shared (`harness.results.layout`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.atomic import write_text_atomic
from harness.core.paths import RUNS_DIR
from harness.results.layout import join_shared, part_file, record_text, split_shared
from harness.results.schema import RecordError, upgrade

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, max_length: int = 80) -> str:
    """A file-name-safe form of `name`; a short hash keeps distinct names distinct after cleaning."""
    cleaned = _UNSAFE.sub("_", name).strip("._-")[:max_length]
    if cleaned == name and cleaned not in ("", ".", ".."):
        return cleaned
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned or 'model'}-{digest}"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temp file beside `path`, fsync, then rename over it: readers never see half a file.
    Strict JSON: a NaN or an infinity anywhere is an error here, never a bare `NaN` in a file."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n")


VOLATILE = ("created_at", "timing")  # what a recomputation changes although the result is the same


def write_json_unless_same(path: Path, data: dict[str, Any], ignore: Collection[str] = ()) -> bool:
    """Write `data` atomically unless the file already says the same, its top-level keys in `ignore` aside
    (an older file that still carries one of them is left as it is). True when it wrote."""
    try:
        stored = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = None
    if _says_the_same(stored, data, ignore):
        return False
    write_json_atomic(path, data)
    return True


def _says_the_same(stored: Any, data: dict[str, Any], ignore: Collection[str]) -> bool:
    """Whether a stored JSON object holds what `data` would be written as, its top-level keys in `ignore` aside."""
    if not isinstance(stored, dict):
        return False
    def kept(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if k not in ignore}

    return kept(stored) == kept(json.loads(json.dumps(data)))


@dataclass(frozen=True)
class Problem:
    """A results file that could not be read, and why."""

    path: Path
    reason: str


class ResultStore:
    """The result records of one results directory."""

    def __init__(self, root: str | Path = RUNS_DIR):
        self.root = Path(root)
        self._parts: dict[Path, str] = {}  # shared parts already read: ~2 per model, each read by ~20 records

    def model_folder(self, path: Path) -> Path:
        """The model folder of the record file at `path`, which must be <root>/<model>/<task>/<pair>.json: only
        there does a record have a place for its shared parts."""
        try:
            parts = Path(path).relative_to(self.root).parts
        except ValueError:
            parts = ()
        if len(parts) != 3:
            raise RecordError(f"not a record's place (<model>/<task>/<pair>.json under {self.root})")
        return self.root / parts[0]

    def _read_part(self, record_path: Path, name: str) -> str:
        where = part_file(self.model_folder(record_path), name)
        if where not in self._parts:
            self._parts[where] = where.read_text(encoding="utf-8")
        return self._parts[where]

    def encode(self, record: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """(the record file's text, {name: text} of the shared parts it refers to)."""
        stored, parts = split_shared(record)
        return record_text(stored), parts

    def save(self, path: Path, record: dict[str, Any]) -> None:
        """Write `record` to `path` in the store's layout."""
        self.write_encoded(path, *self.encode(record))

    def write_encoded(self, path: Path, text: str, parts: dict[str, str]) -> None:
        """Write an encoded record: its shared parts first (each once, atomically, in the record's model
        folder; a missing or damaged copy on disk is written again), then the record file, atomically (a
        reader never meets a reference to a part not yet written)."""
        folder = self.model_folder(path) if parts else None
        for name, part in parts.items():
            where = part_file(folder, name)
            try:
                intact = where.read_bytes() == part.encode("utf-8")
            except OSError:
                intact = False
            if not intact:
                write_text_atomic(where, part)
            self._parts[where] = part
        write_text_atomic(path, text)

    def path_for(self, model: str, task: str, pair: str) -> Path:
        path = self.root / safe_name(model) / safe_name(task) / f"{safe_name(pair)}.json"
        resolved_root = self.root.resolve()
        if not path.resolve().is_relative_to(resolved_root):  # defence in depth; safe_name already ensures it
            raise ValueError(f"refusing to write outside {resolved_root}: {path}")
        return path

    def write(self, record: dict[str, Any]) -> Path:
        """Store a record, unless the stored one says the same (when, and how long it took, aside): a rerun
        that recomputes what is already there leaves the file, and `git status`, as they were."""
        path = self.path_for(record["model"]["name"], record["task"]["name"], record["pair"])
        stored = self.read(record["model"]["name"], record["task"]["name"], record["pair"])
        if not _says_the_same(stored, record, VOLATILE):
            self.save(path, record)
        return path

    def read(self, model: str, task: str, pair: str) -> dict[str, Any] | None:
        path = self.path_for(model, task, pair)
        if not path.is_file():
            return None
        try:
            return self.load(path)
        except RecordError:
            return None

    def reusable(self, model: str, revision: str | None, task: dict[str, Any], pair: str, fingerprint: str,
                 intervals: bool = True) -> dict[str, Any] | None:
        """The stored record when it was computed by this model revision, on this task version, from data with
        this fingerprint (and has intervals when they are wanted); else None: a retrained model, a changed
        dataset or an unknown revision is computed again."""
        if not revision or revision == "unknown":
            return None
        record = self.read(model, task["name"], pair)
        fits = bool(record and record["status"] == "ok" and record["model"].get("revision") == revision
                    and record["task"].get("version") == task.get("version")
                    and record.get("data_fingerprint") == fingerprint and record.get("evidence")
                    and (record.get("bootstrap") or not intervals))
        return record if fits else None

    def load(self, path: Path) -> dict[str, Any]:
        """The record in the file at `path`, its shared parts put back, upgraded to the current schema."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise RecordError(f"corrupt JSON: {err}") from None
        return self.parse(text, path)

    def parse(self, text: str, path: Path) -> dict[str, Any]:
        """The record whose file at `path` holds `text`, its shared parts put back, upgraded."""
        try:
            stored = json.loads(text)
        except json.JSONDecodeError as err:
            raise RecordError(f"corrupt JSON: {err}") from None
        if isinstance(stored, dict):
            stored = join_shared(stored, lambda name: self._read_part(Path(path), name))
        return upgrade(stored)

    def scan(self, model: str | None = None) -> Iterator[tuple[Path, dict[str, Any] | Problem]]:
        """Every record file (of one model, if given) in a stable order, as a record or as a Problem (never
        raising)."""
        root = self.root / safe_name(model) if model is not None else self.root
        for path in sorted(root.rglob("*.json")):
            try:
                yield path, self.load(path)
            except (RecordError, OSError) as err:
                yield path, Problem(path, str(err))

    def records(self, model: str | None = None) -> tuple[list[dict[str, Any]], list[Problem]]:
        """The readable records (of one model, if given) and the files that could not be read as one."""
        records, problems = [], []
        for _, item in self.scan(model):
            (problems if isinstance(item, Problem) else records).append(item)
        return records, problems
