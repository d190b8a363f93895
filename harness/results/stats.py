"""How sure a score is: bootstrap confidence intervals over items, paired comparisons of two models on
the same items, and Holm's correction when several comparisons are read at once.

- **Intervals** of correlations are percentile-bootstrap 95% intervals: the items of a (task, language
  pair) are resampled with replacement `RESAMPLES` times, the score is recomputed on each resample, and the
  2.5th and 97.5th percentiles of those replicates are the interval. Means of per-item values in [0, 1]
  (accuracies, error rates, nDCG, MRR, recall) get an Agresti-Coull interval at Kish's effective n
  (`mean_interval`), which holds its coverage at 0% and 100%, where resampling gives an interval of zero
  width. Their replicates are still drawn: paired comparisons and averages over pairs use them.
- **Paired comparisons** resample the same items for both models (the resampling seed is derived from
  the task, the pair and the item count, so every model of a pair gets the same resamples). The
  difference's interval is the percentile interval of the replicate differences; its p-value is two-sided,
  from the normal approximation z = difference / (standard deviation of the replicate differences), so
  that small p-values stay resolvable after a Holm correction over many pairs.
- **Speed:** a resample is a row of item counts, so every statistic is computed for all resamples at
  once: means by one matrix-vector product, Spearman by ranks derived from cumulative counts in sorted
  order (no sorting per resample). Ties get average ranks, as scipy gives them.

Scores are x100, as the records store them.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95
METHOD = ("percentile bootstrap over items; for means of per-item values in [0, 1] (accuracy, error rate, "
          "nDCG, MRR, recall): Agresti-Coull with Kish's effective n")
Z = 1.959963984540054  # the normal quantile of a two-sided 95% interval
DEFF_FLOOR = 0.25  # an interval never counts the items as more than 4 times their number (see mean_interval)
RESOLUTION = 0.005  # points: differences below this are rounding (schema 2 stored replicates 0.001 apart)
_KIND = re.compile(r"^(?P<name>[a-z][a-z0-9]*)(?:@(?P<k>\d+))?$")


# ---- per-item statistics: the one definition each, used by the tasks and by the resampling ----------

def ndcg_gain(ranks: np.ndarray, k: int) -> np.ndarray:
    """Each query's nDCG@k with one relevant candidate: 1 / log2(rank + 1) within the top k, else 0."""
    ranks = np.asarray(ranks)
    found = (ranks >= 1) & (ranks <= k)
    return np.where(found, 1.0 / np.log2(np.where(found, ranks, 1) + 1.0), 0.0)


def reciprocal_rank(ranks: np.ndarray, k: int) -> np.ndarray:
    """Each query's reciprocal rank of its relevant candidate within the top k, else 0 (MRR@k)."""
    ranks = np.asarray(ranks)
    found = (ranks >= 1) & (ranks <= k)
    return np.where(found, 1.0 / np.where(found, ranks, 1), 0.0)


def hit(ranks: np.ndarray, k: int) -> np.ndarray:
    """1 for a query whose relevant candidate is within the top k, else 0 (recall@k)."""
    ranks = np.asarray(ranks)
    return ((ranks >= 1) & (ranks <= k)).astype(float)


_PER_ITEM = {"ndcg": ndcg_gain, "mrr": reciprocal_rank, "hit": hit}


def _f1(tp, fp, fn):
    return 2 * tp / np.maximum(2 * tp + fp + fn, 1e-300)


def _precision(tp, fp, fn):
    return tp / np.maximum(tp + fp, 1e-300)


def _recall(tp, fp, fn):
    return tp / np.maximum(tp + fn, 1e-300)


# Ratios of sums over items, from three 0/1 arrays per item (true positive, false positive, false negative):
# the F1, precision and recall of extracted pairs. They are not means of per-item values, so their intervals
# are percentile-bootstrap ones, like a correlation's.
_RATIOS = {"f1": _f1, "precision": _precision, "recall": _recall}


def per_item(kind: str, arrays: Sequence[np.ndarray]) -> np.ndarray | None:
    """The per-item values whose mean is the statistic, or None for a correlation."""
    match = _KIND.match(kind)
    if not match:
        raise ValueError(f"unknown statistic {kind!r}")
    name, k = match["name"], match["k"]
    if name in ("spearman", "pearson") or name in _RATIOS:
        return None
    if name in _PER_ITEM:
        return _PER_ITEM[name](arrays[0], int(k))
    if name in ("mean", "error"):
        return np.mean([np.asarray(a, dtype=float) for a in arrays], axis=0)
    raise ValueError(f"unknown statistic {kind!r}")


