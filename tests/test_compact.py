"""Schemas 3 and 4: compact evidence, replicates recomputed from it (and cached), and `harness migrate`, which
rewrites version-2 records in the version-4 layout without changing what they say. The golden records are
version 2: they are the migration's input here."""

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.app.cli import main
from harness.results import replicate_cache, stats
from harness.results.compact import compact_record
from harness.results.evidence import arrays_of, decode_array, encode_array, main_replicates
from harness.results.layout import PART_SUFFIX, SHARED_DIR
from harness.results.schema import SCHEMA_VERSION, WORST_KEPT
from harness.results.store import ResultStore

GOLDEN = Path(__file__).parent / "golden" / "runs"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE", str(folder))
    monkeypatch.setattr(replicate_cache, "_MEMORY", {})
    return folder / "replicates"


@pytest.fixture
def v2_folder(tmp_path):
    folder = tmp_path / "runs"
    shutil.copytree(GOLDEN, folder)
    return folder


def _raw(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("values", [np.arange(7, dtype=np.float32) / 3, np.array([1, 0, 1, 1], dtype=np.uint8),
                                    np.array([], dtype=np.int32), np.linspace(-1, 1, 999).astype(">f4")])
def test_arrays_round_trip_exactly_through_the_codec(values):
    entry = encode_array(values)
    assert entry["codec"] == "zlib"
    back = decode_array(entry)
    assert back.dtype == values.dtype.newbyteorder("<") and np.array_equal(back, values)


def test_a_bad_codec_or_corrupt_data_is_a_clear_error():
    entry = encode_array(np.ones(5, dtype=np.float32))
    with pytest.raises(ValueError, match="unsupported array codec 'lz4'"):
        decode_array({**entry, "codec": "lz4"})
    with pytest.raises(ValueError, match="not valid zlib"):
        decode_array({**entry, "data": "AAAA"})
    with pytest.raises(ValueError, match="not base64"):
        decode_array({**entry, "data": "@@@@"})
    with pytest.raises(ValueError, match="holds 5 values where the evidence has n = 6"):
        decode_array(entry, n=6)


def test_a_record_cannot_inflate_an_array_beyond_its_items():
    bomb = encode_array(np.zeros(50_000_000, dtype=np.uint8))  # 50 MB of zeros: 49 kB compressed
    assert len(bomb["data"]) < 100_000
    with pytest.raises(ValueError, match="where the evidence has n = 10"):
        decode_array(bomb, n=10)


def test_version_2_records_load_and_compact_to_the_same_reading(v2_folder):
    store = ResultStore(v2_folder)
    records, problems = store.records()
    assert not problems and len(records) == 22
    assert all(_raw(p)["schema_version"] == 2 for p in v2_folder.rglob("*.json"))
    mining = [r for r in records if r["task"]["family"] == "mining"]
    assert mining and all(len(r["analysis"]["fwd"]["worst"]) > WORST_KEPT for r in mining)  # v2 kept 20
    for record in records:
        assert record["schema_version"] == SCHEMA_VERSION  # upgraded on read
        compact = compact_record(record)
        assert compact["metrics"] == record["metrics"]
        old, new = arrays_of(record), arrays_of(compact)
        assert old.keys() == new.keys() and all(np.array_equal(old[k], new[k]) for k in old)
        assert "replicates" in record["bootstrap"] and "replicates" not in compact["bootstrap"]
        if record["task"]["family"] == "mining":
            for way in ("fwd", "bwd"):
                assert "gap_histogram" not in compact["analysis"][way]  # its gaps are evidence
                assert compact["analysis"][way]["worst"] == record["analysis"][way]["worst"][:WORST_KEPT]


def test_recomputed_replicates_are_the_stored_ones_to_their_resolution(v2_folder, cache):
    """Version 2 stored the main score's replicates as int16 steps of 0.001 points; version 3 recomputes them
    from the evidence. They must be the same resamples: equal to within 0.002 points (the stored steps, and
    the float32 sums of the means: a different resample would be off by whole points)."""
    for record in ResultStore(v2_folder).records()[0]:
        compact = compact_record(record)
        stored, recomputed = main_replicates(record), main_replicates(compact)
        assert recomputed is not None and len(recomputed) == stats.RESAMPLES
        np.testing.assert_allclose(recomputed, stored, atol=0.002)


def test_migrate_rewrites_once_shrinks_and_keeps_the_tables(v2_folder, tmp_path, capsys, cache):
    before = sum(p.stat().st_size for p in v2_folder.rglob("*.json"))
    assert main(["leaderboard", "--results-dir", str(v2_folder), "--out", str(tmp_path / "old")]) == 0
    assert main(["migrate", "--results-dir", str(v2_folder), "--dry-run"]) == 0
    assert "would rewrite 22 record(s)" in capsys.readouterr().out
    assert all(_raw(p)["schema_version"] == 2 for p in v2_folder.rglob("*.json"))  # a dry run writes nothing

    assert main(["migrate", "--results-dir", str(v2_folder)]) == 0
    assert "rewrote 22 record(s), 0 already current" in capsys.readouterr().out
    after = sum(p.stat().st_size for p in v2_folder.rglob("*") if p.is_file())  # the shared parts included
    assert after < 0.6 * before
    for path in v2_folder.rglob("*.json"):
        raw = _raw(path)
        shared = {p.stem: _raw(p) for p in (path.parents[1] / SHARED_DIR).glob(f"*{PART_SUFFIX}")}
        assert raw["schema_version"] == SCHEMA_VERSION and "replicates" not in raw["bootstrap"]
        arrays = {name: shared.get(entry.get("shared"), entry) for name, entry in raw["evidence"]["arrays"].items()}
        assert all(entry["codec"] == "zlib" for entry in arrays.values())
    assert main(["migrate", "--results-dir", str(v2_folder)]) == 0
    assert "rewrote 0 record(s), 22 already current" in capsys.readouterr().out

    assert main(["leaderboard", "--results-dir", str(v2_folder), "--out", str(tmp_path / "new")]) == 0
    old = (tmp_path / "old" / "LEADERBOARD.csv").read_text()
    new = (tmp_path / "new" / "LEADERBOARD.csv").read_text()
    assert new == old  # every record's score and interval


def test_averages_over_pairs_keep_their_intervals_after_migration(v2_folder, cache):
    """The intervals of averages come from the replicates, stored in schema 2 and recomputed in schema 3:
    the same to within the stored steps."""
    from harness.results.overview import average_cell, load_groups

    def averages() -> dict:
        groups = load_groups(ResultStore(v2_folder).records()[0])
        cells = {}
        for name, group in groups.items():
            for family in {group.family[k] for k in group.keys()}:
                keys = sorted(k for k in group.keys() if group.family[k] == family)
                cells[(name, family)] = average_cell(group, keys)
        return cells

    before = averages()
    assert main(["migrate", "--results-dir", str(v2_folder)]) == 0
    after = averages()
    assert before.keys() == after.keys() and len(before) == 3  # the hash model's three families
    for key, cell in before.items():
        assert cell.low is not None and after[key].low is not None
        assert after[key].value == cell.value
        assert abs(after[key].low - cell.low) < 0.002 and abs(after[key].high - cell.high) < 0.002


def test_migrate_leaves_a_record_whose_evidence_is_bad_or_does_not_give_its_replicates(v2_folder, capsys, cache):
    bad_dtype = v2_folder / "hash" / "tatoeba" / "de-en.json"
    record = _raw(bad_dtype)
    record["evidence"]["arrays"]["correct_cos_fwd"]["dtype"] = "<i8"
    bad_dtype.write_text(json.dumps(record), encoding="utf-8")
    tampered = v2_folder / "hash" / "stsb-multi-mt" / "de-en.json"
    record = _raw(tampered)
    steps = decode_array({k: v for k, v in record["bootstrap"]["replicates"].items() if k not in ("scale", "offset")})
    reordered = base64.b64encode(steps[::-1].astype("<i2").tobytes()).decode("ascii")  # as schema 2 wrote it
    record["bootstrap"]["replicates"]["data"] = reordered  # the same values, paired with other resamples
    tampered.write_text(json.dumps(record), encoding="utf-8")
    before = {path: path.read_text(encoding="utf-8") for path in (bad_dtype, tampered)}

    assert main(["migrate", "--results-dir", str(v2_folder)]) == 1
    captured = capsys.readouterr()
    assert "rewrote 20 record(s)" in captured.out
    assert f"{bad_dtype}: malformed evidence: unsupported array dtype '<i8'" in captured.err
    assert f"{tampered}: not rewritten: its stored replicates are not what its evidence gives" in captured.err
    assert {path: path.read_text(encoding="utf-8") for path in before} == before


def test_migrate_names_what_it_cannot_read_and_leaves_it(v2_folder, capsys, cache):
    broken = v2_folder / "hash" / "tatoeba" / "xx-en.json"
    broken.write_text('{"schema_version": 2, "mod', encoding="utf-8")
    assert main(["migrate", "--results-dir", str(v2_folder)]) == 1
    captured = capsys.readouterr()
    assert "rewrote 22 record(s)" in captured.out and "xx-en.json: corrupt JSON" in captured.err
    assert broken.read_text(encoding="utf-8") == '{"schema_version": 2, "mod'


def test_migrate_refuses_a_missing_folder(tmp_path, capsys):
    assert main(["migrate", "--results-dir", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_replicates_are_computed_once_and_then_read_from_the_cache(cache, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=300).astype(np.float32), rng.normal(size=300).astype(np.float32)]
    first = replicate_cache.cached_replicates("spearman", arrays, "sts|de-en")
    np.testing.assert_array_equal(first, stats.replicates("spearman", arrays, "sts|de-en"))
    assert len(list(cache.rglob("*.npy"))) == 1

    monkeypatch.setattr(replicate_cache, "_MEMORY", {})  # a new process: only the disk cache is left
    monkeypatch.setattr(stats, "replicates", lambda *a, **k: pytest.fail("recomputed although cached"))
    np.testing.assert_array_equal(replicate_cache.cached_replicates("spearman", arrays, "sts|de-en"), first)


def test_the_cache_key_covers_every_input(cache):
    a = np.arange(50, dtype=np.float32)
    base = replicate_cache.content_key("mean", [a], "t|de-en", 2000)
    others = {replicate_cache.content_key("mean", [a + 1], "t|de-en", 2000),
              replicate_cache.content_key("mean", [a.astype(np.float64)], "t|de-en", 2000),
              replicate_cache.content_key("error", [a], "t|de-en", 2000),
              replicate_cache.content_key("mean", [a], "t|fr-en", 2000),
              replicate_cache.content_key("mean", [a], "t|de-en", 1000)}
    assert base not in others and len(others) == 5


def test_a_damaged_or_unwritable_cache_is_recomputed_not_an_error(cache, tmp_path, monkeypatch):
    arrays = [np.array([0, 1, 1, 0, 1], dtype=np.float32)]
    expected = stats.replicates("mean", arrays, "t|de-en")
    replicate_cache.cached_replicates("mean", arrays, "t|de-en")
    (entry,) = cache.rglob("*.npy")
    entry.write_bytes(b"not an array")
    monkeypatch.setattr(replicate_cache, "_MEMORY", {})
    np.testing.assert_array_equal(replicate_cache.cached_replicates("mean", arrays, "t|de-en"), expected)
    assert np.array_equal(np.load(entry), expected)  # replaced

    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("HARNESS_CACHE", str(blocker))
    monkeypatch.setattr(replicate_cache, "_MEMORY", {})
    np.testing.assert_array_equal(replicate_cache.cached_replicates("mean", arrays, "t|de-en"), expected)
