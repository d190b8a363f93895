"""How often a 95% interval holds the true score: exactly (binomial sums) for 0/1 items, by simulation with a
fixed seed for the others. Used by tests/test_coverage.py and, for the README's table, run as a script:

    python -m tests.helpers.coverage
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as scipy_stats

from harness.results import stats


def binary_coverage(n: int, p: float, method: str = "current", reps: int = 400) -> float:
    """Coverage for the mean of n 0/1 items at true accuracy p. 'current' sums the binomial probabilities of
    every count whose interval holds p (exact); 'bootstrap' is the percentile bootstrap, simulated."""
    if method == "bootstrap":
        rng = np.random.default_rng(n)
        hits = 0
        for i in range(reps):
            values = (rng.random(n) < p).astype(np.float64)
            low, high = stats.percentile_interval(stats.replicates("mean", [values], f"coverage|{i}"))
            hits += low <= 100 * p <= high
        return hits / reps
    counts = np.arange(n + 1)
    weights = scipy_stats.binom.pmf(counts, n, p)
    kept = weights > 1e-12
    total = 0.0
    for x, weight in zip(counts[kept], weights[kept]):
        low, high = stats.mean_interval(np.r_[np.ones(x), np.zeros(n - x)])
        total += weight * (low <= 100 * p <= high)
    return float(total)


def _interval(values: np.ndarray, method: str, key: str) -> tuple[float, float]:
    if method == "bootstrap":
        return stats.percentile_interval(stats.replicates("mean", [values], key))
    return stats.mean_interval(values)


def two_directions_coverage(n: int, p: float, reps: int = 2000, method: str = "current") -> float:
    """Coverage for a mining mean of two directions (items worth 0, 0.5 or 1), the directions agreeing on 80%
    of the items: simulated."""
    rng = np.random.default_rng(int(1e6 * p) + n)
    hits = 0
    for i in range(reps):
        fwd = rng.random(n) < p
        bwd = np.where(rng.random(n) < 0.8, fwd, rng.random(n) < p)
        low, high = _interval((fwd.astype(float) + bwd) / 2, method, f"coverage|{i}")
        hits += low <= 100 * p <= high
    return hits / reps


def ndcg_coverage(n: int, top: float, reps: int = 2000, method: str = "current") -> float:
    """Coverage for nDCG@10 when the relevant candidate is first with probability `top`, else at a geometric
    rank below (half the remaining chance at each next rank): simulated; the truth is summed exactly."""
    ranks = np.arange(1, 200)
    probabilities = np.where(ranks == 1, top, (1 - top) * 0.5 ** (ranks - 1))
    truth = 100 * float(np.sum(probabilities * stats.ndcg_gain(ranks, 10)))
    rng = np.random.default_rng(int(1e6 * top) + n)
    hits = 0
    for i in range(reps):
        drawn = rng.choice(ranks, size=n, p=probabilities / probabilities.sum())
        low, high = _interval(stats.ndcg_gain(drawn, 10), method, f"coverage|{i}")
        hits += low <= truth <= high
    return hits / reps


def spearman_coverage(n: int, rho: float, reps: int = 300) -> float:
    """Coverage of the percentile bootstrap for Spearman on n bivariate-normal items with Pearson rho (true
    Spearman 6/pi asin(rho/2)): simulated."""
    truth = 100 * (6 / math.pi) * math.asin(rho / 2)
    rng = np.random.default_rng(n)
    hits = 0
    for i in range(reps):
        x = rng.standard_normal(n)
        y = rho * x + math.sqrt(1 - rho * rho) * rng.standard_normal(n)
        low, high = stats.percentile_interval(stats.replicates("spearman", [x, y], f"coverage|{i}"))
        hits += low <= truth <= high
    return hits / reps


def table() -> list[tuple[str, str, int, float | None, float]]:
    """(score type, true value, n, coverage before (percentile bootstrap), coverage now) for the README."""
    rows = []
    for n, p in [(1012, 0.999), (1000, 0.995), (1000, 0.95), (50, 0.98), (50, 0.9), (50, 0.5)]:
        before = binary_coverage(n, p, "bootstrap", reps=300)
        rows.append(("accuracy (0/1 items)", f"{100 * p:g}", n, before, binary_coverage(n, p)))
    for n, p in [(1000, 0.999), (1000, 0.995), (1000, 0.95), (50, 0.9)]:
        before = two_directions_coverage(n, p, reps=300, method="bootstrap")
        rows.append(("mining mean of two directions", f"{100 * p:g}", n, before, two_directions_coverage(n, p)))
    for n, top in [(1190, 0.99), (1190, 0.7), (50, 0.7)]:
        before = ndcg_coverage(n, top, reps=300, method="bootstrap")
        rows.append(("nDCG@10 (P(first) shown)", f"{100 * top:g}", n, before, ndcg_coverage(n, top)))
    for n in (50, 250, 1379):
        coverage = spearman_coverage(n, 0.7, reps=300 if n < 1000 else 150)
        rows.append(("Spearman, percentile bootstrap (rho = 0.7)", "68.3", n, coverage, coverage))
    return rows


if __name__ == "__main__":
    print("| score | true value | n | before (percentile bootstrap) | now |")
    print("|---|---|---|---|---|")
    for kind, value, n, before, now in table():
        shown = "" if before is None else f"{100 * before:.1f}%"
        print(f"| {kind} | {value} | {n:,} | {shown} | {100 * now:.1f}% |")
