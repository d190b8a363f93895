"""The architecture's import rules (docs/ARCHITECTURE.md) and the lint rules hold, and the layer contract
can fail: violations planted in a copy of the tree are caught. Tools run through this interpreter
(`sys.executable -m ...`), so a virtual environment without them on PATH fails instead of skipping."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["harness", "tasks", "trainers"]
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}  # the copy's packages, not the installed ones
    return subprocess.run([sys.executable, "-c", LINT_IMPORTS], cwd=tree, env=env, capture_output=True, text=True)


def test_import_layers_hold():
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "3 kept, 0 broken" in proc.stdout


def test_ruff_is_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", *PACKAGES, "tests"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]


@pytest.fixture
def tree_copy(tmp_path):
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


VIOLATIONS = {
    "a plug-in loads models": ("tasks/sts.py", "import harness.encoders.adapters",
                               "tasks.sts -> harness.encoders.adapters"),
    "results reaches up into the application": ("harness/results/tables.py", "import harness.app.config",
                                                "harness.results.tables -> harness.app.config"),
    "a trainer imports a task": ("trainers/distill.py", "import tasks.sts", "trainers.distill -> tasks.sts"),
    "the kernel imports torch": ("harness/core/data.py", "import torch", "harness.core.data -> torch"),
}


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_a_planted_violation_breaks_the_contracts(tree_copy, case):
    path, line, reported = VIOLATIONS[case]
    assert lint_imports(tree_copy).returncode == 0  # the clean copy passes
    with open(tree_copy / path, "a", encoding="utf-8") as handle:
        handle.write(f"\n{line}  # planted\n")
    proc = lint_imports(tree_copy)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "BROKEN" in proc.stdout and reported in proc.stdout
