"""`--tasks mteb:NAME`: mteb's tasks scored by our engine, offline through mteb's own mock tasks, and checked
against mteb's evaluators on the same embeddings (an mteb task built over our fixture data, through the bridge)."""

from __future__ import annotations

import json

import pytest

from harness.app.cli import main
from harness.app.plugins import TASKS
from harness.core.errors import HarnessError
from harness.core.task import LangPair
from harness.encoders.adapters import SentenceTransformerEncoder
from tasks.from_mteb import MtebTask, bridge
from tasks.mteb_tasks import MTEB_MAIN, OUR_MAIN, to_mteb


def test_a_mock_task_is_scored_with_intervals_and_evidence(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    runs = tmp_path / "runs"
    assert main(["eval", "--model", "hash", "--tasks", "mteb:MockBitextMiningTask,mteb:MockRetrievalTask",
                 "--langs", "en", "--results-dir", str(runs), "--no-progress"]) == 0
    mining = json.loads((runs / "hash" / "mteb-MockBitextMiningTask" / "en-en.json").read_text())
    assert mining["task"]["family"] == "mining" and mining["task"]["version"] == "mteb-NA"
    low, high = mining["metrics"]["acc_margin_mean"]["ci"]
    assert low <= mining["metrics"]["acc_margin_mean"]["value"] <= high and mining["evidence"]
    assert mining["analysis"]["fwd"]  # the hard-negative analysis, as for a built-in mining task
    retrieval = json.loads((runs / "hash" / "mteb-MockRetrievalTask" / "en-en.json").read_text())
    assert retrieval["n_items"] == 2 and "ci" in retrieval["metrics"]["ndcg@10"]


def test_unknown_unscorable_and_too_small_tasks_are_one_line_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for spec, message in [("mteb:MockSTSTsk", "mteb has no such task"),
                          ("mteb:MockClassificationTask", "is a Classification task"),
                          ("mteb:MockSTSTask", "2 scored pair(s); a correlation needs at least 3")]:
        assert main(["eval", "--model", "hash", "--tasks", spec, "--langs", "en", "--results-dir",
                     str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_the_mteb_catalogue_lists_the_families_the_harness_scores(capsys):
    assert main(["ls", "tasks", "--mteb"]) == 0
    out = capsys.readouterr().out
    assert "mteb:STS17 " in out and "mteb:Tatoeba " in out and "mteb:XQuADRetrieval " in out
    assert "Classification" not in out


def test_subsets_are_language_pairs_and_follow_the_requested_languages():
    from mteb.mocks import MockMultilingualBitextMiningTask

    task = bridge(MockMultilingualBitextMiningTask())
    assert task.pairs(["fr"]) == [LangPair("en", "en"), LangPair("fr", "fr")] and task.pairs(["de"]) == [
        LangPair("en", "en")]
    assert task.languages() == ["en", "fr"]


@pytest.mark.parametrize("task_name, pair", [("tatoeba", "de-en"), ("stsb-multi-mt", "en-de"), ("xquad-r", "de-en")])
def test_the_bridge_agrees_with_mtebs_evaluators_on_the_same_embeddings(task_name, pair, tiny_root, tiny_bert):
    """Our task -> an mteb task -> the bridge -> our engine, against mteb.evaluate on that mteb task."""
    import mteb
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_bert), device="cpu")
    lang_pair = LangPair(*pair.split("-"))
    mteb_task = to_mteb(TASKS.get(task_name)(tiny_root), lang_pair)
    ours = bridge(mteb_task).evaluate_pair(SentenceTransformerEncoder(model, "tiny", "r"),
                                           next(iter(bridge(mteb_task).subsets)), batch_size=16)
    scores = mteb.evaluate(model, to_mteb(TASKS.get(task_name)(tiny_root), lang_pair), cache=None,
                           show_progress_bar=False).task_results[0].scores["test"][0]
    kind = mteb_task.metadata.type
    assert 0.02 < scores[MTEB_MAIN[kind]] < 0.999
    assert ours.metrics[OUR_MAIN[kind]].value / 100 == pytest.approx(scores[MTEB_MAIN[kind]], abs=1e-4)


def test_retrieval_with_several_relevant_documents_is_refused(tiny_root):
    mteb_task = to_mteb(TASKS.get("xquad-r")(tiny_root), LangPair("de", "en"))
    task = bridge(mteb_task)
    mteb_task.load_data()
    mteb_task.dataset["default"]["test"]["relevant_docs"]["q0"]["d1"] = 1
    task._loaded = True
    with pytest.raises(HarnessError, match="query q0 has 2 relevant documents"):
        task.data(next(iter(task.subsets)))


def test_the_bridge_is_a_registered_file_task():
    from harness.app.plugins import FILE_TASKS

    assert FILE_TASKS.get("mteb") is MtebTask


def test_the_test_split_is_preferred_and_subsets_left_out_are_named():
    from tasks.from_mteb import find

    assert bridge(find("RuSTSBenchmarkSTS")).split == "test"  # its splits are test, validation
    flores = bridge(find("FloresBitextMining"))
    assert flores.left_out and all("the first one is scored" in why for why in flores.left_out.values())
    assert len(flores.subsets) + len(flores.left_out) == len(find("FloresBitextMining").metadata.eval_langs)
