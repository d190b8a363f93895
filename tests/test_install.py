"""The installed command: a wheel of this project, installed (not editable) in a fresh virtual environment,
gives a working `harness` entry point, carries the report's JS and CSS and the data manifest, and installs no
top-level module names beyond the three the layout fixes (harness, tasks, trainers).

The environment borrows the heavy dependencies (torch, sentence-transformers, ...) from this one
(`--system-site-packages`), so nothing is downloaded; the project itself comes from the wheel only."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the files git knows (tracked, or new and not ignored), so that a stale
    build/ folder or egg-info in this checkout cannot add to it, and the build writes nothing here."""
    source = tmp_path_factory.mktemp("source")
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file() and not name.startswith("results/"):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(source)], check=True, capture_output=True)
    return next(out.glob("distill_harness-*.whl"))


@pytest.mark.slow
def test_the_wheel_holds_the_three_packages_and_their_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"harness", "tasks", "trainers"}
    for needed in ("harness/results/report/report.js", "harness/results/report/report.css",
                   "harness/data/manifest.json"):
        assert needed in names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "harness = harness.app.cli:main" in entry_points


@pytest.mark.slow
def test_the_installed_command_runs_from_a_fresh_environment(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "-q", str(wheel)], check=True, capture_output=True)
    harness = env_dir / "bin" / "harness"
    where = subprocess.run([str(python), "-c", "import harness, tasks; print(harness.__file__, tasks.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(env_dir) in where and str(ROOT) not in where  # the wheel's copy, not this checkout
    shown = subprocess.run([str(harness), "--help"], cwd=tmp_path, capture_output=True, text=True)
    commands = "{eval,train,run,validate,leaderboard,compare,migrate,export,data,mine,ls}"
    assert shown.returncode == 0 and commands in shown.stdout
    listed = subprocess.run([str(harness), "data", "list"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert listed.returncode == 0, listed.stderr
    assert f"data root: {tmp_path}/.local/share/distill-harness/data" in listed.stdout  # no checkout beside it
    assert "missing" in listed.stdout and "tatoeba" in listed.stdout
    trainers = subprocess.run([str(harness), "ls", "trainers"], cwd=tmp_path, capture_output=True, text=True)
    assert trainers.returncode == 0 and "align-map" in trainers.stdout
