"""Learning curves, fitted and compared: what a sweep over the training data's size says beyond its points.

A sweep of `max_pairs` is a learning curve. Per task family its points are fitted by least squares with
score = a + b * log2(pairs per language): b is the gain per doubling of the data, the form in which such
curves are usually close to straight over a moderate range (the residual spread of the points around the line
is reported, to show where it is not). The line is extrapolated only to say how much data it needs to reach a
peer's score. That figure assumes the curve keeps its gain per doubling: if it bends flatter with more data, as
learning curves usually do, more is needed; if it rises faster, less.

Uncertainty comes from the resamples the intervals use. On resample r each point's score is its averaged
replicate r (the items resampled; replicates are paired across models scored on the same data, which is
checked) plus seed noise N(0, s_r^2 / k): k is the point's seeds, and s_r the seed standard deviation pooled
over the points with several seeds, itself drawn on each resample as s * sqrt(chi2_df / df), since two or three
seeds measure it loosely. A peer's score is its own replicate r. The line is refitted on every resample, and
each figure is a percentile interval over those fits (resamples where a replicate is undefined are left out).
Without any point with several seeds the seed term is left out, and the table says so.

Two curves of the same setting and the same pairs (two trainers, say) are compared at every value both have:
the difference of their scores on the same resamples, with the seed noise of each.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from harness.core.vocabulary import BASELINE
from harness.results import stats
from harness.results.overview import Group, Key
from harness.results.sweeps import SweepCurve, point_text, value_text

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
    pairs: Estimate  # inf where the line does not rise: it never reaches the peer
    unreached: float  # the share of resamples whose line does not rise (never reaches it)
    # the best point's label and its score minus the peer's, when that point is neither significantly above nor
    # below the peer: level with it, not past it, so the line's crossing is still the figure to read
    level: tuple[str, Estimate] | None = None


@dataclass
class FamilyFit:
    """One family's line: its intercept and gain per doubling, and what follows from them."""

    family: str
    intercept: float  # the fitted score at one pair per language (log2 = 0): for drawing the line
    per_doubling: Estimate
    residual_sd: float  # the points' spread around the line (points of score): how straight the curve is
    no_gain_after: str | None  # the first point no later one is significantly above, labelled (None: only the last)
    reach: list[Reach] = field(default_factory=list)  # the peers the best point is not significantly above
    below: list[tuple[str, float]] = field(default_factory=list)  # the peers the best point is significantly above:
    # (name, score)


@dataclass
class CurveFit:
    """A learning curve's fits, one per family, with how their uncertainty was made."""

    of: str
    setting: str
    values: list[int]  # the pairs per language of the points fitted (`all` with its recorded pairs; an older
    # `all` record has none and is left out)
    seed_sd: dict[str, tuple[float, int] | None]  # family -> the pooled seed sd and its degrees of freedom
    families: dict[str, FamilyFit] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)  # the points fitted as tables print them ('all (81,964)')


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


def pooled_seed_sd(curve: SweepCurve, family: str) -> tuple[float, int] | None:
    """The seed standard deviation pooled over the points with several seeds, with its degrees of freedom
    (None when no point has several seeds)."""
    squares, freedom = 0.0, 0
    for point in curve.points:
        seeds = point.seed_values.get(family, [])
        if len(seeds) > 1:
            squares += float(np.sum((np.asarray(seeds) - np.mean(seeds)) ** 2))
            freedom += len(seeds) - 1
    return (math.sqrt(squares / freedom), freedom) if freedom else None


def seed_scales(pooled: tuple[float, int] | None, resamples: int, rng: np.random.Generator) -> np.ndarray | None:
    """The seed sd on each resample, s * sqrt(chi2_df / df): the pooled estimate with its own uncertainty."""
    if pooled is None:
        return None
    sd, freedom = pooled
    return sd * np.sqrt(rng.chisquare(freedom, size=resamples) / freedom)


def _resampled(group: Group, keys: list[Key], scales: np.ndarray | None,
               rng: np.random.Generator) -> np.ndarray | None:
    """A point's score on every resample: its averaged replicates plus the noise of its seeds' mean."""
    reps = group.replicates(keys)
    if reps is None:
        return None
    if scales is not None:
        reps = reps + rng.standard_normal(reps.shape) * scales / math.sqrt(group.seeds)
    return reps


