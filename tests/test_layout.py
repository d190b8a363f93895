"""Schema 4's file layout: one field per line, a student's run block and a dataset's gold scores stored once
in the model's `_shared` folder, read back exactly; a missing, altered or hostile reference makes a record
unreadable (named), never different; `harness migrate` rewrites version-3 files in this layout."""

import json

import numpy as np
import pytest
from scipy import stats as scipy_stats

from harness.app.cli import main
from harness.core.task import Evidence
from harness.results.evidence import arrays_of, evidence_to_json
from harness.results.layout import PART_SUFFIX, SHARED_DIR
from harness.results.schema import SCHEMA_VERSION, make_record
from harness.results.store import ResultStore

RNG = np.random.default_rng(0)
GOLD = RNG.uniform(0, 5, 300).astype(np.float32)


def sts_record(model: str, pair: str, run: dict) -> dict:
    cosine = (GOLD / 5 + RNG.normal(0, 0.2, len(GOLD))).astype(np.float32)
    value = 100 * scipy_stats.spearmanr(cosine, GOLD).statistic
    evidence = Evidence({"cosine": cosine, "gold": GOLD}, {"spearman": ("spearman", ("cosine", "gold"))})
    return make_record(model={"name": model, "revision": "r1"},
                       task={"name": "stsb", "family": "sts", "main_score": "spearman", "version": "1"},
                       pair=pair, metrics={"spearman": {"value": value, "higher_is_better": True}},
                       n_items=len(GOLD), seconds=0.1, run=run, evidence=evidence_to_json(evidence))


def same(a: dict, b: dict) -> bool:
    return json.loads(json.dumps(a)) == json.loads(json.dumps(b))


@pytest.fixture
def store(tmp_path):
    store = ResultStore(tmp_path / "runs")
    for model, seed in (("student-a", 0), ("student-b", 1)):
        for pair in ("de-de", "de-en", "fr-en"):
            store.write(sts_record(model, pair, {"lr": 2e-5, "seed": seed, "langs": ["de", "fr"]}))
    return store


def test_shared_parts_are_stored_once_and_read_back_exactly(store):
    for model in ("student-a", "student-b"):  # per model: one gold array for its three records, one run block
        assert len(list((store.root / model / SHARED_DIR).glob(f"*{PART_SUFFIX}"))) == 2
    records, problems = store.records()
    assert not problems and len(records) == 6  # the shared parts are not records
    assert len(list(store.root.glob("*/*/*.json"))) == 6  # nor do they look like records to a glob
    path = store.path_for("student-a", "stsb", "de-en")
    raw = json.loads(path.read_text())
    assert set(raw["run"]) == {"shared"} and set(raw["evidence"]["arrays"]["gold"]) == {"shared"}
    assert "shared" not in raw["evidence"]["arrays"]["cosine"]  # what depends on the model stays inline
    loaded = store.read("student-a", "stsb", "de-en")
    assert loaded["run"] == {"lr": 2e-5, "seed": 0, "langs": ["de", "fr"]}
    assert np.array_equal(arrays_of(loaded)["gold"], GOLD)


def test_a_record_file_has_one_field_per_line(store):
    text = store.path_for("student-b", "stsb", "fr-en").read_text()
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and len(lines) == len(json.loads(text)) + 2
    assert lines[1].startswith('"analysis": ') and any(line.startswith('"metrics": {"spearman":') for line in lines)


def test_rewriting_the_same_result_keeps_the_file_and_the_parts(store):
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in store.root.rglob("*") if p.is_file()}
    again = ResultStore(store.root)
    record = again.read("student-a", "stsb", "de-de")
    again.write({**record, "created_at": "2099-01-01T00:00:00+00:00"})
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in store.root.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("damage, reason", [
    (lambda part: part.unlink(), "is missing"),
    (lambda part: part.write_text(part.read_text().replace("2e-05", "3e-05")), "does not match its digest"),
])
def test_a_missing_or_altered_shared_part_is_named_not_read_as_something_else(store, damage, reason):
    run_part = json.loads(store.path_for("student-a", "stsb", "de-en").read_text())["run"]["shared"]
    damage(store.root / "student-a" / SHARED_DIR / f"{run_part}{PART_SUFFIX}")
    records, problems = ResultStore(store.root).records()
    assert len(records) == 3 and len(problems) == 3  # student-a's three records, and only those
    assert all(p.path.parent.parent.name == "student-a" and reason in p.reason and run_part in p.reason
               for p in problems)


def test_a_reference_cannot_reach_outside_the_shared_folder(store, tmp_path):
    (tmp_path / "secret.blob").write_text('{"lr": 1}')
    path = store.path_for("student-b", "stsb", "de-de")
    raw = json.loads(path.read_text())
    raw["run"] = {"shared": "../../secret"}
    path.write_text(json.dumps(raw))
    (problem,) = ResultStore(store.root).records()[1]
    assert problem.path == path and "malformed shared-part reference '../../secret'" in problem.reason


def test_migrate_rewrites_version_3_files_smaller_and_reading_the_same(tmp_path, capsys):
    root = tmp_path / "runs"
    written = []
    for model in ("student-a", "student-b"):
        for pair in ("de-de", "de-en"):
            record = {**sts_record(model, pair, {"lr": 2e-5, "model": model}), "schema_version": 3}
            path = root / model / "stsb" / f"{pair}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")  # how version 3 wrote it
            written.append(record)
    before = ResultStore(root).records()[0]
    size_before = sum(p.stat().st_size for p in root.rglob("*.json"))
    assert main(["migrate", "--results-dir", str(root)]) == 0
    assert "rewrote 4 record(s), 0 already current" in capsys.readouterr().out
    after = ResultStore(root).records()[0]
    assert len(after) == 4 and all(same(a, b) for a, b in zip(before, after))
    assert all(r["schema_version"] == SCHEMA_VERSION == 4 for r in after)
    assert sum(p.stat().st_size for p in root.rglob("*.json")) < 0.8 * size_before
    assert len(list(root.glob(f"*/{SHARED_DIR}/*{PART_SUFFIX}"))) == 4  # per model: its gold and its run
    assert main(["migrate", "--results-dir", str(root)]) == 0
    assert "rewrote 0 record(s), 4 already current" in capsys.readouterr().out


def test_a_model_folder_copied_alone_into_another_store_reads_the_same(store, tmp_path):
    import shutil

    other = ResultStore(tmp_path / "elsewhere")
    shutil.copytree(store.root / "student-b", other.root / "student-b")
    records, problems = other.records()
    assert not problems and len(records) == 3
    assert all(same(r, store.read("student-b", "stsb", r["pair"])) for r in records)


def test_writing_a_record_again_repairs_a_damaged_shared_part(store):
    path = store.path_for("student-a", "stsb", "de-en")
    part = store.root / "student-a" / SHARED_DIR / f"{json.loads(path.read_text())['run']['shared']}{PART_SUFFIX}"
    part.write_text("{}")
    assert len(ResultStore(store.root).records()[1]) == 3
    ResultStore(store.root).write(sts_record("student-a", "de-en", {"lr": 2e-5, "seed": 0, "langs": ["de", "fr"]}))
    records, problems = ResultStore(store.root).records()
    assert not problems and len(records) == 6
