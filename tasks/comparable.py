"""A BUCC-style mining benchmark with known answers: Tatoeba's gold pairs hidden in comparable corpora.

For a language xx, the gold pairs are Tatoeba's (LASER v1) xx-eng test pairs, which no training file holds
(the data root's parallel/ files were cleaned of every evaluation sentence). They are hidden among ten times
as many unrelated sentences on each side, drawn from the parallel/ files: Tatoeba-Challenge's short everyday
sentences first (the gold's own domain, so the hardest), then Multi30k's captions (a data root without them
lends every parallel/ source). The foreign side of one set of pairs and the English side of another, so that
no chain of pairs and rewordings links a foreign distractor to an English one (`_unlinked_sides`): Tatoeba
translates a sentence several ways, and by exact strings alone "Picasso malte dieses Bild 1950." (from one
pair) would find its translation "Picasso painted this picture in 1950." (from another). Distractors with
the content words of a gold sentence, or a rewording of them, are left out too.
STSb's machine-translated train sentences are not used: its rows pair near-paraphrases, so the German of one
row translates the English of another. A distractor can still paraphrase a gold sentence's translation; that
is the noise of any comparable corpus, and it counts against every model alike. Where the files hold fewer
than ten distractors per gold pair, as many as they hold are used (at least one), and the record's analysis
says how many. A student may have trained on a distractor; that helps it place the sentence near its own
translation, which is not there.

As in BUCC, the threshold is chosen on one half and applied to the other: gold pairs and distractors are
split into a calibration corpus and a test corpus. Each is mined on its own with LASER's `max` candidates
(ratio margin, k = 4, each sentence used once); the threshold that maximises F1 on the calibration corpus
is applied to the test corpus, whose F1, precision and recall are the scores. Each test source sentence
is an item (true positive, false positive, false negative), so the scores have bootstrap intervals and
two models compare on the same items.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from harness.core.data import read_aligned, read_pairs
from harness.core.encoder import Encoder
from harness.core.errors import DataError
from harness.core.languages import normalise
from harness.core.paths import dataset_folder
from harness.core.task import Evidence, LangPair, Metric, PairResult, TaskMetadata
from harness.core.vocabulary import MINING
from harness.search.bitext import Candidates, calibrate, candidates, neighbours_both_ways, quality_at
from harness.search.knn import SearchConfig
from tasks.base import PIVOT, Task, encode_sides, x100

DISTRACTOR_SOURCES = ("tatoeba-challenge", "multi30k")
EXCLUDED_SOURCES = ("stsb-mt-train",)  # its rows pair near-paraphrases: one row's German translates another's English
DISTRACTORS_PER_GOLD = 10
SEED = 20260127
STATISTICS = {name: (name, ("tp", "fp", "fn")) for name in ("f1", "precision", "recall")}
WORST_SHOWN = 10
COMMON_SHARE, COMMON_MIN = 0.002, 20
NEAR_DUPLICATE_JACCARD, MIN_SHARED, MAX_POSTINGS = 0.5, 2, 500


@dataclass
class Corpus:
    """One comparable corpus: sentences of both sides, and each source's gold target (-1: a distractor)."""

    src: list[str]
    tgt: list[str]
    gold_of_src: np.ndarray

    @property
    def gold(self) -> set[tuple[int, int]]:
        return {(int(i), int(j)) for i, j in enumerate(self.gold_of_src) if j >= 0}


_WORD = re.compile(r"\w+", re.UNICODE)


class ContentKeys:
    """A sentence's content words, sorted: two wordings of one sentence ("Picasso painted this/that picture in
    1950.") share them. Content words are numbers, and words of 4 letters or more that are not common in
    `sentences` (in more than COMMON_SHARE of them, and more than COMMON_MIN times: "this", "that", "have").
    A sentence without content words keys on all its words."""

    def __init__(self, sentences: list[str]):
        counts = Counter(word for text in sentences for word in set(_WORD.findall(text.casefold())))
        floor = max(COMMON_MIN, COMMON_SHARE * len(sentences))
        self.common = {word for word, n in counts.items() if n > floor and not word.isdigit()}
        self._keys: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        key = self._keys.get(text)
        if key is None:  # a sentence is keyed several times (gold filter, links, sides): compute it once
            words = _WORD.findall(text.casefold())
            content = sorted({w for w in words if w.isdigit() or (len(w) >= 4 and w not in self.common)})
            key = self._keys[text] = " ".join(content or words)
        return key


