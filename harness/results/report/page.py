"""leaderboard.html: the report's view model laid out as one self-contained page (its CSS and script inline,
its figures as data URIs), with filters, sortable tables, the student panels and the mining explorer. No
number is computed here beyond formatting: `harness.results.report.model` has them all.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from harness.core.training import setting_text
from harness.core.vocabulary import FAMILIES, ROLE_COLOURS, ROLES
from harness.results.learning_curve import FIT_TEXT, GAP_TEXT, fit_table, gap_table
from harness.results.overview import FAILED_SEED_GAP, Column, failed_seed_text, flag_text
from harness.results.plots import Figure, forest, sweep_figure
from harness.results.report.model import (
    COSINES,
    ROLE_ORDER,
    SESSIONS_TEXT,
    STAND_IN_MARK,
    TITLE,
    Report,
    SideTable,
    StudentPanel,
    marks,
    saturation_text,
    speed_multiple,
)
from harness.results.sweeps import point_text

ASSETS = Path(__file__).parent


def _versus_best(cell) -> str:
    """A cell's standing against the column's best testable cell, for its tooltip."""
    if cell.tied is None:
        return "cannot be tested against the best (no per-item evidence, or other data)"
    if cell.reference:
        return "the best cell that can be tested: the others are compared with it"
    d = cell.vs_reference
    verdict = "not significantly below it" if cell.tied else "significantly below it"
    return (f"{d.difference:+.2f} [{d.low:+.2f}, {d.high:+.2f}] against the best testable cell, Holm p "
            f"{d.p_value:.2g}: {verdict}")


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _heat(value: float, low: float, high: float) -> int:
    return 0 if high <= low else min(4, int(5 * (value - low) / (high - low + 1e-9)))


def _overview_table(report: Report, name: str) -> str:
    groups, members = report.groups, report.views[name]
    columns = [c for c in report.columns[name] if c.cells]
    head = ['<th class="name sortable">model</th>', '<th class="role-cell sortable">role</th>',
            '<th class="sortable">seeds</th>']
    for column in columns:
        shared = ", ".join(f"{t} {p}" for t, p in column.shared)
        left = f"; left out (not every model has them): {', '.join(f'{t} {p}' for t, p in column.left_out)}" \
            if column.left_out else ""
        label = "avg" if column.lang == "all" else column.lang
        head.append(f'<th class="sortable" data-family="{column.family}" data-lang="{column.lang}" '
                    f'title="{_esc(column.label)}: mean of {_esc(shared)}{_esc(left)}">{column.family}<br>{label}</th>')
    head.append('<th class="sortable">flag</th>')
    rows = []
    ranges = report.ranges[name]
    for member in members:
        group = groups[member]
        cells = [f'<td class="name" title="{_esc(member)}">{_esc(member)}</td>',
                 f'<td class="role-cell" data-value="{ROLE_ORDER[group.role]}"><span class="role role-{group.role}">'
                 f'{group.role}</span></td>', f'<td data-value="{group.seeds}">{group.seeds}</td>']
        for column in columns:
            cell = column.cells.get(member)
            attrs = f'data-family="{column.family}" data-lang="{column.lang}"'
            if cell is None:
                cells.append(f'<td class="na" {attrs} data-value="" title="not run">&ndash;</td>')
                continue
            classes = [f"heat-{_heat(cell.value, *ranges[column.label])}", *marks(cell)]
            interval = f"<small>{cell.low:.1f}&ndash;{cell.high:.1f}</small>" if cell.low is not None else ""
            spread = f"; sd over {group.seeds} seeds {cell.seed_sd:.2f}" if cell.seed_sd is not None else ""
            if cell.seed_sd is not None:
                interval += f"<small class=\"sd\"> &plusmn;{cell.seed_sd:.1f}</small>"
            tip = f"{column.label}: {cell.value:.2f}" + (f", 95% CI [{cell.low:.2f}, {cell.high:.2f}]"
                                                       if cell.low is not None else ", no interval") + spread
            tip += "; " + _versus_best(cell)
            cells.append(f'<td class="{" ".join(classes)}" {attrs} data-value="{cell.value:.4f}" '
                         f'title="{_esc(tip)}">{cell.value:.1f}{interval}</td>')
        drops = report.flags.get(member)
        cells.append(f'<td data-value="{len(drops) if drops else 0}">' +
                     (f'<span class="flag" title="{_esc(flag_text(drops))}">&#9873; {len(drops)}</span>'
                      if drops else "") + "</td>")
        rows.append(f'<tr data-role="{group.role}">{"".join(cells)}</tr>')
    return (f'<div class="scroll-x"><table id="overview-{name}" data-view="{name}"><thead><tr>{"".join(head)}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>')


def _saturated_note(report: Report, name: str) -> str:
    text = saturation_text(report, name)
    return f'<p class="note saturated" id="saturated-{name}">{_esc(text)}</p>' if text else ""


def _shared_note(columns: list[Column]) -> str:
    items = []
    for column in columns:
        if not column.cells or column.lang == "all":
            continue
        text = f"<b>{_esc(column.label)}</b>: {_esc(', '.join(f'{t} {p}' for t, p in column.shared))}"
        if column.left_out:
            text += f" <span class='note'>(left out: {_esc(', '.join(f'{t} {p}' for t, p in column.left_out))})</span>"
        items.append(f"<li>{text}</li>")
    return f"<details><summary>Which pairs each column averages</summary><ul>{''.join(items)}</ul></details>"


def _figure(figure: Figure | None, alt: str) -> str:
    if figure is None:
        return ""
    axes = json.dumps(figure.axes, separators=(",", ":"))
    legend = json.dumps(figure.legend, separators=(",", ":"))
    return (f'<img class="figure" alt="{_esc(alt)}" width="{figure.width}" height="{figure.height}" '
            f"data-axes='{axes}' data-legend='{legend}' src=\"data:image/png;base64,{figure.png}\">")


VERDICTS = {"higher": '<span class="up">&#9650; higher</span>', "lower": '<span class="down">&#9660; lower</span>',
            "same": '<span class="flat">= no significant difference</span>'}


def _difference_table(rows, against: str) -> str:
    body = []
    for row in rows:
        d = row.difference
        if d is None:
            verdict, interval, p = '<span class="flat">no evidence</span>', "", ""
            sort_interval = sort_p = ""
        else:
            verdict = VERDICTS["same" if not row.significant else ("higher" if row.value > row.other else "lower")]
            interval = f"[{d.low:+.2f}, {d.high:+.2f}]"
            p = f"{row.p_holm:.2g}"
            sort_interval, sort_p = f"{d.low:.4f}", f"{row.p_holm:.6g}"
        body.append(f'<tr><td class="name">{_esc(row.task)}</td><td class="name">{_esc(row.pair)}</td>'
                    f'<td data-value="{row.value:.4f}">{row.value:.1f}</td>'
                    f'<td data-value="{row.other:.4f}">{row.other:.1f}</td>'
                    f'<td data-value="{row.value - row.other:.4f}">{row.value - row.other:+.1f}</td>'
                    f'<td data-value="{sort_interval}">{interval}</td><td data-value="{sort_p}">{p}</td>'
                    f'<td class="name">{verdict}</td></tr>')
    head = "".join(f'<th class="sortable{" name" if i < 2 else ""}">{_esc(h)}</th>' for i, h in enumerate(
        ["task", "pair", "student", against, "difference", "95% CI", "p (Holm)", "verdict"]))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


SETTINGS_SHOWN = ["trainer", "teacher", "base", "langs", "max_pairs", "epochs", "max_steps", "batch_size", "lr",
                  "head", "freeze_layers", "max_seq_length", "balanced", "tasks", "trained_on", "guards"]


def _student_panel(report: Report, panel: StudentPanel) -> str:
    group = report.groups[panel.name]
    rows = "".join(f"<tr><th>{_esc(key)}</th><td class='name'>{_esc(setting_text(key, panel.settings.get(key)))}"
                   "</td></tr>" for key in SETTINGS_SHOWN if key in panel.settings)
    links = ", ".join(f'<a href="run_configs/{_esc(member)}.json">{_esc(member)}</a>'
                      for member in sorted(group.members))
    parts = [f'<div class="panel student-panel" data-student="{_esc(panel.name)}">',
             f'<h3>{_esc(panel.name)} <span class="role role-{group.role}">{group.role}</span></h3>',
             f"<p>Seeds: {group.seeds}. Run settings: {links}.</p>",
             f"<table>{rows}</table>"]
    drops = report.flags.get(panel.name)
    parts.append(f'<p class="flag">&#9873; {_esc(flag_text(drops))}</p>' if drops else
                 "<p>Not flagged: on no STS pair is it significantly below its base.</p>")
    failed = report.failed_seeds.get(panel.name)
    if failed:
        parts.append(f'<p class="flag">&#9873; {_esc(failed_seed_text(failed))}</p>')
    elif group.seeds >= 2:
        parts.append(f"<p>Its seeds agree: their mean scores lie within {FAILED_SEED_GAP:g} points.</p>"
                     if panel.name in report.agreeing_seeds else "<p>Its seeds disagree by more than "
                     f"{FAILED_SEED_GAP:g} points, and no single seed stands apart from agreeing siblings.</p>")
    for comparison in panel.comparisons:
        parts += [f"<h3>Against its {comparison.label}, {_esc(comparison.other)}: pair by pair</h3>",
                  _difference_table(comparison.rows, comparison.label)]
    parts.append("</div>")
    return "".join(parts)


def _students_section(report: Report) -> str:
    if not report.panels:
        return ""
    options = "".join(f'<option value="{_esc(p.name)}">{_esc(p.name)} ({report.groups[p.name].role})</option>'
                      for p in report.panels)
    panels = "".join(_student_panel(report, panel) for panel in report.panels)
    return ('<h2 id="students">Students</h2><p>How each student was trained, and its difference from its base and '
            "from its teacher on every pair both were scored on. Differences are paired on the same items; "
            "p-values are Holm-corrected over the pairs of each table.</p>"
            f'<label>Student: <select id="student-select">{options}</select></label>{panels}')


def _sweep_cells(scored: dict, families: list[str]) -> str:
    return "".join(_scored(scored.get(family)) for family in families)


def _sweeps_section(report: Report) -> str:
    """Each sweep: its figure (a panel per family) and its numbers, a row per swept value."""
    if not report.sweeps:
        return ""
    parts = ['<h2 id="sweeps">Sweeps</h2><p>Each family&rsquo;s score against the swept setting: a point is a '
             "student (the mean over its seeds, each seed a small dot), averaged over the family&rsquo;s pairs "
             "that every point has, with the percentile interval of the averaged replicates. Dashed lines: the "
             "base and the teacher on the same pairs, their intervals as bands.</p>"]
    for curve, fit in zip(report.sweeps, report.curve_fits):
        families = curve.families
        head = "".join(f"<th>{_esc(f)}</th>" for f in families)
        rows = []

        for point in curve.points:
            value = point_text(curve.setting, point)
            rows.append(f"<tr><td>{_esc(value)}</td><td>{_esc(point.group)}</td><td>{point.seeds}</td>"
                        f"{_sweep_cells(point.cells, families)}</tr>")
        for role, (name, scored) in curve.references.items():
            rows.append(f"<tr><td>({_esc(role)})</td><td>{_esc(name)}</td><td></td>{_sweep_cells(scored, families)}"
                        "</tr>")
        parts.append(f"<h3>{_esc(curve.of)}: {_esc(curve.setting)}</h3>"
                     + _figure(sweep_figure(curve, fit), f"{curve.of}: scores against {curve.setting}")
                     + f"<table class=\"sweep\"><thead><tr><th>{_esc(curve.setting)}</th><th>model</th><th>seeds</th>"
                     f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
        if fit is not None:
            parts.append(f"<p>Fitted: {_esc(FIT_TEXT)}</p>" + _text_table(fit_table(fit), "family", "text-table"))
    for comparison in report.curve_comparisons:
        parts.append(f"<h3>{_esc(comparison.b)} minus {_esc(comparison.a)}, by {_esc(comparison.setting)}</h3>"
                     f"<p>{_esc(GAP_TEXT)}</p>" + _text_table(gap_table(comparison), comparison.setting))
    return "".join(parts)


def _text_table(table, first: str, kind: str = "") -> str:
    """A table of text cells (a row label, then the columns), scrolling when wider than the page; of `kind`
    "text-table", its headers and long cells wrap, so that it fits the page where it can."""
    head = f"<th>{_esc(first)}</th>" + "".join(f"<th>{_esc(c)}</th>" for c in table.columns)
    rows = [f"<tr><td>{_esc(label)}</td>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>"
            for label, row in table.iterrows()]
    return _scrolling_table(head, rows, kind)


def _speed_table(table) -> str:
    machines, sessions = table.machines, table.session_ids
    in_sessions = len(sessions) > 1
    head = ("<th>session</th>" if in_sessions else "") + "".join(f"<th>{_esc(c)}</th>" for c in table.columns)
    rows, previous = [], None
    for name, role, speed, times, reference, machine, cells in table.rows:
        ratio = f'{speed_multiple(times)}&times;' if times is not None else ""
        on = f", on machine {machines.index(machine) + 1}" if len(machines) > 1 else ""
        over = f' title="against {_esc(reference)} at {speed / times:,.0f} sentences/s, measured in the same ' \
            f'session{on}"' if reference else ""
        session = table.sessions.get(name)
        number = "" if not in_sessions else \
            f'<td class="num" title="{_esc(session or "")}">{sessions.index(session) + 1 if session else ""}</td>'
        rule = ' class="group-start"' if in_sessions and rows and session != previous else ""  # between blocks
        previous = session
        rows.append(f'<tr data-role="{_esc(role)}"{rule}>'
                    f'<td class="name" title="{_esc(name)}">{_esc(name)}</td>'
                    f'<td><span class="role role-{_esc(role)}">{_esc(role)}</span></td>'
                    f'<td class="num">{speed:,.0f}{_stand_in_mark(table.stand_ins.get(name))}</td>'
                    f'<td class="num"{over}>{ratio}</td>{number}'
                    + "".join(_scored(c) for c in cells) + "</tr>")
    notes = [f'<p class="note">Measured on{f" ({i})" if len(machines) > 1 else ""}: {_esc(m)}.</p>'
             for i, m in enumerate(machines, 1)]
    if in_sessions:
        notes += [f'<p class="note">Session ({i}): {_esc(s)}.</p>' for i, s in enumerate(sessions, 1)]
        notes.append(f'<p class="note">{_esc(SESSIONS_TEXT)}</p>')
    notes += [f'<p class="note">{STAND_IN_MARK.strip()}: measured on {_esc(t)}.</p>'
              for t in sorted(set(table.stand_ins.values()))]
    notes += [f'<p class="note">Texts: {_esc(t)}.</p>' for t in table.texts]
    return (f'<table class="speed"><thead><tr><th class="name">model</th><th>role</th><th>sentences/s</th>'
            f'<th title="a student against its own base (a model with a prompt or one output: that model\'s base), any '
            f'other model against the view\'s base, both measured in '
            f'one session">&times; base</th>'
            f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>" + "".join(notes))


def _stand_in_mark(stand_in: str | None) -> str:
    return f'<span title="measured on {_esc(stand_in)}">{STAND_IN_MARK}</span>' if stand_in else ""


def _speed_section(report: Report) -> str:
    """Quality against speed: each measured model's sentences per second beside its family averages, per view."""
    if not report.speed:
        return ""
    return ('<h2 id="speed">Quality against speed</h2><p>Sentences per second on a CPU, the median of 3 rounds of '
            "one call with batch size 64 (<code>tox -e bench -- tests/bench/test_bench_encode_speed.py</code>), "
            "and its multiple of the base&rsquo;s measured in the same benchmark session (a shared CPU drifts between "
            "sessions), beside each model&rsquo;s family averages over the pairs that the models scored on at least "
            "half of all the table&rsquo;s pairs share (their number in the header); a model scored on fewer shows "
            "its speed alone. One table per view.</p>"
            + "".join(f'<div data-view="{name}">{_speed_table(table)}</div>' for name, table in report.speed.items()))


