"""`harness mine` (issue 21, item 3): LASER's candidate modes, BUCC threshold calibration, the cached and
resumable encoding, the file it writes, and its refusals of bad input."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from harness.app.cli import main
from harness.core.hash_encoder import HashEncoder
from harness.search.bitext import Candidates, calibrate, candidates, neighbours_both_ways, quality_at, search_config
from harness.search.corpus import encode_corpus
from harness.search.knn import SearchConfig


def laser_mine(x: np.ndarray, y: np.ndarray, mode: str, k: int = 4):
    """LASER's mine_bitexts.py, written out directly: full similarity matrix, ratio margin, its four modes."""
    sims = x @ y.T
    x_mean = np.sort(sims, axis=1)[:, -k:].mean(axis=1)
    y_mean = np.sort(sims, axis=0)[-k:, :].mean(axis=0)
    margin = sims / ((x_mean[:, None] + y_mean[None, :]) / 2)
    # only each side's k cosine neighbours are candidates
    fwd_nn = np.argsort(-sims, axis=1)[:, :k]
    bwd_nn = np.argsort(-sims.T, axis=1)[:, :k]
    fwd_best = np.array([row[np.argmax(margin[i, row])] for i, row in enumerate(fwd_nn)])
    bwd_best = np.array([row[np.argmax(margin[row, j])] for j, row in enumerate(bwd_nn)])
    fwd = {(i, int(fwd_best[i])): margin[i, fwd_best[i]] for i in range(len(x))}
    bwd = {(int(bwd_best[j]), j): margin[bwd_best[j], j] for j in range(len(y))}
    if mode == "forward":
        return fwd
    if mode == "backward":
        return bwd
    if mode == "intersection":
        return {pair: score for pair, score in fwd.items() if pair in bwd}
    pairs = sorted([*fwd.items(), *bwd.items()], key=lambda item: -item[1])
    seen_src, seen_tgt, kept = set(), set(), {}
    for (i, j), score in pairs:
        if i not in seen_src and j not in seen_tgt:
            seen_src.add(i)
            seen_tgt.add(j)
            kept[(i, j)] = score
    return kept


