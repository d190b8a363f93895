"""How a record is laid out on disk (schema version 4): one top-level field per line, and the parts that many
records of a model hold identically stored once, by the SHA-256 of their text, in the model's folder.

Two parts repeat: a student's `run` block (its settings, the same in each of its ~20 records) and the gold
scores of a task whose pairs are row-aligned translations of one set of items (STSb multi-mt: every pair has
the same gold scores; STS17's tracks each have their own, so they stay inline). In a record file such a part
reads {"shared": "run-<sha256>"} (or "gold-..."), and `<model>/_shared/run-<sha256>.blob` holds its canonical
JSON (sorted keys, no spaces). A model's folder thus stays whole: copied or deleted, its parts go with it;
and the parts are not `*.json`, so nothing that looks for records finds them. Reading puts each part back
and checks its digest, so a record in memory is what it always was; a reference to a missing, unreadable or
altered part makes the record unreadable, with the reason, never silently different. Task folders never
start with "_" (`safe_name`), so `_shared` cannot collide with one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.results.schema import RecordError

SHARED_DIR = "_shared"
PART_SUFFIX = ".blob"
FIRST_VERSION = 4  # records before it hold every part inline: nothing in them is read as a reference
ROW_ALIGNED_TASKS = frozenset({"stsb-multi-mt"})  # their pairs share their items, so their gold scores
REFERENCE = "shared"
SMALLEST_SHARED = 128  # bytes: a reference takes about 80 (a plain `eval`'s run block is often smaller: inline)
_NAME = re.compile(r"(run|gold)-([0-9a-f]{64})")


def canonical(value: Any) -> str:
    """The one text of a JSON value: sorted keys, no spaces, strict (no NaN)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _reference(kind: str, value: Any, shared: dict[str, str]) -> Any:
    """A reference to `value` (added to `shared`), or `value` itself when it is no longer than a reference."""
    text = canonical(value)
    if len(text) <= SMALLEST_SHARED:
        return value
    name = f"{kind}-{digest_of(text)}"
    shared[name] = text
    return {REFERENCE: name}


def split_shared(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(`record` with its shared parts replaced by references, {part name: text} of those parts)."""
    shared: dict[str, str] = {}
    out = dict(record)
    if isinstance(record.get("run"), dict) and record["run"]:
        out["run"] = _reference("run", record["run"], shared)
    evidence = record.get("evidence")
    task = record.get("task") or {}
    if task.get("name") in ROW_ALIGNED_TASKS and isinstance(evidence, dict) \
            and isinstance((evidence.get("arrays") or {}).get("gold"), dict):
        out["evidence"] = {**evidence, "arrays": {**evidence["arrays"],
                                                  "gold": _reference("gold", evidence["arrays"]["gold"], shared)}}
    return out, shared


def _is_reference(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {REFERENCE}


def part_file(model_folder: Path, name: str) -> Path:
    """Where the shared part `name` of a model's records is stored."""
    return model_folder / SHARED_DIR / f"{name}{PART_SUFFIX}"


def join_shared(stored: dict[str, Any], read_part: Callable[[str], str]) -> dict[str, Any]:
    """`stored` with each reference replaced by its part (a record of a version before 4 is returned as it
    is); `read_part(name)` returns the part's text. A malformed reference, or a part that is missing,
    unreadable or altered, is a RecordError naming it."""
    if not isinstance(stored.get("schema_version"), int) or stored["schema_version"] < FIRST_VERSION:
        return stored

    def part(reference: dict[str, str]) -> Any:
        name = reference[REFERENCE]
        matched = _NAME.fullmatch(name) if isinstance(name, str) else None
        if matched is None:
            raise RecordError(f"malformed shared-part reference {name!r}")
        where = f"{SHARED_DIR}/{name}{PART_SUFFIX}"
        try:
            text = read_part(name)
        except FileNotFoundError:
            raise RecordError(f"its shared part {where} is missing (a model's records are copied with its "
                              f"{SHARED_DIR} folder)") from None
        except (OSError, UnicodeDecodeError) as err:
            raise RecordError(f"its shared part {where} cannot be read: {err}") from None
        if digest_of(text) != matched.group(2):
            raise RecordError(f"its shared part {where} does not match its digest")
        try:
            return json.loads(text)
        except ValueError as err:
            raise RecordError(f"its shared part {where} is not JSON: {err}") from None

    out = dict(stored)
    if _is_reference(stored.get("run")):
        out["run"] = part(stored["run"])
    evidence = stored.get("evidence")
    if isinstance(evidence, dict) and isinstance(evidence.get("arrays"), dict):
        if any(_is_reference(entry) for entry in evidence["arrays"].values()):
            arrays = {name: part(entry) if _is_reference(entry) else entry
                      for name, entry in evidence["arrays"].items()}
            out["evidence"] = {**evidence, "arrays": arrays}
    return out


def record_text(stored: dict[str, Any]) -> str:
    """A record file's text: valid JSON with each top-level field on its own line, its value compact (about a
    fifth smaller than indented JSON, and a diff still says which field changed)."""
    lines = [f"{json.dumps(key)}: {canonical(stored[key])}" for key in sorted(stored)]
    return "{\n" + ",\n".join(lines) + "\n}\n"
