"""Pack a paper-scale run for the trip back from the GPU machine (at most 8 files of 16 MiB each):

    python tests/gpu/pack.py WORK OUT

- records.tar.xz: the run's records, run settings and leaderboard (WORK/runs, run_configs, LEADERBOARD.md);
- student.tar.xz: every file of each student folder but its weights and checkpoints;
- weights.safetensors.partNN: the student's weights without the word embeddings, which training keeps frozen
  at the base's values (checked here, and stated in manifest.json), in parts of 15 MB;
- manifest.json: the student's name, folder revision and the sha256 of its model.safetensors, so that
  `tests/gpu/unpack.py` here rebuilds it byte for byte from these parts and the base's embeddings.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PART = 15_000_000
EMBEDDINGS = "embeddings.word_embeddings.weight"


def main(work: Path, out: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    from harness.encoders.specs import folder_revision, resolve

    with tarfile.open(out / "records.tar.xz", "w:xz") as tar:
        for name in ("runs", "run_configs", "LEADERBOARD.md"):
            if (work / name).exists():
                tar.add(work / name, arcname=name)
    base = load_file(str(Path(resolve("multilingual-e5-small").location) / "model.safetensors"))
    manifest = []
    for student in sorted(p for p in (work / "models").iterdir() if (p / "training_summary.json").is_file()):
        files = [p for p in student.rglob("*") if p.is_file() and "checkpoints" not in p.relative_to(student).parts
                 and p != student / "model.safetensors"]
        with tarfile.open(out / "student.tar.xz", "w:xz") as tar:
            for file in files:
                tar.add(file, arcname=str(file.relative_to(work / "models")))
        weights = load_file(str(student / "model.safetensors"))
        frozen = bool(torch.equal(weights[EMBEDDINGS].to(base[EMBEDDINGS].dtype), base[EMBEDDINGS]))
        kept = {k: v for k, v in weights.items() if k != EMBEDDINGS or not frozen}
        body = out / "weights.safetensors"
        save_file(kept, str(body), metadata={"format": "pt"})
        data = body.read_bytes()
        body.unlink()
        parts = [data[i:i + PART] for i in range(0, len(data), PART)]
        for i, part in enumerate(parts):
            (out / f"weights.safetensors.part{i:02d}").write_bytes(part)
        manifest.append({"student": student.name, "revision": folder_revision(student),
                         "model_safetensors_sha256": hashlib.sha256((student / "model.safetensors").read_bytes())
                         .hexdigest(), "weights_sha256": hashlib.sha256(data).hexdigest(), "parts": len(parts),
                         "word_embeddings_are_the_base": frozen, "keys": sorted(weights)})
        break  # one student per run here; more would not fit the trip back
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for path in sorted(out.iterdir()):
        print(f"{path.name}: {path.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
