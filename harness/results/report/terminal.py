"""The terminal's summary of a run, printed by `harness run` under its progress."""

from __future__ import annotations

from typing import Any

from harness.core.vocabulary import SATURATION_CEILING
from harness.results.overview import flag_text, flags, load_groups, view
from harness.results.report.model import ROLE_ORDER


def run_summary(records: list[dict[str, Any]], models: list[str]) -> list[str]:
    """One line per model the run touched, with family averages over the pairs all of them share (and 95%
    intervals) and its flags, then a line naming how many pairs each family average covers, and the saturated
    pairs left out of them (as the report leaves them out)."""
    groups = load_groups([r for r in records if r["status"] == "ok" and r["model"]["name"] in set(models)])
    names = sorted(groups, key=lambda name: (ROLE_ORDER[groups[name].role], name))
    if not names:
        return []
    columns = [c for c in view(groups, names) if c.lang == "all" and c.cells]
    flagged = flags(groups)
    width = max(len(name) for name in names)
    lines = []
    for name in names:
        parts = []
        for column in columns:
            cell = column.cells.get(name)
            if cell is not None:
                interval = f" [{cell.low:.1f}, {cell.high:.1f}]" if cell.low is not None else ""
                parts.append(f"{column.family} {cell.value:.1f}{interval}")
        flag = f"  FLAG {flag_text(flagged[name])}" if name in flagged else ""
        lines.append(f"{name:<{width}}  {groups[name].role:<8}  {'   '.join(parts)}{flag}")
    shared = "; ".join(f"{c.family}: {len(c.shared)} pairs" for c in columns)
    lines.append(f"(family averages over the pairs all {len(names)} models share: {shared})")
    left_out = sorted({key for column in columns for key in column.saturated})
    if left_out:
        lines.append(f"(saturated, left out of the averages: {', '.join(f'{t} {p}' for t, p in left_out)}: every model "
                     f"scores {SATURATION_CEILING:g} or more, none significantly below the best)")
    return lines
