"""How a record is laid out on disk (schema version 4): one top-level field per line, and the parts that many
records of a model hold identically stored once, by the SHA-256 of their text, in the model's folder.

Two parts repeat: a student's `run` block (its settings, the same in each of its ~20 records) and the gold
scores of an STS dataset (the same for every pair of it that shares items: STSb multi-mt's rows are aligned
across languages, so all its pairs share one). In a record file such a part reads {"shared": "<sha256>"},
and `<model>/_shared/<sha256>.blob` holds its canonical JSON (sorted keys, no spaces). A model's folder thus
stays whole: copied or deleted, its parts go with it; and the parts are not `*.json`, so nothing that looks
for records finds them. Reading puts each part back and checks its digest, so a record in memory is what it
always was; a reference to a missing or altered part makes the record unreadable, with the reason, never
silently different. Task folders never start with "_" (`safe_name`), so `_shared` cannot collide with one.
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
SHARED_ARRAYS = frozenset({"gold"})  # evidence arrays that depend on the data only, never on the model
REFERENCE = "shared"
_DIGEST = re.compile(r"[0-9a-f]{64}")


def canonical(value: Any) -> str:
    """The one text of a JSON value: sorted keys, no spaces, strict (no NaN)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _reference(value: Any, shared: dict[str, str]) -> dict[str, str]:
    text = canonical(value)
    digest = digest_of(text)
    shared[digest] = text
    return {REFERENCE: digest}


def split_shared(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(`record` with its shared parts replaced by references, {digest: text} of those parts)."""
    shared: dict[str, str] = {}
    out = dict(record)
    if isinstance(record.get("run"), dict) and record["run"]:
        out["run"] = _reference(record["run"], shared)
    evidence = record.get("evidence")
    if isinstance(evidence, dict) and isinstance(evidence.get("arrays"), dict):
        arrays = {name: _reference(entry, shared) if name in SHARED_ARRAYS else entry
                  for name, entry in evidence["arrays"].items()}
        out["evidence"] = {**evidence, "arrays": arrays}
    return out, shared


def _is_reference(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {REFERENCE}


def part_path(record_path: Path, digest: str) -> Path:
    """Where the shared part `digest` of the record file at <model>/<task>/<pair>.json is stored."""
    return record_path.parents[1] / SHARED_DIR / f"{digest}{PART_SUFFIX}"


def join_shared(stored: dict[str, Any], read_part: Callable[[str], str]) -> dict[str, Any]:
    """`stored` with each reference replaced by its part; `read_part(digest)` returns the part's text (or
    raises OSError). A malformed, missing or altered part is a RecordError naming it."""

    def part(reference: dict[str, str]) -> Any:
        digest = reference[REFERENCE]
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise RecordError(f"malformed shared-part reference {digest!r}")
        try:
            text = read_part(digest)
        except OSError:
            raise RecordError(f"its shared part {SHARED_DIR}/{digest}{PART_SUFFIX} is missing") from None
        if digest_of(text) != digest:
            raise RecordError(f"its shared part {SHARED_DIR}/{digest}{PART_SUFFIX} does not match its digest")
        return json.loads(text)

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
