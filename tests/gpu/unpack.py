"""Rebuild what tests/gpu/pack.py sent back from the GPU machine:

    python tests/gpu/unpack.py FILES_DIR [--models models] [--records DIR]

The student folder goes under --models (its weights joined from the parts, with the base's word embeddings
put back), checked byte for byte against the manifest; the records, run settings and leaderboard are
unpacked under --records (default: FILES_DIR/records) for review before they join results/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from safetensors.torch import load_file, save_file

    from harness.encoders.specs import folder_revision, resolve
    from tests.gpu.pack import EMBEDDINGS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files")
    parser.add_argument("--models", default="models")
    parser.add_argument("--records", default=None)
    args = parser.parse_args()
    files, models = Path(args.files), Path(args.models)
    records = Path(args.records) if args.records else files / "records"
    records.mkdir(parents=True, exist_ok=True)
    with tarfile.open(files / "records.tar.xz") as tar:
        tar.extractall(records, filter="data")
    for entry in json.loads((files / "manifest.json").read_text(encoding="utf-8")):
        with tarfile.open(files / "student.tar.xz") as tar:
            tar.extractall(models, filter="data")
        data = b"".join((files / f"weights.safetensors.part{i:02d}").read_bytes() for i in range(entry["parts"]))
        if hashlib.sha256(data).hexdigest() != entry["weights_sha256"]:
            raise SystemExit("weights: the joined parts do not match the manifest")
        folder = models / entry["student"]
        partial = folder / "weights.safetensors"
        partial.write_bytes(data)
        weights = load_file(str(partial))
        partial.unlink()
        if entry["word_embeddings_are_the_base"]:
            base = load_file(str(Path(resolve("multilingual-e5-small").location) / "model.safetensors"))
            weights[EMBEDDINGS] = base[EMBEDDINGS]
        save_file({k: weights[k] for k in entry["keys"]}, str(folder / "model.safetensors"), metadata={"format": "pt"})
        digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
        revision = folder_revision(folder)
        ok = digest == entry["model_safetensors_sha256"] and revision == entry["revision"]
        print(f"{folder}: model.safetensors {'matches' if ok else 'DIFFERS FROM'} the GPU's "
              f"(revision {revision}, expected {entry['revision']})")
        if not ok:
            raise SystemExit(1)
    print(f"records: {records}")


if __name__ == "__main__":
    main()
