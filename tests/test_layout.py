"""Schema 4's file layout: one field per line, a student's run block and a row-aligned dataset's gold scores
stored once in the model's `_shared` folder, read back exactly; a missing, damaged or hostile reference makes a
record unreadable (named), never different; `harness migrate` rewrites version-3 files in this layout and
removes the parts nothing refers to any more."""

import json
import os
import shutil
import time

import numpy as np
import pytest
from scipy import stats as scipy_stats

from harness.app.cli import main
from harness.core.task import Evidence
from harness.results.evidence import arrays_of, evidence_to_json
from harness.results.layout import PART_SUFFIX, SHARED_DIR, digest_of
from harness.results.schema import SCHEMA_VERSION, make_record, upgrade
from harness.results.store import ResultStore

RNG = np.random.default_rng(0)
GOLD = RNG.uniform(0, 5, 300).astype(np.float32)
RUN = {"lr": 2e-5, "seed": 0, "langs": ["de", "fr"], "teacher": "all-MiniLM-L6-v2", "student": "multilingual-e5-small",
       "trainers": ["align-map"], "max_pairs": 1000, "batch_size": 32}  # a real run block has ~40 settings


def sts_record(model: str, pair: str, run: dict, task: str = "stsb-multi-mt") -> dict:
    cosine = (GOLD / 5 + RNG.normal(0, 0.2, len(GOLD))).astype(np.float32)
    value = 100 * scipy_stats.spearmanr(cosine, GOLD).statistic
    evidence = Evidence({"cosine": cosine, "gold": GOLD}, {"spearman": ("spearman", ("cosine", "gold"))})
    return make_record(model={"name": model, "revision": "r1"},
                       task={"name": task, "family": "sts", "main_score": "spearman", "version": "1"},
                       pair=pair, metrics={"spearman": {"value": value, "higher_is_better": True}},
                       n_items=len(GOLD), seconds=0.1, run=run, evidence=evidence_to_json(evidence))


def same(a: dict, b: dict) -> bool:
    return json.loads(json.dumps(a)) == json.loads(json.dumps(b))


def files(root) -> dict:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def store(tmp_path):
    store = ResultStore(tmp_path / "runs")
    for model, seed in (("student-a", 0), ("student-b", 1)):
        for pair in ("de-de", "de-en", "fr-en"):
            store.write(sts_record(model, pair, {**RUN, "seed": seed}))
        store.write(sts_record(model, "en-en", {**RUN, "seed": seed}, task="sts17"))
    return store


def run_part(store, model="student-a"):
    name = json.loads(store.path_for(model, "stsb-multi-mt", "de-en").read_text())["run"]["shared"]
    return store.root / model / SHARED_DIR / f"{name}{PART_SUFFIX}"


def test_shared_parts_are_stored_once_and_read_back_exactly(store):
    for model in ("student-a", "student-b"):  # per model: one gold array for its three STSb records, one run block
        names = sorted(p.name for p in (store.root / model / SHARED_DIR).iterdir())
        assert [n.split("-")[0] for n in names] == ["gold", "run"] and all(n.endswith(PART_SUFFIX) for n in names)
    records, problems = store.records()
    assert not problems and len(records) == 8  # the shared parts are not records
    assert len(list(store.root.glob("*/*/*.json"))) == 8  # nor do they look like records to a glob
    raw = json.loads(store.path_for("student-a", "stsb-multi-mt", "de-en").read_text())
    assert set(raw["run"]) == {"shared"} and raw["evidence"]["arrays"]["gold"]["shared"].startswith("gold-")
    assert "shared" not in raw["evidence"]["arrays"]["cosine"]  # what depends on the model stays inline
    sts17 = json.loads(store.path_for("student-a", "sts17", "en-en").read_text())
    assert "data" in sts17["evidence"]["arrays"]["gold"]  # each STS17 track has its own gold: kept inline
    loaded = store.read("student-a", "stsb-multi-mt", "de-en")
    assert loaded["run"] == RUN
    assert np.array_equal(arrays_of(loaded)["gold"], GOLD)


