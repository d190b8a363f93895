"""`harness mine`: two monolingual corpora in, the translation pairs found in them out.

corpora -> de-duplicated sentences -> chunked, cached encoding -> kNN both ways (exact, or the approximate
index above a size) -> ratio margin -> candidate mode -> threshold (fixed, or calibrated on gold pairs) ->
`score<TAB>source<TAB>target`, best first, written atomically.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.atomic import write_text_atomic
from harness.core.data import read_corpus, read_tsv
from harness.core.encoder import Encoder
from harness.core.errors import DataError
from harness.search import bitext
from harness.search.bitext import Candidates, Quality
from harness.search.corpus import CHUNK_SENTENCES, encode_corpus
from harness.search.mining import MARGIN_K

DEFAULT_THRESHOLD = 1.06  # a ratio margin; WikiMatrix and CCMatrix kept LASER pairs from about 1.04 to 1.06


@dataclass(frozen=True)
class MineOptions:
    """How to mine; every field has the CLI's default."""

    mode: str = "max"
    threshold: float | None = None  # None: calibrated on the gold pairs when there are some, else DEFAULT_THRESHOLD
    k: int = MARGIN_K
    exact_below: int = bitext.EXACT_BELOW
    chunk: int = CHUNK_SENTENCES
    batch_size: int = 64
    cache: Path | None = None
    progress: bool = True


@dataclass
class MineReport:
    """What a mining run did, for the summary the command prints."""

    sentences: dict[str, int]
    duplicates: dict[str, int]
    encoded: dict[str, int]
    search: str
    candidates: int
    written: int
    threshold: float
    calibrated: bool
    quality: Quality | None
    seconds: dict[str, float] = field(default_factory=dict)


def unique(sentences: list[str]) -> list[str]:
    """The sentences in first-seen order, each once: a repeated line is encoded and mined once."""
    return list(dict.fromkeys(sentences))


def read_gold(path: Path, src: list[str], tgt: list[str]) -> set[tuple[int, int]]:
    """Gold pairs (`source<TAB>target` lines) as indices into the de-duplicated corpora; a line whose
    sentence is in neither corpus is refused, with its line number."""
    where_src = {text: i for i, text in enumerate(src)}
    where_tgt = {text: j for j, text in enumerate(tgt)}
    gold = set()
    for number, (source, target) in read_tsv(path, 2):
        source, target = source.strip(), target.strip()
        if source not in where_src:
            raise DataError(path, "the source sentence is not a line of the source corpus", number)
        if target not in where_tgt:
            raise DataError(path, "the target sentence is not a line of the target corpus", number)
        gold.add((where_src[source], where_tgt[target]))
    if not gold:
        raise DataError(path, "no gold pairs")
    return gold


def _cell(text: str) -> str:
    return text.replace("\t", " ")  # a tab inside a sentence would shift the columns


def write_pairs(path: Path, found: Candidates, src: list[str], tgt: list[str]) -> None:
    lines = [f"{score:.6f}\t{_cell(src[i])}\t{_cell(tgt[j])}\n"
             for i, j, score in zip(found.src, found.tgt, found.scores)]
    write_text_atomic(path, "".join(lines))


@dataclass
class Corpora:
    """Two corpora read, de-duplicated and checked (with their gold pairs, if any), before a model loads."""

    src: list[str]
    tgt: list[str]
    duplicates: dict[str, int]
    gold: set[tuple[int, int]] | None
    seconds: float


def read_corpora(src_path: Path, tgt_path: Path, gold_path: Path | None = None) -> Corpora:
    """Read and check both corpora and the gold file: bad input fails here, before any model is loaded."""
    started = time.perf_counter()
    raw_src, raw_tgt = read_corpus(src_path), read_corpus(tgt_path)
    src, tgt = unique(raw_src), unique(raw_tgt)
    gold = read_gold(gold_path, src, tgt) if gold_path is not None else None
    return Corpora(src, tgt, {"source": len(raw_src) - len(src), "target": len(raw_tgt) - len(tgt)}, gold,
                   time.perf_counter() - started)


def mine_corpora(encoder: Encoder, corpora: Corpora, out: Path, options: MineOptions = MineOptions(),
                 log: Callable[[str], None] = lambda line: None) -> MineReport:
    """Mine `corpora` with `encoder` and write the pairs to `out`."""
    src, tgt, gold = corpora.src, corpora.tgt, corpora.gold
    log(f"{len(src):,} source and {len(tgt):,} target sentences (after dropping repeated lines)")
    seconds = {"read": corpora.seconds}
    vectors, encoded = {}, {}
    for name, sentences in (("source", src), ("target", tgt)):
        started = time.perf_counter()
        vectors[name], encoded[name] = encode_corpus(encoder, sentences, options.cache, chunk=options.chunk,
                                                     batch_size=options.batch_size, progress=options.progress,
                                                     label=f"encode {name}")
        seconds[f"encode {name}"] = time.perf_counter() - started
    config = bitext.search_config(len(src), len(tgt), options.exact_below)
    fwd, bwd = bitext.neighbours_both_ways(vectors["source"], vectors["target"], config, options.k, seconds)
    started = time.perf_counter()
    found = bitext.candidates(fwd, bwd, options.mode)
    seconds["candidates"] = time.perf_counter() - started
    if options.threshold is not None:
        threshold, calibrated = options.threshold, False
    elif gold is not None:
        threshold, calibrated = bitext.calibrate(found, gold).threshold, True
    else:
        threshold, calibrated = DEFAULT_THRESHOLD, False
    kept = found.above(threshold)
    started = time.perf_counter()
    write_pairs(out, kept, src, tgt)
    seconds["write"] = time.perf_counter() - started
    seconds["total"] = sum(seconds.values())
    return MineReport(
        sentences={"source": len(src), "target": len(tgt)}, duplicates=corpora.duplicates, encoded=encoded,
        search="exact (flat)" if config.index == "flat" else f"approximate ({config.index})",
        candidates=len(found), written=len(kept), threshold=threshold, calibrated=calibrated,
        quality=bitext.quality_at(found, gold, threshold) if gold is not None else None, seconds=seconds)