def same_data(groups: list[Group], keys: list[Key]) -> bool:
    """Whether every group was scored on the same data for each key: only then are their replicates paired."""
    return all(len({g.fingerprint(k) for g in groups}) == 1 for k in keys)


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
    """2 ** ((target - a) / b) where the line rises, inf where it does not (and nan where any is undefined)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        needed = np.where(slope > 0, np.exp2((target - intercept) / np.where(slope > 0, slope, 1.0)), np.inf)
    return np.where(np.isnan(intercept) | np.isnan(slope) | np.isnan(target), np.nan, needed)


def _no_gain_after(values: list[str], resampled: np.ndarray) -> str | None:
    """The smallest value no later point is significantly above (paired on the resamples); None when that is
    only the last point. Not significantly above is not the same as flat: read it with the gain per doubling."""
    for i, value in enumerate(values[:-1]):
        later = range(i + 1, len(values))
        if all(stats.percentile_interval(resampled[j] - resampled[i])[0] <= 0 for j in later):
            return value
    return None


def peers_of(groups: dict[str, Group], keys: list[Key]) -> list[tuple[Group, np.ndarray]]:
    """The baselines scored, with evidence, on every one of `keys`, by name, with their replicates over them."""
    candidates = [g for _, g in sorted(groups.items()) if g.role == BASELINE and set(keys) <= g.keys()]
    return [(g, reps) for g in candidates if (reps := g.replicates(keys)) is not None]


def fit_curve(curve: SweepCurve, groups: dict[str, Group]) -> CurveFit | None:
    """The fits of one sweep, or None when it is not a learning curve with enough numbered points. A family whose
    points lack evidence, or were scored on other data, is not fitted."""
    if curve.setting not in COUNT_SETTINGS:
        return None
    # a point with a number of pairs: its place on the value axis (sweeps.axis_position), `all` included
    points = sorted((p for p in curve.points if p.at is not None and p.at > 0), key=lambda p: p.at)
    if len(points) < MIN_POINTS:
        return None
    values = [int(p.at) for p in points]
    xs = np.log2(np.asarray(values, dtype=np.float64))
    labels = [point_text(curve.setting, p, unit="") for p in points]
    fitted = CurveFit(curve.of, curve.setting, values, {}, labels=labels)
    for family, keys in curve.pairs.items():
        members = [groups[p.group] for p in points]
        if not same_data(members, keys):
            continue
        rng = _rng(curve.of, curve.setting, family)
        pooled = pooled_seed_sd(curve, family)
        fitted.seed_sd[family] = pooled
        scales = seed_scales(pooled, stats.RESAMPLES, rng)
        resampled = [_resampled(g, keys, scales, rng) for g in members]
        if any(r is None for r in resampled):
            continue
        scores = np.asarray([p.cells[family].value for p in points])
        ys = np.vstack(resampled)
        a, b = _line(xs, scores)
        a_r, b_r = _line(xs, ys)
        residual = float(np.sqrt(np.sum((scores - a - b * xs) ** 2) / (len(values) - 2)))
        fit = FamilyFit(family, float(a), _estimate(float(b), b_r), residual, _no_gain_after(fitted.labels, ys))
        best = int(np.argmax(scores))
        for peer, replicates in peers_of(groups, keys):
            target = peer.value(keys)
            if not same_data([*members, peer], keys):
                continue
            # reached only when the best point is significantly above the peer (paired on the same resamples,
            # with the seeds' noise): a point estimate a hair above it is level with it, not past it
            ahead = _estimate(float(scores[best] - target), ys[best] - replicates)
            if ahead.low > 0:
                fit.below.append((peer.name, float(target)))
                continue
            needed = _needed(a_r, b_r, replicates)
            defined = needed[~np.isnan(needed)]
            unreached = float(np.mean(np.isinf(defined))) if defined.size else math.nan
            pairs = _estimate(float(_needed(a, b, target)), needed)
            # level: not significantly below either (an untestable difference, all NaN, is not shown)
            level = (fitted.labels[best], ahead) if ahead.high >= 0 and not math.isnan(ahead.low) else None
            fit.reach.append(Reach(peer.name, float(target), pairs, unreached, level))
        fitted.families[family] = fit
    return fitted if fitted.families else None


def compare_curves(first: SweepCurve, second: SweepCurve, groups: dict[str, Group]) -> CurveComparison | None:
    """Second minus first at each value both have, per family on the pairs both average (None: nothing shared)."""
    if first.setting != second.setting:
        return None
    by_value = {p.value: p for p in second.points}
    # the same value on the same pairs per language (two `all`s of other languages are not the same budget)
    shared = [(p, by_value[p.value]) for p in first.points if p.value in by_value and p.at == by_value[p.value].at]
    gaps = []
    for family, keys in first.pairs.items():
        if second.pairs.get(family) != keys:
            continue
        rng = _rng(first.of, second.of, family)
        scales = [seed_scales(pooled_seed_sd(c, family), stats.RESAMPLES, rng) for c in (first, second)]
        for p, q in shared:
            pair = [groups[p.group], groups[q.group]]
            if not same_data(pair, keys):
                continue
            reps = [_resampled(g, keys, scale, rng) for g, scale in zip(pair, scales)]
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
            "the points with several seeds, drawn with its own uncertainty). Residual sd: the points' spread "
            "around the line. No significant gain after: the first point no later point is significantly above "
            "(not the same as flat: read it beside the gain per doubling). Pairs to reach a peer (its score on the "
            "same pairs): where the line meets it if the gain per doubling holds (more if the curve bends flatter); "
            "'never' where the line does not rise, and 'never on N%' the share of resamples where it does not; "
            "'< first' where it meets it before the curve's first point; 'reached' where the best point is "
            "significantly above the peer (paired resamples, seeds' noise). Where it is neither significantly above "
            "nor below, the crossing is given as for any peer, followed by 'level at X: d [lo, hi]', the best point X "
            "minus the peer; 'never' beside 'level' is a line that falls away from a peer its best point is level "
            "with.")
GAP_TEXT = ("The second curve's score minus the first's at each value both have, on the pairs both average, with "
            "the interval of the same resamples (items paired; a curve with seeds adds their noise, as in its "
            "fit); * marks an interval that excludes 0.")
REACH_CAP = 1000  # a crossing beyond this many times the curve's last point is shown as '> that'


def pairs_text(pairs: float, smallest: int, largest: int) -> str:
    """Pairs per language as tables print them: two significant figures, 'never' for a line that does not
    get there, '< first' before the curve's first point and '> cap' past REACH_CAP times its last."""
    if not math.isfinite(pairs):
        return "never"
    if pairs < smallest:
        return f"< {smallest:,}"
    if pairs > REACH_CAP * largest:
        return f"> {REACH_CAP * largest:,}"
    return f"{float(f'{pairs:.2g}'):,.0f}"


