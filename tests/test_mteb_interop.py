"""mteb interop: our tasks run inside mteb.evaluate and give the same main scores as our engine;
our exported results load as mteb TaskResult objects."""

import json

import pytest

from harness.app.plugins import TASKS
from harness.core.task import LangPair
from harness.encoders.adapters import SentenceTransformerEncoder
from tasks.mteb_tasks import MTEB_MAIN, OUR_MAIN, to_mteb


@pytest.mark.parametrize("task_name, pair", [("tatoeba", "de-en"), ("stsb-multi-mt", "en-de"), ("xquad-r", "de-en")])
def test_mteb_and_our_engine_agree_on_main_scores(task_name, pair, tiny_root, tiny_bert, tmp_path):
    import mteb
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_bert), device="cpu")
    task = TASKS.get(task_name)(tiny_root)
    lang_pair = LangPair(*pair.split("-"))
    ours = task.evaluate_pair(SentenceTransformerEncoder(model, "tiny", "r"), lang_pair, batch_size=16)
    mteb_task = to_mteb(task, lang_pair)
    result = mteb.evaluate(model, mteb_task, cache=None, show_progress_bar=False)
    scores = result.task_results[0].scores["test"][0]
    kind = mteb_task.metadata.type
    assert 0.02 < scores[MTEB_MAIN[kind]] < 0.999  # a non-trivial score, or the comparison proves little
    assert ours.metrics[OUR_MAIN[kind]].value / 100 == pytest.approx(scores[MTEB_MAIN[kind]], abs=1e-4)


def test_export_loads_as_mteb_task_results(tmp_path, data_env, capsys):
    from mteb.results import TaskResult

    from harness.app.cli import main

    runs = tmp_path / "runs"
    assert main(["eval", "--model", "hash", "--langs", "de", "--tasks", "tatoeba,stsb-multi-mt",
                 "--results-dir", str(runs), "--no-progress"]) == 0
    assert main(["export", "--format", "mteb", "--results-dir", str(runs), "--out", str(tmp_path / "mteb")]) == 0
    files = sorted((tmp_path / "mteb").rglob("*.json"))
    assert [f.name for f in files] == ["stsb-multi-mt.json", "tatoeba.json"]
    tatoeba = TaskResult.model_validate(json.loads(files[1].read_text()))
    record = json.loads((runs / "hash" / "tatoeba" / "de-en.json").read_text())
    assert tatoeba.scores["test"][0]["main_score"] == pytest.approx(record["metrics"]["acc_margin_mean"]["value"] / 100)
    assert tatoeba.scores["test"][0]["languages"] == ["deu-Latn", "eng-Latn"]
