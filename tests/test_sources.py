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
    assert data.describe().keys() == {"mine/news/en-de.tsv", "mine/talks.de-en.jsonl", "other.tsv"}
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


def test_the_order_of_the_sources_does_not_change_the_sample(tmp_path):
    a = write_tsv(tmp_path / "a" / "en-de.tsv", clean_pairs(40))
    b = write_tsv(tmp_path / "b" / "wmt-en-de.tsv", [(x + "!", y + "!") for x, y in clean_pairs(40)])
    one = training_data([str(a), str(b)], ["de"], tmp_path, max_pairs=30, dev_pairs=5, seed=0)
    other = training_data([str(b), str(a)], ["de"], tmp_path, max_pairs=30, dev_pairs=5, seed=0)
    assert one.fingerprint == other.fingerprint and one.dev == other.dev
    assert [d.pairs for d in one.train] == [d.pairs for d in other.train]
    with pytest.raises(HarnessError, match="two sources are both called en-de.tsv"):
        training_data([str(a), str(write_tsv(tmp_path / "c" / "en-de.tsv", clean_pairs(9)))], ["de"], tmp_path,
                      max_pairs=None, dev_pairs=0, seed=0)


def test_a_folder_gives_only_the_runs_languages_and_the_data_root_joins_other_sources(tmp_path, tiny_root):
    folder = tmp_path / "mine"
    write_tsv(folder / "en-de.tsv", clean_pairs(30))
    write_tsv(folder / "en-it.tsv", [(a, "Italiano " + b) for a, b in clean_pairs(30)])
    (folder / "en-it.tsv").write_bytes(b"\xff not UTF-8: a file of another language is not even read\n")
    data = training_data([str(folder)], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)
    assert list(data.describe()) == ["mine/en-de.tsv"]
    # the data root has de and fr; a file adds es, which the data root lacks
    es = write_tsv(tmp_path / "en-es.tsv", [(a, "Español " + b) for a, b in clean_pairs(30)])
    mixed = training_data(["data-root", str(es)], ["de", "es"], tiny_root, max_pairs=None, dev_pairs=0, seed=0)
    assert {d.lang for d in mixed.train} == {"de", "es"} and "en-es.tsv" in mixed.describe()


def test_a_hub_datasets_key_is_its_pairs_not_whether_the_hub_answered(tmp_path, monkeypatch):
    import harness.data.sources as sources

    folder = local_hub_dataset(tmp_path / "talks", clean_pairs(20))
    first = training_data([f"hf:{folder}:en-de"], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)
    real = sources._load_hub_dataset
    monkeypatch.setattr(sources, "_load_hub_dataset", lambda *args: (real(*args)[0], "0123abcd"))  # a hub commit
    second = training_data([f"hf:{folder}:en-de"], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)
    assert second.sources[f"hf:{folder}:en-de"]["revision"] == "0123abcd"
    assert first.fingerprint == second.fingerprint


def test_another_filter_is_another_sample_even_when_it_drops_as_many(tmp_path):
    from harness.core.parallel import leak_key

    user = write_tsv(tmp_path / "en-de.tsv", clean_pairs(40))
    first = training_data([str(user)], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0,
                          exclude=frozenset({leak_key(clean_pairs(40)[3][0])}))
    second = training_data([str(user)], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0,
                           exclude=frozenset({leak_key(clean_pairs(40)[7][0])}))
    assert first.dropped == second.dropped == 1 and first.fingerprint != second.fingerprint
    assert first.checked_against == 1


def test_parallel_is_repeatable_on_the_command_line_and_a_list_in_toml(tmp_path, data_env, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = write_tsv(tmp_path / "en-de.tsv", clean_pairs(40))
    b = write_tsv(tmp_path / "more" / "wmt-en-de.tsv", [(x + "!", y + "!") for x, y in clean_pairs(40)])
    common = ["--langs", "de", "--tasks", "tatoeba", "--compat-tasks", "", "--max-pairs", "all"]
    assert main(["validate", "--parallel", str(a), "--parallel", str(b), *common]) == 0
    assert "in 2 datasets" in capsys.readouterr().out
    toml = tmp_path / "run.toml"
    toml.write_text(f'parallel = ["{a}", "{b}"]\n', encoding="utf-8")
    assert main(["validate", "--config", str(toml), *common]) == 0
    assert "in 2 datasets" in capsys.readouterr().out


def test_mined_pairs_train_above_a_minimum_score_with_english_first(tmp_path):
    """Issue 21, item 5: what `harness mine` writes is training data, cut at a score."""
    mined = tmp_path / "pairs.tsv"
    rows = [(1.30, "Anna kauft 7 Äpfel.", "Anna buys 7 apples."),
            (1.10, "Boris kauft 14 Bücher.", "Boris buys 14 books."),
            (1.02, "Chen kauft 21 Autos.", "Dana buys 5 dogs.")]
    mined.write_text("".join(f"{s:.6f}\t{a}\t{b}\n" for s, a, b in rows), encoding="utf-8")
    data = training_data([f"mined:{mined}@de-en>=1.05"], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)
    (dataset,) = data.train
    assert dataset.name == "mined:pairs.tsv>=1.05" and dataset.lang == "de"
    assert sorted(dataset.pairs) == [("Anna buys 7 apples.", "Anna kauft 7 Äpfel."),
                                     ("Boris buys 14 books.", "Boris kauft 14 Bücher.")]
    everything = training_data([f"mined:{mined}@de-en"], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)
    assert len(everything.train[0].pairs) == 3
    assert everything.fingerprint != data.fingerprint  # another minimum score is other training data
    english_source = tmp_path / "en-side.tsv"
    english_source.write_text("1.2\tAnna buys 7 apples.\tAnna kauft 7 Äpfel.\n", encoding="utf-8")
    flipped = training_data([f"mined:{english_source}@en-de"], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)
    assert flipped.train[0].pairs == [("Anna buys 7 apples.", "Anna kauft 7 Äpfel.")]


@pytest.mark.parametrize("spec_tail, content, message", [
    ("@de-en", "high\ta\tb\n", "pairs.tsv:1: the score 'high' is not a number"),
    ("@de-en", "1.0\ta\n", "pairs.tsv:1: expected 3 tab-separated fields"),
    ("@de-en>=2", "1.0\ta\tb\n", "no pair scores 2 or more"),
    ("@de-fr", "1.0\ta\tb\n", "must be English"),
    ("", "1.0\ta\tb\n", "use mined:FILE@SRC-TGT"),
    ("@de-en>=x", "1.0\ta\tb\n", "is not a number"),
])
def test_bad_mined_files_and_specs_are_one_line_errors(tmp_path, spec_tail, content, message):
    mined = tmp_path / "pairs.tsv"
    mined.write_text(content, encoding="utf-8")
    with pytest.raises(HarnessError, match=message.replace("(", r"\(")):
        training_data([f"mined:{mined}{spec_tail}"], ["de"], tmp_path, max_pairs=None, dev_pairs=0, seed=0)
