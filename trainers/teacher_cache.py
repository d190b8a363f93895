"""Teacher embeddings on disk, keyed by teacher (name + revision) and text: computed once, reused by
every later run and every trainer. Shards are written atomically, so a killed run loses nothing
already saved.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from harness.core.atomic import write_bytes_atomic
from harness.core.encoder import Encoder, text_key

SHARD_ROWS = 4096


class TeacherCache:
    """A folder of `shard-*.npz` files (keys, vectors) for one teacher."""

    def __init__(self, root: str | Path, teacher: Encoder):
        ident = f"{teacher.name}@{teacher.revision}"
        self.folder = Path(root) / hashlib.sha256(ident.encode()).hexdigest()[:16]
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "teacher.txt").write_text(ident + "\n", encoding="utf-8")
        self.teacher = teacher
        self._index: dict[bytes, np.ndarray] = {}
        for shard in sorted(self.folder.glob("shard-*.npz")):
            with np.load(shard) as data:
                self._index.update(zip((row.tobytes() for row in data["keys"]), data["vectors"]))
        self.computed = 0

    def __len__(self) -> int:
        return len(self._index)

    def embed(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        """Teacher embeddings of `texts`, encoding (and saving) only those not cached yet."""
        keys = [text_key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts) if k not in self._index}
        items = list(missing.items())
        for start in range(0, len(items), SHARD_ROWS):
            chunk = items[start:start + SHARD_ROWS]
            vectors = np.asarray(self.teacher.encode([t for _, t in chunk], batch_size=batch_size), dtype=np.float32)
            self._save_shard([k for k, _ in chunk], vectors)
            self._index.update(zip((k for k, _ in chunk), vectors))
            self.computed += len(chunk)
        return np.stack([self._index[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)

    def _save_shard(self, keys: list[bytes], vectors: np.ndarray) -> None:
        buffer = io.BytesIO()
        keys_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), -1)
        np.savez(buffer, keys=keys_array, vectors=vectors)
        digest = hashlib.sha256(b"".join(keys)).hexdigest()[:16]
        write_bytes_atomic(self.folder / f"shard-{digest}.npz", buffer.getvalue())