def _interval_text(estimate: Estimate, digits: int = 2) -> str:
    return f"{estimate.value:+.{digits}f} [{estimate.low:+.{digits}f}, {estimate.high:+.{digits}f}]"


def fit_table(fit: CurveFit):
    """A curve's fits as text, a row per family: the gain per doubling, how straight, where gains stop being
    significant, the seed spread used, and for each peer the pairs per language the line needs to reach it."""
    import pandas as pd

    smallest, largest = min(fit.values), max(fit.values)
    peers = sorted({r.peer for line in fit.families.values() for r in line.reach}
                   | {name for line in fit.families.values() for name, _ in line.below})
    rows = {}
    for family, line in fit.families.items():
        pooled = fit.seed_sd.get(family)
        row = {"points fitted": ", ".join(fit.labels),
               "gain per doubling [95%]": _interval_text(line.per_doubling),
               "residual sd": f"{line.residual_sd:.2f}",
               "no significant gain after": "-" if line.no_gain_after is None else str(line.no_gain_after),
               "seed sd (pooled, df)": "no seeds" if pooled is None else f"{pooled[0]:.2f} ({pooled[1]})"}
        reached = {r.peer: r for r in line.reach}
        below = dict(line.below)
        for peer in peers:
            if peer in reached:
                reach = reached[peer]
                needed = " ".join((pairs_text(reach.pairs.value, smallest, largest),
                                   f"[{pairs_text(reach.pairs.low, smallest, largest)},",
                                   f"{pairs_text(reach.pairs.high, smallest, largest)}]"))
                text = f"{needed}; its {reach.score:.1f}; never on {reach.unreached:.0%}"
                if reach.level is not None:
                    label, ahead = reach.level
                    text += f"; level at {label}: {_interval_text(ahead)}"
            elif peer in below:
                text = f"reached (its {below[peer]:.1f})"
            else:
                text = "not on these pairs"
            row[f"pairs/lang to reach {peer}"] = text
        rows[family] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def gap_table(comparison: CurveComparison):
    """Two curves' differences as text: a row per value, a column per family, '*' where significant."""
    import pandas as pd

    cells: dict[str, dict[str, str]] = {}
    for gap in comparison.gaps:
        mark = "*" if gap.significant else ""
        cells.setdefault(value_text(comparison.setting, gap.value), {})[gap.family] = \
            f"{gap.difference:+.2f} [{gap.low:+.2f}, {gap.high:+.2f}]{mark}"
    return pd.DataFrame.from_dict(cells, orient="index").fillna("")