def _task_tables(report: Report) -> str:
    parts = ['<h2 id="tasks">Every task and pair</h2>']
    saturated = set(report.saturated("main"))
    for task, main_score, table in report.tasks:
        head = '<th class="name sortable">model</th>' + "".join(
            f'<th class="sortable saturated" title="saturated in the main view: left out of its averages">'
            f'{_esc(c)}<br><small>saturated</small></th>' if (task, c) in saturated else
            f'<th class="sortable">{_esc(c)}</th>' for c in table.columns)
        body = []
        for model, row in table.iterrows():
            cells = "".join(f'<td data-value="{_sort_key(v)}">{_esc(v)}</td>' for v in row)
            body.append(f'<tr data-role="{report.role_of(model)}"><td class="name">{_esc(model)}</td>{cells}</tr>')
        parts.append(f"<details><summary>{_esc(task)} ({_esc(main_score)}, "
                     f"{len(table)} models)</summary><div class=\"scroll-x\"><table><thead><tr>{head}</tr></thead>"
                     f"<tbody>{''.join(body)}</tbody></table></div></details>")
    return "".join(parts)


def _sort_key(value: str) -> str:
    try:
        return f"{float(str(value).split()[0]):.4f}"
    except (ValueError, IndexError):
        return ""


def _scored(cell) -> str:
    """A score's table cell: the value, the standard deviation over seeds when it has one, the interval."""
    if cell is None:
        return '<td class="na" data-value="">&ndash;</td>'
    spread = f" &plusmn;{cell.seed_sd:.1f}" if getattr(cell, "seed_sd", None) is not None else ""
    small = f"<small>{cell.low:.1f}&ndash;{cell.high:.1f}</small>" if cell.low is not None else ""
    return f'<td data-value="{cell.value:.4f}">{cell.value:.1f}{spread}{small}</td>'


