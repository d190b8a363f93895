"""Encoding a large corpus in chunks, each kept on disk as soon as it is done, so that a killed mining run
resumes where it stopped instead of encoding everything again.

A chunk file is keyed by the model (name and revision), the corpus's sentences (a hash of all of them, in
order) and the chunk size, so a changed corpus, model or chunking never reads a stale chunk. Vectors are
stored L2-normalised, as float32 `.npy` files, each written atomically.
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
from pathlib import Path

import numpy as np

from harness.core.atomic import write_bytes_atomic
from harness.core.encoder import Encoder
from harness.core.errors import HarnessError
from harness.core.vectors import unit_rows

CHUNK_SENTENCES = 20_000  # about 30 MB of 384-d vectors: a kill loses at most a minute or two of encoding


def corpus_digest(sentences: list[str]) -> str:
    """A hash of the sentences in order (a newline cannot occur inside one: they are lines)."""
    digest = hashlib.sha256()
    for sentence in sentences:
        digest.update(sentence.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def cache_folder(root: Path, encoder: Encoder, sentences: list[str], chunk: int) -> Path | None:
    """Where one corpus's chunks for one model live under `root`; None when the model's revision is unknown
    (a hub model read offline), since then a changed model could not be told from the cached one."""
    if not encoder.revision or str(encoder.revision) == "unknown":
        return None
    model = re.sub(r"[^A-Za-z0-9._-]+", "_", encoder.name)[-60:].lstrip("._") or "model"
    revision = hashlib.sha256(f"{encoder.name}\n{encoder.revision}".encode()).hexdigest()[:16]
    return root / f"{model}-{revision}" / f"{corpus_digest(sentences)}-chunk{chunk}"


def _load_chunk(path: Path, rows: int) -> np.ndarray | None:
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError):  # a damaged file (cannot happen through the atomic writer, but a disk can)
        return None
    return vectors if vectors.ndim == 2 and len(vectors) == rows and vectors.dtype == np.float32 else None


def encode_corpus(encoder: Encoder, sentences: list[str], cache: Path | None, *, chunk: int = CHUNK_SENTENCES,
                  batch_size: int = 64, progress: bool = True, label: str = "") -> tuple[np.ndarray, int]:
    """(unit vectors of `sentences`, how many were encoded now rather than read from the cache).

    With `cache` None nothing is kept; otherwise each finished chunk is written under `cache` at once.
    """
    from tqdm.auto import tqdm

    folder = cache_folder(cache, encoder, sentences, chunk) if cache is not None else None
    n_chunks = (len(sentences) + chunk - 1) // chunk
    out: np.ndarray | None = None  # filled chunk by chunk: a corpus is held once, not once more to concatenate
    encoded = 0
    with tqdm(total=len(sentences), desc=label or encoder.name, unit="sent", unit_scale=True, file=sys.stderr,
              disable=not progress) as bar:
        for index in range(n_chunks):
            texts = sentences[index * chunk:(index + 1) * chunk]
            path = folder / f"{index:06d}.npy" if folder is not None else None
            vectors = _load_chunk(path, len(texts)) if path is not None and path.is_file() else None
            if vectors is None:
                vectors = unit_rows(np.asarray(encoder.encode(texts, batch_size=batch_size), dtype=np.float32))
                if vectors.shape[0] != len(texts) or not np.isfinite(vectors).all():
                    raise HarnessError(f"model '{encoder.name}' returned {vectors.shape} or non-finite values for "
                                       f"{len(texts)} sentences of {label or 'the corpus'}")
                if path is not None:
                    buffer = io.BytesIO()
                    np.save(buffer, vectors, allow_pickle=False)
                    write_bytes_atomic(path, buffer.getvalue())
                encoded += len(texts)
            if out is None:
                out = np.empty((len(sentences), vectors.shape[1]), dtype=np.float32)
            elif vectors.shape[1] != out.shape[1]:
                raise HarnessError(f"cached chunks under {folder} disagree in dimension ({vectors.shape[1]} and "
                                   f"{out.shape[1]}): delete the folder")
            out[index * chunk:index * chunk + len(texts)] = vectors
            bar.update(len(texts))
    return out, encoded
