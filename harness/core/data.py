"""Where the data lives, and validated readers for the file formats the tasks and trainers use.

Every reader fails with a DataError naming the file, the 1-based line and the problem, so that the
CLI can print one line and exit 2. Readers return plain Python lists: small, typed, testable.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import DataError, HarnessError

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_ENV = "HARNESS_DATA"


def data_root() -> Path:
    """The data root: env HARNESS_DATA, else ../shared/data beside the repository root."""
    raw = os.environ.get(DATA_ENV)
    root = Path(raw).expanduser() if raw else REPO_ROOT.parent / "shared" / "data"
    if not root.is_dir():
        how = f"{DATA_ENV}={raw!r}" if raw else f"default {root} (set {DATA_ENV} to override)"
        raise HarnessError(
            f"data root not found: {how}; point {DATA_ENV} at the folder holding parallel/ and eval/"
        )
    return root


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise DataError(path, "file not found")
    return path


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without the newline) of a UTF-8 file, gzip-aware."""
    path = require_file(Path(path))
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as raw:
        for number, data in enumerate(raw, start=1):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(path, f"invalid UTF-8 at byte {err.start} of the line", number) from None
            yield number, text.rstrip("\r\n")


def read_lines(path: str | Path) -> list[str]:
    """All lines of a text file; empty lines are an error (they break alignment silently)."""
    lines = []
    for number, text in iter_lines(path):
        if not text.strip():
            raise DataError(path, "empty line", number)
        lines.append(text)
    if not lines:
        raise DataError(path, "empty dataset: no lines")
    return lines


def read_aligned(path_a: str | Path, path_b: str | Path) -> tuple[list[str], list[str]]:
    """Two line-aligned files (Tatoeba, FLORES, bring-your-own bitext) of equal length."""
    a, b = read_lines(path_a), read_lines(path_b)
    if len(a) != len(b):
        raise DataError(path_b, f"has {len(b)} lines but {Path(path_a).name} has {len(a)}: files are not aligned")
    return a, b


def read_tsv(path: str | Path, columns: int) -> list[tuple[int, list[str]]]:
    """Rows of a header-less TSV with exactly `columns` non-empty fields, with their line numbers."""
    rows = []
    for number, text in iter_lines(path):
        if not text.strip():
            continue
        fields = text.split("\t")
        if len(fields) != columns:
            raise DataError(path, f"expected {columns} tab-separated fields, found {len(fields)}", number)
        for i, field in enumerate(fields, start=1):
            if not field.strip():
                raise DataError(path, f"field {i} is empty", number)
        rows.append((number, fields))
    if not rows:
        raise DataError(path, "empty dataset: no rows")
    return rows


def read_pairs(path: str | Path) -> list[tuple[str, str]]:
    """Parallel pairs `source<TAB>target` (the parallel/ training files)."""
    return [(f[0], f[1]) for _, f in read_tsv(path, 2)]


@dataclass(frozen=True)
class ScoredPair:
    """One STS item: two sentences and a gold similarity score."""

    s1: str
    s2: str
    score: float


def _parse_score(path: str | Path, number: int, raw: str, low: float, high: float) -> float:
    try:
        score = float(raw)
    except ValueError:
        raise DataError(path, f"score {raw!r} is not a number", number) from None
    if not math.isfinite(score) or not low <= score <= high:
        raise DataError(path, f"score {raw} is outside [{low:g}, {high:g}]", number)
    return score


def read_sts_tsv(path: str | Path, low: float = 0.0, high: float = 5.0) -> list[ScoredPair]:
    """Bring-your-own STS: `s1<TAB>s2<TAB>score`, no header."""
    return [ScoredPair(f[0], f[1], _parse_score(path, n, f[2], low, high)) for n, f in read_tsv(path, 3)]


def read_sts_csv(path: str | Path, low: float = 0.0, high: float = 5.0) -> list[ScoredPair]:
    """STSb-multi-mt: CSV `sentence1,sentence2,score` without a header (quoted fields allowed)."""
    items = []
    text = "\n".join(line for _, line in iter_lines(path))
    reader = csv.reader(io.StringIO(text))
    for fields in reader:
        number = reader.line_num
        if not fields:
            continue
        if len(fields) != 3:
            raise DataError(path, f"expected 3 comma-separated fields, found {len(fields)}", number)
        if not fields[0].strip() or not fields[1].strip():
            raise DataError(path, "a sentence is empty", number)
        items.append(ScoredPair(fields[0], fields[1], _parse_score(path, number, fields[2], low, high)))
    if not items:
        raise DataError(path, "empty dataset: no rows")
    return items