def _side_table(table: SideTable, first: str, *, roles: bool, tasks: bool, extra: list[str]) -> str:
    """A SideTable as a sortable table: the model under `first` (and its role), a scored cell per column
    (headed by its pair, and its task too), then `extra`'s headers over each row's extra values."""
    head = f'<th class="name sortable">{_esc(first)}</th>' + ('<th class="sortable">role</th>' if roles else "")
    head += "".join(f'<th class="sortable">{f"{_esc(t)}<br>" if tasks else ""}{_esc(p)}</th>'
                    for t, p in table.columns)
    head += "".join(f'<th class="sortable">{_esc(h)}</th>' for h in extra)
    rows = []
    for name, role, cells, values in table.rows:
        badge = (f'<td data-value="{ROLE_ORDER[role]}"><span class="role role-{role}">{role}</span></td>'
                 if roles else "")
        scored = "".join(_scored(cells.get(k)) for k in table.columns)
        more = "".join(f'<td data-value="{v:.4f}">{v:.3f}</td>' if v is not None else
                       '<td class="na" data-value="">&ndash;</td>' for v in values)
        attributes = f' data-role="{role}"' if roles else ""
        rows.append(f'<tr{attributes}><td class="name">{_esc(name)}</td>{badge}{scored}{more}</tr>')
    return _scrolling_table(head, rows)