def rewordings(keys: list[str], overlap: float = NEAR_DUPLICATE_JACCARD) -> list[tuple[str, str]]:
    """Pairs of content keys (`ContentKeys`) that share at least MIN_SHARED words and overlap by at least
    `overlap` (Jaccard): two wordings of one sentence ("Avez-vous déjà été traité / reçu un traitement pour une
    infection urinaire ?"). One shared word is not enough: chains of "said" and "happy" would join most
    short sentences into one component. Only words that at most MAX_POSTINGS keys have are counted, which
    keeps the search near linear."""
    unique = sorted(set(keys))
    words = [set(key.split()) for key in unique]
    postings: dict[str, list[int]] = {}
    for index, found in enumerate(words):
        for word in found:
            postings.setdefault(word, []).append(index)
    linked = []
    for index, found in enumerate(words):
        shared = Counter(other for word in found if len(postings[word]) <= MAX_POSTINGS
                         for other in postings[word] if other > index)
        for other, count in shared.items():
            if count >= MIN_SHARED and count / (len(found) + len(words[other]) - count) >= overlap:
                linked.append((unique[index], unique[other]))
    return linked


def _near(key_of: ContentKeys, gold: list[str], pool: list[str]) -> set[str]:
    """The content keys of `gold` and of the `pool` sentences that reword one of them (`rewordings`): a
    distractor with such a key could be a gold sentence's translation, or its translation's."""
    gold_keys = {key_of(text) for text in gold}
    linked = set(gold_keys)
    for a, b in rewordings([*gold_keys, *(key_of(text) for text in pool)]):
        if a in gold_keys:
            linked.add(b)
        if b in gold_keys:
            linked.add(a)
    return linked


def _corpus(gold_src: list[str], gold_tgt: list[str], noise_src: list[str], noise_tgt: list[str],
            rng: np.random.Generator) -> Corpus:
    src = [*gold_src, *noise_src]
    tgt = [*gold_tgt, *noise_tgt]
    src_order, tgt_order = rng.permutation(len(src)), rng.permutation(len(tgt))
    where_tgt = np.empty(len(tgt), dtype=np.int64)
    where_tgt[tgt_order] = np.arange(len(tgt))  # position of original target t after shuffling
    gold_of_src = np.array([where_tgt[i] if i < len(gold_src) else -1 for i in src_order], dtype=np.int64)
    return Corpus([src[i] for i in src_order], [tgt[i] for i in tgt_order], gold_of_src)


def outcome(found: Candidates, corpus: Corpus) -> dict[str, np.ndarray]:
    """Per source sentence: true positive (its gold pair mined), false positive (a wrong pair mined), false
    negative (its gold pair not mined). A source mined with a wrong target is both a false positive and a
    false negative. `found` uses each source at most once (the `max` candidates)."""
    n = len(corpus.src)
    tp, fp = np.zeros(n, dtype=np.uint8), np.zeros(n, dtype=np.uint8)
    right = corpus.gold_of_src[found.src] == found.tgt
    tp[found.src[right]] = 1
    fp[found.src[~right]] = 1
    fn = ((corpus.gold_of_src >= 0) & (tp == 0)).astype(np.uint8)
    return {"tp": tp, "fp": fp, "fn": fn}


