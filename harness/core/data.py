"""Validated readers for the data file formats the tasks and trainers use, read once per run.

Every reader fails with a DataError naming the file, the 1-based line and the problem, so that the
CLI can print one line and exit 2. Readers return plain Python lists: small, typed, testable.

Inside `reading_once()` (a run's plan) each file is read from disk once, however many tasks or pairs
use it, and `recording_reads()` tells which files (and which contents) a piece of work read: that is
the data fingerprint stored with each result.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import math
import zlib
from collections import Counter
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.errors import DataError


@dataclass
class FileLedger:
    """The files one run reads: each is read from disk once, and its content hashed once."""

    content: dict[Path, bytes] = field(default_factory=dict)
    digests: dict[Path, str] = field(default_factory=dict)
    disk_reads: Counter = field(default_factory=Counter)

    def read(self, path: Path) -> bytes:
        key = path.resolve()
        if key not in self.content:
            self.disk_reads[key] += 1
            self.content[key] = key.read_bytes()
            self.digests[key] = _digest(self.content[key])
        return self.content[key]


_LEDGER: ContextVar[FileLedger | None] = ContextVar("harness_file_ledger", default=None)
_RECORDING: ContextVar[dict[Path, str] | None] = ContextVar("harness_recording", default=None)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def reading_once() -> Iterator[FileLedger]:
    """Within this block every data file is read from disk at most once."""
    ledger = FileLedger()
    token = _LEDGER.set(ledger)
    try:
        yield ledger
    finally:
        _LEDGER.reset(token)
        ledger.content.clear()  # what was read has been parsed; only the counts and digests are kept


@contextlib.contextmanager
def recording_reads() -> Iterator[dict[Path, str]]:
    """Collect {file: sha256 of its content} of every data file read within this block."""
    used: dict[Path, str] = {}
    token = _RECORDING.set(used)
    try:
        yield used
    finally:
        _RECORDING.reset(token)


def fingerprint(used: dict[Path, str]) -> str:
    """A short hash of the files a result was computed from: their names and contents, not their place."""
    digest = hashlib.sha256()
    for path, content in sorted((f"{p.parent.name}/{p.name}", d) for p, d in used.items()):
        digest.update(f"{path}\0{content}\n".encode())
    return digest.hexdigest()[:16]


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise DataError(path, "file not found")
    return path


def read_bytes(path: str | Path) -> bytes:
    """A data file's bytes (gzip files decompressed): from the run's ledger when one is active."""
    path = require_file(Path(path))
    ledger = _LEDGER.get()
    data = ledger.read(path) if ledger else path.read_bytes()
    used = _RECORDING.get()
    if used is not None:
        used[path.resolve()] = ledger.digests[path.resolve()] if ledger else _digest(data)
    if path.suffix == ".gz":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(path, f"not a valid gzip file: {err}") from None
    return data


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without the newline) of a UTF-8 file, gzip-aware; a byte-order mark that
    starts the file is not part of its first line."""
    data = read_bytes(path)
    lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    if lines and not lines[-1]:
        lines.pop()  # the newline that ends the last line starts no new one
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DataError(path, f"invalid UTF-8 at byte {err.start} of the line", number) from None
        yield number, text.rstrip("\r\n")


def _without_trailing_blanks(lines) -> list[tuple[int, str]]:
    lines = list(lines)
    while lines and not lines[-1][1].strip():
        lines.pop()
    return lines


def read_aligned(path_a: str | Path, path_b: str | Path) -> tuple[list[str], list[str]]:
    """Two line-aligned files (Tatoeba, FLORES, bring-your-own bitext) of equal length. A line blank in both
    is skipped, as blank lines are in every reader; a line blank in one file only would shift every pair
    after it, so it is an error naming that file and line."""
    a, b = _without_trailing_blanks(iter_lines(path_a)), _without_trailing_blanks(iter_lines(path_b))
    if len(a) != len(b):
        raise DataError(path_b, f"has {len(b)} lines but {Path(path_a).name} has {len(a)}: files are not aligned")
    kept_a, kept_b = [], []
    for (number, left), (_, right) in zip(a, b):
        if not left.strip() and not right.strip():
            continue
        if not left.strip() or not right.strip():
            blank, other = (path_a, path_b) if not left.strip() else (path_b, path_a)
            raise DataError(blank, f"empty line, where {Path(other).name} has a sentence: the files would no "
                                   f"longer be aligned", number)
        kept_a.append(left)
        kept_b.append(right)
    if not kept_a:
        raise DataError(path_a, "empty dataset: no lines")
    return kept_a, kept_b


