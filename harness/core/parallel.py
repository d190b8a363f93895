"""Parallel training data: one dataset per source (a file `parallel/<source>/en-<lang>.tsv.gz` of the data root,
a user's file, a hub dataset), with dev pairs held out per language and a cap per language split evenly over
its sources. Pairs that meet the run's evaluation sentences are dropped first (the leak filter)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.data import fingerprint, read_pairs, recording_reads
from harness.core.errors import HarnessError
from harness.core.paths import dataset_folder


@dataclass
class ParallelDataset:
    """The pairs (english, translation) of one source, e.g. 'newstest/en-de': as read (before the leak filter,
    the dev hold-out and the cap), or as trained on."""

    name: str
    lang: str
    pairs: list[tuple[str, str]]
    revision: str | None = None  # a hub dataset's commit, a local dataset's content hash


@dataclass
class ParallelData:
    """Training datasets and held-out dev pairs per language (for the dev-set callback)."""

    train: list[ParallelDataset]
    dev: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    fingerprint: str = ""  # of the files the pairs came from (with the settings, it identifies the sample)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> pairs read, dropped, revision
    checked_against: int = 0  # distinct evaluation sentences the leak filter compared every pair with
    # English sources of the pairs the cap left out (leak-filtered, never dev or trained on), in a seeded order
    # across the sources: monolingual English a closed-form map may be fitted on
    spare_english: list[str] = field(default_factory=list)

    @property
    def n_pairs(self) -> int:
        return sum(len(d.pairs) for d in self.train)

    @property
    def dropped(self) -> int:
        """Pairs the leak filter dropped, over all sources."""
        return sum(s["dropped_as_evaluation"] for s in self.sources.values())

    def describe(self) -> dict[str, int]:
        return {d.name: len(d.pairs) for d in self.train}


def leak_key(text: str) -> str:
    """A sentence as the leak filter compares it: case-folded, whitespace collapsed (as ../shared/data was
    cleaned)."""
    return " ".join(text.casefold().split())


def source_files(root: Path, lang: str) -> list[Path]:
    return sorted((root / "parallel").glob(f"*/en-{lang}.tsv.gz"))


def root_sources(root: Path, langs: list[str], sources: list[str] | None = None,
                 strict: bool = True) -> list[ParallelDataset]:
    """The data root's parallel/ files of `langs`, one source per file; a language without one is an error
    unless not `strict` (other sources may have it)."""
    dataset_folder(root, "parallel")
    read = []
    for lang in langs:
        files = [f for f in source_files(root, lang) if sources is None or f.parent.name in sources]
        if not files and not strict:
            continue
        if not files:
            raise HarnessError(f"no parallel data for '{lang}' under {root / 'parallel'} (expected "
                               f"*/en-{lang}.tsv.gz); give other training pairs with --parallel")
        read += [ParallelDataset(f"{path.parent.name}/en-{lang}", lang, read_pairs(path)) for path in files]
    return read


def load_parallel(root: Path, langs: list[str], *, max_pairs: int | None = None, dev_pairs: int = 200,
                  seed: int = 0, sources: list[str] | None = None,
                  exclude: frozenset[str] = frozenset()) -> ParallelData:
    """Read every source of the data root for each language, then `assemble` them."""
    with recording_reads() as used:
        read = root_sources(root, langs, sources)
    return assemble(read, langs, used, max_pairs=max_pairs, dev_pairs=dev_pairs, seed=seed, exclude=exclude)


def assemble(read: list[ParallelDataset], langs: list[str], used: dict[Path, str], *, max_pairs: int | None = None,
             dev_pairs: int = 200, seed: int = 0, exclude: frozenset[str] = frozenset()) -> ParallelData:
    """Drop the pairs that meet `exclude` (leak keys of the run's evaluation sentences), hold out `dev_pairs`
    per language and cap the rest at `max_pairs` per language, split evenly over its sources so that balanced
    batching still sees every domain. `used` ({file: digest} of what was read) gives the fingerprint."""
    train: list[ParallelDataset] = []
    dev: dict[str, list[tuple[str, str]]] = {}
    left_over: list[list[tuple[str, str]]] = []
    report: dict[str, dict[str, Any]] = {}
    dropped = hashlib.sha256()  # which pairs were dropped, so that another filter is another sample
    read = sorted(read, key=lambda source: source.name)  # the order sources were named in does not matter
    for lang in langs:
        mine = [source for source in read if source.lang == lang]
        if not mine:
            raise HarnessError(f"no training pairs for '{lang}' in the sources given")
        rng = np.random.default_rng([seed, len(lang), *lang.encode()])
        per_source = []
        for source in mine:
            kept, gone = [], 0
            for pair in source.pairs:
                if leak_key(pair[0]) in exclude or leak_key(pair[1]) in exclude:
                    dropped.update(f"{source.name}\t{pair[0]}\t{pair[1]}\n".encode())
                    gone += 1
                else:
                    kept.append(pair)
            report[source.name] = {"read": len(source.pairs), "dropped_as_evaluation": gone,
                                   **({"revision": source.revision} if source.revision else {})}
            per_source.append([kept[i] for i in rng.permutation(len(kept))])
        dev[lang], cursor = _hold_out(per_source, dev_pairs)
        held_out = set(dev[lang])  # a dev pair repeated in another source must not leak into training
        remaining = [[p for p in pairs[c:] if p not in held_out] for c, pairs in zip(cursor, per_source)]
        caps = _split_cap(max_pairs, [len(r) for r in remaining])
        for source, pairs, cap in zip(mine, remaining, caps):
            if cap < 1:
                raise HarnessError(f"{source.name}: no training pairs left after holding out {len(dev[lang])} dev "
                                   f"pairs and capping {lang} at {max_pairs}; raise --max-pairs")
            train.append(ParallelDataset(source.name, lang, pairs[:cap]))
            left_over.append(pairs[cap:])
    if any(source["dropped_as_evaluation"] for source in report.values()):
        used = {**used, Path("leak-filter") / "dropped": dropped.hexdigest()}
    return ParallelData(train, dev, fingerprint(used), report, len(exclude), _spare_english(left_over, train, dev))


def _spare_english(left_over: list[list[tuple[str, str]]], train: list[ParallelDataset],
                   dev: dict[str, list[tuple[str, str]]]) -> list[str]:
    """The distinct English sides of the left-over pairs, round-robin over the sources, leaving out every English
    sentence that is trained on or held out for dev."""
    taken = {pair[0] for dataset in train for pair in dataset.pairs}
    taken |= {pair[0] for pairs in dev.values() for pair in pairs}
    spare: dict[str, None] = {}
    for row in range(max((len(pairs) for pairs in left_over), default=0)):
        for pairs in left_over:
            if row < len(pairs) and pairs[row][0] not in taken:
                spare.setdefault(pairs[row][0], None)
    return list(spare)


def _hold_out(per_source: list[list[tuple[str, str]]], dev_pairs: int) -> tuple[list[tuple[str, str]], list[int]]:
    """Dev pairs round-robin from every source, so the dev set spans the domains, and never more than a fifth
    of the language's pairs; each source keeps at least one pair. Also how many each source gave."""
    wanted = min(dev_pairs, sum(len(p) for p in per_source) // 5)
    dev: list[tuple[str, str]] = []
    cursor = [0] * len(per_source)
    while len(dev) < wanted and any(c < len(p) - 1 for c, p in zip(cursor, per_source)):
        for i, pairs in enumerate(per_source):
            if len(dev) < wanted and cursor[i] < len(pairs) - 1:
                dev.append(pairs[cursor[i]])
                cursor[i] += 1
    return dev, cursor


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