def unit(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("mode", ["max", "intersection", "forward", "backward"])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_mode_matches_laser_written_out(mode, seed):
    rng = np.random.default_rng(seed)
    y = unit(rng, (120, 16))
    x = y[:80] + 0.6 * unit(rng, (80, 16))  # 80 noisy translations; 40 targets have none
    x = np.concatenate([x, unit(rng, (30, 16))])  # and 30 sources have none
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    fwd, bwd = neighbours_both_ways(x, y, SearchConfig(backend="numpy"))
    found = candidates(fwd, bwd, mode)
    expected = laser_mine(x, y, mode)
    got = {(int(i), int(j)): s for i, j, s in zip(found.src, found.tgt, found.scores)}
    assert got.keys() == expected.keys()
    assert np.allclose([got[p] for p in expected], list(expected.values()), atol=1e-5)
    assert np.all(np.diff(found.scores) <= 0)  # best first


def test_calibration_finds_the_f1_maximising_threshold_by_brute_force():
    rng = np.random.default_rng(3)
    scores = np.sort(rng.uniform(0.9, 1.3, 200))[::-1]
    found = Candidates(np.arange(200), np.arange(200), scores)
    gold = {(i, i) for i in range(200) if rng.random() < 0.6 + 0.3 * (scores[i] > 1.1)} | {(999, 999)}
    best = calibrate(found, gold)
    brute = max((quality_at(found, gold, t) for t in scores), key=lambda q: (q.f1, q.threshold))
    assert best.f1 == pytest.approx(brute.f1) and best.threshold == pytest.approx(brute.threshold)
    assert best == quality_at(found, gold, best.threshold)  # the reported quality is the threshold's own


def test_a_tie_at_the_threshold_keeps_all_tied_pairs():
    found = Candidates(np.arange(4), np.arange(4), np.array([1.2, 1.1, 1.1, 1.0]))
    best = calibrate(found, {(0, 0), (1, 1)})
    assert best.mined == 3  # F1 0.8 at 1.1 (both pairs scoring 1.1 kept), never 2


def test_the_approximate_index_is_used_only_above_the_size():
    assert search_config(50_000, 10).index == "flat" and search_config(50_001, 10).index == "ivfpq"


class CountingEncoder(HashEncoder):
    def __init__(self):
        super().__init__(dim=32, name="hash:32")
        self.seen = 0

    def encode(self, texts, *, batch_size=64):
        self.seen += len(texts)
        return super().encode(texts, batch_size=batch_size)


class DyingEncoder(CountingEncoder):
    """Is killed after `limit` sentences, as a run killed mid-corpus."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit

    def encode(self, texts, *, batch_size=64):
        if self.seen + len(texts) > self.limit:
            raise KeyboardInterrupt
        return super().encode(texts, batch_size=batch_size)


def test_a_killed_encoding_resumes_from_its_cached_chunks(tmp_path):
    sentences = [f"sentence number {i} about topic {i % 7}" for i in range(95)]
    with pytest.raises(KeyboardInterrupt):
        encode_corpus(DyingEncoder(limit=50), sentences, tmp_path, chunk=20, progress=False)
    second = CountingEncoder()
    vectors, encoded = encode_corpus(second, sentences, tmp_path, chunk=20, progress=False)
    assert encoded == second.seen == 95 - 40  # the two chunks finished before the kill were not encoded again
    fresh, _ = encode_corpus(CountingEncoder(), sentences, None, chunk=20, progress=False)
    assert np.array_equal(vectors, fresh)
    other, encoded_other = encode_corpus(CountingEncoder(), sentences[:-1], tmp_path, chunk=20, progress=False)
    assert encoded_other == 94  # another corpus never reads these chunks


NAMES = ["Anna", "Berlin", "Paris", "Oslo", "Kyoto", "Lima", "Quito", "Rom", "Wien", "Bern"]


def write_corpora(tmp_path, n=60, noise=200):
    """Gold pairs share a number and two names (the hash encoder sees shared tokens), hidden among noise."""
    src = [f"Satz {i} über {NAMES[i % 10]} und {NAMES[(i * 3) % 10]} nummer {1000 + i}" for i in range(n)]
    tgt = [f"sentence {i} about {NAMES[i % 10]} and {NAMES[(i * 3) % 10]} number {1000 + i}" for i in range(n)]
    src_noise = [f"ein ganz anderer Text {i} mit Wörtern {i * 7}" for i in range(noise)]
    tgt_noise = [f"some unrelated line {i} with words {i * 11}" for i in range(noise)]
    (tmp_path / "src.txt.gz").write_bytes(gzip.compress("\n".join(src + src_noise + src[:5]).encode()))  # 5 repeats
    (tmp_path / "tgt.txt").write_text("\n".join(tgt_noise + tgt) + "\n", encoding="utf-8")
    (tmp_path / "gold.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in zip(src, tgt)), encoding="utf-8")
    return src, tgt


def mine(tmp_path, *extra):
    return main(["mine", "--model", "hash:256", "--src", str(tmp_path / "src.txt.gz"), "--tgt",
                 str(tmp_path / "tgt.txt"), "--out", str(tmp_path / "pairs.tsv"), "--cache", str(tmp_path / "cache"),
                 "--no-progress", *extra])


def test_mine_writes_sorted_unique_pairs_and_scores_them_against_gold(tmp_path, capsys):
    src, tgt = write_corpora(tmp_path)
    assert mine(tmp_path, "--gold", str(tmp_path / "gold.tsv")) == 0
    out = capsys.readouterr().out
    rows = [line.split("\t") for line in (tmp_path / "pairs.tsv").read_text(encoding="utf-8").splitlines()]
    scores = [float(row[0]) for row in rows]
    assert scores == sorted(scores, reverse=True) and all(len(row) == 3 for row in rows)
    assert len({(row[1], row[2]) for row in rows}) == len(rows) and len({row[1] for row in rows}) == len(rows)
    gold = set(zip(src, tgt))
    correct = sum((row[1], row[2]) in gold for row in rows)
    precision, recall = correct / len(rows), correct / len(gold)
    f1 = 2 * precision * recall / (precision + recall)
    assert f"F1 {100 * f1:.2f}" in out and f1 > 0.8  # the printed F1 is the file's own
    assert "5 and 0 repeated lines dropped" in out


def test_a_rerun_reads_every_embedding_from_the_cache(tmp_path, capsys):
    write_corpora(tmp_path)
    assert mine(tmp_path) == 0
    first = (tmp_path / "pairs.tsv").read_bytes()
    capsys.readouterr()
    assert mine(tmp_path, "--threshold", "0") == 0
    assert "encoded now 0," in capsys.readouterr().out
    assert len((tmp_path / "pairs.tsv").read_bytes()) >= len(first)


@pytest.mark.parametrize("content, problem", [
    (b"", "no sentences"),
    (b"\n  \n", "no sentences"),
    (b"fine\nbin\x00ary\n", ":2: binary data"),
    ("Grüße\n".encode("latin-1"), ":1: invalid UTF-8"),
    ("Grüße\n".encode("utf-16"), ":1: UTF-16 text"),
])
def test_bad_corpora_are_one_line_errors_naming_file_and_line(tmp_path, capsys, content, problem):
    write_corpora(tmp_path)
    (tmp_path / "tgt.txt").write_bytes(content)
    assert mine(tmp_path) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {tmp_path / 'tgt.txt'}") and problem in err and "\n" not in err
    assert not (tmp_path / "pairs.tsv").exists()


def test_a_gold_pair_outside_the_corpora_and_an_output_over_an_input_are_refused(tmp_path, capsys):
    write_corpora(tmp_path)
    (tmp_path / "gold.tsv").write_text("not in the corpus\tsentence 1\n", encoding="utf-8")
    assert mine(tmp_path, "--gold", str(tmp_path / "gold.tsv")) == 2
    assert "gold.tsv:1: the source sentence is not a line of the source corpus" in capsys.readouterr().err
    assert main(["mine", "--model", "hash", "--src", str(tmp_path / "src.txt.gz"), "--tgt", str(tmp_path / "tgt.txt"),
                 "--out", str(tmp_path / "tgt.txt")]) == 2
    assert "would be overwritten" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--threshold", "nan"], "--threshold must be a finite margin"),
    (["--out", "."], "is a folder"),
    (["--gold", "GOLD", "--out", "GOLD"], "is an input file"),
])
def test_bad_options_are_refused_before_any_work(tmp_path, capsys, extra, message):
    write_corpora(tmp_path)
    extra = [str(tmp_path / "gold.tsv") if part == "GOLD" else str(tmp_path) if part == "." else part
             for part in extra]
    args = ["mine", "--model", "hash", "--src", str(tmp_path / "src.txt.gz"), "--tgt", str(tmp_path / "tgt.txt"),
            "--out", str(tmp_path / "pairs.tsv"), "--no-progress", *extra]
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert (tmp_path / "gold.tsv").read_text(encoding="utf-8").count("\t") == 60  # the gold file is untouched
