"""Rewriting stored records in the current, compact layout (schema version 4), checked item by item.

`compact_record` changes how a record is stored, never what it says: the evidence arrays are re-encoded
compressed (and must decode to the same bytes), the parts that are recomputed from the evidence are
dropped (the main score's stored replicates; the fixed-bin gap histograms, when the gaps themselves are
evidence), and a hard-negative analysis keeps its `WORST_KEPT` worst confusions. `migrate_folder` applies
it to every record of a results folder and writes each in the store's file layout (one field per line,
shared parts once: `harness.results.layout`), atomically, refusing a record whose rewritten form does not
read back with the same metrics and the same evidence.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.results import stats
from harness.results.evidence import arrays_of, decode_array, encode_array, main_replicates
from harness.results.layout import PART_SUFFIX, SHARED_DIR, join_shared, part_file
from harness.results.schema import SCHEMA_VERSION, WORST_KEPT, RecordError, upgrade
from harness.results.store import Problem, ResultStore

DIRECTIONS = ("fwd", "bwd")
REPLICATE_STEP = 0.001  # version 2 stored replicates in steps of this many points (at least)


def compact_record(record: dict[str, Any]) -> dict[str, Any]:
    """`record` (already upgraded) with version 3's compact content (stamped with the current version; the file
    layout is the store's)."""
    out = {**record, "schema_version": SCHEMA_VERSION}
    evidence = record.get("evidence")
    if evidence:
        arrays = sorted(arrays_of(record).items())
        out["evidence"] = {**evidence, "arrays": {name: encode_array(values) for name, values in arrays}}
    if isinstance(record.get("bootstrap"), dict):
        out["bootstrap"] = {k: v for k, v in record["bootstrap"].items() if k != "replicates"}
    analysis = record.get("analysis")
    if isinstance(analysis, dict):
        out["analysis"] = {**analysis}
        gaps = set((evidence or {}).get("arrays") or {})
        for direction in DIRECTIONS:
            part = analysis.get(direction)
            if not isinstance(part, dict):
                continue
            part = {**part}
            if f"gap_{direction}" in gaps:
                part.pop("gap_histogram", None)
            if isinstance(part.get("worst"), list):
                part["worst"] = part["worst"][:WORST_KEPT]
            out["analysis"][direction] = part
    return out


def _same_reading(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """Why `after` does not say what `before` said (metrics, evidence, the rest), or None."""
    if before["metrics"] != after["metrics"]:
        return "its metrics changed"
    if bool(before.get("evidence")) != bool(after.get("evidence")):
        return "its evidence changed"
    if before.get("evidence"):
        old, new = arrays_of(before), arrays_of(after)
        if old.keys() != new.keys() or any(old[k].dtype != new[k].dtype or not np.array_equal(old[k], new[k])
                                           for k in old):
            return "its evidence arrays changed"
        if before["evidence"].get("statistics") != after["evidence"].get("statistics"):
            return "its evidence statistics changed"
    kept = ("evidence", "bootstrap", "analysis", "schema_version")
    if {k: v for k, v in before.items() if k not in kept} != {k: v for k, v in after.items() if k not in kept}:
        return "a field other than evidence, bootstrap and analysis changed"
    return None


PRUNE_AGE_S = 3600  # a writer writes a part just before its record: a younger unreferenced part may be in use


@dataclass
class Migration:
    """What `migrate_folder` did: files rewritten, files already compact, problems (left as they were),
    unreferenced shared parts removed, and the bytes of the records and their shared parts before and
    after."""

    rewritten: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    pruned: int = 0
    bytes_before: int = 0
    bytes_after: int = 0


def _stored_replicates_reproduced(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """A version-2 record's stored replicates are dropped only when its evidence gives them back: the same
    resamples, equal to within two of their stored steps (a record from another resampler keeps them)."""
    stored = (before.get("bootstrap") or {}).get("replicates")
    if not stored or before["bootstrap"].get("resamples") != stats.RESAMPLES:
        return True
    recomputed = main_replicates(after)
    return recomputed is not None and np.allclose(recomputed, decode_array(stored), rtol=0.0,
                                                  atol=2 * float(stored.get("scale", REPLICATE_STEP)))


def _migrated(store: ResultStore, path: Path) -> tuple[str, str, dict[str, str]]:
    """(the file's text, its text in the current layout, the shared parts that text refers to); a ValueError
    says why it cannot be rewritten."""
    text = path.read_text(encoding="utf-8")
    record = store.parse(text, path)
    compacted = compact_record(record)
    new, parts = store.encode(compacted)
    read_back = upgrade(join_shared(json.loads(new), parts.__getitem__))
    why = _same_reading(record, read_back)
    if why is None and not _stored_replicates_reproduced(record, compacted):
        why = "its stored replicates are not what its evidence gives (kept as they are)"
    if why:
        raise ValueError(f"not rewritten: {why}")
    return text, new, parts


def _unreferenced(root: Path, referenced: set[Path], untouchable: set[Path]) -> list[Path]:
    """The shared parts under `root` that no record refers to, old enough that no writer can be about to, in
    model folders whose records could all be read (a part an unreadable record may need is kept)."""
    now = time.time()
    return [part for part in sorted(root.glob(f"*/{SHARED_DIR}/*{PART_SUFFIX}"))
            if part not in referenced and part.parent.parent not in untouchable
            and now - part.stat().st_mtime > PRUNE_AGE_S]


def migrate_folder(root: str | Path, dry_run: bool = False) -> Migration:
    """Rewrite every record under `root` in the current layout (atomically, one file at a time: an
    interrupted migration leaves each file either old or new, both readable), then remove the shared parts
    no record refers to any more (a retrained student's old run block). A file that cannot be read or
    rewritten, or that changed while it was being migrated (a run writing beside it), is reported and left
    alone; with `dry_run`, nothing is written or removed and the sizes are what it would leave."""
    root = Path(root)
    result = Migration()
    store = ResultStore(root)
    parts = {p: p.stat().st_size for p in root.glob(f"*/{SHARED_DIR}/*{PART_SUFFIX}")}
    result.bytes_before += sum(parts.values())
    referenced: set[Path] = set()
    untouchable: set[Path] = set()
    for path in sorted(root.rglob("*.json")):
        size = 0
        try:
            size = path.stat().st_size
            result.bytes_before += size
            folder = store.model_folder(path)  # a record elsewhere has no place for shared parts: named, left alone
            text, new, new_parts = _migrated(store, path)
        except (RecordError, ValueError, KeyError, TypeError, AttributeError, OSError) as err:
            result.problems.append(Problem(path, str(err) or type(err).__name__))
            result.bytes_after += size
            untouchable.add(root / path.relative_to(root).parts[0])
            continue
        if new != text and not dry_run and path.read_text(encoding="utf-8") != text:
            result.problems.append(Problem(path, "changed while it was being migrated: left as it is"))
            result.bytes_after += size
            untouchable.add(folder)
            continue
        result.bytes_after += len(new.encode("utf-8"))
        for name, part in new_parts.items():
            where = part_file(folder, name)
            referenced.add(where)
            parts[where] = len(part.encode("utf-8"))
        if new == text:
            result.unchanged += 1
            continue
        if not dry_run:
            store.write_encoded(path, new, new_parts)
        result.rewritten += 1
    for part in _unreferenced(root, referenced, untouchable):
        parts.pop(part)
        result.pruned += 1
        if not dry_run:
            part.unlink()
    result.bytes_after += sum(parts.values())
    return result
