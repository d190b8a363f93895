"""One `harness mine` scale case in its own process, so that its peak memory is its own:
`python -m tests.bench.mine_case harness|laser N OUT.json`.

Both cases mine the same synthetic N x N corpora (384-d, N/50 topics, noisy translations; the vectors stand
in for an encoder, so only mining is timed) and write the pairs they keep to a TSV:
- harness: `harness.search.miner.mine_corpora`, as the command runs it (exact search up to 50k a side, the
  ivfpq index above; `max` candidates; ratio margin, k = 4);
- laser: faiss written the obvious way, as LASER's mine_bitexts.py does: a flat inner-product index per
  side, k = 4 both directions, the margin of every candidate, the `max` mode's greedy pass in Python.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.bench.conftest import clustered


def harness_case(src, tgt, out: Path) -> dict:
    from harness.search.miner import Corpora, MineOptions, mine_corpora

    corpora = Corpora([f"s{i}" for i in range(len(src))], [f"t{i}" for i in range(len(tgt))],
                      {"source": 0, "target": 0}, None, 0.0)
    started = time.perf_counter()
    report = mine_corpora(_Both(src, tgt), corpora, out, MineOptions(progress=False))
    return {"seconds": time.perf_counter() - started, "stages": report.seconds, "pairs": report.written}


class _Both:
    """Source texts 's…' and target texts 't…' from their own arrays."""

    name, revision = "synthetic", "synthetic"

    def __init__(self, src, tgt):
        self.src, self.tgt = src, tgt

    def encode(self, texts, *, batch_size=64):
        side = self.src if texts[0][0] == "s" else self.tgt
        return side[[int(t[1:]) for t in texts]]


def laser_case(src, tgt, out: Path, threshold: float = 1.06, k: int = 4) -> dict:
    import faiss

    stages = {}
    started = time.perf_counter()
    index_src, index_tgt = faiss.IndexFlatIP(src.shape[1]), faiss.IndexFlatIP(tgt.shape[1])
    index_src.add(src)
    index_tgt.add(tgt)
    t = time.perf_counter()
    fwd_sim, fwd_ids = index_tgt.search(src, k)
    stages["search forward"] = time.perf_counter() - t
    t = time.perf_counter()
    bwd_sim, bwd_ids = index_src.search(tgt, k)
    stages["search backward"] = time.perf_counter() - t
    t = time.perf_counter()
    fwd_mean, bwd_mean = fwd_sim.mean(axis=1), bwd_sim.mean(axis=1)
    fwd_scores = fwd_sim / ((fwd_mean[:, None] + bwd_mean[fwd_ids]) / 2)
    bwd_scores = bwd_sim / ((bwd_mean[:, None] + fwd_mean[bwd_ids]) / 2)
    fwd_best = fwd_ids[np.arange(len(src)), fwd_scores.argmax(axis=1)]
    bwd_best = bwd_ids[np.arange(len(tgt)), bwd_scores.argmax(axis=1)]
    pairs = np.stack([np.concatenate([np.arange(len(src)), bwd_best]),
                      np.concatenate([fwd_best, np.arange(len(tgt))])], axis=1)
    scores = np.concatenate([fwd_scores.max(axis=1), bwd_scores.max(axis=1)])
    seen_src, seen_tgt, lines = set(), set(), []
    for i in np.argsort(-scores):
        a, b = pairs[i]
        if a not in seen_src and b not in seen_tgt:
            seen_src.add(a)
            seen_tgt.add(b)
            if scores[i] >= threshold:
                lines.append(f"{scores[i]:.6f}\ts{a}\tt{b}\n")
    stages["candidates"] = time.perf_counter() - t
    t = time.perf_counter()
    out.write_text("".join(lines), encoding="utf-8")
    stages["write"] = time.perf_counter() - t
    return {"seconds": time.perf_counter() - started, "stages": stages, "pairs": len(lines)}


def main(case: str, n: int, result: Path) -> None:
    src, tgt = clustered(n, clusters=max(200, n // 50), noise=1.0, translation_noise=0.5, seed=n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as folder:
        run = (harness_case if case == "harness" else laser_case)(src, tgt, Path(folder) / "pairs.tsv")
    run["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    run["rss_before_mining_mb"] = before / 1024
    run.update(case=case, n=n)
    result.write_text(json.dumps(run, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
