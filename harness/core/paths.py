"""Where things live: the data root, results, models and caches. The one home of these defaults.

Results, run configurations, models and the teacher cache are relative to the working directory (the
project the user runs in). The data root defaults to ../shared/data beside the project root: the
source checkout when the harness runs from one, else the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.core.errors import HarnessError

DATA_ENV = "HARNESS_DATA"
CACHE_ENV = "HARNESS_CACHE"

RESULTS_DIR = "results"  # the generated leaderboard and report
RUNS_DIR = "results/runs"  # one JSON record per (model, task, language pair)
RUN_CONFIGS_DIR = "results/run_configs"  # the settings of each run, named after its students
MODELS_DIR = "models"  # trained students
TEACHER_CACHE_DIR = "cache/teacher"  # teacher embeddings, reused across runs and trainers
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    """The source checkout this harness runs from, or the working directory when it is installed."""
    return _SOURCE_ROOT if (_SOURCE_ROOT / "pyproject.toml").is_file() else Path.cwd()


def shared_root() -> Path:
    """The read-only folder beside the project: data/, models/."""
    return project_root().parent / "shared"


def data_root() -> Path:
    """The data root: env HARNESS_DATA, else ../shared/data beside the project root."""
    raw = os.environ.get(DATA_ENV)
    root = Path(raw).expanduser() if raw else shared_root() / "data"
    if not root.is_dir():
        how = f"{DATA_ENV}={raw!r}" if raw else f"default {root} (set {DATA_ENV} to override)"
        raise HarnessError(
            f"data root not found: {how}; point {DATA_ENV} at the folder holding parallel/ and eval/"
        )
    return root


def dataset_folder(root: Path, *parts: str) -> Path:
    """A dataset's folder under the data root; an error names the root and the folder that is missing."""
    folder = root.joinpath(*parts)
    if not folder.is_dir():
        raise HarnessError(f"data root {root} has no {'/'.join(parts)}/ folder; "
                           f"is {DATA_ENV} pointing at the right place?")
    return folder


def cache_root() -> Path:
    """Where unpacked models live: $HARNESS_CACHE, default ~/.cache/distill-harness."""
    return Path(os.environ.get(CACHE_ENV, "~/.cache/distill-harness")).expanduser()