def _side_section(ident: str, title: str, prose: str, table: SideTable, first: str, **layout) -> str:
    """A section holding one SideTable (nothing when the table has no rows); `title` and `prose` are the
    page's own HTML."""
    if not table.rows:
        return ""
    return f'<h2 id="{ident}">{title}</h2><p>{prose}</p>' + _side_table(table, first, **layout)


def _sts17_section(report: Report) -> str:
    return _side_section(
        "sts17", "STS17: the paper's benchmark",
        "SemEval-2017, 250 human-scored pairs per track; Spearman x100 with its 95% interval. es-en is track 4a "
        "(SNLI captions), en-es track 4b (news). The paper's goal for a student: cross-lingual STS of at least "
        "0.95 times its teacher's en-en.", report.sts17, "model", roles=True, tasks=False, extra=[])


def _select(ident: str, values: list[str], label: str) -> str:
    options = "".join(f'<option value="{_esc(v)}">{_esc(v.replace("|", " "))}</option>' for v in values)
    return f'<label>{label} <select id="{ident}">{options}</select></label>'


def _compat_section(report: Report) -> str:
    return _side_section(
        "compat", "Teacher compatibility",
        "The distillation paper's practical promise: a student lives in its teacher's space, so its queries in "
        "any language can search an index the English teacher built. Each row encodes the queries (Tatoeba xx, "
        "XQuAD-R questions) with the model before the @ and the English candidates with the teacher after it; the "
        "main score with its 95% interval. The last columns are mean cosines, on the Tatoeba pairs, of the model's "
        "vector for a translation and for the English sentence itself with the teacher's vector for that English "
        "sentence (1 = the teacher's own). A model with several outputs has a row for each: NAME#output=teacher is "
        "its output in the teacher's space (task='teacher'), NAME its default one.", report.compat, "queries @ index",
        roles=False, tasks=True,
        extra=list(COSINES.values()))


