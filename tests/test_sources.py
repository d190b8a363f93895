"""Training pairs from anywhere (`--parallel`): files, folders, JSONL, a local parquet dataset through `hf:`, and
the leak filter that drops every pair meeting the run's evaluation sentences, counted per source."""

from __future__ import annotations

import json

import pytest

from harness.app.cli import main
from harness.core.errors import DataError, HarnessError
from harness.core.paths import shared_root
from harness.data.sources import language_of, training_data
from tests.fixtures import sentences

SHARED = shared_root() / "data"


def clean_pairs(n: int) -> list[tuple[str, str]]:
    return [(f"The clean sentence number {i} is here.", f"Der saubere Satz Nummer {i} ist hier.") for i in range(n)]


def write_tsv(path, pairs):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "lang"), [("en-de.tsv.gz", "de"), ("talks.de-en.jsonl", "de"), ("en-zho_Hans.tsv",
                                            "zh"), ("train.tsv", None), ("open-ended.tsv", None)])
def test_the_language_is_read_from_the_file_name(name, lang):
    assert language_of(name) == lang


def test_files_folders_and_jsonl_are_each_a_dataset(tmp_path):
    write_tsv(tmp_path / "mine" / "news" / "en-de.tsv", clean_pairs(30))
    rows = [json.dumps({"english": a, "non_english": b}) for a, b in clean_pairs(60)[30:]]
    (tmp_path / "mine" / "talks.de-en.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    write_tsv(tmp_path / "other.tsv", [(a, b.replace("Der", "Le")) for a, b in clean_pairs(20)])
    data = training_data([str(tmp_path / "mine"), f"{tmp_path / 'other.tsv'}@fr"], ["de", "fr"], tmp_path,
                         max_pairs=None, dev_pairs=4, seed=0)
    assert data.describe().keys() == {"news/en-de.tsv", "talks.de-en.jsonl", "other.tsv"}
    assert {d.lang for d in data.train} == {"de", "fr"} and data.n_pairs == 30 + 30 + 20 - 8
    assert data.fingerprint and data.dropped == 0


def test_bad_rows_and_unnamed_languages_are_one_line_errors(tmp_path):
    bad = tmp_path / "en-de.tsv"
    bad.write_text("a\tb\nonly one field\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"en-de.tsv:2: expected 2 tab-separated fields"):
        training_data([str(bad)], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)
    jsonl = tmp_path / "en-de.jsonl"
    jsonl.write_text('{"english": "a", "non_english": "b"}\n{"english": "a"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"en-de.jsonl:2: expected"):
        training_data([str(jsonl)], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)
    unnamed = write_tsv(tmp_path / "pairs.tsv", clean_pairs(5))
    with pytest.raises(HarnessError, match=r"pairs.tsv: its name does not say the language .*@LANG"):
        training_data([str(unnamed)], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)
    with pytest.raises(HarnessError, match=r"no training pairs for fr"):
        training_data([f"{unnamed}@de"], ["de", "fr"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)


def local_hub_dataset(folder, pairs, subset="en-de"):
    """A folder shaped like sentence-transformers/parallel-sentences-*: SUBSET/train-*.parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / subset).mkdir(parents=True, exist_ok=True)
    table = pa.table({"english": [a for a, _ in pairs], "non_english": [b for _, b in pairs]})
    pq.write_table(table, folder / subset / "train-00000-of-00001.parquet")
    return folder


def test_a_hub_dataset_is_read_through_datasets_with_its_revision(tmp_path):
    folder = local_hub_dataset(tmp_path / "parallel-sentences-talks", clean_pairs(40))
    data = training_data([f"hf:{folder}:en-de"], ["de"], tmp_path, max_pairs=None, dev_pairs=5, seed=0)
    source = data.sources[f"hf:{folder}:en-de"]
    assert source["read"] == 40 and source["revision"].startswith("local:")
    assert data.n_pairs == 35
    changed = local_hub_dataset(tmp_path / "changed", clean_pairs(41))
    other = training_data([f"hf:{changed}:en-de"], ["de"], tmp_path, max_pairs=None, dev_pairs=5, seed=0)
    assert other.fingerprint != data.fingerprint  # other pairs: another student
    with pytest.raises(HarnessError, match=r"name the language pair as the subset"):
        training_data([f"hf:{folder}"], ["de"], tmp_path, max_pairs=None, dev_pairs=5, seed=0)


def test_a_student_trained_through_hf_names_the_revision_in_its_summary(tmp_path, tiny_bert, data_env, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = local_hub_dataset(tmp_path / "talks", list(zip(sentences("en", 60), sentences("de", 60))))
    out = tmp_path / "student"
    assert main(["train", "--trainer", "distill", "--teacher", "hash:32", "--student", str(tiny_bert), "--langs", "de",
                 "--parallel", f"hf:{folder}:en-de", "--no-eval", "--batch-size", "8", "--head-fit-pairs", "16",
                 "--output", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "training_summary.json").read_text(encoding="utf-8"))
    source = summary["data_sources"][f"hf:{folder}:en-de"]
    assert source["revision"].startswith("local:") and source["read"] == 60
    assert f"hf:{folder}:en-de" in summary["datasets"]


@pytest.mark.skipif(not (SHARED / "eval").is_dir(), reason="../shared/data is not beside this checkout")
def test_the_leak_filter_drops_evaluation_sentences_from_a_users_file(tmp_path, capsys, monkeypatch):
    """A user's file seeded with 50 test sentences of STS17 and Tatoeba: the run drops exactly those 50."""
    from harness.core.data import read_aligned

    tatoeba = list(zip(*reversed(read_aligned(SHARED / "eval/tatoeba/tatoeba.deu-eng.deu",
                                              SHARED / "eval/tatoeba/tatoeba.deu-eng.eng"))))[:25]
    sts17 = [line.split("\t")[0] for line in
             (SHARED / "eval/sts17/STS2017.eval.v1.1/STS.input.track5.en-en.txt").read_text().splitlines()[:25]]
    seeded = [*clean_pairs(150), *tatoeba, *[(s, f"Eine Übersetzung von Satz {i}.") for i, s in enumerate(sts17)]]
    seeded += [(a.upper() + "  ", b) for a, b in clean_pairs(160)[150:]]  # not evaluation sentences: kept
    seeded[150] = ("  " + seeded[150][0].upper(), seeded[150][1])  # case and spaces do not hide a leak
    user = write_tsv(tmp_path / "mine" / "en-de.tsv", seeded)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--parallel", str(user), "--langs", "de", "--tasks", "sts17,tatoeba",
                 "--compat-tasks", ""]) == 0
    out = capsys.readouterr().out
    assert "leak filter: dropped 50 pairs that meet the run's evaluation sentences (en-de.tsv 50)" in out
    data = training_data([str(user)], ["de"], tmp_path, max_pairs=None, dev_pairs=10, seed=0,
                         exclude=frozenset())
    assert data.dropped == 0 and data.n_pairs == 210 - 10  # without evaluation sets nothing is dropped
