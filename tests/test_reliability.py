"""Failure behaviour: bad input, killed runs, concurrent runs, broken models, untrusted input, long inputs.
Each case ends in a clear error or a complete, uncorrupted result set."""

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from harness.app.config import EvalConfig
from harness.app.runner import evaluate_models as evaluate
from harness.core.hash_encoder import HashEncoder
from harness.results.store import ResultStore

ROOT = Path(__file__).resolve().parents[1]
PAIRS_PER_RUN = 22  # tiny root, de+fr: 7 STSb + 7 STS17 (always all) + 4 mining + 4 retrieval pairs


def cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)})


def assert_clean_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# ---- 1. bad data -------------------------------------------------------------------------------

BAD_FILES = {
    "no_tab": ("retrieval-file", {"q.tsv": b"a question\tits answer\nno tab on this line\n"},
               ["q.tsv:2:", "expected 2 tab-separated fields, found 1"]),
    "too_many_tabs": ("retrieval-file", {"q.tsv": b"q\ta\textra\n"}, ["q.tsv:1:", "found 3"]),
    "empty_side": ("sts-file", {"s.tsv": b"a\tb\t1\n\tb\t2\n"}, ["s.tsv:2:", "field 1 is empty"]),
    "invalid_utf8": ("mining-file", {"a.txt": b"eins\nzwei\n", "b.txt": b"one\n\xc3\x28two\n"},
                     ["b.txt:2:", "invalid UTF-8"]),
    "length_mismatch": ("mining-file", {"a.txt": b"eins\nzwei\ndrei\n", "b.txt": b"one\ntwo\n"},
                        ["b.txt", "has 2 lines but a.txt has 3"]),
    "score_out_of_range": ("sts-file", {"s.tsv": b"a\tb\t1\nc\td\t5.5\n"}, ["s.tsv:2:", "outside [0, 5]"]),
    "score_not_a_number": ("sts-file", {"s.tsv": b"a\tb\tsimilar\n"}, ["s.tsv:1:", "'similar' is not a number"]),
    "empty_dataset": ("sts-file", {"s.tsv": b""}, ["s.tsv", "empty dataset"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_data_is_one_line_exit_2_and_nothing_written(case, tmp_path):
    kind, files, fragments = BAD_FILES[case]
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    paths = "+".join(str(tmp_path / name) for name in files)
    proc = cli("eval", "--model", "hash", "--tasks", f"{kind}:{paths}", "--results-dir", str(tmp_path / "out"))
    assert_clean_error(proc, *fragments)
    assert not (tmp_path / "out").exists()


def test_bad_training_file_fails_before_any_model_loads(tiny_root, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(tiny_root, root)
    path = root / "parallel" / "big" / "en-de.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("Hello\tHallo\nbroken line\n")
    proc = cli("train", "--teacher", "hash:32", "--langs", "de", "--output", str(tmp_path / "m"),
               env={"HARNESS_DATA": str(root)})
    assert_clean_error(proc, "en-de.tsv.gz:2:", "expected 2 tab-separated fields")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("args, fragments", [
    (["--langs", "de,germna"], ["unknown language 'germna'", "did you mean 'german'"]),
    (["--tasks", "tatoba"], ["unknown task 'tatoba'", "did you mean 'tatoeba'"]),
])
def test_unknown_names_suggest_the_closest(args, fragments, data_env, tmp_path):
    assert_clean_error(cli("eval", "--model", "hash", "--results-dir", str(tmp_path), *args), *fragments)


def test_unknown_trainer_says_did_you_mean(data_env, tmp_path):
    assert_clean_error(cli("train", "--trainer", "ranking-nh", "--langs", "de"), "did you mean 'ranking-hn'")


# ---- 2. config problems ------------------------------------------------------------------------

def test_missing_data_root(tmp_path):
    proc = cli("eval", "--model", "hash", env={"HARNESS_DATA": str(tmp_path / "nowhere")})
    assert_clean_error(proc, "data root not found", "HARNESS_DATA")


@pytest.mark.process
def test_missing_model_folder_and_offline_hub_name(data_env, tmp_path):
    proc = cli("eval", "--model", "./models/nothing-here", "--results-dir", str(tmp_path))
    assert_clean_error(proc, "no such folder")
    proc = cli("eval", "--model", "nobody/no-such-model", "--tasks", "tatoeba", "--langs", "de",
               "--results-dir", str(tmp_path), env={"HF_HUB_OFFLINE": "1"})
    assert_clean_error(proc, "nobody/no-such-model", "the hub cannot be reached")


def test_tokenizer_coverage_warning_shows_rates(tiny_bert, tiny_root):
    from sentence_transformers import SentenceTransformer

    from harness.core.parallel import ParallelData, ParallelDataset
    from harness.encoders.coverage import coverage_warning

    data = ParallelData([ParallelDataset("x/en-de", "de", [("Anna buys", "Anna kauft")] * 3),
                         ParallelDataset("x/en-el", "el", [("Anna buys", "Η Άννα αγοράζει μήλα.")] * 3)])
    texts = {d.lang: [t for _, t in d.pairs] for d in data.train}
    rates, warning = coverage_warning(SentenceTransformer(str(tiny_bert), device="cpu").tokenizer, texts)
    assert rates["de"] == 0 and rates["el"] > 50
    assert warning and "unknown-token rate: de 0.0%, el " in warning


# ---- 3. killed training ------------------------------------------------------------------------

def train_args(tiny_bert, output, trainer="distill"):
    return ["train", "--trainer", trainer, "--teacher", "hash:32", "--student", str(tiny_bert), "--langs", "de",
            "--max-pairs", "80",
            "--dev-pairs", "8", "--batch-size", "4", "--epochs", "2", "--checkpoint-every", "2", "--no-eval",
            "--no-progress", "--output", str(output)]


# where each trainer reports the targets it reused: the teacher's (distill), the base's own (align-map)
CACHE_COUNTS = {"distill": ("teacher_embeddings", "computed_this_run"),
                "align-map": ("alignment", "own_embeddings_computed_this_run")}


@pytest.mark.process
@pytest.mark.parametrize("trainer", sorted(CACHE_COUNTS))
def test_sigkill_during_training_resumes_and_matches(tiny_bert, data_env, tmp_path, trainer):
    from sentence_transformers import SentenceTransformer

    reference = cli(*train_args(tiny_bert, tmp_path / "ref", trainer), cwd=tmp_path / "..")
    assert reference.returncode == 0, reference.stderr[-2000:]
    work = tmp_path / "killed"
    work.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "harness", *train_args(tiny_bert, work / "m", trainer)], cwd=work,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (work / "m" / "checkpoints" / "step-6" / "trainer_state.json").exists():
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (work / "m" / "training_summary.json").exists(), "training finished before the kill"
    again = cli(*train_args(tiny_bert, work / "m", trainer), cwd=work)
    assert again.returncode == 0, again.stderr[-2000:]
    summary = json.loads((work / "m" / "training_summary.json").read_text())
    assert summary["resumed_from"] >= 6
    section, count = CACHE_COUNTS[trainer]
    assert summary[section][count] == 0  # the targets were reused from the killed run's cache
    texts = ["Anna kauft 7 Äpfel.", "Boris buys 14 books."]
    ref = SentenceTransformer(str(tmp_path / "ref"), device="cpu").encode(texts)
    got = SentenceTransformer(str(work / "m"), device="cpu").encode(texts)
    np.testing.assert_allclose(ref, got, atol=1e-5)


# ---- 4. killed evaluation and 5. concurrent runs ------------------------------------------------

def all_records_valid(folder: Path) -> list[dict]:
    records, problems = ResultStore(folder).records()  # a truncated file or a lost shared part is a problem
    assert not problems, problems
    assert all(r["status"] == "ok" and r["metrics"] for r in records)
    return records


def slow_eval(results, delay, *models):
    return subprocess.Popen([sys.executable, "-m", "tests.helpers.slow_eval", str(results), str(delay), *models],
                            cwd=ROOT, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.process
def test_sigkill_during_evaluation_leaves_no_corrupt_json_and_rerun_completes(data_env, tmp_path):
    results = tmp_path / "runs"
    proc = slow_eval(results, 0.3, "slow-model")
    deadline = time.time() + 120
    while time.time() < deadline and len(list(results.rglob("*.json"))) < 4:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(all_records_valid(results))
    assert 4 <= done < PAIRS_PER_RUN
    rerun = slow_eval(results, 0, "slow-model")
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err[-2000:]
    assert out.strip() == f"written={PAIRS_PER_RUN - done} reused={done}"  # only the missing pairs ran
    assert len(all_records_valid(results)) == PAIRS_PER_RUN


@pytest.mark.process
def test_concurrent_runs_into_one_results_dir_lose_nothing(data_env, tmp_path):
    results = tmp_path / "runs"
    procs = [slow_eval(results, 0.01, "model-a", "shared"), slow_eval(results, 0.01, "model-b", "shared")]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-2000:]
    records = all_records_valid(results)
    assert sorted({r["model"]["name"] for r in records}) == ["model-a", "model-b", "shared"]
    assert len(records) == 3 * PAIRS_PER_RUN
    assert not list(results.rglob("*.tmp"))  # no temporary file left behind


# ---- 6. broken models --------------------------------------------------------------------------

class NaNEncoder(HashEncoder):
    def encode(self, texts, *, batch_size=64):
        out = super().encode(texts, batch_size=batch_size)
        out[len(out) // 2] = np.nan
        return out


def test_nan_model_is_marked_failed_and_others_are_still_written(data_env, tmp_path):
    encoders = {"broken": NaNEncoder(name="broken"), "fine": HashEncoder(name="fine")}
    report = evaluate(EvalConfig(models=["broken", "fine"], langs=["de"], results_dir=str(tmp_path), progress=False),
                      encoders=encoders, log=lambda line: None)
    assert report.exit_code == 1
    broken = [json.loads(p.read_text()) for p in (tmp_path / "broken").rglob("*.json")]
    assert broken and all(r["status"] == "failed" and "NaN/inf" in r["error"] for r in broken)
    fine = [json.loads(p.read_text()) for p in (tmp_path / "fine").rglob("*.json")]
    assert len(fine) == len(broken) and all(r["status"] == "ok" for r in fine)


# ---- 7. untrusted input ------------------------------------------------------------------------

def test_trust_remote_code_is_off_unless_asked(tiny_bert, monkeypatch):
    import sentence_transformers

    from harness.encoders import adapters as models

    seen = []
    real = sentence_transformers.SentenceTransformer

    def spy(*args, **kwargs):
        seen.append(kwargs.get("trust_remote_code"))
        return real(*args, **kwargs)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", spy)
    models.load_encoder(str(tiny_bert))
    models.load_encoder(str(tiny_bert), trust_remote_code=True)
    assert seen == [False, True]


def test_hostile_model_names_stay_inside_results(data_env, tmp_path):
    results = tmp_path / "inside" / "runs"
    name = "../../../escaped"
    evaluate(EvalConfig(models=[name], langs=["de"], tasks=["tatoeba"], results_dir=str(results), progress=False),
             encoders={name: HashEncoder(name=name)}, log=lambda line: None)
    written = list(tmp_path.rglob("*.json"))
    assert written and all(p.resolve().is_relative_to(results.resolve()) for p in written)


# ---- 8. long inputs ----------------------------------------------------------------------------

def test_long_inputs_are_truncated_with_a_single_warning(tiny_bert):
    from harness.encoders.adapters import load_encoder
    from harness.encoders.coverage import TruncationWarning

    encoder = load_encoder(str(tiny_bert))
    long_text = "Anna kauft " * 400
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = encoder.encode([long_text, "kurz"])
        encoder.encode([long_text + "noch mehr"])
    truncation = [w for w in caught if issubclass(w.category, TruncationWarning)]
    assert len(truncation) == 1
    assert "1 of 2 texts are longer than its max_seq_length of 32" in str(truncation[0].message)
    assert first.shape == (2, 32) and np.isfinite(first).all()


def test_cache_hands_out_its_one_copy_and_search_keeps_it():
    from harness.core.encoder import CachedEncoder
    from harness.core.vectors import unit_rows as normalise

    encoder = CachedEncoder(HashEncoder(dim=16))
    texts = [f"sentence {i}" for i in range(50)]
    first = encoder.encode(texts)
    assert encoder.encode(texts) is first  # a repeat request is served from the cache without a copy
    assert normalise(first) is first  # unit vectors pass through the search's normalisation
    assert not first.flags.writeable  # nobody can corrupt the cached copy
    subset = encoder.encode(texts[:10])
    np.testing.assert_array_equal(subset, first[:10])


class FakeEncoder:
    """Fast deterministic vectors for 100k-line files: one small random draw per text, no cache."""

    def __init__(self, dim):
        self.name, self.revision, self.dim = f"fake-{dim}", "1", dim

    def encode(self, texts, *, batch_size=64):
        import zlib

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = np.random.default_rng(zlib.crc32(text.encode())).standard_normal(self.dim)
        return out


@pytest.mark.slow
def test_100k_line_mining_files_hold_one_copy_of_the_embeddings(tmp_path):
    """Count the embedding copies alive at peak: run at two dimensions, so every allocation that
    does not scale with the dimension (texts, indexes, kNN lists) cancels out of the difference."""
    import tracemalloc

    n = 100_000
    src, tgt = tmp_path / "src.txt", tmp_path / "tgt.txt"
    src.write_text("\n".join(f"Satz {i} über Nummer {i * 7 % 1000}" for i in range(n)) + "\n", encoding="utf-8")
    tgt.write_text("\n".join(f"sentence {i} about number {i * 7 % 1000}" for i in range(n)) + "\n", encoding="utf-8")
    peaks = {}
    for dim in (16, 64):
        encoder = FakeEncoder(dim)
        tracemalloc.start()
        report = evaluate(EvalConfig(models=[encoder.name], langs=["de"], tasks=[f"mining-file:{src}+{tgt}@de-en"],
                                     results_dir=str(tmp_path / "runs"), progress=False),
                          encoders={encoder.name: encoder}, log=lambda line: None)
        peaks[dim] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert report.exit_code == 0 and len(report.written) == 1
    copies = (peaks[64] - peaks[16]) / (2 * n * (64 - 16) * 4)  # per float32 copy of both sides
    assert copies < 1.3, f"{copies:.2f} copies of the embeddings were alive at peak"
