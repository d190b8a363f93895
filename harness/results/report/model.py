"""The report's view model: every number and table the pages show, computed once from the records, so that
the renderers (Markdown, HTML) only lay them out (the page draws the figures from the model's columns and
lists the filters' options).

The views: "main" (teachers, bases, students, peers) and "all" (with the ablations). Each language column
averages only the (task, pair)s every model of the view that has the column has; the pages name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harness.core.vocabulary import (
    ABLATION,
    BASE,
    BEFORE_GUARDS,
    COMPAT,
    MINING,
    ROLES,
    SATURATION_CEILING,
    TEACHER,
    TRAINED_ROLES,
)
from harness.encoders.specs import OUTPUT_MARK, PROMPT_MARK
from harness.results import stats
from harness.results.explorer import explorer_data
from harness.results.learning_curve import CurveComparison, CurveFit, learning_curves
from harness.results.overview import (
    Cell,
    Column,
    FailedSeed,
    Group,
    PairDifference,
    differences,
    failed_seeds,
    flags,
    group_name,
    load_groups,
    main_view,
    seeds_agree,
    students_of,
    view,
)
from harness.results.speed import Speed
from harness.results.sweeps import SweepCurve, sweep_curves
from harness.results.tables import (
    MINING_DIRECTIONS,
    hard_negative_table,
    metric_table,
    task_table,
    training_table,
)

ROLE_ORDER = {role: i for i, role in enumerate(ROLES)}
STS17_ORDER = ("ar-ar", "en-ar", "es-es", "es-en", "en-es", "en-en", "en-tr")  # the tracks' order: 1 to 6
TITLE = "Multilingual sentence embeddings by knowledge distillation: leaderboard"
COSINES = {  # the teacher-compatibility cosines, in column order, with their column headers
    "translation_to_candidate": "cos(student(xx), teacher(en))",
    "same_text": "cos(student(en), teacher(en))",
}


def marks(cell: Cell) -> tuple[str, ...]:
    """A cell's standing in its column: "best" (the highest value), "tied" (not significantly below the best
    testable cell, when it is not the best itself), "untestable" (no per-item evidence, or other data)."""
    return (("best",) if cell.best else ("tied",) if cell.tied else ()) + (("untestable",) if cell.tied is None else ())


@dataclass(frozen=True)
class Scored:
    """One score of a side table, with its 95% interval when there is one."""

    value: float
    low: float | None = None
    high: float | None = None


@dataclass
class Comparison:
    """A student against one of its references (its base or its teacher), pair by pair."""

    label: str
    other: str
    rows: list[PairDifference]


@dataclass
class StudentPanel:
    name: str
    settings: dict[str, Any]
    comparisons: list[Comparison]


@dataclass
class SideTable:
    """A models x columns table of scores (STS17's tracks, the teacher-compatibility pairs): rows are
    (model, role, {column: Scored}, extra values)."""

    columns: list[tuple[str, str]]
    rows: list[tuple[str, str, dict[tuple[str, str], Scored], list[float | None]]]


@dataclass
class SpeedTable:
    """Quality against speed in one view: each of its models with a measured encode speed, its sentences per second,
    that as a multiple of its reference's measured in the same benchmark session (a student's own base; a base
    or student scored with a prompt or through one output, that model's base; any other model the view's base),
    and its family averages over the pairs the widely scored models of this table all have (those scored on at
    least half of all the pairs any of them has): a model trained and scored on a few languages shows its speed
    and no averages, rather than narrowing everyone's to its languages or being averaged over another set.
    Rows are (model, role, sentences/s, multiple, reference, machine, cells); `columns` name each family and its
    number of pairs; `measured` lists the (machine, texts) pairs that occur; `stand_ins` what a
    model's speed was measured on when not its own weights (`harness.app.stand_in`), by model; `sessions` the
    benchmark session of each model's speed (absent for a file from before sessions)."""

    columns: list[str]
    rows: list[tuple[str, str, float, float | None, str | None, str, list[Cell | None]]]
    measured: list[tuple[str, str]]
    stand_ins: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)

    @property
    def session_ids(self) -> list[str]:
        """The sessions the speeds come from, in the order the renderers number them (that of the rows, which come
        in a block per session): speeds of different sessions are not comparable (a shared CPU drifts), so a
        table of several numbers each row's."""
        return list(dict.fromkeys(self.sessions[row[0]] for row in self.rows if row[0] in self.sessions))

    @property
    def machines(self) -> list[str]:
        """The machines the speeds were measured on, in the order the renderers number them."""
        return sorted({machine for machine, _ in self.measured})

    @property
    def texts(self) -> list[str]:
        """The text sets the speeds were measured on."""
        return sorted({texts for _, texts in self.measured})


