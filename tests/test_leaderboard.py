"""Leaderboard regeneration (deterministic, from the store alone) and the regression gate."""

import json
import shutil
import subprocess

import pytest

from harness.app.cli import main
from harness.app.config import EvalConfig
from harness.app.runner import evaluate_models as evaluate
from harness.core.hash_encoder import HashEncoder
from harness.results.compare import compare
from tests.records import edit_evidence


@pytest.fixture(scope="module")
def results(tiny_root, tmp_path_factory):
    """Results of three hash 'models' with roles, on the tiny data root."""
    out = tmp_path_factory.mktemp("lb") / "runs"
    encoders = {"teacher-m": HashEncoder(dim=64, name="teacher-m"), "base-m": HashEncoder(dim=48, name="base-m"),
                "student-m": HashEncoder(dim=16, name="student-m")}
    meta = {"teacher-m": {"role": "teacher"}, "base-m": {"role": "base"},
            "student-m": {"role": "student", "base": "base-m", "teacher": "teacher-m", "trainer": "distill"}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARNESS_DATA", str(tiny_root))
        evaluate(EvalConfig(models=list(encoders), langs=["de", "fr"], results_dir=str(out), progress=False,
                            model_meta=meta), encoders=encoders, log=lambda line: None)
    return out


def test_regeneration_is_byte_identical(results, tmp_path):
    assert main(["leaderboard", "--results-dir", str(results), "--out", str(tmp_path / "a")]) == 0
    assert main(["leaderboard", "--results-dir", str(results), "--out", str(tmp_path / "b")]) == 0
    for name in ("LEADERBOARD.md", "LEADERBOARD.csv", "leaderboard.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_missing_or_empty_results_folder_writes_nothing(results, tmp_path, capsys):
    """A mistyped --results-dir once replaced the committed leaderboard with an empty one, exit 0: now it is
    an error naming the folder, exit 2, and the leaderboard already in --out is left as it was."""
    out = tmp_path / "lb"
    assert main(["leaderboard", "--results-dir", str(results), "--out", str(out)]) == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    (tmp_path / "empty").mkdir()
    for folder, says in ((tmp_path / "nowhere", "no such folder"), (tmp_path / "empty", "holds no result records")):
        assert main(["leaderboard", "--results-dir", str(folder), "--out", str(out)]) == 2
        assert says in capsys.readouterr().err
        assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_a_missing_candidate_folder_is_bad_input_not_a_regression(results, tmp_path, capsys):
    """A mistyped --candidate made every baseline pair "missing" (1,255 regressions, exit 1); it is bad input."""
    assert main(["compare", "--baseline", str(results), "--candidate", str(tmp_path / "nowhere")]) == 2
    assert "candidate" in capsys.readouterr().err


def test_leaderboard_content(results, tmp_path):
    main(["leaderboard", "--results-dir", str(results), "--out", str(tmp_path)])
    md = (tmp_path / "LEADERBOARD.md").read_text()
    for text in ("sts de", "mining fr", "retrieval en", "tatoeba (acc_margin_mean, 95% interval)", "Hard negatives",
                 "Pairs averaged per column"):
        assert text in md
    rows = [line for line in md.splitlines() if line.startswith("| teacher-m ")]
    assert rows and rows[0].split("|")[2].strip() == "teacher"  # the role column, not the model's name
    assert " [" in rows[0]  # intervals in the cells
    html = (tmp_path / "leaderboard.html").read_text()
    for fragment in ('id="overview-main"', 'data-student="student-m"', 'id="explorer-data"', "How to read this"):
        assert fragment in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html  # offline
    csv = (tmp_path / "LEADERBOARD.csv").read_text().splitlines()
    assert csv[0] == "model,role,seed,family,task,pair,metric,value,ci_low,ci_high,n_items"
    assert len(csv) == 1 + 3 * 22  # every main score of the three models


def test_a_record_that_cannot_be_trusted_is_named_and_fails_the_rebuild(results, tmp_path, capsys):
    """Truncated or impossible records are left out, each named on stderr and in LEADERBOARD.md, and the
    rebuild exits 1 unless --skip-invalid (issue 22, item 6): the averages change, so it must not be silent."""
    broken = tmp_path / "runs"
    shutil.copytree(results, broken)
    (broken / "base-m" / "tatoeba" / "de-en.json").write_text('{"schema_version": 1, "mod')
    huge = broken / "teacher-m" / "tatoeba" / "fr-en.json"
    record = json.loads(huge.read_text())
    record["metrics"][record["task"]["main_score"]]["value"] = 1e9  # would be the best cell
    huge.write_text(json.dumps(record))
    assert main(["leaderboard", "--results-dir", str(broken), "--out", str(tmp_path / "lb")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err[:2]] == [f"skipped {broken / 'base-m/tatoeba/de-en.json'}",
                                                        f"skipped {huge}"]
    assert "corrupt JSON" in err[0] and "= 1000000000.0 is outside its range [0, 100]" in err[1]
    assert err[2].startswith("error: 2 record(s) unreadable or invalid") and "--skip-invalid" in err[2]
    md = (tmp_path / "lb" / "LEADERBOARD.md").read_text()
    assert "base-m/tatoeba/de-en.json: corrupt JSON" in md and "1e+09" not in md
    assert md.count("1000000000") == 1  # in the list of what was left out, in no table
    assert "| base-m" in md  # the model's other results still appear
    assert main(["leaderboard", "--results-dir", str(broken), "--out", str(tmp_path / "lb"), "--skip-invalid"]) == 0
    assert len(capsys.readouterr().err.splitlines()) == 2  # still named


def record_path(folder, model, task, pair):
    return folder / model / task / f"{pair}.json"


def test_compare_fails_on_a_degraded_candidate(results, tmp_path, capsys):
    candidate = tmp_path / "cand"
    shutil.copytree(results, candidate)
    assert main(["compare", "--baseline", str(results), "--candidate", str(candidate)]) == 0

    def swap_two_cosines(arrays):  # a tiny change to one STS pair: within the tolerance
        arrays["cosine"][[0, 1]] = arrays["cosine"][[1, 0]]

    edit_evidence(record_path(candidate, "student-m", "stsb-multi-mt", "en-de"), swap_two_cosines)
    assert main(["compare", "--baseline", str(results), "--candidate", str(candidate)]) == 0

    def lose_every_translation(arrays):  # mining breaks: no query finds its translation any more
        for name in arrays:
            if name.startswith("correct_"):
                arrays[name][:] = 0

    edit_evidence(record_path(candidate, "student-m", "tatoeba", "de-en"), lose_every_translation)
    capsys.readouterr()
    assert main(["compare", "--baseline", str(results), "--candidate", str(candidate), "--tolerance", "0.5"]) == 1
    out = capsys.readouterr().out
    assert "model: student-m\n" in out and "| tatoeba de-en acc_margin_mean" in out and "| worse" in out
    assert "1 regression(s)" in out and "Holm-corrected" in out


def test_a_score_its_evidence_does_not_reproduce_fails(results, tmp_path):
    candidate = tmp_path / "cand"
    shutil.copytree(results, candidate)
    path = record_path(candidate, "student-m", "tatoeba", "de-en")
    record = json.loads(path.read_text())
    record["metrics"]["acc_margin_mean"]["value"] += 3.0  # edited by hand: the evidence says otherwise
    path.write_text(json.dumps(record))
    result = compare(results, candidate)
    assert list(result.regressions["status"]) == ["inconsistent"]


def test_lower_is_better_metrics_regress_when_they_rise(results, tmp_path):
    candidate = tmp_path / "cand"
    shutil.copytree(results, candidate)

    def lose_forward_translations(arrays):
        arrays["correct_margin_fwd"][:] = 0

    edit_evidence(record_path(candidate, "base-m", "tatoeba", "de-en"), lose_forward_translations)
    result = compare(results, candidate, tolerance=0.5, metrics="all")
    failed = result.regressions.set_index("metric")
    assert {"xsim_error_fwd", "acc_margin_fwd", "acc_margin_mean"} <= set(failed.index)
    assert failed.loc["xsim_error_fwd", "value_candidate"] > failed.loc["xsim_error_fwd", "value_baseline"]
    assert failed.loc["xsim_error_fwd", "change"] < 0  # a rising error rate is a negative change


def test_missing_candidate_result_fails_the_gate(results, tmp_path):
    candidate = tmp_path / "cand"
    shutil.copytree(results, candidate)
    (candidate / "teacher-m" / "flores" / "fr-en.json").unlink()
    result = compare(results, candidate)
    assert result.exit_code == 1 and list(result.regressions["status"]) == ["missing"]


def test_baseline_can_be_a_git_ref(results, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    shutil.copytree(results, repo / "results" / "runs")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "golden"], check=True)
    monkeypatch.chdir(repo)
    assert main(["compare", "--baseline", "HEAD", "--candidate", str(results)]) == 0
    assert main(["compare", "--baseline", "no-such-ref", "--candidate", str(results)]) == 2
    # a value that git would read as an option is a missing ref, and overwrites nothing (issue 22, item 3)
    victim = repo / "results" / "runs" / "teacher-m" / "flores" / "fr-en.json"
    before = victim.read_bytes()
    assert main(["compare", f"--baseline=--output={victim.relative_to(repo)}", "--candidate", str(results)]) == 2
    assert main(["compare", "--baseline", "HEAD --output=x", "--candidate", str(results)]) == 2
    assert victim.read_bytes() == before and not (repo / "x").exists()


def test_compare_two_models_pair_by_pair(results, capsys):
    result = compare(results, results, tolerance=0.5, models=("base-m", "student-m"))
    table = result.table.set_index(["task", "pair", "metric"])
    for task, pair in [("stsb-multi-mt", "en-de"), ("tatoeba", "fr-en")]:
        records = {m: json.loads((results / m / task / f"{pair}.json").read_text()) for m in ("base-m", "student-m")}
        metric = records["base-m"]["task"]["main_score"]
        expected = records["student-m"]["metrics"][metric]["value"] - records["base-m"]["metrics"][metric]["value"]
        assert table.loc[(task, pair, metric), "change"] == pytest.approx(expected)
    assert set(result.table["model"]) == {"student-m vs base-m"}
    assert main(["compare", "--baseline", str(results), "--candidate", str(results), "--models", "base-m,student-m",
                 "--show", "all"]) == result.exit_code
    out = capsys.readouterr().out
    assert "model: student-m vs base-m" in out  # named once, above the table
    assert out.count("\n| ") == len(result.table) + 1  # --show all prints every pair, under one header row
    assert max(len(line) for line in out.splitlines()) <= 120  # fits a terminal
    assert main(["compare", "--baseline", str(results), "--candidate", str(results), "--models", "base-m,nobody"]) == 2
    assert "holds no results for model 'nobody'" in capsys.readouterr().err


def test_a_pair_the_candidate_lacks_fails_unless_missing_pairs_are_allowed(results, tmp_path):
    import shutil

    candidate = tmp_path / "candidate"
    shutil.copytree(results / "student-m", candidate / "student-m")
    dropped = sorted((candidate / "student-m").glob("*/*.json"))[0]
    dropped.unlink()
    strict = compare(results, candidate, tolerance=0.5, models=("base-m", "student-m"))
    assert strict.exit_code == 1 and list(strict.table["status"]).count("missing") == 1
    lenient = compare(results, candidate, tolerance=0.5, models=("base-m", "student-m"), allow_missing=True)
    assert lenient.left_out == 1 and "missing" not in set(lenient.table["status"])
    assert len(lenient.table) == len(list((results / "base-m").glob("*/*.json"))) - 1


@pytest.mark.parametrize("content, reason", [
    ('{"schema_version": 2, "mod', "corrupt JSON"),
    ("{}", "missing field(s)"),
    ("METRICS_LIST", "metrics is a list"),
    ("HUGE", "outside its range"),
    ("MODEL_STRING", "model must be an object"),
    ("NO_MAIN_SCORE", "task must be an object with string fields name, family, main_score"),
])
def test_the_gate_fails_closed_on_a_record_it_cannot_trust(results, tmp_path, capsys, content, reason):
    """A truncated, empty, malformed or impossible candidate record stops the gate (exit 2, the file named);
    it is never a pair quietly dropped (issue 22, item 2)."""
    import shutil

    candidate = tmp_path / "candidate"
    shutil.copytree(results, candidate)
    victim = candidate / "student-m" / "tatoeba" / "de-en.json"
    record = json.loads(victim.read_text())
    if content == "METRICS_LIST":
        content = json.dumps({**record, "metrics": list(record["metrics"].values())})
    elif content == "MODEL_STRING":
        content = json.dumps({**record, "model": "x"})
    elif content == "NO_MAIN_SCORE":
        content = json.dumps({**record, "task": {k: v for k, v in record["task"].items() if k != "main_score"}})
    elif content == "HUGE":
        main_score = record["task"]["main_score"]
        record["metrics"][main_score]["value"] = 1e9
        content = json.dumps(record)
    victim.write_text(content)
    for models in (["--models", "base-m,student-m"], []):
        assert main(["compare", "--baseline", str(results), "--candidate", str(candidate), *models]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and str(victim) in err and reason in err


def test_a_failed_candidate_record_fails_the_gate_and_a_nan_tolerance_is_refused(results, tmp_path, capsys):
    import shutil

    candidate = tmp_path / "candidate"
    shutil.copytree(results, candidate)
    victim = candidate / "student-m" / "tatoeba" / "de-en.json"
    record = json.loads(victim.read_text())
    victim.write_text(json.dumps({**record, "status": "failed", "error": "boom", "metrics": {}}))
    result = compare(results, candidate)
    assert result.exit_code == 1 and list(result.regressions["status"]) == ["failed"]
    for tolerance in ("nan", "-1", "inf"):
        assert main(["compare", "--baseline", str(results), "--candidate", str(results),
                     f"--tolerance={tolerance}"]) == 2
        assert "--tolerance must be a finite number" in capsys.readouterr().err