def test_a_record_file_has_one_field_per_line(store):
    text = store.path_for("student-b", "stsb-multi-mt", "fr-en").read_text()
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and len(lines) == len(json.loads(text)) + 2
    assert lines[1].startswith('"analysis": ') and any(line.startswith('"metrics": {"spearman":') for line in lines)


def test_rewriting_the_same_result_keeps_the_file_and_the_parts(store):
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in store.root.rglob("*") if p.is_file()}
    again = ResultStore(store.root)
    record = again.read("student-a", "stsb-multi-mt", "de-de")
    again.write({**record, "created_at": "2099-01-01T00:00:00+00:00"})
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in store.root.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("damage, reason", [
    (lambda part: part.unlink(), "is missing (a model's records are copied with its _shared folder)"),
    (lambda part: part.write_text(part.read_text().replace("2e-05", "3e-05")), "does not match its digest"),
    (lambda part: part.write_bytes(b"\xff\xfe"), "cannot be read"),
])
def test_a_missing_or_damaged_shared_part_is_named_not_read_as_something_else(store, damage, reason):
    part = run_part(store)
    damage(part)
    records, problems = ResultStore(store.root).records()
    assert len(records) == 4 and len(problems) == 4  # student-a's four records, and only those
    assert all(p.path.parent.parent.name == "student-a" and reason in p.reason and part.stem in p.reason
               for p in problems)


def test_a_part_that_is_not_json_is_named(store):
    path = store.path_for("student-b", "stsb-multi-mt", "de-de")
    raw = json.loads(path.read_text())
    raw["run"] = {"shared": f"run-{digest_of('{,}')}"}
    (store.root / "student-b" / SHARED_DIR / f"{raw['run']['shared']}{PART_SUFFIX}").write_text("{,}")
    path.write_text(json.dumps(raw))
    (problem,) = ResultStore(store.root).records()[1]
    assert problem.path == path and "is not JSON" in problem.reason


def test_a_reference_cannot_name_a_path(store):
    path = store.path_for("student-b", "stsb-multi-mt", "de-de")
    raw = json.loads(path.read_text())
    raw["run"] = {"shared": "../../secret"}
    path.write_text(json.dumps(raw))
    (problem,) = ResultStore(store.root).records()[1]
    assert problem.path == path and "malformed shared-part reference '../../secret'" in problem.reason


def test_a_record_outside_model_task_pair_has_no_shared_parts(store):
    stray = store.root / "student-a" / "stray.json"
    shutil.copy(store.path_for("student-a", "stsb-multi-mt", "de-en"), stray)
    problems = {p.path: p.reason for p in ResultStore(store.root).records()[1]}
    assert "not a record's place" in problems[stray]
    assert main(["migrate", "--results-dir", str(store.root)]) == 1  # named, left alone, nothing written outside
    assert not (store.root / SHARED_DIR).exists() and stray.is_file()


def test_an_inline_version_3_run_block_is_never_read_as_a_reference(tmp_path):
    store = ResultStore(tmp_path)
    record = {**sts_record("m", "de-de", {"shared": "run-" + "0" * 64}), "schema_version": 3}
    path = store.path_for("m", "stsb-multi-mt", "de-de")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record, indent=2))
    assert store.load(path)["run"] == {"shared": "run-" + "0" * 64}


def test_a_model_folder_copied_alone_into_another_store_reads_the_same(store, tmp_path):
    other = ResultStore(tmp_path / "elsewhere")
    shutil.copytree(store.root / "student-b", other.root / "student-b")
    records, problems = other.records()
    assert not problems and len(records) == 4
    assert all(same(r, store.read("student-b", r["task"]["name"], r["pair"])) for r in records)


