"""Parallel training data: one dataset per (source, language) file `parallel/<source>/en-<lang>.tsv.gz`,
with dev pairs held out per language and a cap per language split evenly over its sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.core.data import fingerprint, read_pairs, recording_reads
from harness.core.errors import HarnessError
from harness.core.paths import dataset_folder


@dataclass
class ParallelDataset:
    """The pairs (english, translation) of one source file, e.g. 'newstest/en-de'."""

    name: str
    lang: str
    pairs: list[tuple[str, str]]


@dataclass
class ParallelData:
    """Training datasets and held-out dev pairs per language (for the dev-set callback)."""

    train: list[ParallelDataset]
    dev: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    fingerprint: str = ""  # of the files the pairs came from (with the settings, it identifies the sample)

    @property
    def n_pairs(self) -> int:
        return sum(len(d.pairs) for d in self.train)

    def describe(self) -> dict[str, int]:
        return {d.name: len(d.pairs) for d in self.train}


def source_files(root: Path, lang: str) -> list[Path]:
    return sorted((root / "parallel").glob(f"*/en-{lang}.tsv.gz"))


def load_parallel(root: Path, langs: list[str], *, max_pairs: int | None = None, dev_pairs: int = 200,
                  seed: int = 0, sources: list[str] | None = None) -> ParallelData:
    """Read every source for each language, hold out `dev_pairs` per language, cap the rest.

    `max_pairs` caps each language's training pairs, split evenly over its sources (a source smaller
    than its share gives the rest to the others), so that balanced batching still sees every domain.
    """
    with recording_reads() as used:
        data = _load(root, langs, max_pairs, dev_pairs, seed, sources)
    data.fingerprint = fingerprint(used)
    return data


def _load(root: Path, langs: list[str], max_pairs: int | None, dev_pairs: int, seed: int,
          sources: list[str] | None) -> ParallelData:
    train: list[ParallelDataset] = []
    dev: dict[str, list[tuple[str, str]]] = {}
    for lang in langs:
        dataset_folder(root, "parallel")
        files = [f for f in source_files(root, lang) if sources is None or f.parent.name in sources]
        if not files:
            raise HarnessError(f"no parallel data for '{lang}' under {root / 'parallel'} (expected */en-{lang}.tsv.gz)")
        rng = np.random.default_rng([seed, len(lang), *lang.encode()])
        per_source = []
        for path in files:
            pairs = read_pairs(path)
            per_source.append([pairs[i] for i in rng.permutation(len(pairs))])
        # dev pairs come round-robin from every source so the dev set spans the domains, and never
        # more than a fifth of the language's pairs
        wanted = min(dev_pairs, sum(len(p) for p in per_source) // 5)
        dev[lang] = []
        cursor = [0] * len(per_source)
        while len(dev[lang]) < wanted and any(c < len(p) - 1 for c, p in zip(cursor, per_source)):
            for i, pairs in enumerate(per_source):
                if len(dev[lang]) < wanted and cursor[i] < len(pairs) - 1:
                    dev[lang].append(pairs[cursor[i]])
                    cursor[i] += 1
        held_out = set(dev[lang])  # a dev pair repeated in another source must not leak into training
        remaining = [[p for p in pairs[c:] if p not in held_out] for c, pairs in zip(cursor, per_source)]
        caps = _split_cap(max_pairs, [len(r) for r in remaining])
        for path, pairs, cap in zip(files, remaining, caps):
            if cap < 1:
                raise HarnessError(f"{path}: no training pairs left after holding out {len(dev[lang])} dev pairs "
                                   f"and capping {lang} at {max_pairs}; raise --max-pairs")
            train.append(ParallelDataset(f"{path.parent.name}/en-{lang}", lang, pairs[:cap]))
    return ParallelData(train, dev)


def _split_cap(total: int | None, sizes: list[int]) -> list[int]:
    """Share `total` evenly over datasets of `sizes`, handing unused share to the larger ones."""
    if total is None:
        return list(sizes)
    caps = [0] * len(sizes)
    left = total
    for i in sorted(range(len(sizes)), key=lambda i: sizes[i]):
        remaining_sets = sum(1 for j in range(len(sizes)) if caps[j] == 0 and j != i) + 1
        caps[i] = min(sizes[i], left // remaining_sets)
        left -= caps[i]
    return caps
