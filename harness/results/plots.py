"""The report's figures: small-multiple forest plots (one panel per family language, a point and its 95%
interval per model), drawn with matplotlib into deterministic PNG bytes, with the drawn boxes of every
axes, of the legend and of the x tick labels, so that a test can check that no legend covers a plot and no
tick label another.
"""

from __future__ import annotations

import base64
import io
import itertools
from dataclasses import dataclass, field

import numpy as np

from harness.core.vocabulary import BASE, BASELINE, ROLE_COLOURS, STUDENT, TEACHER
from harness.results.learning_curve import CurveFit
from harness.results.overview import Column, Group
from harness.results.sweeps import SweepCurve, value_text

MARKERS = "osD^vP*X"
PANELS_PER_ROW = 4
MAX_SERIES = 8  # more models than this go to the "all models" figure, shown on demand
TICK_GAP = 6.0  # pixels between two level tick labels, about half a digit's height: closer, they read as one


@dataclass
class Figure:
    """A rendered figure: base64 PNG, its size in pixels, and the drawn boxes (x0, y0, x1, y1 in pixels from
    the top left) of its axes, its legend and, per axis, its x tick labels."""

    png: str
    width: int
    height: int
    axes: list[tuple[float, float, float, float]]
    legend: tuple[float, float, float, float] | None
    ticks: list[list[tuple[float, float, float, float]]] = field(default_factory=list)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _box(extent, height: float) -> tuple[float, float, float, float]:
    """A matplotlib display box (origin bottom left) as pixels from the top left."""
    return (round(extent.x0, 1), round(height - extent.y1, 1), round(extent.x1, 1), round(height - extent.y0, 1))


def forest(columns: list[Column], groups: dict[str, Group], names: list[str], title: str) -> Figure | None:
    """One panel per column: each model's score and interval, models in the same rows in every panel."""
    columns = [c for c in columns if c.cells]
    if not columns:
        return None
    plt = _pyplot()
    rows = -(-len(columns) // PANELS_PER_ROW)
    height_per_row = 0.55 + 0.3 * len(names)
    fig, axes = plt.subplots(rows, PANELS_PER_ROW, figsize=(14, 0.8 + rows * height_per_row), dpi=100,
                             squeeze=False, sharey=True)
    markers = {}
    for name in names:
        role = groups[name].role
        markers[name] = MARKERS[sum(1 for n in markers if groups[n].role == role) % len(MARKERS)]
    for panel, ax in enumerate(axes.flat):
        if panel >= len(columns):
            ax.set_visible(False)
            continue
        column = columns[panel]
        for row, name in enumerate(names):
            cell = column.cells.get(name)
            if cell is None:
                continue
            colour = ROLE_COLOURS[groups[name].role]
            if cell.low is not None:
                ax.plot([cell.low, cell.high], [row, row], color=colour, linewidth=1.6, solid_capstyle="butt")
            below = cell.tied is False  # open only when tested and found below; untested points stay filled
            ax.plot([cell.value], [row], marker=markers[name], color=colour, markersize=6,
                    markerfacecolor="white" if below else colour, linestyle="none")
        ax.set_title(f"{column.label}  ({len(column.shared)} pair{'s' * (len(column.shared) != 1)})", fontsize=11)
        ax.grid(axis="x", linewidth=0.4, color="#cccccc")
        ax.tick_params(labelsize=10)
        ax.set_ylim(len(names) - 0.5, -0.5)
    for ax in axes[:, 0]:
        ax.set_yticks(range(len(names)), names, fontsize=10)
    handles = [plt.Line2D([], [], color=colour, marker="o", linestyle="-", label=role)
               for role, colour in ROLE_COLOURS.items() if any(groups[n].role == role for n in names)]
    handles.append(plt.Line2D([], [], color="#333333", marker="o", markerfacecolor="white", linestyle="none",
                              label="open: significantly below the best"))
    legend = fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=10, frameon=False,
                        bbox_to_anchor=(0.5, 1.0), title=title, title_fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.7 / fig.get_figheight()))  # the legend's band stays above the panels
    return _render(fig, legend, [ax for ax in axes.flat if ax.get_visible()])