def point_estimate(kind: str, arrays: Sequence[np.ndarray]) -> float:
    """The statistic on all items, x100 (for correlations: the coefficient x100)."""
    if kind in _RATIOS:
        return 100.0 * float(_RATIOS[kind](*(np.asarray(a, dtype=np.float64).sum() for a in arrays)))
    values = per_item(kind, arrays)
    if values is None:
        x, y = (np.asarray(a, dtype=np.float64) for a in arrays[:2])
        if kind == "spearman":
            x, y = (_ranks_by_item(v, np.ones((1, len(v))))[0] for v in (x, y))
        return float(_pearson(x, y, np.ones((1, len(x))))[0])
    score = 100.0 * float(np.mean(values))
    return 100.0 - score if kind == "error" else score


# ---- resampling --------------------------------------------------------------------------------------

def _seed(key: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{key}|{n}".encode(), digest_size=8).digest(), "little")


@functools.lru_cache(maxsize=4)
def resample_counts(key: str, n: int, resamples: int = RESAMPLES) -> np.ndarray:
    """(resamples, n) counts: how often each item is drawn in each bootstrap resample of `key`'s items.

    The seed comes from `key` (task and language pair) and n, so two models scored on the same items get
    the same resamples, and different pairs get independent ones.
    """
    rng = np.random.default_rng(_seed(key, n))
    draws = rng.integers(0, n, size=(resamples, n))
    flat = (draws + (np.arange(resamples) * n)[:, None]).ravel()
    counts = np.bincount(flat, minlength=resamples * n).reshape(resamples, n).astype(np.float32)
    counts.setflags(write=False)
    return counts


def _sorted_ranks(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(item order by value, each resample's average ranks in that order minus the mean rank, the counts in
    that order). An item drawn c times holds c tied ranks; tied values share their group's average rank."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new_group = np.r_[True, ordered[1:] != ordered[:-1]]
    in_order = counts[:, order]
    cumulative = np.cumsum(in_order, axis=1)
    if new_group.all():  # no ties: the items before, plus the middle of this item's own copies
        ranks = cumulative - 0.5 * in_order + 0.5
    else:
        starts = np.flatnonzero(new_group)
        ends = np.r_[starts[1:], len(ordered)] - 1
        below = np.where(starts > 0, cumulative[:, np.maximum(starts - 1, 0)], 0.0)
        ranks = (below + (cumulative[:, ends] - below + 1.0) / 2.0)[:, np.cumsum(new_group) - 1]
    ranks -= (counts.shape[1] + 1) / 2.0  # every resample has n items, so its mean rank is (n + 1) / 2
    return order, ranks, in_order


def _ranks_by_item(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    order, ranks, _ = _sorted_ranks(values, counts)
    by_item = np.empty_like(ranks)
    by_item[:, order] = ranks
    return by_item


@functools.lru_cache(maxsize=8)
def _shared_ranks(values_bytes: bytes, key: str, n: int, resamples: int) -> np.ndarray:
    """Centred resample ranks of one array in item order, cached: the gold scores every model shares."""
    values = np.frombuffer(values_bytes, dtype=np.float64)
    ranks = _ranks_by_item(values, resample_counts(key, n, resamples))
    ranks.setflags(write=False)
    return ranks


def _spearman(x: np.ndarray, y: np.ndarray, key: str, resamples: int) -> np.ndarray:
    counts = resample_counts(key, len(x), resamples)
    y_ranks = _shared_ranks(np.ascontiguousarray(y, np.float64).tobytes(), key, len(x), resamples)
    order, x_ranks, in_order = _sorted_ranks(x, counts)
    y_in_order = y_ranks[:, order]
    weighted = in_order * x_ranks
    cov = np.einsum("bi,bi->b", weighted, y_in_order)
    var_x = np.einsum("bi,bi->b", weighted, x_ranks)
    var_y = np.einsum("bi,bi->b", in_order * y_in_order, y_in_order)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(100.0 * cov / np.sqrt(var_x * var_y), -100.0, 100.0)  # rounding can pass +-100 by a hair


def _pearson(x: np.ndarray, y: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Pearson on every resample, in float64: E[xy] - E[x]E[y] cancels, and in float32 a resample with (nearly)
    one distinct item gave -314 on a 3-row file. A resample whose values (nearly) do not vary has no
    correlation: NaN, which the interval drops."""
    x, y = x - x.mean(), y - y.mean()  # centred first: the sums below then lose less precision
    total = counts.sum(axis=1, dtype=np.float64)

    def weighted_mean(values: np.ndarray) -> np.ndarray:
        return np.einsum("bi,i->b", counts, values.astype(np.float64)) / total

    mean_x, mean_y = weighted_mean(x), weighted_mean(y)
    cov = weighted_mean(x * y) - mean_x * mean_y
    var_x = weighted_mean(x * x) - mean_x ** 2
    var_y = weighted_mean(y * y) - mean_y ** 2
    flat = (var_x <= 1e-9 * max(float(np.mean(x * x)), 1e-300)) | (var_y <= 1e-9 * max(float(np.mean(y * y)), 1e-300))
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.clip(100.0 * cov / np.sqrt(var_x * var_y), -100.0, 100.0)
    return np.where(flat, np.nan, scores)


def replicates(kind: str, arrays: Sequence[np.ndarray], key: str, resamples: int = RESAMPLES) -> np.ndarray:
    """The statistic on every bootstrap resample of `key`'s items: a vector of `resamples` scores."""
    n = len(arrays[0])
    if kind in _RATIOS:
        counts = resample_counts(key, n, resamples).astype(np.float64)
        sums = [counts @ np.asarray(a, dtype=np.float64) for a in arrays]
        return 100.0 * _RATIOS[kind](*sums)
    values = per_item(kind, arrays)
    if values is not None:
        # einsum, not a BLAS product: a thread pool costs more than it saves on one (resamples x n) pass
        counts = resample_counts(key, n, resamples)
        scores = 100.0 * np.einsum("bi,i->b", counts, values.astype(np.float32)).astype(np.float64) / n
        return 100.0 - scores if kind == "error" else scores
    x, y = (np.asarray(a, dtype=np.float64) for a in arrays[:2])
    if kind == "spearman":
        return _spearman(x, y, key, resamples)
    return _pearson(x, y, resample_counts(key, n, resamples))


def mean_interval(values: np.ndarray) -> tuple[float, float]:
    """A 95% interval, x100, for the mean of per-item values in [0, 1]: Agresti-Coull (add z^2/2 successes and
    z^2/2 failures) at Kish's effective sample size n / deff, deff = s^2 / (p(1 - p)) capped at 1.

    For 0/1 items deff is 1 and this is Agresti-Coull itself, which keeps its coverage at the edges where the
    percentile bootstrap collapses: every item right gives [100, 100] by resampling, here [99.54, 100] at
    n = 1,012. Items between 0 and 1 (nDCG, a mean of two directions) vary less than 0/1 items of the same
    mean, so deff < 1 narrows the interval to what their spread supports. With no spread at all (every item alike)
    deff is taken as 1: the 0/1 case, the widest the data allow."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    p = float(values.mean())
    bernoulli = p * (1.0 - p)
    spread = float(values.var(ddof=1)) if n > 1 else 0.0
    deff = min(1.0, max(spread / bernoulli, DEFF_FLOOR)) if bernoulli > 1e-12 and spread > 1e-12 else 1.0
    n_eff = n / deff
    total = n_eff + Z * Z
    centre = (p * n_eff + Z * Z / 2.0) / total
    half = Z * math.sqrt(centre * (1.0 - centre) / total)
    return 100.0 * max(0.0, centre - half), 100.0 * min(1.0, centre + half)


def interval(kind: str, arrays: Sequence[np.ndarray], replicates_of_kind: np.ndarray) -> tuple[float, float]:
    """A metric's 95% interval: `mean_interval` for a mean of per-item values in [0, 1] (an error rate is
    100 minus one), else (correlations) the percentile interval of its bootstrap replicates."""
    values = per_item(kind, arrays)
    if values is None:
        return percentile_interval(replicates_of_kind)
    low, high = mean_interval(values)
    return (100.0 - high, 100.0 - low) if kind == "error" else (low, high)


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central `level` share of bootstrap replicates (NaN replicates, from degenerate resamples, dropped)."""
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.nanpercentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


# ---- paired comparison and multiplicity ------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    """B minus A on the same items: the observed difference, its 95% interval and a two-sided p-value."""

    difference: float
    low: float
    high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < 1.0 - LEVEL


def _without_spread(observed: float) -> float:
    """The p-value of a difference with nothing to measure it against (every resample gives the same one):
    below the replicates' resolution it is no difference (records 0.0004 apart), above it the same difference
    on every resample is as certain as it gets; an undefined difference has p = 1."""
    if not math.isfinite(observed):
        return 1.0
    return 1.0 if abs(observed) < RESOLUTION else 0.0


def compare_replicates(estimate_a: float, estimate_b: float, reps_a: np.ndarray, reps_b: np.ndarray) -> Difference:
    """Paired comparison from replicates computed on the same resamples (see `replicates`): the percentile
    interval of the replicate differences and the normal approximation's p-value, the interval replaced by
    the test-based one where the two disagree about 0 (`agreeing_interval`)."""
    diffs = np.asarray(reps_b) - np.asarray(reps_a)
    observed = float(estimate_b - estimate_a)
    percentile = percentile_interval(diffs)
    spread = float(np.nanstd(diffs, ddof=1)) if np.isfinite(diffs).sum() > 1 else math.nan
    if not math.isfinite(observed) or spread == 0.0 or not math.isfinite(spread):
        p_value = _without_spread(observed)
    else:
        p_value = math.erfc(abs(observed) / spread / math.sqrt(2.0))
    p_value = min(1.0, p_value)
    # the percentile interval and the normal p-value can part near 0 on skewed replicates: the p-value decides
    return Difference(observed, *agreeing_interval(observed, p_value, percentile), p_value)


def sign_flip_p(differences: np.ndarray) -> float | None:
    """The two-sided mid-p-value of the paired sign-flip test, computed exactly, for per-item differences that
    are multiples of one half (accuracies, error rates, and mining's mean of two directions: each item differs
    by 0, 0.5 or 1), or None for other values (nDCG, MRR), which stay with the bootstrap.

    Under the null the sign of each item's difference is a fair coin: with m1 items differing by 1 and m2 by
    0.5, the sum of the differences, in half units, is 2(2 B1 - m1) + (2 B2 - m2) with B ~ Binomial(m, 1/2).
    For 0/1 items (m2 = 0) this is McNemar's test on the discordant items. The p-value is the mid-p (the
    probability of a more extreme sum plus half that of one as extreme): the exact conditional test holds its
    level only by rejecting 2-3% of the time, and the mid-p McNemar test is the one Fagerland, Lydersen and
    Laake (BMC Med Res Methodol 2013) recommend. No differing item: p = 1."""
    halves = np.asarray(differences, dtype=np.float64) * 2.0
    if not np.allclose(halves, np.round(halves)) or np.abs(halves).max(initial=0) > 2:
        return None
    halves = np.round(halves).astype(int)
    m1, m2 = int((np.abs(halves) == 2).sum()), int((np.abs(halves) == 1).sum())
    if m1 + m2 == 0:
        return 1.0
    from scipy.stats import binom

    ones = np.zeros(4 * m1 + 1)  # the sum over the items that differ by 1, in half units: -2 m1 .. 2 m1, step 4
    ones[::4] = binom.pmf(np.arange(m1 + 1), m1, 0.5)
    half = np.zeros(2 * m2 + 1)  # over the items that differ by 0.5: -m2 .. m2, step 2
    half[::2] = binom.pmf(np.arange(m2 + 1), m2, 0.5)
    pmf = np.convolve(ones, half)
    sums = np.arange(len(pmf)) - (2 * m1 + m2)
    observed = abs(int(halves.sum()))
    beyond, at = pmf[np.abs(sums) > observed].sum(), pmf[np.abs(sums) == observed].sum()
    return float(min(1.0, beyond + 0.5 * at))


def test_based_interval(observed: float, p_value: float, fallback: tuple[float, float]) -> tuple[float, float]:
    """A 95% interval that agrees with an exact p-value about 0 (Miettinen's test-based interval: the
    standard error implied by the p-value, |d| / z(p / 2)). Where that is undefined (no difference, or a
    p-value too small to invert) the bootstrap interval `fallback` is used, widened to hold 0 when p >= 0.05."""
    if observed != 0.0 and 1e-300 < p_value < 1.0:
        from scipy.stats import norm

        error = abs(observed) / float(norm.isf(p_value / 2))
        return observed - Z * error, observed + Z * error
    low, high = fallback
    if p_value >= 1.0 - LEVEL:
        low, high = min(low, 0.0), max(high, 0.0)
    return low, high


PERMUTATIONS = 10_000  # random swaps of a correlation's permutation test
TAIL_COUNT = 10  # fewer swaps than this as extreme as the observed difference: the normal tail gives p
TIE = 1e-6  # swapped statistics this close to the observed one (in correlation units: 1e-4 points) are ties


def permutation_p(kind: str, predicted_a: np.ndarray, predicted_b: np.ndarray, gold: np.ndarray, key: str,
                  permutations: int = PERMUTATIONS) -> float:
    """The two-sided p-value of a paired permutation test that B's correlation with `gold` equals A's.

    Each model's predictions are first put on one scale (Spearman: their ranks; Pearson: their z-scores), so
    that under the null the two values of an item are exchangeable; the test swaps them item by item at random
    and recomputes r(A', gold) - r(B', gold), a Pearson correlation of the transformed values. Unswapped, that
    is the observed difference of the two Spearman (or Pearson) coefficients. Each swap is linear in the
    swap indicators, so 10,000 of them are a few matrix-vector products. The swaps are seeded from `key`
    (task and pair), so a comparison reproduces. p = (1 + #{|T*| >= |T|}) / (1 + permutations), the Monte
    Carlo permutation p-value that keeps its level, down to about 0.001; beyond that (fewer than TAIL_COUNT
    swaps as extreme) the normal tail of the swapped statistics. An undefined correlation (a constant side)
    gives p = 1."""
    from scipy.stats import rankdata

    def scaled(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if kind == "spearman":
            values = rankdata(values)  # average ranks for ties, as Spearman's
        spread = values.std()
        return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)

    a, b, g = scaled(predicted_a), scaled(predicted_b), scaled(gold)
    n = len(g)
    if not (a.any() and b.any() and g.any()):
        return 1.0
    d = b - a
    rng = np.random.default_rng(_seed(f"permutation|{key}", n))

    # A' = a + w d and B' = b - w d for swap indicators w; a, b and g are centred with unit variance, so each
    # swap's two correlations need only these five sums over the swapped items:
    terms = np.stack([d, d * g, a * d, b * d, d * d], axis=1)
    terms32 = terms.astype(np.float32)

    def statistic(sums: np.ndarray) -> np.ndarray:
        """r(A', g) - r(B', g) from the rows of `sums` (each: the five terms summed over one swap's items)."""
        shift, shift_g, shift_a, shift_b, shift_d = sums.T
        var_a = (n + 2.0 * shift_a + shift_d) / n - (shift / n) ** 2
        var_b = (n - 2.0 * shift_b + shift_d) / n - (shift / n) ** 2
        cov_a, cov_b = (a @ g + shift_g) / n, (b @ g - shift_g) / n
        return cov_a / np.sqrt(np.maximum(var_a, 1e-300)) - cov_b / np.sqrt(np.maximum(var_b, 1e-300))

    observed = abs(float(statistic(np.zeros((1, 5)))[0]))
    beyond, squares, block = 0, 0.0, 1000
    for start in range(0, permutations, block):  # 1,000 swaps at a time, each item's coin one random bit
        rows = min(block, permutations - start)
        bits = rng.integers(0, 256, size=(rows, (n + 7) // 8), dtype=np.uint8)
        # float32: the swap matrix is the cost here (in float64 its cast alone is 3/4 of the test's time),
        # and its sums are exact to ~1e-7 of a correlation; statistics within TIE of the observed count as ties
        swapped = statistic((np.unpackbits(bits, axis=1, count=n).astype(np.float32) @ terms32).astype(np.float64))
        beyond += int((np.abs(swapped) >= observed - TIE).sum())
        squares += float(swapped @ swapped)
    drawn = (1.0 + beyond) / (1.0 + permutations)
    if beyond >= TAIL_COUNT or squares == 0.0:
        return drawn
    # Fewer than TAIL_COUNT swaps reach the observed difference: past what the draws resolve, the tail of the
    # permutation distribution's normal approximation (centred on 0: swapping every item negates the
    # statistic) takes over, so that a 5-point drop is not held at p = 1e-4, which Holm over 85 pairs would
    # turn into 0.0085. It never exceeds the drawn p-value (so p falls as the difference grows) and never
    # goes below 2 / 2^m, the smallest p-value m items that differ can give (identity and full swap).
    tail = math.erfc(observed / math.sqrt(squares / permutations) / math.sqrt(2.0))
    differing = int(np.count_nonzero(d))
    return max(min(tail, drawn), 2.0 ** (1 - differing) if differing < 1075 else 0.0)


def correlation_paired(estimate_a: float, estimate_b: float, reps_a: np.ndarray, reps_b: np.ndarray,
                       kind: str, predicted_a: np.ndarray, predicted_b: np.ndarray, gold: np.ndarray,
                       key: str) -> Difference:
    """B minus A for a correlation on the same items: the paired permutation p-value (`permutation_p`) with
    the interval that agrees with it about 0 (`agreeing_interval`)."""
    observed = float(estimate_b - estimate_a)
    p_value = permutation_p(kind, predicted_a, predicted_b, gold, key) if math.isfinite(observed) else 1.0
    return _tested(observed, p_value, reps_a, reps_b, bound=200.0)  # coefficients x100 differ by 200 at most


def agreeing_interval(observed: float, p_value: float, percentile: tuple[float, float]) -> tuple[float, float]:
    """The interval printed with a p-value: the bootstrap's percentile interval where it already agrees with
    the p-value about 0, else the test-based one, so that the two never disagree (one rule for every
    comparison: the bootstrap's, the sign-flip test's and the permutation test's)."""
    low, high = percentile
    if not math.isfinite(observed) or (low <= 0.0 <= high) == (p_value >= 1.0 - LEVEL):
        return low, high
    return test_based_interval(observed, p_value, percentile)


def _tested(observed: float, p_value: float, reps_a: np.ndarray, reps_b: np.ndarray, bound: float) -> Difference:
    """A difference tested otherwise than by its replicates: the given p-value, the interval that agrees with
    it, no wider than the score's range allows (`bound`)."""
    low, high = agreeing_interval(observed, p_value, percentile_interval(np.asarray(reps_b) - np.asarray(reps_a)))
    return Difference(observed, max(low, -bound), min(high, bound), p_value)


def exact_paired(estimate_a: float, estimate_b: float, reps_a: np.ndarray, reps_b: np.ndarray,
                 items_a: np.ndarray, items_b: np.ndarray) -> Difference:
    """B minus A for a mean of per-item values scored on the same items: the sign-flip mid-p-value where it
    can be computed exactly (`sign_flip_p`) with the interval that agrees with it; otherwise
    `compare_replicates`."""
    p_value = sign_flip_p(np.asarray(items_b, dtype=np.float64) - np.asarray(items_a, dtype=np.float64))
    if p_value is None:
        return compare_replicates(estimate_a, estimate_b, reps_a, reps_b)
    return _tested(float(estimate_b - estimate_a), p_value, reps_a, reps_b, bound=100.0)  # scores of 0-100


def compare_recipes(estimate_a: float, estimate_b: float, reps_a: np.ndarray, reps_b: np.ndarray,
                    seeds_a: Sequence[float], seeds_b: Sequence[float]) -> Difference:
    """B minus A as recipes, not as these trained models: the seed means of two groups, compared with the
    spread of the items and of the seeds.

    The variance of the difference of the seed means is the item part (the variance of the paired replicate
    differences of the seed means, on the same resamples) plus, for each group with two or more seeds, its
    seed variance over its seed count (s^2 / k: the seeds are scored on the same items, so their spread is
    training noise alone). The reference is Student's t with Welch-Satterthwaite degrees of freedom from the
    seed terms (k - 1 each; the item term counts as known), and the interval is the estimate +- t times the
    standard error, so the interval and the p-value cannot disagree about 0. A group of one seed brings no
    seed term: against a base or a teacher, which training does not vary, that is right; between two
    one-seed students it is a comparison of models, as `compare_replicates` is."""
    from scipy.stats import t as student_t

    diffs = np.asarray(reps_b) - np.asarray(reps_a)
    observed = float(estimate_b - estimate_a)
    item_var = float(np.nanvar(diffs, ddof=1)) if np.isfinite(diffs).sum() > 1 else math.nan
    seed_terms = [(float(np.var(seeds, ddof=1)) / len(seeds), len(seeds) - 1)
                  for seeds in (seeds_a, seeds_b) if len(seeds) > 1]
    total = item_var + sum(v for v, _ in seed_terms)
    if not math.isfinite(total) or total <= 0.0 or not math.isfinite(observed):
        return Difference(observed, observed, observed, _without_spread(observed))
    dof = total ** 2 / sum(v * v / df for v, df in seed_terms) if any(v > 0 for v, _ in seed_terms) else math.inf
    error = math.sqrt(total)
    quantile = float(student_t.ppf(0.5 + LEVEL / 2, dof)) if math.isfinite(dof) else Z
    p_value = float(2 * student_t.sf(abs(observed) / error, dof)) if math.isfinite(dof) else \
        math.erfc(abs(observed) / error / math.sqrt(2.0))
    return Difference(observed, observed - quantile * error, observed + quantile * error, min(1.0, p_value))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: compare each with alpha to control the family-wise error."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
