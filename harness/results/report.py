"""The leaderboard as Markdown, CSV and a static HTML page with PNG plots, built from the result
store alone (no model is loaded). Output is deterministic: two regenerations are byte-identical.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import pandas as pd

from harness.results.store import ResultStore, write_text_atomic
from harness.results.tables import (
    MINING_DIRECTIONS,
    leaderboard_table,
    main_scores,
    metric_table,
    to_markdown,
    training_table,
)

MINING_DETAIL = [*MINING_DIRECTIONS, "xsim_error_fwd", "extract_f1"]


def _sections(records: list[dict[str, Any]]) -> list[tuple[str, pd.DataFrame]]:
    """(title, table) pairs shared by the Markdown and HTML pages."""
    sections = [("Summary: mean main score per family and language", leaderboard_table(records))]
    students = training_table(records)
    if not students.empty:
        sections.append(("Students: how each was trained (ablations differ in these settings)", students))
    for task in sorted({r["task"]["name"] for r in records}):
        subset = [r for r in records if r["task"]["name"] == task]
        main = subset[0]["task"]["main_score"]
        sections.append((f"{task} ({main})", main_scores(subset).droplevel(0, axis=1)))
    mining = [r for r in records if r["task"]["family"] == "mining"]
    if mining:
        sections.append(("Bitext mining by direction (fwd = xx->en, bwd = en->xx)",
                         metric_table(mining, MINING_DETAIL)))
        sections.append(("Hard negatives: % of queries where a wrong candidate outranks the gold (fwd)",
                         hard_negative_table(mining)))
    return sections


def hard_negative_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [{"model": r["model"]["name"], "column": f"{r['task']['name']} {r['pair']}",
             "value": r["analysis"]["fwd"]["wrong_outranks_gold"]}
            for r in records if r.get("analysis")]
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).pivot_table(index="model", columns="column", values="value", aggfunc="first")
    table.columns.name = None
    return table


def render_markdown(records: list[dict[str, Any]], problems: list[str], source: str) -> str:
    lines = ["# Leaderboard", "",
             f"Built by `python -m harness leaderboard` from {len(records)} result records in `{source}`. "
             "Scores are x100; higher is better except error rates. `Δ teacher` is the average minus the "
             "teacher's; `flag` marks a student that scores below its own base on an STS pair. Family "
             "averages use the languages that every model scored in that family has, so rows stay comparable; "
             "a language column averages the tasks a model was run on (see the students' `tasks`); `avg` is left "
             "blank for a model not run on every family.", ""]
    for title, table in _sections(records):
        lines += [f"## {title}", "", to_markdown(table), ""]
    if problems:
        lines += ["## Skipped result files", "", *[f"- {p}" for p in problems], ""]
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _legend_and_png(fig, axes, bottom: float) -> str:
    """A shared legend under the panels, then the figure as base64 PNG (metadata stripped, so the
    bytes are the same on every regeneration)."""
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
        return base64.b64encode(buffer.getvalue()).decode("ascii")
    finally:
        _pyplot().close(fig)


def plot_scores_by_language(records: list[dict[str, Any]]) -> str:
    """Grouped bars: for each family, each model's mean main score per language."""
    from harness.results.tables import family_language_scores

    scores = family_language_scores(records)
    families = sorted(scores["family"].unique())
    models = sorted(scores["model"].unique())
    fig, axes = _pyplot().subplots(1, len(families), figsize=(5 * len(families), 3.6), squeeze=False)
    for ax, family in zip(axes[0], families):
        part = scores[scores["family"] == family].pivot_table(index="lang", columns="model", values="value")
        part.reindex(columns=[m for m in models if m in part.columns]).plot.bar(ax=ax, legend=False, rot=0, width=0.8)
        ax.set_title(family)
        ax.set_ylim(0, 100)
        ax.set_xlabel("")
    axes[0][0].set_ylabel("main score")
    return _legend_and_png(fig, axes, bottom=0.12)


def plot_gap_histograms(records: list[dict[str, Any]]) -> str | None:
    """Per mining pair, each model's histogram of (gold score - best wrong score), xx->en direction."""
    mining = sorted((r for r in records if r["task"]["family"] == "mining" and r.get("analysis")),
                    key=lambda r: (r["task"]["name"], r["pair"], r["model"]["name"]))
    panels = sorted({(r["task"]["name"], r["pair"]) for r in mining})
    if not panels:
        return None
    fig, axes = _pyplot().subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    for ax, (task, pair) in zip(axes[0], panels):
        for r in (r for r in mining if (r["task"]["name"], r["pair"]) == (task, pair)):
            hist = r["analysis"]["fwd"]["gap_histogram"]
            ax.stairs(hist["counts"], hist["edges"], label=r["model"]["name"])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(f"{task} {pair}", fontsize=9)
        ax.set_xlabel("gold - best wrong (cosine)", fontsize=8)
    return _legend_and_png(fig, axes, bottom=0.14)


def render_html(records: list[dict[str, Any]], problems: list[str], source: str) -> str:
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8"><title>Leaderboard</title>',
             "<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;"
             "font-size:13px;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
             "th{background:#f3f3f3}img{max-width:100%}</style></head><body>",
             "<h1>Leaderboard</h1>",
             f"<p>Built from {len(records)} result records in <code>{html.escape(source)}</code>. Scores are x100.</p>"]
    for title, table in _sections(records):
        parts += [f"<h2>{html.escape(title)}</h2>",
                  table.round(1).to_html(na_rep="", float_format=lambda v: f"{v:.1f}") if not table.empty else ""]
    parts += ["<h2>Scores per language</h2>",
              f'<img alt="scores per language" src="data:image/png;base64,{plot_scores_by_language(records)}">']
    gaps = plot_gap_histograms(records)
    if gaps:
        parts += ["<h2>Hard-negative gap histograms</h2>",
                  f'<img alt="hard-negative gap histograms" src="data:image/png;base64,{gaps}">']
    if problems:
        parts += ["<h2>Skipped result files</h2><ul>", *[f"<li>{html.escape(p)}</li>" for p in problems], "</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_leaderboard(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Regenerate LEADERBOARD.md, LEADERBOARD.csv and leaderboard.html in `out_dir` from `results_dir`."""
    store = ResultStore(results_dir)
    records, problems = store.records()
    ok = [r for r in records if r["status"] == "ok"]
    failed = [f"{r['model']['name']} {r['task']['name']} {r['pair']}: failed: {r['error']}"
              for r in records if r["status"] != "ok"]
    skipped = [f"{p.path.relative_to(store.root).as_posix()}: {p.reason}" for p in problems] + failed
    source = Path(results_dir).as_posix()
    out = Path(out_dir)
    md, csv, page = out / "LEADERBOARD.md", out / "LEADERBOARD.csv", out / "leaderboard.html"
    write_text_atomic(md, render_markdown(ok, skipped, source) + "\n")
    write_text_atomic(csv, leaderboard_table(ok).to_csv(float_format="%.3f", lineterminator="\n"))
    write_text_atomic(page, render_html(ok, skipped, source))
    return [md, csv, page]
