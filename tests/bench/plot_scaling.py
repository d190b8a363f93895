"""Log-log plot of mining time against N from a pytest-benchmark JSON of test_bench_scale.py.

    python -m pytest tests/bench/test_bench_scale.py --benchmark-only --benchmark-enable \\
        --benchmark-json=scale.json
    python tests/bench/plot_scaling.py scale.json docs/scaling.png
"""

import json
import sys
from collections import defaultdict


def series(benchmarks: list[dict]) -> dict[str, list[tuple[int, float]]]:
    """Seconds for both directions by method, sorted by N."""
    points = defaultdict(list)
    for bench in benchmarks:
        info = bench.get("extra_info", {})
        if "n" in info and "method" in info:
            points[info["method"]].append((info["n"], bench["stats"]["mean"]))
    return {method: sorted(values) for method, values in sorted(points.items())}


def plot(points: dict[str, list[tuple[int, float]]], out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for method, values in points.items():
        ns, seconds = zip(*values)
        ax.loglog(ns, seconds, marker="o", label=method)
        if method == "exact" and len(ns) >= 2:  # N^2 trend to 1M, drawn dashed: estimated, not measured
            n1, s1 = ns[-1], seconds[-1]
            ax.loglog([n1, 1_000_000], [s1, s1 * (1_000_000 / n1) ** 2], linestyle="--", color="grey",
                      label="exact, N^2 estimate")
    ax.axhline(120, color="red", linewidth=0.8, linestyle=":", label="goal: 60 s per direction")
    ax.set_xlabel("sentences per side (N), 384-d")
    ax.set_ylabel("seconds, both directions")
    ax.grid(True, which="both", linewidth=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, metadata={"Software": None})


if __name__ == "__main__":
    plot(series(json.load(open(sys.argv[1], encoding="utf-8"))["benchmarks"]), sys.argv[2])