def tick_labels(curve: SweepCurve, numeric: bool) -> list[str]:
    """The value axis' labels: each value as the tables print it; on a value axis, one that does not say its pairs
    (`all`, a cap a language does not fill) over the pairs per language it stands for ('9,548\n9,481')."""
    shown_apart = [p.count_apart if numeric else None for p in curve.points]
    return [value_text(curve.setting, p.value) + (f"\n{count:,.0f}" if count is not None else "")
            for p, count in zip(curve.points, shown_apart)]


def sweep_figure(curve: SweepCurve, fit: CurveFit | None = None) -> Figure:
    """One panel per family: the sweep's points with their intervals joined by a line, each seed's own score
    as a small dot, the base and the teacher as dashed lines with their intervals as bands, and a learning
    curve's fitted line (`fit`) dotted where the values are on a value axis. A numeric sweep spanning a factor of
    8 or more is drawn on a log axis (a learning curve), a `max_pairs` point whose value does not say how many
    pairs it trained on (`all`, a cap a language does not fill) at the pairs per language its run recorded;
    other values (or an `all` recorded before that) are categories, drawn without the line."""
    plt = _pyplot()
    families = curve.families
    # at least 9 inches wide: the legend's entries (the student, the base and the teacher by name) must fit
    fig, axes = plt.subplots(1, len(families), figsize=(max(4.2 * len(families), 9.0), 3.6), dpi=100,
                             squeeze=False)
    numeric = curve.numeric and all(p.at > 0 for p in curve.points)
    xs = [p.at for p in curve.points] if numeric else list(range(len(curve.points)))
    log = numeric and max(xs) >= 8 * min(xs)
    ticks = tick_labels(curve, numeric)
    colour = ROLE_COLOURS[STUDENT]
    for ax, family in zip(axes.flat, families):
        cells = [p.cells[family] for p in curve.points]
        ax.plot(xs, [c.value for c in cells], color=colour, marker="o", markersize=5, linewidth=1.4, zorder=3)
        line = fit.families.get(family) if fit is not None and numeric else None  # categories: no value axis
        if line is not None:
            along = np.geomspace(min(fit.values), max(fit.values), 50)
            ax.plot(along, line.intercept + line.per_doubling.value * np.log2(along), color=colour, linestyle=":",
                    linewidth=1.6, zorder=2)
        for x, cell in zip(xs, cells):
            if cell.low is not None:
                ax.plot([x, x], [cell.low, cell.high], color=colour, linewidth=1.6, solid_capstyle="butt")
        for x, point in zip(xs, curve.points):
            seeds = point.seed_values.get(family, [])
            if len(seeds) > 1:
                ax.plot([x] * len(seeds), seeds, color=colour, marker=".", markersize=3, linestyle="none",
                        alpha=0.6)
        # the axis spans the points and the base; a reference far outside it (a monolingual teacher on
        # cross-lingual pairs) is named in the corner rather than squashing the curve into a line
        spanned = [v for c in cells for v in (c.value, c.low, c.high) if v is not None]
        base = curve.references.get(BASE, ("", {}))[1].get(family)
        spanned += [v for v in ((base.value, base.low, base.high) if base else ()) if v is not None]
        low, high = min(spanned), max(spanned)
        pad = max(0.5, 0.15 * (high - low))
        low, high = low - pad, high + pad
        outside = []
        for role in (BASE, TEACHER):
            name, references = curve.references.get(role, ("", {}))
            cell = references.get(family)
            if cell is None:
                continue
            if not low <= cell.value <= high:
                outside.append(_off_axis(role, cell.value, low))
                continue
            ax.axhline(cell.value, color=ROLE_COLOURS[role], linestyle="--", linewidth=1.2)
            if cell.low is not None:
                ax.axhspan(cell.low, cell.high, color=ROLE_COLOURS[role], alpha=0.12, linewidth=0)
        for reach in (line.reach if line is not None else []):  # the peers the fit extrapolates to
            if low <= reach.score <= high:
                ax.axhline(reach.score, color=ROLE_COLOURS[BASELINE], linestyle="-.", linewidth=1.2)
            else:
                outside.append(_off_axis(reach.peer, reach.score, low))
        ax.set_ylim(low, high)
        if outside:
            ax.text(0.02, 0.03, "off the axis: " + ", ".join(outside), transform=ax.transAxes, fontsize=8,
                    color="#555555")
        if log:
            ax.set_xscale("log")
        ax.set_xticks(xs, ticks, fontsize=9)
        ax.minorticks_off()
        ax.set_title(f"{family} ({len(curve.pairs[family])} pairs)", fontsize=11)
        ax.set_xlabel(curve.setting, fontsize=10)
        ax.grid(linewidth=0.4, color="#cccccc")
        ax.tick_params(labelsize=9)
    handles = [plt.Line2D([], [], color=colour, marker="o", label="student (95% interval; dots: seeds)")]
    if fit is not None and numeric:
        handles.append(plt.Line2D([], [], color=colour, linestyle=":", label="fit: a + b log2(pairs)"))
        peers = sorted({r.peer for line in fit.families.values() for r in line.reach})
        if peers:
            handles.append(plt.Line2D([], [], color=ROLE_COLOURS[BASELINE], linestyle="-.",
                                      label=f"peer the fit is read against: {', '.join(peers)}"))
    handles += [plt.Line2D([], [], color=ROLE_COLOURS[role], linestyle="--", label=f"{role}: {name}")
                for role, (name, _) in curve.references.items()]
    legend = fig.legend(handles=handles, loc="upper center", ncol=1, fontsize=9, frameon=False,
                        bbox_to_anchor=(0.5, 1.0), title=f"{curve.of}: {curve.setting}", title_fontsize=10)
    fig.set_figheight(3.6 + 0.2 * len(handles))  # one line per entry above the panels
    layout = (0, 0, 1, 1 - (0.45 + 0.2 * len(handles)) / fig.get_figheight())
    fig.tight_layout(rect=layout)
    if _slant_crowded_ticks(fig, list(axes.flat)):
        fig.tight_layout(rect=layout)  # slanted labels are taller: make room for them
    return _render(fig, legend, list(axes.flat))


