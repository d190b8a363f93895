"""`harness mine` at scale (issue 21, item 6): the command's mining (not its encoding) on N x N synthetic
corpora, against faiss written the obvious way (LASER's mine_bitexts.py), in the same run. Each case runs in
its own process (tests/bench/mine_case.py), so its peak memory is its own; `extra_info` keeps the stage times
and the peak. The flat baseline at 1M would take hours (N^2): it is run at 10k and 100k only.

    python -m pytest tests/bench/test_bench_mine.py --benchmark-only --benchmark-enable \
        --benchmark-json=mine.json
"""

import json
import subprocess
import sys

import pytest

CASES = [("harness", 10_000), ("laser", 10_000), ("harness", 100_000), ("laser", 100_000), ("harness", 1_000_000)]


@pytest.mark.parametrize("case, n", CASES)
def test_mine_scale(benchmark, tmp_path, case, n):
    result = tmp_path / "result.json"

    def mine():
        subprocess.run([sys.executable, "-m", "tests.bench.mine_case", case, str(n), str(result)], check=True)

    benchmark.group = f"mine {n:,} x {n:,}"
    benchmark.pedantic(mine, rounds=1, iterations=1)
    run = json.loads(result.read_text())
    benchmark.extra_info.update(run)
    assert run["pairs"] > 0.5 * n  # most translations are found at the default threshold
