"""The leaderboard as Markdown, CSV and one self-contained HTML report, rebuilt from the stored records alone
(no model is loaded, nothing is fetched: the page opens from disk). Two regenerations are byte-identical.

Split by concern: `model` computes every number once (the view model), `markdown`, `page` (HTML) and
`terminal` only lay it out; `write_leaderboard` here reads the records and writes the three files.
"""

from __future__ import annotations

from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.vocabulary import SATURATION_CEILING
from harness.results.report.markdown import render_markdown
from harness.results.report.model import Report, build
from harness.results.report.page import render_html
from harness.results.report.terminal import run_summary
from harness.results.speed import SPEED_FILE, read_speeds
from harness.results.store import ResultStore, write_text_atomic
from harness.results.tables import scores_csv

__all__ = ["Report", "build", "render_html", "render_markdown", "run_summary", "write_leaderboard"]


def write_leaderboard(results_dir: str | Path, out_dir: str | Path, warn=None,
                      ceiling: float | None = SATURATION_CEILING) -> list[Path]:
    """Regenerate LEADERBOARD.md, LEADERBOARD.csv and leaderboard.html in `out_dir` from `results_dir`.

    A results folder that does not exist or holds no record is an error, and nothing is written (an empty
    leaderboard would silently replace the one in `out_dir`). Each record that cannot be read or is invalid
    (the store's one validator: shape, finite values inside their metric's range) is left out, listed at the
    end of LEADERBOARD.md, and passed to `warn` as one line `PATH: reason`. Pairs saturated at `ceiling` are
    left out of the averages and named (None keeps them in). The models' encode speeds, where measured, come from
    `out_dir`/encode-speed.json (`harness.results.speed`)."""
    if not Path(results_dir).is_dir():
        raise HarnessError(f"{results_dir}: no such folder of result records; nothing written")
    store = ResultStore(results_dir)
    records, problems = store.records()
    if not records and not problems:  # an empty leaderboard would replace the one in out_dir with nothing
        raise HarnessError(f"{results_dir} holds no result records; nothing written")
    for problem in problems:
        (warn or (lambda line: None))(f"{problem.path}: {problem.reason}")
    ok = [r for r in records if r["status"] == "ok"]
    failed = [f"{r['model']['name']} {r['task']['name']} {r['pair']}: failed: {r['error']}"
              for r in records if r["status"] != "ok"]
    skipped = [f"{p.path.relative_to(store.root).as_posix()}: {p.reason}" for p in problems] + failed
    out = Path(out_dir)
    report = build(ok, skipped, Path(results_dir).as_posix(), ceiling, read_speeds(out / SPEED_FILE))
    md, csv, page = out / "LEADERBOARD.md", out / "LEADERBOARD.csv", out / "leaderboard.html"
    write_text_atomic(md, render_markdown(report) + "\n")
    write_text_atomic(csv, scores_csv(ok))
    write_text_atomic(page, render_html(report))
    return [md, csv, page]