@dataclass
class Report:
    """Everything the pages show, computed once from the records."""

    records: list[dict[str, Any]]
    groups: dict[str, Group]
    views: dict[str, list[str]]
    columns: dict[str, list[Column]]
    flags: dict[str, list]
    source: str
    problems: list[str]
    ranges: dict[str, dict[str, tuple[float, float]]]  # view -> column label -> (lowest, highest) value
    panels: list[StudentPanel]
    sts17: SideTable
    compat: SideTable
    tasks: list[tuple[str, str, pd.DataFrame]]  # (task, its main score, models x pairs)
    training: pd.DataFrame  # how each student was trained
    mining: tuple[pd.DataFrame, pd.DataFrame]  # accuracy by direction; the hard-negative rates
    explorer: dict[str, Any]
    ceiling: float | None = SATURATION_CEILING  # None: saturated pairs stay in the averages
    failed_seeds: dict[str, list[FailedSeed]] = field(default_factory=dict)  # group -> its seeds that failed
    agreeing_seeds: set[str] = field(default_factory=set)  # groups whose seeds lie within FAILED_SEED_GAP
    sweeps: list[SweepCurve] = field(default_factory=list)  # each sweep's scores against its swept value
    curve_fits: list[CurveFit | None] = field(default_factory=list)  # per sweep, in order: its learning curve's fit
    curve_comparisons: list[CurveComparison] = field(default_factory=list)  # learning curves of one setting, paired
    speed: dict[str, SpeedTable] = field(default_factory=dict)  # view -> its measured models (views with none: absent)

    def saturated(self, name: str) -> list[tuple[str, str]]:
        """The (task, pair)s left out of view `name`'s averages as saturated."""
        return sorted({key for column in self.columns.get(name, []) for key in column.saturated})

    @property
    def no_evidence(self) -> list[str]:
        return sorted(f"{r['model']['name']} {r['task']['name']} {r['pair']}" for r in self.records
                      if not r.get("evidence"))

    def role_of(self, model: str) -> str:
        group = self.groups.get(group_name(model))
        return group.role if group else ABLATION


def build(records: list[dict[str, Any]], problems: list[str], source: str,
          ceiling: float | None = SATURATION_CEILING, speeds: dict[str, Speed] | None = None) -> Report:
    groups = load_groups(records)
    ordered = sorted(groups, key=lambda name: (ROLE_ORDER[groups[name].role], name))
    main = set(main_view(groups))
    views = {"main": [n for n in ordered if n in main], "all": ordered}
    views = {name: members for name, members in views.items() if members}
    focus = {"main": students_of(groups) or None}
    columns = {name: view(groups, members, focus.get(name), ceiling) for name, members in views.items()}
    ranges = {name: {c.label: (min(x.value for x in c.cells.values()), max(x.value for x in c.cells.values()))
                     for c in cols if c.cells} for name, cols in columns.items()}
    everyone = views.get("all", [])
    sweeps = sweep_curves(groups)
    fits, comparisons = learning_curves(sweeps, groups)
    return Report(records, groups, views, columns, flags(groups), source, problems, ranges,
                  panels=[_panel(groups, name) for name in everyone if groups[name].role in TRAINED_ROLES],
                  sts17=_sts17(groups, everyone), compat=_compat(records), tasks=_tasks(records),
                  training=training_table(records), mining=_mining(records),
                  explorer=explorer_data(records, views.get("main", []) or everyone), ceiling=ceiling,
                  failed_seeds={name: failed for name in everyone if (failed := failed_seeds(groups[name]))},
                  agreeing_seeds={name for name in everyone if groups[name].seeds > 1 and seeds_agree(groups[name])},
                  sweeps=sweeps, curve_fits=fits, curve_comparisons=comparisons,
                  speed={name: table for name, members in views.items()
                         if (table := _speed(groups, members, speeds or {}, ceiling)) is not None})


def _speed(groups: dict[str, Group], members: list[str], speeds: dict[str, Speed],
           ceiling: float | None) -> SpeedTable | None:
    measured = [name for name in members if name in speeds]
    if not measured:
        return None
    everything = set().union(*(groups[name].keys() for name in measured))
    widely = [name for name in measured if len(groups[name].keys()) >= len(everything) / 2]
    families = [c for c in view(groups, widely, None, ceiling) if c.lang == "all" and c.cells]
    view_base = next((name for name in members if groups[name].role == BASE), None)
    rows = []
    for name in sorted(measured, key=_speed_order(speeds, view_base)):
        group = groups[name]
        reference = _speed_reference(name, groups, view_base)
        times = speeds[name].against(reference) if reference else None  # only within one benchmark session
        rows.append((name, group.role, speeds[name].sentences_per_second,
                     times, reference if times is not None else None,
                     speeds[name].machine, [c.cells.get(name) for c in families]))
    return SpeedTable([f"{c.label} ({len(c.shared)} pairs)" for c in families], rows,
                      sorted({(speeds[n].machine, speeds[n].texts) for n in measured}),
                      {n: speeds[n].stand_in for n in measured if speeds[n].stand_in},
                      {n: speeds[n].session for n in measured if speeds[n].session})


def _speed_reference(name: str, groups: dict[str, Group], view_base: str | None) -> str | None:
    """The model a speed is set against: a trained model's own base; a model scored through a mark
    (`BASE#prompt=...`, `STUDENT#output=...`) as an ablation, the base of the model it marks (the base itself,
    for a base); any other model the view's base. None when a trained model's base is not known."""
    group = groups[name]
    if group.role not in TRAINED_ROLES:
        return view_base
    if group.meta.get(BASE):
        return group.meta[BASE]
    marked = name.split(OUTPUT_MARK)[0].split(PROMPT_MARK)[0]
    plain = groups.get(marked) if marked != name else None
    if plain is None:
        return None
    return plain.name if plain.role == BASE else plain.meta.get(BASE)