def _tick_boxes(ax, renderer, height: float) -> list[tuple[float, float, float, float]]:
    return [_box(label.get_window_extent(renderer), height) for label in ax.get_xticklabels()
            if label.get_visible() and label.get_text()]


def tick_gaps(boxes: list[tuple[float, float, float, float]]) -> list[float]:
    """The horizontal room between neighbouring tick labels, in pixels (negative where they overlap)."""
    ordered = sorted(boxes)
    return [b[0] - a[2] for a, b in itertools.pairwise(ordered)]


def _slant_crowded_ticks(fig, axes) -> bool:
    """Slant every panel's x tick labels when two of a panel's would come closer than TICK_GAP pixels (on a log
    axis the last doublings before `all` sit close: '8,000' ran into '16,000'); True when it did."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    height = fig.canvas.get_width_height()[1]
    crowded = any(gap < TICK_GAP for ax in axes for gap in tick_gaps(_tick_boxes(ax, renderer, height)))
    if crowded:
        for ax in axes:
            for label in ax.get_xticklabels():
                label.set(rotation=35, horizontalalignment="right", rotation_mode="anchor")
    return crowded


def _off_axis(label: str, value: float, low: float) -> str:
    """A reference line left off a panel's axis, as its corner note names it."""
    return f"{label} {value:.1f} ({'below' if value < low else 'above'})"


def _render(fig, legend, axes) -> Figure:
    plt = _pyplot()
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        width, height = fig.canvas.get_width_height()
        boxes = [_box(ax.get_window_extent(renderer), height) for ax in axes]
        legend_box = _box(legend.get_window_extent(renderer), height) if legend else None
        ticks = [_tick_boxes(ax, renderer, height) for ax in axes]
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=fig.dpi, metadata={"Software": None})
        return Figure(base64.b64encode(_palette_png(buffer.getvalue())).decode("ascii"), width, height, boxes,
                      legend_box, ticks)
    finally:
        plt.close(fig)


def _palette_png(png: bytes) -> bytes:
    """The same picture in 256 colours (a plot has few; anti-aliased edges lose nothing visible): a third of the
    bytes, so the report, which embeds it, stays small enough to commit. Deterministic, like the plot."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        buffer = io.BytesIO()
        image.convert("RGB").quantize(colors=256).save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """True when two boxes (x0, y0, x1, y1) share some area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
