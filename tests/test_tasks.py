"""Conformance: every registered task runs on the tiny data root and returns well-formed results."""

import json
import math

import pytest

from harness.app.plan import resolve_tasks
from harness.app.plugins import FILE_TASKS, TASKS
from harness.core.encoder import CachedEncoder
from harness.core.task import LangPair
from harness.core.vocabulary import FAMILIES
from tasks.xquad_r import XQuADR


@pytest.mark.parametrize("name", TASKS.names())
def test_every_registered_task_evaluates(name, tiny_root, hash_encoder):
    task = TASKS.get(name)(tiny_root)
    meta = task.metadata
    assert meta.family in FAMILIES and meta.name == name and meta.description
    results = list(task.evaluate(hash_encoder, ["de"], batch_size=8))
    assert results, f"{name} produced no pairs for de"
    for result in results:
        assert result.ok and result.n_items > 0
        assert meta.main_score in result.metrics
        assert all(math.isfinite(m.value) for m in result.metrics.values())
        json.dumps(result.analysis)


def test_sts_pairs_cover_mono_and_both_crosslingual_directions(tiny_root):
    keys = [p.key for p in TASKS.get("stsb-multi-mt")(tiny_root).pairs(["de"])]
    assert keys == ["en-en", "de-en", "en-de", "de-de"]


def test_crosslingual_sts_takes_sentence2_from_the_target_language(tiny_root):
    task = TASKS.get("stsb-multi-mt")(tiny_root)
    items = task.load_pair(LangPair("en", "de"))
    assert " buys " in items[0].s1 and " kauft " in items[0].s2


def test_hash_encoder_finds_translations_sharing_names_and_numbers(tiny_root, hash_encoder):
    result = next(TASKS.get("tatoeba")(tiny_root).evaluate(hash_encoder, ["de"]))
    assert result.metrics["acc_cos_fwd"].value > 80


def test_xquad_gold_is_the_sentence_holding_the_answer(tiny_root):
    data = XQuADR(tiny_root).load_pair(LangPair("de", "en"))
    assert len(data.queries) == 40
    for question, gold in zip(data.queries, data.gold):
        number = question.split()[2]
        assert f" {number} " in data.candidates[gold]


def test_languages_missing_from_a_task_are_skipped(tiny_root):
    keys = [p.key for p in XQuADR(tiny_root).pairs(["fr", "de"])]
    assert keys == ["en-en", "de-en", "en-de", "de-de"]  # the tiny root has no fr; en-en is the reference


def test_family_names_expand_and_file_tasks_parse(data_env, tmp_path):
    names = [t.metadata.name for t in resolve_tasks(["mining", "tatoeba"])]
    assert names == ["tatoeba", "flores"]
    sts = tmp_path / "mine.tsv"
    sts.write_text("a b\ta c\t4\nx\ty\t0\nq r\tq s\t3\n")
    task = FILE_TASKS.get("sts-file").from_argument(f"{sts}@de-en")
    assert task.pairs(["fr"]) == [LangPair("de", "en")]


def test_cache_encodes_each_sentence_once(tiny_root, hash_encoder):
    encoder = CachedEncoder(hash_encoder)
    task = TASKS.get("stsb-multi-mt")(tiny_root)
    list(task.evaluate(encoder, ["de"]))
    assert encoder.encoded < encoder.requested
    unique = {s for p in task.pairs(["de"]) for item in task.load_pair(p) for s in (item.s1, item.s2)}
    assert encoder.encoded == len(unique)


def test_sts17_tracks_are_named_by_language_and_track_6_keeps_its_scored_lines(tiny_root):
    from tasks.sts17 import STS17

    task = STS17(tiny_root)
    keys = [p.key for p in task.pairs(["de"])]  # always all seven tracks
    assert keys == ["ar-ar", "en-ar", "es-es", "es-en", "en-es", "en-en", "en-tr"]
    tr = task.load_pair(LangPair("en", "tr"))
    assert len(tr) == 40  # track 6: 80 input lines, 40 gold scores, which belong to the first 40 lines
    rows = (tiny_root / "eval/sts17/STS2017.eval.v1.1/STS.input.track6.tr-en.txt").read_text().splitlines()
    assert [f"{i.s1}\t{i.s2}" for i in tr] == rows[:40]


def test_sts17_refuses_misaligned_files(tiny_root, tmp_path):
    import shutil

    from harness.core.errors import DataError
    from tasks.sts17 import STS17

    root = tmp_path / "data"
    shutil.copytree(tiny_root / "eval" / "sts17", root / "eval" / "sts17")
    gold = root / "eval/sts17/STS2017.gs/STS.gs.track5.en-en.txt"
    gold.write_text("\n".join(gold.read_text().splitlines()[:-1]) + "\n")  # one score short
    with pytest.raises(DataError, match="STS.input.track5.en-en.txt: has 40 pairs for 39 gold scores"):
        STS17(root).load_pair(LangPair("en", "en"))


def test_a_two_sided_encoder_encodes_queries_and_candidates_with_different_models(tiny_root):
    import numpy as np

    from harness.core.encoder import TwoSidedEncoder
    from harness.core.hash_encoder import HashEncoder
    from tasks.tatoeba import TatoebaMining
    from tasks.xquad_r import XQuADR

    class Rotated(HashEncoder):  # the same geometry in other coordinates: a different model's space
        rotation = np.linalg.qr(np.random.default_rng(0).standard_normal((64, 64)))[0].astype(np.float32)

        def encode(self, texts, *, batch_size=64):
            return super().encode(texts, batch_size=batch_size) @ self.rotation

    same = HashEncoder(dim=64, name="a")
    two = TwoSidedEncoder(same, Rotated(dim=64, name="b"))
    assert two.name == "a@b" and two.candidate_langs == {"en"}
    aligned = next(TatoebaMining(tiny_root).evaluate(TwoSidedEncoder(same, HashEncoder(dim=64, name="a")), ["de"]))
    crossed = next(TatoebaMining(tiny_root).evaluate(two, ["de"]))
    assert aligned.analysis["compatibility"]["same_text"]["mean"] == pytest.approx(1.0)  # the same model on both
    assert crossed.analysis["compatibility"]["same_text"]["mean"] < 0.5  # two unrelated hash spaces
    assert crossed.metrics["acc_cos_fwd"].value < aligned.metrics["acc_cos_fwd"].value
    result = next(r for r in XQuADR(tiny_root).evaluate(two, ["de"]) if r.pair.key == "de-en")
    assert result.metrics["ndcg@10"].value < 50  # questions and pool in unrelated spaces: little is found
