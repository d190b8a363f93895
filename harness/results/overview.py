"""Scores as the report and the tables show them: models grouped over their training seeds, per-language
averages over the pairs every model of a view has, bootstrap intervals, ties with the best, flags, and each
student against its base and its teacher, pair by pair.

Every comparison is paired: two models' replicates come from the same bootstrap resamples of the same items
(harness.results.evidence), so a difference's interval and p-value are read off the replicate differences.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from harness.core.vocabulary import (
    ABLATION,
    BASELINE,
    COMPAT,
    FAMILIES,
    ROLES,
    SATURATION_CEILING,
    STS,
    STUDENT,
    TEACHER,
    TRAINED_ROLES,
)
from harness.results import stats
from harness.results.evidence import main_replicates, paired_difference

SEED = re.compile(r"-seed(\d+)$")
Key = tuple[str, str]  # (task, pair)


def group_name(model: str) -> str:
    """A student trained with several seeds is one row: its name without the '-seedN' suffix."""
    return SEED.sub("", model)


def students_of(groups: dict[str, Group]) -> list[str]:
    """The names of the groups whose role is student: the headline results."""
    return [name for name, group in groups.items() if group.role == STUDENT]


def main_view(groups: dict[str, Group]) -> list[str]:
    """The headline: the students (role student), their teachers and bases, and the peers; when no group is a
    student (an evaluation-only results folder), every group that is not an ablation."""
    students = [groups[name] for name in students_of(groups)]
    if not students:
        return [name for name, g in groups.items() if g.role != ABLATION]
    wanted = {g.name for g in students} | {g.meta.get(k) for g in students for k in ("teacher", "base")}
    return [name for name, g in groups.items() if name in wanted or g.role == BASELINE]


def languages_of(pair: str) -> list[str]:
    """The languages a pair belongs to in the per-language columns: X-en and en-X belong to X; en-en to en."""
    src, tgt = pair.split("-", 1)
    return sorted({lang for lang in (src, tgt) if lang != "en"} or {"en"})


@dataclass
class Score:
    """One model's main score on one (task, pair), with its interval, and its replicates when it has evidence
    (drawn from the record on first use: a view that never compares a score never resamples it)."""

    value: float
    low: float | None
    high: float | None
    fingerprint: str | None
    record: dict[str, Any] | None = field(default=None, repr=False, compare=False)  # for the exact tests

    @functools.cached_property
    def replicates(self) -> np.ndarray | None:
        bootstrap = (self.record or {}).get("bootstrap") or {}
        if bootstrap.get("resamples") != stats.RESAMPLES:
            return None  # no intervals asked, or resampled otherwise: not paired with this harness's replicates
        return main_replicates(self.record)


@dataclass
class Group:
    """A model, or a student over its seeds: per (task, pair), the seed mean of the main score."""

    name: str
    role: str
    meta: dict[str, Any]
    run: dict[str, Any]
    members: dict[str, dict[Key, Score]] = field(default_factory=dict)  # model name -> its scores
    family: dict[Key, str] = field(default_factory=dict)
    compared: dict[str, list] = field(default_factory=dict, repr=False, compare=False)  # other -> _compare rows

    @property
    def seeds(self) -> int:
        return len(self.members)

    def keys(self) -> set[Key]:
        """The (task, pair)s every seed of this group has."""
        sets = [set(scores) for scores in self.members.values()]
        return set.intersection(*sets) if sets else set()

    def value(self, keys: list[Key]) -> float:
        return float(np.mean([self.seed_values(keys)]))

    def seed_values(self, keys: list[Key]) -> list[float]:
        """The mean over `keys` for each seed."""
        return [float(np.mean([scores[k].value for k in keys])) for _, scores in sorted(self.members.items())]

    def replicates(self, keys: list[Key]) -> np.ndarray | None:
        """The replicates of the mean over `keys` and seeds, or None when some record has no evidence."""
        parts = [scores[k].replicates for scores in self.members.values() for k in keys]
        if not parts or any(p is None for p in parts):
            return None
        return np.mean(parts, axis=0)

    def fingerprint(self, key: Key) -> str | None:
        return next(iter(self.members.values()))[key].fingerprint

    def record(self, key: Key) -> dict[str, Any] | None:
        """The one record behind `key` when this is a single model (one seed), for the exact paired tests."""
        return next(iter(self.members.values()))[key].record if self.seeds == 1 else None


def role_of(record: dict[str, Any]) -> str:
    role = record["model"].get("role") or ABLATION
    return role if role in ROLES else ABLATION


def load_groups(records: list[dict[str, Any]]) -> dict[str, Group]:
    """The successful records as groups (one per model, seeds folded together), in a stable order."""
    groups: dict[str, Group] = {}
    for record in sorted(records, key=lambda r: (r["model"]["name"], r["task"]["name"], r["pair"])):
        if record["status"] != "ok" or record["model"].get("role") == COMPAT:  # their own section
            continue
        model = record["model"]["name"]
        name = group_name(model)
        group = groups.setdefault(name, Group(name, role_of(record), dict(record["model"]), record.get("run") or {}))
        for key, value in record["model"].items():  # a record scored later by another path may lack a field
            group.meta.setdefault(key, value)
        main = record["task"]["main_score"]
        metric = record["metrics"].get(main)
        if metric is None:
            continue
        low, high = metric.get("ci") or (None, None)
        key = (record["task"]["name"], record["pair"])
        group.members.setdefault(model, {})[key] = Score(metric["value"], low, high,
                                                         record.get("data_fingerprint"), record)
        group.family[key] = record["task"]["family"]
    return groups


# ---- a view: a set of groups, averaged over what they share ------------------------------------------

@dataclass
class Cell:
    value: float
    low: float | None = None
    high: float | None = None
    seed_sd: float | None = None
    tied: bool | None = None  # vs the best testable cell (Holm): True tied, False below, None not testable
    best: bool = False  # the highest value of the column, testable or not
    reference: bool = False  # the best cell that can be tested: the one the others are compared with
    vs_reference: stats.Difference | None = None  # this cell minus the reference, Holm-adjusted p



@dataclass
class Column:
    """A family's language (or 'all' for the family average): the pairs averaged, the ones left out because
    not every model has them, and the ones left out as saturated."""

    family: str
    lang: str
    shared: list[Key]
    left_out: list[Key]
    cells: dict[str, Cell]
    saturated: list[Key] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.family} {self.lang}"


def _keys_by_column(groups: list[Group]) -> dict[tuple[str, str], dict[str, set[Key]]]:
    columns: dict[tuple[str, str], dict[str, set[Key]]] = defaultdict(lambda: defaultdict(set))
    for group in groups:
        for key in group.keys():
            family = group.family[key]
            for lang in languages_of(key[1]):
                columns[(family, lang)][group.name].add(key)
            columns[(family, "all")][group.name].add(key)
    return columns


def average_cell(group: Group, keys: list[Key]) -> Cell:
    """A group's average over `keys`: one record's own interval when the cell is one pair of one seed (for an
    accuracy that is the interval that holds at 100%), else the percentile interval of the averaged
    replicates."""
    if len(keys) == 1 and group.seeds == 1:
        score = next(iter(group.members.values()))[keys[0]]
        return Cell(score.value, score.low, score.high, None)
    reps = group.replicates(keys)
    low, high = stats.percentile_interval(reps) if reps is not None else (None, None)
    seeds = group.seed_values(keys)
    return Cell(group.value(keys), low, high, float(np.std(seeds, ddof=1)) if len(seeds) > 1 else None)


def _mark_ties(column: Column, groups: dict[str, Group]) -> None:
    """The best of the column, and which cells are not significantly below the best cell that can be tested.

    A cell can be tested when its group has replicates on the column's pairs, drawn from the same data as the
    reference's. The reference is the best testable cell (not the best cell, which may be a record without
    evidence: then no cell could be tied with it, and a model 0.1 below it would read like one 4 below). Each
    other testable cell is compared with the reference on the same resamples, and the p-values are
    Holm-corrected over those k - 1 comparisons; a cell that cannot be tested has tied = None."""
    if not column.cells:
        return
    best = max(column.cells, key=lambda name: (column.cells[name].value, name))
    column.cells[best].best = True
    replicates = {name: groups[name].replicates(column.shared) for name in column.cells}
    testable = [name for name, reps in replicates.items() if reps is not None]
    if not testable:
        return
    reference = max(testable, key=lambda name: (column.cells[name].value, name))
    column.cells[reference].reference = column.cells[reference].tied = True
    tests = []
    for name in testable:
        same_data = all(groups[name].fingerprint(k) == groups[reference].fingerprint(k) for k in column.shared)
        if name == reference or not same_data or len(replicates[name]) != len(replicates[reference]):
            continue
        tests.append((name, _paired(groups[reference], groups[name], column.shared, column.cells[reference].value,
                                    column.cells[name].value, replicates[reference], replicates[name])))
    for (name, difference), adjusted in zip(tests, stats.holm([d.p_value for _, d in tests])):
        column.cells[name].tied = adjusted >= 1.0 - stats.LEVEL
        column.cells[name].vs_reference = replace(difference, p_value=adjusted)


def _counted(group: Group, key: Key) -> bool:
    """Whether a group's score on `key` counts in judging saturation: not the teacher's on a pair with another
    language than English. The teacher is monolingual by design (the paper's premise), so its low score on a
    cross-lingual pair says nothing about the multilingual models the pair should tell apart."""
    return not (group.role == TEACHER and key[1] != "en-en")


def saturated(groups: dict[str, Group], names: list[str], ceiling: float = SATURATION_CEILING) -> list[Key]:
    """The (task, pair)s of a view on which every counted model (at least two) scores `ceiling` or more and
    none is significantly below the best (the ties of `_mark_ties`: paired tests, Holm). Such a pair cannot
    tell the models apart, so it is left out of the averages (mteb dropped NTREX's saturated pairs likewise).
    A model without evidence on the pair cannot be tested, and keeps the pair in."""
    keys = sorted({key for name in names for key in groups[name].keys()})
    found = []
    for key in keys:
        counted = [name for name in names if key in groups[name].keys() and _counted(groups[name], key)]
        if len(counted) < 2:
            continue
        column = Column("", "", [key], [], {name: average_cell(groups[name], [key]) for name in counted})
        if min(cell.value for cell in column.cells.values()) < ceiling:
            continue
        _mark_ties(column, groups)
        if all(cell.tied is True for cell in column.cells.values()):
            found.append(key)
    return found


def view(groups: dict[str, Group], names: list[str], focus: list[str] | None = None,
         ceiling: float | None = SATURATION_CEILING) -> list[Column]:
    """The columns of a view of these groups: each averages, for every group that has the column at all,
    only the pairs all of them have; the pairs some lack are named as left out, and so are the saturated
    pairs (`saturated`; none when `ceiling` is None). With `focus`, only the columns that at least one `focus`
    group has (the headline shows the students' languages, not every language a teacher was ever scored on)."""
    members = [groups[name] for name in names]
    wanted = set(_keys_by_column([groups[name] for name in focus])) if focus else None
    wanted = wanted or None  # students without scores yet: show everything rather than nothing
    skipped = set(saturated(groups, names, ceiling)) if ceiling is not None else set()
    columns = []
    for (family, lang), by_group in sorted(_keys_by_column(members).items(), key=lambda item: _column_order(item[0])):
        if wanted is not None and (family, lang) not in wanted:
            continue
        everything = sorted(set.union(*by_group.values()))
        common = set.intersection(*by_group.values())
        shared = sorted(common - skipped)
        # a saturated pair that some model lacks is left out for that reason already: it is named there
        column = Column(family, lang, shared, [k for k in everything if k not in common], {},
                        sorted(common & skipped))
        if shared:
            column.cells = {name: average_cell(groups[name], shared) for name in by_group}
            _mark_ties(column, groups)
        columns.append(column)
    return columns


def _column_order(column: tuple[str, str]) -> tuple:
    family, lang = column
    return (FAMILIES.index(family) if family in FAMILIES else len(FAMILIES),
            lang == "all", lang != "en", lang)


# ---- students against their base and teacher ---------------------------------------------------------

@dataclass
class PairDifference:
    task: str
    pair: str
    family: str
    value: float
    other: float
    difference: stats.Difference | None
    p_holm: float | None = None

    @property
    def significant(self) -> bool:
        return self.p_holm is not None and self.p_holm < 1.0 - stats.LEVEL


def _paired(a: Group, b: Group, keys: list[Key], value_a: float, value_b: float, reps_a: np.ndarray,
            reps_b: np.ndarray) -> stats.Difference:
    """B minus A, two single models on one pair: the gate's exact test (`evidence.paired_difference`: the
    sign-flip mid-p test for accuracies, the permutation test for correlations); on several pairs, or seeds,
    the bootstrap of the averaged replicates."""
    if len(keys) == 1 and a.seeds == 1 and b.seeds == 1:
        old, new = a.record(keys[0]), b.record(keys[0])
        if old is not None and new is not None:
            exact = paired_difference(old, new, old["task"]["main_score"])
            if exact is not None:
                return exact
    return stats.compare_replicates(value_a, value_b, reps_a, reps_b)


def differences(student: Group, other: Group, family: str | None = None) -> list[PairDifference]:
    """The student minus `other`, pair by pair on their shared pairs (of one family, if given); p-values
    Holm-corrected over those pairs.

    When either side has several seeds the comparison is of recipes (`stats.compare_recipes`: the seed
    spread counts beside the items'); otherwise of the two models, with the gate's exact tests (`_paired`)."""
    rows = [PairDifference(key[0], key[1], student.family[key], mine, theirs, difference)
            for key, mine, theirs, difference in _compare(student, other)
            if family is None or student.family[key] == family]
    tested = [row for row in rows if row.difference is not None]
    for row, adjusted in zip(tested, stats.holm([row.difference.p_value for row in tested])):
        row.p_holm = adjusted
    return rows


def _compare(student: Group, other: Group) -> list[tuple[Key, float, float, stats.Difference | None]]:
    """The unadjusted comparisons behind `differences`, made once per pair of groups (the student panel and
    the flags both read them, and a permutation test is worth keeping)."""
    if other.name in student.compared:
        return student.compared[other.name]
    rows = []
    for key in sorted(student.keys() & other.keys()):
        mine, theirs = student.value([key]), other.value([key])
        reps_a, reps_b = other.replicates([key]), student.replicates([key])
        paired = reps_a is not None and reps_b is not None and student.fingerprint(key) == other.fingerprint(key)
        if not paired:
            difference = None
        elif student.seeds > 1 or other.seeds > 1:
            difference = stats.compare_recipes(theirs, mine, reps_a, reps_b, other.seed_values([key]),
                                               student.seed_values([key]))
        else:
            difference = _paired(other, student, [key], theirs, mine, reps_a, reps_b)
        rows.append((key, mine, theirs, difference))
    student.compared[other.name] = rows
    return rows


def flags(groups: dict[str, Group]) -> dict[str, list[PairDifference]]:
    """Students significantly below their own base on an STS pair (Holm over the student's STS pairs)."""
    flagged = {}
    for group in groups.values():
        base = groups.get(group.meta.get("base", ""))
        if group.role not in TRAINED_ROLES or base is None or base is group:
            continue
        drops = [row for row in differences(group, base, STS) if row.significant and row.value < row.other]
        if drops:
            flagged[group.name] = drops
    return flagged


FAILED_SEED_GAP = 2.0  # points: how far below its agreeing siblings a seed must be to have failed


@dataclass(frozen=True)
class FailedSeed:
    """A seed of a student that failed where its siblings converged, on the pairs every seed has."""

    member: str
    value: float
    siblings: float
    pairs: int


def failed_seeds(group: Group) -> list[FailedSeed]:
    """The seeds whose mean main score over the pairs all seeds share is more than FAILED_SEED_GAP points below
    the mean of the other seeds, while those agree among themselves within that gap (sentence-transformers
    #1172: one seed in ten that does not converge). Three seeds at least: of two, which one failed is unknown."""
    keys = sorted(group.keys())
    if group.seeds < 3 or not keys:
        return []
    members = sorted(group.members)
    values = dict(zip(members, group.seed_values(keys)))
    failed = []
    for member, value in values.items():
        others = [v for m, v in values.items() if m != member]
        if _within_gap(others) and float(np.mean(others)) - value > FAILED_SEED_GAP:
            failed.append(FailedSeed(member, value, float(np.mean(others)), len(keys)))
    return failed


def seeds_agree(group: Group) -> bool:
    """Whether the seeds' mean scores over the pairs they share lie within FAILED_SEED_GAP of each other."""
    keys = sorted(group.keys())
    return bool(keys) and _within_gap(group.seed_values(keys))


def _within_gap(values: list[float]) -> bool:
    return max(values) - min(values) <= FAILED_SEED_GAP


def failed_seed_text(failed: list[FailedSeed]) -> str:
    return "; ".join(f"{f.member} failed: {f.value:.1f} against its siblings' {f.siblings:.1f} (mean over "
                     f"{f.pairs} pairs)" for f in failed)


def flag_text(drops: list[PairDifference]) -> str:
    return "below base on STS: " + ", ".join(f"{d.task} {d.pair} {d.value - d.other:+.1f}" for d in drops)
