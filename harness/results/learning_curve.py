"""Learning curves, fitted and compared: what a sweep over the training data's size says beyond its points.

A sweep of `max_pairs` is a learning curve. Per task family its points are fitted by least squares with
score = a + b * log2(pairs per language): b is the gain per doubling of the data, the form in which such
curves are usually close to straight over a moderate range. The fit is extrapolated only to say how much data
the line needs to reach a peer's score; the straight line is the optimistic reading (a curve that bends
flatter needs more), so that figure is a lower bound on the data needed, not a promise.

Uncertainty comes from the resamples the intervals use. On resample r each point's score is its averaged
replicate r (the items resampled; replicates are paired across models on the same data) plus seed noise
N(0, s^2 / k), where s is the seed standard deviation pooled over the points that have several seeds and k
the point's seeds; a peer's score is its own replicate r. The line is refitted on every resample, and each
figure below is a percentile interval over those fits. Without any point with several seeds, the seed term
is left out and said to be.

Two curves of the same setting and the same pairs (two trainers, say) are compared at every value both have:
the difference of their scores with the interval of the same resamples, seed noise included for both.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from harness.core.vocabulary import BASELINE
from harness.results import stats
from harness.results.overview import Group, Key
from harness.results.sweeps import SweepCurve

COUNT_SETTINGS = ("max_pairs",)  # the settings whose sweeps are learning curves: a count of training data
MIN_POINTS = 3  # a line through two points has no residual: nothing to fit


@dataclass(frozen=True)
class Estimate:
    """A fitted quantity, its 95% interval over the resamples (high may be inf: unbounded)."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Reach:
    """The pairs per language at which a family's fitted line reaches a peer's score on the same pairs."""

    peer: str
    score: float
    pairs: Estimate | None  # None: the fitted line does not rise, so it never reaches the peer
    unreached: float  # the share of resamples whose line does not rise (never reaches it)


@dataclass
class FamilyFit:
    """One family's line: its intercept and gain per doubling, and what follows from them."""

    family: str
    intercept: float  # the fitted score at one pair per language (log2 = 0): for drawing the line
    per_doubling: Estimate
    flat_from: object  # the smallest value from which no later point is significantly above it (None: none)
    reach: list[Reach] = field(default_factory=list)


@dataclass
class CurveFit:
    """A learning curve's fits, one per family, with how their uncertainty was made."""

    of: str
    setting: str
    values: list[int]  # the points fitted (an 'all' point has no number of pairs and is left out)
    seed_sd: dict[str, float | None]  # family -> the pooled seed standard deviation (None: no point has seeds)
    families: dict[str, FamilyFit] = field(default_factory=dict)


@dataclass(frozen=True)
class Gap:
    """Curve B minus curve A at one value of the setting, on one family."""

    value: object
    family: str
    difference: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass
class CurveComparison:
    a: str
    b: str
    setting: str
    gaps: list[Gap]


