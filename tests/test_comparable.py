"""The BUCC-style comparable-corpus benchmark (issue 21, item 4): gold pairs hidden among unlinked
distractors, a threshold calibrated on one half and scored on the other, per-item outcomes behind the F1."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.data import read_aligned
from harness.core.task import LangPair
from harness.results import stats
from harness.search.bitext import Candidates
from tasks.comparable import ComparableMining, ContentKeys, Corpus, outcome


def keys_of(pool, filler=()):
    return ContentKeys([e for e, _ in pool] + list(filler)), ContentKeys([f for _, f in pool])


def test_content_keys_drop_common_words_and_keep_names_and_numbers():
    filler = [f"Is this {i} or that {i}?" for i in range(40)]  # "this" and "that" are common here
    keys = ContentKeys(filler + ["Picasso painted that picture in 1950."])
    assert keys("Picasso painted this picture in 1950.") == keys("Picasso painted that picture in 1950.")
    assert keys("Picasso painted this picture in 1950.") == "1950 painted picasso picture"
    assert keys("Picasso painted this picture in 1951.") != keys("Picasso painted this picture in 1950.")
    assert keys("Hi!") == "hi"


def test_a_sentence_translated_twice_never_lends_both_sides():
    pool = [("I'm tired.", "Ich bin müde."), ("I am tired.", "Ich bin müde."), ("Hello.", "Hallo."),
            ("Good night.", "Gute Nacht."), ("Thanks.", "Danke.")]
    foreign, english = ComparableMining._unlinked_sides(pool, per_side=5, keys=keys_of(pool))
    linked = {(f, e) for e, f in pool}
    assert foreign and english
    assert not any((f, e) in linked for f in foreign for e in english)
    assert "Ich bin müde." in foreign and not {"I'm tired.", "I am tired."} & set(english)


def test_a_reworded_translation_of_another_pair_is_linked_too():
    """Tatoeba's way: two pairs whose strings differ, yet each German translates the other's English."""
    pool = [("Picasso painted that picture in 1950.", "Picasso malte dieses Bild 1950."),
            ("Picasso painted this picture in 1950.", "Picasso hat dieses Bild 1950 gemalt."),
            ("Hello.", "Hallo."), ("Good night.", "Gute Nacht."), ("Thanks a lot.", "Vielen Dank.")]
    filler = [f"Is this {i} or that {i}?" for i in range(40)]
    foreign, english = ComparableMining._unlinked_sides(pool, per_side=5, keys=keys_of(pool, filler))
    picasso = [text for text in (*foreign, *english) if "Picasso" in text]
    assert picasso
    assert all(text in foreign for text in picasso) or all(text in english for text in picasso)


def test_outcomes_count_a_wrong_pair_as_false_positive_and_false_negative():
    corpus = Corpus(["a", "b", "c", "d"], ["A", "B", "C", "D"], np.array([0, 1, -1, 3]))
    found = Candidates(np.array([0, 1, 2]), np.array([0, 3, 2]), np.array([1.3, 1.2, 1.1]))
    flags = outcome(found, corpus)
    assert flags["tp"].tolist() == [1, 0, 0, 0]
    assert flags["fp"].tolist() == [0, 1, 1, 0]  # b mined with the wrong target, c (a distractor) with any
    assert flags["fn"].tolist() == [0, 1, 0, 1]
    assert stats.point_estimate("f1", [flags["tp"], flags["fp"], flags["fn"]]) == pytest.approx(100 * 2 / (2 + 2 + 2))


def test_the_corpora_hide_tatoebas_gold_among_unlinked_distractors(tiny_root):
    task = ComparableMining(tiny_root)
    calibration, test = task.data(LangPair("de", "en"))
    foreign, english = read_aligned(tiny_root / "eval/tatoeba/tatoeba.deu-eng.deu",
                                    tiny_root / "eval/tatoeba/tatoeba.deu-eng.eng")
    gold = set(zip(foreign, english))
    assert len(calibration.gold) + len(test.gold) == len(gold)
    for corpus in (calibration, test):
        assert {(corpus.src[i], corpus.tgt[j]) for i, j in corpus.gold} <= gold
        assert len(corpus.src) == len(corpus.tgt) > len(corpus.gold)
        distractors = {corpus.src[i] for i in range(len(corpus.src)) if corpus.gold_of_src[i] < 0}
        assert not distractors & set(foreign)
    assert set(task.sentences(LangPair("de", "en"))) == set(foreign) | set(english)  # the leak filter's list


def test_scores_come_from_the_evidence_and_the_calibrated_threshold(tiny_root, hash_encoder):
    task = ComparableMining(tiny_root)
    result = next(task.evaluate(hash_encoder, ["de"]))
    arrays = [result.evidence.arrays[name] for name in ("tp", "fp", "fn")]
    for name in ("f1", "precision", "recall"):
        assert result.metrics[name].value == stats.point_estimate(name, arrays)
    assert result.metrics["oracle_f1"].value >= result.metrics["f1"].value
    assert result.analysis["corpus"]["gold_pairs"] == int(arrays[0].sum() + arrays[2].sum())
    assert result.analysis["mined"] == int(arrays[0].sum() + arrays[1].sum())


def test_rewordings_are_near_duplicates_but_one_shared_word_is_not_a_link():
    from tasks.comparable import rewordings

    keys = ContentKeys([])
    treated = keys("Avez-vous déjà été traité pour une infection urinaire ?")
    treatment = keys("Avez-vous déjà reçu un traitement pour une infection urinaire ?")
    happy = keys("She said she was happy.")
    said = keys("He said nothing.")
    linked = {frozenset(pair) for pair in rewordings([treated, treatment, happy, said])}
    assert frozenset((treated, treatment)) in linked
    assert frozenset((happy, said)) not in linked  # "said" alone would chain most short sentences together