def _scrolling_table(head: str, rows: list[str], kind: str = "") -> str:
    """A table that scrolls inside its own box when it is wider than the page."""
    table = f'<table class="{kind}">' if kind else "<table>"
    return f'<div class="scroll-x">{table}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _explorer_section(report: Report) -> str:
    data = report.explorer
    if not data["entries"]:
        return ""
    models = sorted({key.split("|")[0] for key in data["entries"]})
    pairs = sorted({"|".join(key.split("|")[1:3]) for key in data["entries"]})
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
    return ('<h2 id="explorer">Mining explorer</h2><p>For a model, a mining pair and a direction (fwd: xx&rarr;en, '
            "bwd: en&rarr;xx): how often a wrong candidate outranks the gold, the histogram of gold minus best "
            "wrong cosine over the range these gaps take (red: errors, left of the dashed zero line; the end bars "
            "also hold the few gaps beyond it), the error types, and the worst confusions with their texts.</p>"
            f'<div class="controls">{_select("ex-model", models, "Model")}{_select("ex-pair", pairs, "Pair")}'
            f'{_select("ex-dir", ["fwd", "bwd"], "Direction")}</div><div id="explorer-out"></div>'
            f'<script type="application/json" id="explorer-data">{payload}</script>')


def _language_options(options: str) -> str:
    """'all' first, unless the main results' languages are offered: then those are the default."""
    everything = '<option value="any">all</option>'
    if options.startswith('<option value="main"'):
        end = options.index("</option>") + len("</option>")
        return options[:end] + everything + options[end:]
    return everything + options