def _rng(*names: str) -> np.random.Generator:
    """A generator seeded by the curve's name: the report is rebuilt byte for byte from the same records."""
    digest = hashlib.sha256("\0".join(names).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def pooled_seed_sd(curve: SweepCurve, family: str) -> float | None:
    """The seed standard deviation pooled over the points with several seeds (None when there are none)."""
    squares, freedom = 0.0, 0
    for point in curve.points:
        seeds = point.seed_values.get(family, [])
        if len(seeds) > 1:
            squares += float(np.sum((np.asarray(seeds) - np.mean(seeds)) ** 2))
            freedom += len(seeds) - 1
    return math.sqrt(squares / freedom) if freedom else None


def _resampled(group: Group, keys: list[Key], sd: float | None, rng: np.random.Generator) -> np.ndarray | None:
    """A point's score on every resample: its averaged replicates plus the noise of its seeds' mean."""
    reps = group.replicates(keys)
    if reps is None:
        return None
    if sd:
        reps = reps + rng.normal(0.0, sd / math.sqrt(group.seeds), size=reps.shape)
    return reps


def _line(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares intercepts and slopes of ys (points x resamples, or points) on xs, vectorised."""
    x = xs - xs.mean()
    slope = np.tensordot(x, ys - ys.mean(axis=0), axes=(0, 0)) / float(x @ x)
    return ys.mean(axis=0) - slope * xs.mean(), slope


def _estimate(value: float, resampled: np.ndarray) -> Estimate:
    """The value with the central 95% of the resamples, read off the sorted resamples without interpolating, so
    that a bound among the resamples that never get there (inf) is inf, not nan."""
    kept = np.sort(resampled[~np.isnan(resampled)])
    if not kept.size:
        return Estimate(float(value), math.nan, math.nan)
    tail = (1.0 - stats.LEVEL) / 2.0
    low = kept[int(math.floor(tail * (kept.size - 1)))]
    high = kept[int(math.ceil((1.0 - tail) * (kept.size - 1)))]
    return Estimate(float(value), float(low), float(high))


def _needed(intercept, slope, target):
    """2 ** ((target - a) / b) where the line rises, inf where it does not."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(slope > 0, np.exp2((target - intercept) / np.where(slope > 0, slope, 1.0)), np.inf)


def _flat_from(values: list[int], scores: np.ndarray, resampled: np.ndarray) -> object:
    """The smallest value from which no later point is significantly above it (paired on the resamples); None
    when only the last point is (the curve may still be rising: nothing after it says otherwise)."""
    for i, value in enumerate(values[:-1]):
        later = range(i + 1, len(values))
        if all(stats.percentile_interval(resampled[j] - resampled[i])[0] <= 0 for j in later):
            return value
    return None


def peers_of(groups: dict[str, Group], keys: list[Key]) -> list[Group]:
    """The baselines scored, with evidence, on every one of `keys`, by name."""
    return [g for _, g in sorted(groups.items())
            if g.role == BASELINE and set(keys) <= g.keys() and g.replicates(keys) is not None]


def fit_curve(curve: SweepCurve, groups: dict[str, Group]) -> CurveFit | None:
    """The fits of one sweep, or None when it is not a learning curve with enough numbered points."""
    if curve.setting not in COUNT_SETTINGS:
        return None
    points = [p for p in curve.points if isinstance(p.value, int) and not isinstance(p.value, bool) and p.value > 0]
    if len(points) < MIN_POINTS:
        return None
    values = [p.value for p in points]
    xs = np.log2(np.asarray(values, dtype=np.float64))
    fitted = CurveFit(curve.of, curve.setting, values, {})
    for family, keys in curve.pairs.items():
        rng = _rng(curve.of, curve.setting, family)
        sd = pooled_seed_sd(curve, family)
        fitted.seed_sd[family] = sd
        scores = np.asarray([p.cells[family].value for p in points])
        resampled = [_resampled(groups[p.group], keys, sd, rng) for p in points]
        if any(r is None for r in resampled):
            continue  # a point without evidence: no interval for its line
        ys = np.vstack(resampled)
        a, b = _line(xs, scores)
        a_r, b_r = _line(xs, ys)
        fit = FamilyFit(family, float(a), _estimate(float(b), b_r), _flat_from(values, scores, ys))
        best = float(scores.max())
        for peer in peers_of(groups, keys):
            target = peer.value(keys)
            if target <= best:
                continue  # the curve already reaches it: nothing to extrapolate
            needed = _needed(a_r, b_r, peer.replicates(keys))
            unreached = float(np.mean(~np.isfinite(needed)))
            pairs = _estimate(float(_needed(a, b, target)), needed) if b > 0 else None
            fit.reach.append(Reach(peer.name, float(target), pairs, unreached))
        fitted.families[family] = fit
    return fitted if fitted.families else None


def compare_curves(first: SweepCurve, second: SweepCurve, groups: dict[str, Group]) -> CurveComparison | None:
    """Second minus first at each value both have, per family on the pairs both average (None: nothing shared)."""
    if first.setting != second.setting:
        return None
    at = {p.value: p for p in second.points}
    shared = [(p, at[p.value]) for p in first.points if p.value in at]
    gaps = []
    for family, keys in first.pairs.items():
        if second.pairs.get(family) != keys:
            continue
        sds = (pooled_seed_sd(first, family), pooled_seed_sd(second, family))
        rng = _rng(first.of, second.of, family)
        for p, q in shared:
            reps = [_resampled(groups[point.group], keys, sd, rng) for point, sd in ((p, sds[0]), (q, sds[1]))]
            if any(r is None for r in reps):
                continue
            low, high = stats.percentile_interval(reps[1] - reps[0])
            gaps.append(Gap(p.value, family, q.cells[family].value - p.cells[family].value, low, high))
    return CurveComparison(first.of, second.of, first.setting, gaps) if gaps else None


def learning_curves(curves: list[SweepCurve], groups: dict[str, Group]) -> tuple[list[CurveFit | None],
                                                                                  list[CurveComparison]]:
    """Each sweep's fit (None for one that is not a learning curve), in the sweeps' order, and every two
    learning curves of the same setting compared."""
    counted = [c for c in curves if c.setting in COUNT_SETTINGS]
    fits = [fit_curve(c, groups) for c in curves]
    comparisons = [comparison for i, a in enumerate(counted) for b in counted[i + 1:]
                   if (comparison := compare_curves(a, b, groups)) is not None]
    return fits, comparisons


FIT_TEXT = ("score = a + b log2(pairs per language), least squares over the points; intervals over the "
            "resamples, each point's averaged replicate plus the noise of its seeds' mean (the seed sd pooled over "
            "the points with several seeds). Flat from: the first point no later point is significantly above. "
            "Pairs to reach a peer (its score on the same pairs): where the line meets it, a lower bound if the "
            "curve bends flatter; 'never' where the line does not rise.")
GAP_TEXT = ("The second curve's score minus the first's at each value both have, on the pairs both average, with "
            "the interval of the same resamples (items paired, the seeds' noise of both added); * marks an "
            "interval that excludes 0.")


def pairs_text(pairs: float, smallest: int) -> str:
    """Pairs per language as tables print them: two significant figures, 'never' for a line that does not
    get there, and '< smallest' below the curve's first point (reached already, within its noise)."""
    if not math.isfinite(pairs):
        return "never"
    if pairs < smallest:
        return f"< {smallest:,}"
    return f"{float(f'{pairs:.2g}'):,.0f}"


def _interval_text(estimate: Estimate, digits: int = 2) -> str:
    return f"{estimate.value:+.{digits}f} [{estimate.low:+.{digits}f}, {estimate.high:+.{digits}f}]"


def fit_table(fit: CurveFit):
    """A curve's fits as text, a row per family: the gain per doubling, where it flattens, the seed spread used,
    and the pairs per language the line needs to reach each peer above the curve."""
    import pandas as pd

    smallest = min(fit.values)
    rows = {}
    for family, line in fit.families.items():
        sd = fit.seed_sd.get(family)
        row = {"points fitted": ", ".join(f"{v:,}" for v in fit.values),
               "gain per doubling [95%]": _interval_text(line.per_doubling),
               "flat from": "not yet" if line.flat_from is None else f"{line.flat_from:,}",
               "seed sd (pooled)": "no seeds" if sd is None else f"{sd:.2f}"}
        for reach in line.reach:
            needed = "never (the line falls)" if reach.pairs is None else (
                f"{pairs_text(reach.pairs.value, smallest)} [{pairs_text(reach.pairs.low, smallest)}, "
                f"{pairs_text(reach.pairs.high, smallest)}]")
            row[f"pairs/lang to reach {reach.peer}"] = f"{needed} (its {reach.score:.1f}; never on " \
                                                        f"{reach.unreached:.0%} of resamples)"
        rows[family] = row
    return pd.DataFrame.from_dict(rows, orient="index").fillna("the curve is above it")


def gap_table(comparison: CurveComparison):
    """Two curves' differences as text: a row per value, a column per family, '*' where significant."""
    import pandas as pd

    from harness.results.sweeps import shown

    cells: dict[str, dict[str, str]] = {}
    for gap in comparison.gaps:
        mark = "*" if gap.significant else ""
        cells.setdefault(shown(comparison.setting, gap.value), {})[gap.family] = \
            f"{gap.difference:+.2f} [{gap.low:+.2f}, {gap.high:+.2f}]{mark}"
    return pd.DataFrame.from_dict(cells, orient="index").fillna("")