class ComparableMining(Task):
    """Tatoeba's gold pairs among 10x unrelated sentences a side; extraction F1 with a calibrated threshold."""

    metadata = TaskMetadata(
        name="tatoeba-bucc", family=MINING, dataset="Tatoeba (LASER v1) in comparable corpora", split="test",
        main_score="f1",
        description="BUCC-style extraction: Tatoeba's gold pairs among 10x unrelated sentences a side; F1 at a "
                    "threshold calibrated on a held-out half",
        reference="Zweigenbaum et al. 2017 (BUCC shared task); gold from "
                  "https://github.com/facebookresearch/LASER/tree/main/data/tatoeba/v1",
    )
    search_config = SearchConfig()

    def __init__(self, root: Path):
        self.tatoeba = dataset_folder(root, "eval", "tatoeba")
        self.parallel = dataset_folder(root, "parallel")

    def _sources(self, lang: str) -> list[Path]:
        """The distractor files of `lang`: the preferred sources where the data root has them, else every one."""
        preferred = [self.parallel / source / f"en-{lang}.tsv.gz" for source in DISTRACTOR_SOURCES]
        found = [path for path in preferred if path.is_file()]
        return found or sorted(path for path in self.parallel.glob(f"*/en-{lang}.tsv.gz")
                               if path.parent.name not in EXCLUDED_SOURCES)

    @cached_property
    def _codes(self) -> dict[str, str]:
        codes = {}
        for path in sorted(self.tatoeba.glob("tatoeba.*-eng.eng")):
            code = path.name.split(".")[1].split("-")[0]
            if self._sources(normalise(code)):
                codes[normalise(code)] = code
        return codes

    def languages(self) -> list[str]:
        return sorted(self._codes)

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return [LangPair(lang, PIVOT) for lang in langs if lang in self._codes]

    def _distractors(self, lang: str, rng: np.random.Generator) -> list[tuple[str, str]]:
        """(English, foreign) pairs of the distractor files, each file's pairs shuffled, the preferred source
        first."""
        pool: dict[tuple[str, str], None] = {}
        for path in self._sources(lang):
            pairs = [(english.strip(), foreign.strip()) for english, foreign in read_pairs(path)]
            pool.update((pairs[i], None) for i in rng.permutation(len(pairs)))
        return list(pool)

    @staticmethod
    def _unlinked_sides(pool: list[tuple[str, str]], per_side: int, keys: tuple[ContentKeys, ContentKeys],
                        ) -> tuple[list[str], list[str]]:
        """Up to `per_side` foreign and English sentences of `pool` such that no chain of links joins a chosen
        foreign sentence to a chosen English one, where a link is a pair of the pool or two sentences of one
        language whose content words (`keys`: English, foreign) are the same or overlap by half
        (`rewordings`). Tatoeba translates one sentence several ways ("Picasso painted this picture in
        1950." and "...that picture..."): by exact strings alone, the German of one pair would still translate
        the English of the other. Linked pairs form components; a
        component lends only foreign sentences or only English ones, and a side takes one sentence per key."""
        english_key, foreign_key = keys
        parent: dict[tuple[str, str], tuple[str, str]] = {}

        def root(node):
            parent.setdefault(node, node)
            while parent[node] != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        for english, foreign in pool:
            parent[root(("en", english_key(english)))] = root(("xx", foreign_key(foreign)))
        for language, key_of, column in (("en", english_key, 0), ("xx", foreign_key, 1)):
            for a, b in rewordings([key_of(pair[column]) for pair in pool]):
                parent[root((language, a))] = root((language, b))
        side_of: dict[tuple[str, str], int] = {}
        chosen: tuple[dict[str, str], dict[str, str]] = ({}, {})  # foreign side, English side: key -> sentence
        for english, foreign in pool:
            component = root(("en", english_key(english)))
            if component not in side_of:  # a new component goes to the side that has fewer so far
                side_of[component] = 0 if len(chosen[0]) <= len(chosen[1]) else 1
            side = side_of[component]
            if len(chosen[side]) < per_side:
                text, key = (foreign, foreign_key(foreign)) if side == 0 else (english, english_key(english))
                chosen[side].setdefault(key, text)
        return list(chosen[0].values()), list(chosen[1].values())

    def load_pair(self, pair: LangPair) -> tuple[Corpus, Corpus]:
        code = self._codes[pair.src]
        foreign_path = self.tatoeba / f"tatoeba.{code}-eng.{code}"
        gold_src, gold_tgt = read_aligned(foreign_path, self.tatoeba / f"tatoeba.{code}-eng.eng")
        rng = np.random.default_rng([SEED, len(gold_src), sum(map(ord, pair.key))])
        pool = self._distractors(pair.src, rng)
        keys = ContentKeys([e for e, _ in pool] + gold_tgt), ContentKeys([f for _, f in pool] + gold_src)
        near_gold = (_near(keys[0], gold_tgt, [e for e, _ in pool]), _near(keys[1], gold_src, [f for _, f in pool]))
        pool = [(e, f) for e, f in pool if keys[0](e) not in near_gold[0] and keys[1](f) not in near_gold[1]]
        noise_src, noise_tgt = self._unlinked_sides(pool, DISTRACTORS_PER_GOLD * len(gold_src), keys)
        per_gold = min(len(noise_src), len(noise_tgt)) // len(gold_src)
        if per_gold < 1:
            raise DataError(self.parallel, f"{pair.key}: too few distractors ({len(noise_src)} foreign, "
                                           f"{len(noise_tgt)} English) for {len(gold_src)} gold pairs")
        wanted = 2 * per_gold * len(gold_src)
        gold_order, noise_order = rng.permutation(len(gold_src)), rng.permutation(wanted // 2)
        cut = len(gold_src) // 2
        halves = []
        for golds, noises in ((gold_order[:cut], noise_order[:cut * per_gold]),
                              (gold_order[cut:], noise_order[cut * per_gold:])):
            halves.append(_corpus([gold_src[i] for i in golds], [gold_tgt[i] for i in golds],
                                  [noise_src[i] for i in noises], [noise_tgt[i] for i in noises], rng))
        return halves[0], halves[1]

    def sentences(self, pair: LangPair) -> list[str]:
        """The gold pairs' sentences, which the leak filter keeps out of training. The distractors are training
        sentences by design: training on one does not put its translation in the other corpus, and listing
        them would change every student's training data when this task joins a run."""
        calibration, test = self.data(pair)
        return [text for corpus in (calibration, test) for i, j in sorted(corpus.gold)
                for text in (corpus.src[i], corpus.tgt[j])]

    def _mine(self, encoder: Encoder, corpus: Corpus, batch_size: int) -> Candidates:
        src, tgt = encode_sides(encoder, corpus.src, corpus.tgt, batch_size)
        fwd, bwd = neighbours_both_ways(src, tgt, self.search_config)
        return candidates(fwd, bwd, "max")

    def evaluate_pair(self, encoder: Encoder, pair: LangPair, *, batch_size: int) -> PairResult:
        calibration, test = self.data(pair)
        chosen = calibrate(self._mine(encoder, calibration, batch_size), calibration.gold)
        found = self._mine(encoder, test, batch_size)
        kept = found.above(chosen.threshold)
        at_threshold, oracle = quality_at(found, test.gold, chosen.threshold), calibrate(found, test.gold)
        metrics = {"f1": Metric(x100(at_threshold.f1)), "precision": Metric(x100(at_threshold.precision)),
                   "recall": Metric(x100(at_threshold.recall)), "calibration_f1": Metric(x100(chosen.f1)),
                   "oracle_f1": Metric(x100(oracle.f1))}
        wrong = [(i, j, s) for i, j, s in zip(kept.src, kept.tgt, kept.scores) if test.gold_of_src[i] != j]
        analysis = {
            "corpus": {"source_sentences": len(test.src), "target_sentences": len(test.tgt),
                       "gold_pairs": len(test.gold), "calibration_gold_pairs": len(calibration.gold),
                       "distractors_per_gold": (len(test.src) - len(test.gold)) // max(1, len(test.gold))},
            "threshold": round(chosen.threshold, 6),  # a margin, not a score: kept out of the metrics
            "mined": at_threshold.mined, "correct": at_threshold.correct,
            "worst_false_positives": [
                {"source": test.src[i], "mined": test.tgt[j], "score": round(float(s), 6),
                 "gold": test.tgt[test.gold_of_src[i]] if test.gold_of_src[i] >= 0 else None}
                for i, j, s in wrong[:WORST_SHOWN]],
        }
        return PairResult(pair, metrics, n_items=len(test.src), analysis=analysis,
                          evidence=Evidence(outcome(kept, test), STATISTICS))