def _speed_order(speeds: dict[str, Speed], view_base: str | None):
    """Sort key of the speed table's rows: fastest first within a benchmark session, the sessions in a block each
    (speeds of different sessions are not comparable), the one the view's base was measured in first, then the
    others by name (which the benchmark starts with the date). A file from before sessions: a block per machine."""

    def block(name: str) -> str:
        return speeds[name].session or speeds[name].machine

    first = block(view_base) if view_base in speeds else None

    def key(name: str):
        return block(name) != first, block(name), -speeds[name].sentences_per_second

    return key


def _panel(groups: dict[str, Group], name: str) -> StudentPanel:
    group = groups[name]
    settings = {**group.run, "guards": BEFORE_GUARDS, **group.meta}
    comparisons = []
    for role in (BASE, TEACHER):
        other = groups.get(settings.get(role, ""))
        if other is not None and other is not group:
            comparisons.append(Comparison(role, other.name, differences(group, other)))
    return StudentPanel(name, settings, comparisons)


def _sts17(groups: dict[str, Group], names: list[str]) -> SideTable:
    """STS17's tracks in the task's order, each model's score with its interval."""
    keys = sorted({k for n in names for k in groups[n].keys() if k[0] == "sts17"},
                  key=lambda k: (STS17_ORDER.index(k[1]) if k[1] in STS17_ORDER else len(STS17_ORDER), k[1]))
    rows = []
    for name in names:
        group = groups[name]
        cells = {}
        for key in keys:
            if key in group.keys():
                reps = group.replicates([key])
                low, high = stats.percentile_interval(reps) if reps is not None else (None, None)
                cells[key] = Scored(group.value([key]), low, high)
        if cells:
            rows.append((name, group.role, cells, []))
    return SideTable(keys, rows)


def _compat(records: list[dict[str, Any]]) -> SideTable:
    """Teacher compatibility: each model's queries against the teacher's index, with its main score and
    interval per pair, then the mean compatibility cosines over its pairs (COSINES)."""
    mine = [r for r in records if r["model"].get("role") == COMPAT]
    keys = sorted({(r["task"]["name"], r["pair"]) for r in mine})
    by_model: dict[str, dict] = {}
    for record in mine:
        by_model.setdefault(record["model"]["name"], {})[(record["task"]["name"], record["pair"])] = record
    rows = []
    for name in sorted(by_model):
        cells, cosines = {}, {kind: [] for kind in COSINES}
        for key in keys:
            record = by_model[name].get(key)
            if record is None:
                continue
            metric = record["metrics"][record["task"]["main_score"]]
            low, high = metric.get("ci") or (None, None)
            cells[key] = Scored(metric["value"], low, high)
            for kind, summary in ((record.get("analysis") or {}).get("compatibility") or {}).items():
                cosines[kind].append(summary["mean"])
        means = [float(sum(v) / len(v)) if v else None for v in cosines.values()]
        rows.append((name, COMPAT, cells, means))
    return SideTable(keys, rows)


def _mining(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    mining = [r for r in records if r["task"]["family"] == MINING]
    return (metric_table(mining, [*MINING_DIRECTIONS, "xsim_error_fwd", "extract_f1"]), hard_negative_table(mining))


def _tasks(records: list[dict[str, Any]]) -> list[tuple[str, str, pd.DataFrame]]:
    tables = []
    for task in sorted({r["task"]["name"] for r in records}):
        subset = [r for r in records if r["task"]["name"] == task]
        tables.append((task, subset[0]["task"]["main_score"], task_table(subset)))
    return tables


STAND_IN_MARK = " †"  # after a speed measured on a stand-in of the model, not on its own weights
SESSIONS_TEXT = ("Speeds of different sessions are not comparable (a shared CPU drifts between them): each multiple "
                 "is taken against the base as measured in the row's own session, which can differ from the base's "
                 "row when that was measured in another.")


def speed_multiple(times: float | None) -> str:
    """A speed as a multiple of another: 120, 3.5, 0.52 (empty when there is no reference)."""
    if times is None:
        return ""
    return f"{times:,.0f}" if times >= 100 else f"{times:.1f}" if times >= 1 else f"{times:.2g}"


def saturation_text(report: Report, name: str) -> str:
    """The sentence naming the pairs left out of a view's averages as saturated (empty when none)."""
    pairs = report.saturated(name)
    if not pairs:
        return ""
    return (f"Saturated, left out of the averages: {', '.join(f'{t} {p}' for t, p in pairs)}. On each, every model "
            f"scores {report.ceiling:g} or more and none is significantly below the best (paired tests, Holm), so "
            "it cannot tell them apart; the English teacher's score on a pair with another language is not "
            "counted. Their scores are in the tables below; the leaderboard command's --keep-saturated option "
            "keeps them in the averages.")