@pytest.mark.parametrize("fresh", [True, False])
def test_writing_a_record_again_repairs_a_damaged_or_deleted_part(store, fresh):
    writer = ResultStore(store.root) if fresh else store  # the same store must not trust what it read before
    shutil.rmtree(store.root / "student-a" / SHARED_DIR)
    assert len(ResultStore(store.root).records()[1]) == 4
    for pair in ("de-de", "de-en", "fr-en"):
        writer.write(sts_record("student-a", pair, RUN))
    writer.write(sts_record("student-a", "en-en", RUN, task="sts17"))
    records, problems = ResultStore(store.root).records()
    assert not problems and len(records) == 8


def test_migrate_rewrites_version_3_files_smaller_and_reading_the_same(tmp_path, capsys):
    root = tmp_path / "runs"
    written = []
    for model in ("student-a", "student-b"):
        for pair in ("de-de", "de-en"):
            record = {**sts_record(model, pair, {**RUN, "model": model}), "schema_version": 3}
            path = root / model / "stsb-multi-mt" / f"{pair}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")  # how version 3 wrote it
            written.append(record)
    before = ResultStore(root).records()[0]
    assert all(same(b, upgrade(w)) for b, w in zip(before, written))  # version 3 loads as it was written
    size_before, tree = sum(map(len, files(root).values())), files(root)
    assert main(["migrate", "--results-dir", str(root), "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "would rewrite 4 record(s)" in dry and files(root) == tree  # a dry run writes nothing
    assert main(["migrate", "--results-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "rewrote 4 record(s), 0 already current" in out
    after = ResultStore(root).records()[0]
    assert len(after) == 4 and all(same(a, b) for a, b in zip(before, after))
    assert all(r["schema_version"] == SCHEMA_VERSION == 4 for r in after)
    size_after = sum(map(len, files(root).values()))  # the shared parts included
    assert size_after < 0.8 * size_before
    assert f"{size_before / 1e6:.1f} MB -> {size_after / 1e6:.1f} MB" in out and out.split(";")[-1] in dry
    assert len(list(root.glob(f"*/{SHARED_DIR}/*{PART_SUFFIX}"))) == 4  # per model: its gold and its run
    assert main(["migrate", "--results-dir", str(root)]) == 0
    assert "rewrote 0 record(s), 4 already current" in capsys.readouterr().out


def test_migrate_removes_old_unreferenced_parts_only(store, capsys):
    old = run_part(store)
    for pair in ("de-de", "de-en", "fr-en"):  # retrained with other settings: a new run block
        store.write(sts_record("student-a", pair, {**RUN, "lr": 1e-4}))
    store.write(sts_record("student-a", "en-en", {**RUN, "lr": 1e-4}, task="sts17"))
    young = old.with_name(f"run-{'1' * 64}{PART_SUFFIX}")
    young.write_text("{}")  # as if a run had just written it, its record not yet
    an_hour_ago = time.time() - 3700
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert main(["migrate", "--results-dir", str(store.root), "--dry-run"]) == 0
    assert "would remove 1 unreferenced shared part(s)" in capsys.readouterr().out and old.is_file()
    assert main(["migrate", "--results-dir", str(store.root)]) == 0
    assert "removed 1 unreferenced shared part(s)" in capsys.readouterr().out
    assert not old.exists() and young.is_file()
    records, problems = ResultStore(store.root).records()
    assert not problems and len(records) == 8


def test_migrate_keeps_every_part_of_a_model_with_an_unreadable_record(store, capsys):
    old = run_part(store, "student-b")
    os.utime(old, (time.time() - 3700, time.time() - 3700))
    path = store.path_for("student-b", "stsb-multi-mt", "de-de")
    path.write_text("{")
    assert main(["migrate", "--results-dir", str(store.root)]) == 1
    assert str(path) in capsys.readouterr().err and old.is_file()


def test_a_run_block_smaller_than_a_reference_stays_inline(tmp_path):
    store = ResultStore(tmp_path)
    path = store.write(sts_record("plain-eval", "de-de", {"batch_size": 32, "langs": ["de"]}))
    assert json.loads(path.read_text())["run"] == {"batch_size": 32, "langs": ["de"]}
    assert [p.name.split("-")[0] for p in (tmp_path / "plain-eval" / SHARED_DIR).iterdir()] == ["gold"]
