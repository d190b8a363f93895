"""LEADERBOARD.md: the report's view model laid out as Markdown (no number is computed here)."""

from __future__ import annotations

from harness.core.vocabulary import MINING
from harness.results.learning_curve import FIT_TEXT, GAP_TEXT, fit_table, gap_table
from harness.results.overview import failed_seed_text
from harness.results.report.model import (
    SESSIONS_TEXT,
    STAND_IN_MARK,
    TITLE,
    Report,
    marks,
    saturation_text,
    speed_multiple,
)
from harness.results.sweeps import SweepCurve, point_text
from harness.results.tables import to_markdown

MARKS = {"best": "*", "tied": "=", "untestable": "?"}


def overview_markdown(report: Report, view: str) -> str:
    """One view of the report as a Markdown table, then the pairs each column averages."""
    groups, members = report.groups, report.views[view]
    columns = [c for c in report.columns[view] if c.cells]
    header = ["model", "role", "seeds", *[c.label for c in columns], "flag"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for member in members:
        cells = [member, groups[member].role, str(groups[member].seeds)]
        for column in columns:
            cell = column.cells.get(member)
            cells.append(_scored(cell) + ("".join(MARKS[m] for m in marks(cell)) if cell is not None else ""))
        drops = report.flags.get(member)
        flagged = [f"{len(drops)} significant STS drop(s) below its base"] if drops else []
        failed = report.failed_seeds.get(member)
        cells.append("; ".join(flagged + ([failed_seed_text(failed)] if failed else [])))
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {c.label}: {', '.join(f'{t} {p}' for t, p in c.shared)}"
             + (f" (left out, not every model has them: {', '.join(f'{t} {p}' for t, p in c.left_out)})"
                if c.left_out else "") for c in columns]
    saturated = saturation_text(report, view)
    return "\n".join(lines + ["", *([saturated, ""] if saturated else []), "Pairs averaged per column:", "", *notes])


def _scored(cell) -> str:
    """A score as the tables print it: the value, its interval, and the standard deviation over seeds."""
    if cell is None:
        return ""
    interval = f" [{cell.low:.1f}, {cell.high:.1f}]" if cell.low is not None else ""
    return f"{cell.value:.1f}{interval}" + (f" ±{cell.seed_sd:.1f}" if cell.seed_sd is not None else "")


def sweep_markdown(curve: SweepCurve) -> str:
    """One sweep as a table: a row per swept value (then the base and the teacher), a column per family."""
    families = curve.families
    lines = [f"| {curve.setting} | model | seeds | " + " | ".join(families) + " |",
             "|" + "---|" * (3 + len(families))]
    for point in curve.points:
        lines.append(f"| {point_text(curve.setting, point)} | {point.group} | {point.seeds} | "
                     + " | ".join(_scored(point.cells.get(f)) for f in families) + " |")
    for role, (name, cells) in curve.references.items():
        lines.append(f"| ({role}) | {name} | | " + " | ".join(_scored(cells.get(f)) for f in families) + " |")
    pairs = [f"- {family}: {len(keys)} pairs ({', '.join(f'{t} {p}' for t, p in keys)})"
             for family, keys in curve.pairs.items()]
    return "\n".join(lines + ["", "Pairs averaged per family (every point of the sweep has them):", "", *pairs])


def speed_markdown(report: Report, view: str) -> str:
    """Quality against speed in a view: sentences per second, the multiple of the base's, the family averages."""
    table = report.speed[view]
    machines, sessions = table.machines, table.session_ids
    several, in_sessions = len(machines) > 1, len(sessions) > 1
    lines = ["| model | role | sentences/s | x base | base | " + ("machine | " if several else "")
             + ("session | " if in_sessions else "") + " | ".join(table.columns) + " |",
             "|" + "---|" * (5 + several + in_sessions + len(table.columns))]
    for name, role, speed, times, reference, machine, cells in table.rows:
        mark = STAND_IN_MARK if name in table.stand_ins else ""
        session = table.sessions.get(name)
        lines.append(f"| {name} | {role} | {speed:,.0f}{mark} | {speed_multiple(times)} | {reference or ''} | "
                     + (f"{machines.index(machine) + 1} | " if several else "")
                     + (f"{sessions.index(session) + 1 if session else ''} | " if in_sessions else "")
                     + " | ".join(_scored(c) for c in cells) + " |")
    notes = [f"Measured on{f' ({i})' if several else ''}: {m}." for i, m in enumerate(machines, 1)]
    if in_sessions:
        notes += [f"Session ({i}): {s}." for i, s in enumerate(sessions, 1)] + [SESSIONS_TEXT]
    notes += [f"{STAND_IN_MARK.strip()}: measured on {text}." for text in sorted(set(table.stand_ins.values()))]
    return "\n".join(lines + ["", *notes, *[f"Texts: {t}." for t in table.texts]])


