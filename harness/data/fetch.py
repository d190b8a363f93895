"""Fetch evaluation sets from their pinned public sources, and verify a data root against the manifest.

Every file is checked against the sha256 this project measured before it is put in place, and put in place
atomically: a download goes to `NAME.part` beside its target (a rerun resumes it with an HTTP range request)
and is renamed only once complete and verified, so a killed or failed fetch never leaves a half file. A file
that does not hash to the manifest's value is deleted, not kept.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.atomic import publish, write_bytes_atomic
from harness.core.errors import HarnessError
from harness.data.manifest import RAW, DataFile, DataSet, sha256_of

CHUNK = 1 << 16
TIMEOUT = 30.0


@dataclass
class FetchReport:
    fetched: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # were there, but changed: fetched again


@dataclass
class Problem:
    path: str
    what: str  # missing | changed


def _open(url: str, start: int):
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "distill-harness",
                                                       **({"Range": f"bytes={start}-"} if start else {})})
    except ValueError as err:  # not a URL: a --mirror without http:// or https://
        raise HarnessError(f"cannot download {url}: {err} (a --mirror is a URL such as https://mirror.example)") \
            from None
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310 (https or the user's mirror)
    except urllib.error.HTTPError as err:
        if err.code == 416 and start:  # the range starts at the end: the part is already whole
            return None
        raise HarnessError(f"cannot download {url}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise HarnessError(f"cannot download {url}: {reason} (offline? --mirror URL fetches from a mirror)") from None


def download(url: str, target: Path, sha256: str, size: int | None = None,
             advance: Callable[[int], None] = lambda n: None) -> None:
    """Download `url` to `target`, resuming `target.part`; the part becomes `target` only once it hashes to
    `sha256`. A part shorter than `size` is kept for a rerun to resume (a connection that closed early); a
    wrong hash deletes the part and raises, naming the file and both hashes."""
    part = target.with_name(target.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    response = _open(url, start)
    if response is not None:
        with response:
            resumed = start and response.status == 206
            if start and not resumed:  # the server sent the whole file: start over
                start = 0
            advance(start)
            handle = None
            try:
                while block := response.read(CHUNK):
                    if handle is None:  # the part exists only once a byte has arrived
                        part.parent.mkdir(parents=True, exist_ok=True)
                        handle = open(part, "ab" if resumed else "wb")
                    handle.write(block)
                    advance(len(block))
            except (OSError, http.client.HTTPException) as err:
                raise HarnessError(f"cannot download {url}: {err} ({part} kept: a rerun resumes it)") from None
            finally:
                if handle is not None:
                    handle.flush()
                    os.fsync(handle.fileno())
                    handle.close()
    if not part.exists():
        raise HarnessError(f"cannot download {url}: the server sent nothing")
    if size is not None and part.stat().st_size < size:
        raise HarnessError(f"cannot download {url}: the connection closed after {part.stat().st_size} of {size} "
                           f"bytes ({part} kept: a rerun resumes it)")
    got = sha256_of(part)
    if got != sha256:
        part.unlink()
        raise HarnessError(f"{target}: the download from {url} has sha256 {got}, not the manifest's {sha256}; "
                           f"nothing was kept")
    publish(part, target)


def fetch(sets: list[DataSet], root: Path, *, langs: list[str] | None = None, mirror: str | None = None,
          progress: bool = True) -> FetchReport:
    """Fetch `sets` (the files `langs` need, or all) into the data root `root`."""
    from tqdm.auto import tqdm

    report = FetchReport()
    base = mirror or RAW
    for dataset in sets:
        _, problems = verify([dataset], root, langs)
        wrong = {problem.path: problem.what for problem in problems}
        todo: dict[str, list[DataFile]] = {}  # upstream path -> the files it gives
        for file in dataset.for_langs(langs):
            if file.path not in wrong:
                report.present.append(file.path)
                continue
            if wrong[file.path] == "changed":
                report.replaced.append(file.path)
            todo.setdefault(file.upstream, []).append(file)
        total = sum(f.bytes for files in todo.values() for f in files if f.member is None)
        with tqdm(total=total, desc=dataset.name, unit="B", unit_scale=True, file=sys.stderr,
                  disable=not progress or not todo) as bar:
            for files in todo.values():
                url = files[0].url(dataset.source, base)
                if files[0].member is None:
                    download(url, root / files[0].path, files[0].sha256, files[0].bytes, bar.update)
                else:
                    _from_zip(url, files, root)
                report.fetched += [f.path for f in files]
    return report


def _from_zip(url: str, files: list[DataFile], root: Path) -> None:
    """Download a zip (whole: they are small) and put in place the members the manifest names, each verified."""
    response = _open(url, 0)
    with response:
        data = response.read()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise HarnessError(f"{url}: not a zip file; nothing was kept") from None
    for file in files:
        try:
            content = archive.read(file.member)
        except KeyError:
            raise HarnessError(f"{url}: has no member {file.member}; nothing was kept") from None
        got = hashlib.sha256(content).hexdigest()
        if got != file.sha256:
            raise HarnessError(f"{root / file.path}: member {file.member} of {url} has sha256 {got}, not the "
                               f"manifest's {file.sha256}; nothing was kept")
    for file in files:
        write_bytes_atomic(root / file.path, archive.read(file.member))


def verify(sets: list[DataSet], root: Path, langs: list[str] | None = None) -> tuple[int, list[Problem]]:
    """(files checked, problems): every file of `sets` that is missing under `root` or hashes otherwise."""
    problems, checked = [], 0
    for dataset in sets:
        for file in dataset.for_langs(langs):
            checked += 1
            path = root / file.path
            if not path.is_file():
                problems.append(Problem(file.path, "missing"))
            elif sha256_of(path) != file.sha256:
                problems.append(Problem(file.path, "changed"))
    return checked, problems


def state(dataset: DataSet, root: Path) -> str:
    """present (every file, as measured), missing (none), partial (some missing) or modified (one changed)."""
    checked, problems = verify([dataset], root)
    if not problems:
        return "present"
    if any(p.what == "changed" for p in problems):
        return "modified"
    return "missing" if len(problems) == checked else "partial"