def _controls(report: Report) -> str:
    langs = sorted({c.lang for cols in report.columns.values() for c in cols if c.cells and c.lang != "all"})
    labels = {"main": "main results", "all": "with the ablations"}
    offered = [(v, labels[v]) for v in report.views]
    views = "".join(f'<label><input type="radio" name="view" value="{v}"{" checked" if i == 0 else ""}> {label}</label>'
                    for i, (v, label) in enumerate(offered))
    roles = "".join(f'<label><input type="checkbox" name="role" value="{r}" checked> '
                    f'<span class="role role-{r}">{r}</span></label>' for r in ROLES)
    families = "".join(f'<option value="{f}">{f}</option>' for f in FAMILIES)
    main_langs = sorted({c.lang for c in report.columns.get("main", []) if c.cells and c.lang != "all"})
    languages = "".join(f'<option value="{lang}">{lang}</option>' for lang in langs)
    if main_langs and set(main_langs) != set(langs):  # the ablations add languages: show the main ones first
        languages = (f'<option value="main" data-langs="{" ".join(main_langs)}">the main results\' languages'
                     f'</option>{languages}')
    return (f'<div class="controls"><fieldset><legend>view</legend>{views}</fieldset>'
            f"<fieldset><legend>roles</legend>{roles}</fieldset>"
            f'<label>Family <select id="family-filter"><option value="any">all</option>{families}</select></label>'
            f'<label>Language <select id="lang-filter">{_language_options(languages)}</select></label>'
            "</div>")


