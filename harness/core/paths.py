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
    """The data root, the first of: env HARNESS_DATA (which must exist); ../shared/data beside the source
    checkout the harness runs from, when there is one; the user's data folder (platformdirs), where
    `python -m harness data fetch` puts the evaluation sets by default."""
    raw = os.environ.get(DATA_ENV)
    if raw:
        root = Path(raw).expanduser()
        if not root.is_dir():
            raise HarnessError(f"data root not found: {DATA_ENV}={raw!r}; point {DATA_ENV} at the folder holding "
                               f"parallel/ and eval/, or unset it to use {user_data_root()}")
        return root
    beside = _SOURCE_ROOT.parent / "shared" / "data"
    if (_SOURCE_ROOT / "pyproject.toml").is_file() and beside.is_dir():
        return beside
    return user_data_root()


def user_data_root() -> Path:
    """The user's data folder for this harness, e.g. ~/.local/share/distill-harness/data on Linux."""
    import platformdirs

    return platformdirs.user_data_path("distill-harness") / "data"


def dataset_folder(root: Path, *parts: str) -> Path:
    """A dataset's folder under the data root; an error names the root, the missing folder and how to get it."""
    folder = root.joinpath(*parts)
    if not folder.is_dir():
        if parts[0] == "eval":
            how = f"`python -m harness data fetch {parts[-1]}` downloads it"
        else:
            how = "give training pairs with --parallel FILE, FOLDER or hf:NAME"
        raise HarnessError(f"data root {root} has no {'/'.join(parts)}/ folder: {how} "
                           f"(or point {DATA_ENV} at a data root that has it)")
    return folder


def cache_root() -> Path:
    """Where unpacked models live: $HARNESS_CACHE, default ~/.cache/distill-harness."""
    return Path(os.environ.get(CACHE_ENV, "~/.cache/distill-harness")).expanduser()