def read_tsv(path: str | Path, columns: int) -> list[tuple[int, list[str]]]:
    """Rows of a header-less TSV with exactly `columns` non-empty fields, with their line numbers."""
    rows = []
    for number, text in iter_lines(path):
        if not text.strip():
            continue
        fields = text.split("\t")
        if len(fields) != columns:
            raise DataError(path, f"expected {columns} tab-separated fields, found {len(fields)}", number)
        for i, value in enumerate(fields, start=1):
            if not value.strip():
                raise DataError(path, f"field {i} is empty", number)
        rows.append((number, fields))
    if not rows:
        raise DataError(path, "empty dataset: no rows")
    return rows


def read_pairs(path: str | Path) -> list[tuple[str, str]]:
    """Parallel pairs `source<TAB>target` (the parallel/ training files)."""
    return [(f[0], f[1]) for _, f in read_tsv(path, 2)]


def read_mined_pairs(path: str | Path, *, english_first: bool, min_score: float) -> list[tuple[str, str]]:
    """The pairs of a `harness mine` file (`score<TAB>source<TAB>target`) scoring at least `min_score`, as
    (english, translation): `english_first` says whether the mined source side was the English one."""
    pairs = []
    for number, (score, source, target) in read_tsv(path, 3):
        try:
            value = float(score)
        except ValueError:
            raise DataError(path, f"the score {score!r} is not a number (is this a `harness mine` file?)",
                            number) from None
        if not math.isfinite(value):
            raise DataError(path, f"the score {score!r} is not finite", number)
        if value >= min_score:
            pairs.append((source, target) if english_first else (target, source))
    if not pairs:
        raise DataError(path, f"no pair scores {min_score:g} or more")
    return pairs


def read_jsonl_pairs(path: str | Path) -> list[tuple[str, str]]:
    """Parallel pairs as JSON lines: {"english": ..., "non_english": ...} (sentence-transformers' parallel
    sentences) or a two-item array [english, translation]; blank lines are skipped, as in TSV files."""
    pairs = []
    for number, text in iter_lines(path):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(path, f"invalid JSON: {err.msg}", number) from None
        if isinstance(row, dict) and {"english", "non_english"} <= row.keys():
            pair = (row["english"], row["non_english"])
        elif isinstance(row, list) and len(row) == 2:
            pair = (row[0], row[1])
        else:
            raise DataError(path, 'expected {"english": ..., "non_english": ...} or [english, translation]', number)
        if not all(isinstance(side, str) and side.strip() for side in pair):
            raise DataError(path, "a side is empty or not a string", number)
        pairs.append(pair)
    if not pairs:
        raise DataError(path, "empty dataset: no rows")
    return pairs


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


def read_scores(path: str | Path, low: float = 0.0, high: float = 5.0) -> list[float]:
    """One gold score per line (the SemEval STS `.gs` files), each checked to lie in [low, high]."""
    scores = [_parse_score(path, number, text.strip(), low, high) for number, text in iter_lines(path)
              if text.strip()]
    if not scores:
        raise DataError(path, "empty dataset: no scores")
    return scores


def read_json(path: str | Path):
    """A UTF-8 JSON document (XQuAD-R's SQuAD-style files)."""
    data = read_bytes(path)
    try:
        return json.loads(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except UnicodeDecodeError as err:
        raise DataError(path, f"invalid UTF-8 at byte {err.start}") from None
    except json.JSONDecodeError as err:
        raise DataError(path, f"invalid JSON: {err.msg}", err.lineno) from None


def _open_binary(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def read_corpus(path: str | Path) -> list[str]:
    """The sentences of a monolingual corpus (one per line, UTF-8, plain or .gz), read as a stream so that a
    corpus larger than the ledger would hold still loads; blank lines are skipped.

    Refused with the file and line: a file with no sentence, binary data (a NUL byte), UTF-16 text (a
    byte-order mark or NULs between letters), or bytes that are not UTF-8.
    """
    path = require_file(Path(path))
    sentences: list[str] = []
    try:
        with _open_binary(path) as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
                    raise DataError(path, "UTF-16 text: save it as UTF-8", number)
                if b"\x00" in raw:
                    raise DataError(path, "binary data (a NUL byte), not text; is it UTF-16? save it as UTF-8", number)
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise DataError(path, f"invalid UTF-8 at byte {err.start} of the line (another encoding? "
                                          "save it as UTF-8)", number) from None
                text = text.removeprefix("\ufeff") if number == 1 else text
                text = text.strip()
                if text:
                    sentences.append(text)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(path, f"cannot read it: {err}") from None
    if not sentences:
        raise DataError(path, "no sentences: the file is empty or blank")
    return sentences
