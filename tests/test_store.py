import json
import os

import pytest

from harness.results.schema import SCHEMA_VERSION, RecordError, make_record, upgrade
from harness.results.store import ResultStore, safe_name, write_json_atomic


def record(model="m", task="t", pair="de-en", value=50.0):
    return make_record(model={"name": model, "revision": "r1"},
                       task={"name": task, "family": "sts", "main_score": "spearman", "version": "1"},
                       pair=pair, metrics={"spearman": {"value": value, "higher_is_better": True}},
                       n_items=3, seconds=0.1)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", "..", ".", "a/../../b", "~/x", "a\\..\\b", ""])
def test_model_names_never_escape_the_root(tmp_path, name):
    store = ResultStore(tmp_path / "runs")
    path = store.write(record(model=name))
    assert path.resolve().is_relative_to((tmp_path / "runs").resolve())
    assert store.read(name, "t", "de-en")["model"]["name"] == name


def test_distinct_names_stay_distinct_after_cleaning():
    assert safe_name("org/model") != safe_name("org_model")
    assert safe_name("all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"


def test_record_carries_schema_version_and_round_trips(tmp_path):
    store = ResultStore(tmp_path)
    store.write(record())
    loaded = store.read("m", "t", "de-en")
    assert loaded["schema_version"] == SCHEMA_VERSION
    assert loaded["metrics"]["spearman"]["value"] == 50.0


def test_atomic_write_leaves_old_file_when_serialisation_fails(tmp_path):
    path = tmp_path / "x.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temp file left behind


def test_corrupt_and_future_records_are_reported_not_raised(tmp_path):
    store = ResultStore(tmp_path)
    store.write(record())
    (tmp_path / "bad.json").write_text('{"schema_version": 1, "model"')
    future = record(pair="fr-en")
    future["schema_version"] = SCHEMA_VERSION + 1
    write_json_atomic(tmp_path / "m" / "t" / "future.json", future)
    records, problems = store.records()
    assert len(records) == 1
    reasons = {p.path.name: p.reason for p in problems}
    assert "corrupt JSON" in reasons["bad.json"]
    assert "unsupported schema_version" in reasons["future.json"]


def test_upgrade_rejects_missing_fields_and_non_finite_metrics():
    with pytest.raises(RecordError, match="missing field"):
        upgrade({"schema_version": 1})
    bad = record()
    bad["metrics"]["spearman"]["value"] = float("nan")
    with pytest.raises(RecordError, match="not finite"):
        upgrade(bad)


def test_write_is_rename_based(tmp_path, monkeypatch):
    calls = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append((a, b)), real(a, b)))
    write_json_atomic(tmp_path / "y.json", {"b": 2})
    assert len(calls) == 1 and str(calls[0][1]).endswith("y.json")


def test_result_files_are_readable_by_others(tmp_path):
    path = ResultStore(tmp_path).write(record())
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_recomputed_record_that_says_the_same_leaves_the_file_alone(tmp_path):
    store = ResultStore(tmp_path)
    path = store.write(record())
    first = path.read_bytes()
    again = record()
    again["created_at"], again["timing"] = "2099-01-01T00:00:00+00:00", {"seconds": 9.9}
    store.write(again)
    assert path.read_bytes() == first  # when and how long aside, nothing changed: no rewrite, no git diff
    store.write(record(value=51.0))
    assert store.read("m", "t", "de-en")["metrics"]["spearman"]["value"] == 51.0