def render_html(report: Report) -> str:
    css = (ASSETS / "report.css").read_text(encoding="utf-8") + _role_colours()
    js = (ASSETS / "report.js").read_text(encoding="utf-8")
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{_esc(TITLE)}</title>",
             f"<style>{css}</style></head><body>",
             f"<header><h1>{_esc(TITLE)}</h1><p>{len(report.records)} result records in <code>{_esc(report.source)}"
             "</code> &middot; rebuilt by <code>python -m harness leaderboard</code></p></header>",
             '<nav><a href="#overview">Overview</a>' + ('<a href="#speed">Speed</a>' if report.speed else "")
             + '<a href="#students">Students</a>'
             + ('<a href="#sweeps">Sweeps</a>' if report.sweeps else "") + '<a href="#sts17">STS17</a>'
             '<a href="#compat">Teacher compatibility</a><a href="#explorer">Mining explorer</a>'
             '<a href="#tasks">Every task</a></nav><main>',
             '<p class="howto"><b>How to read this.</b> Every number is a main score x100 (STS: Spearman; mining: '
             "margin accuracy, both directions; retrieval: nDCG@10) with its 95% interval underneath, from a "
             "bootstrap over the test items. A student trained with several seeds is one row: its mean over seeds "
             "(hover for the spread). A language column averages only the pairs every model in the table that has "
             "the column has (hover a header, or open the list under the table), so rows are always compared on "
             "the same data; a dash means not run; &plusmn; the standard deviation over a student's seeds. &#9733; "
             "marks the best of a column. Bold marks every model the data cannot tell from the best model that can "
             "be tested (the best itself when it can): a paired test on the same items (for one pair of single "
             "models the exact tests of the gate, for averages and seeds the bootstrap), Holm-corrected over "
             "the k &minus; 1 comparisons with it in that column; the tooltip gives the difference and its "
             "interval. ? marks a cell that cannot be tested (no per-item evidence, or other data). "
             "&#9873; flags a student significantly below its own base on some STS pair. Colours: one per role. "
             "Click a header to sort.</p>",
             '<h2 id="overview">Overview</h2>', _controls(report)]
    for name in report.views:
        parts += [f'<div data-view="{name}">', _overview_table(report, name), _saturated_note(report, name),
                  _shared_note(report.columns[name])]
        figure = forest([c for c in report.columns[name] if c.lang != "all"], report.groups,
                        report.views[name], f"Main score and 95% interval per language ({name} view)") \
            if len(report.views[name]) <= 12 else None
        if figure is not None:
            parts.append(_figure(figure, f"scores per language, {name} view"))
        parts.append("</div>")
    parts += [_speed_section(report), _students_section(report), _sweeps_section(report), _sts17_section(report),
              _compat_section(report),
              _explorer_section(report), _task_tables(report)]
    if report.no_evidence:
        parts.append(f"<details><summary>{len(report.no_evidence)} records have no evidence yet (no interval)"
                     f"</summary><ul>{''.join(f'<li>{_esc(x)}</li>' for x in report.no_evidence)}</ul></details>")
    if report.problems:
        parts.append("<h2>Skipped result files</h2><ul>" + "".join(f"<li>{_esc(p)}</li>" for p in report.problems)
                     + "</ul>")
    parts += ["</main>", f"<script>{js}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"


def _role_colours() -> str:
    """The role badges' colours, from the vocabulary the figures use too."""
    return "".join(f".role-{role} {{ background: {colour}; }}\n" for role, colour in ROLE_COLOURS.items())