def render_markdown(report: Report) -> str:
    lines = [f"# {TITLE}", "",
             f"Built by `python -m harness leaderboard` from {len(report.records)} result records in "
             f"`{report.source}`. Scores are x100. Each cell is the main score with its 95% interval over items "
             "(correlations: percentile bootstrap; accuracies and other means of per-item values: Agresti-Coull at "
             "the effective n); a student trained with several seeds is one row, its mean over seeds. A language "
             "column averages only the task pairs that every model of the table that has the column has: the "
             "pairs are listed under each table. `±` follows a student's interval with the standard deviation of its "
             "seeds' scores. `*` marks the best of a column. `=` marks every model not significantly below the best "
             "model that can be tested (the best itself when it can): a paired test on the same items (for one pair of "
             "single models the exact tests of the gate, for averages and seeds the bootstrap), "
             "Holm-corrected over the k - 1 comparisons with it in that column. `?` marks a cell that cannot be "
             "tested (no per-item evidence, or scored on other data). `flag`: a student "
             "significantly below its own base on an STS pair. The HTML report (`leaderboard.html`) has the same "
             "numbers, filters, per-student panels and the mining explorer.", ""]
    for name, title in (("main", "Main results: teachers, bases, students, peers"),
                        ("all", "Everything, with the ablations")):
        if name in report.views:
            lines += [f"## {title}", "", overview_markdown(report, name), ""]
    if report.speed:
        lines += ["## Quality against speed", "",
                  "Encode speed on a CPU (`tox -e bench -- tests/bench/test_bench_encode_speed.py`, the median of 3 "
                  "rounds, one call with batch size 64) and its multiple of the base's measured in the same benchmark "
                  "session (a shared CPU drifts between sessions), beside each model's family averages over the "
                  "pairs that the models scored on at least half of all the table's pairs share (their number in the "
                  "header); a model scored on fewer shows its speed alone. One table per view.", ""]
        for name, title in (("main", "Main results"), ("all", "Everything, with the ablations")):
            if name in report.speed:
                lines += [f"### {title}", "", speed_markdown(report, name), ""]
    if not report.training.empty:
        lines += ["## Students: how each was trained", "", to_markdown(report.training), ""]
    if report.sweeps:
        lines += ["## Sweeps: scores against the swept setting", "",
                  "Each point is a student (the mean over its seeds) averaged over the family's pairs that every "
                  "point has; the interval is the percentile interval of the averaged replicates, `±` the standard "
                  "deviation over seeds. The base and the teacher, on the same pairs, are the references.", ""]
        for curve, fit in zip(report.sweeps, report.curve_fits):
            lines += [f"### {curve.of}: {curve.setting}", "", sweep_markdown(curve), ""]
            if fit is not None:
                lines += [f"Fitted: {FIT_TEXT}", "", to_markdown(fit_table(fit)), ""]
        for comparison in report.curve_comparisons:
            lines += [f"### {comparison.b} minus {comparison.a}, by {comparison.setting}", "",
                      f"{GAP_TEXT}", "", to_markdown(gap_table(comparison)), ""]
    saturated = set(report.saturated("main"))
    for task, main_score, table in report.tasks:
        marked = table.rename(columns={c: f"{c} (saturated)" for c in table.columns if (task, c) in saturated})
        lines += [f"## {task} ({main_score}, 95% interval)", "", to_markdown(marked), ""]
    directions, hard_negatives = report.mining
    if any(r["task"]["family"] == MINING for r in report.records):
        lines += ["## Bitext mining by direction (fwd = xx->en, bwd = en->xx)", "", to_markdown(directions), "",
                  "## Hard negatives: % of queries where a wrong candidate outranks the gold (fwd)", "",
                  to_markdown(hard_negatives), ""]
    if report.no_evidence:
        lines += ["## Records without evidence (no interval yet)", "",
                  *[f"- {line}" for line in report.no_evidence], ""]
    if report.problems:
        lines += ["## Skipped result files", "", *[f"- {p}" for p in report.problems], ""]
    return "\n".join(lines)
