"""Sweeps as curves: each family's score against the swept value, from the records alone.

A run with `--sweep NAME=V1,V2,...` stores {"setting", "value", "of", "id"} in each student's model
description (`of` is the name the values share, `id` a hash of the recipe; a `max_pairs` point also stores
"pairs_per_language" where its value does not say how many it trained on). Here the students of one sweep
(each folded over its seeds, as everywhere) become the points of one curve per task family: the average over
the pairs every point has, with the percentile interval of the averaged replicates and the standard deviation
over seeds. The sweep's base and teacher, averaged over the same pairs when they have them all, are the
reference lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.core.training import setting_text, sweep_recipe_id
from harness.core.vocabulary import BASE, FAMILIES, TEACHER
from harness.results.overview import Cell, Group, Key, average_cell


@dataclass
class SweepPoint:
    value: Any
    group: str
    seeds: int
    cells: dict[str, Cell]  # family -> the point's average over that family's pairs
    seed_values: dict[str, list[float]] = field(default_factory=dict)  # family -> each seed's own average
    at: float | None = None  # its place on a value axis (`axis_position`): a number value, or the pairs per
    # language its run recorded where the value does not say it

    @property
    def count_apart(self) -> float | None:
        """The pairs per language the point stands for where its value does not say it (`all`, a cap a language
        does not fill), for the report to print beside the value; None where the value is its own place."""
        return self.at if self.at is not None and self.at != self.value else None


@dataclass
class SweepCurve:
    """One sweep: its setting, its points in value order (on a value axis, in axis order), the pairs each family
    averages, and references."""

    of: str
    setting: str
    points: list[SweepPoint]
    pairs: dict[str, list[Key]]  # family -> the pairs every point has
    references: dict[str, tuple[str, dict[str, Cell]]] = field(default_factory=dict)  # role -> (model, cells)

    @property
    def numeric(self) -> bool:
        """True when every point has a place on a value axis (else the values are categories): a number, or
        `max_pairs=all` with the pairs per language its records give."""
        return all(p.at is not None for p in self.points)

    @property
    def families(self) -> list[str]:
        return [f for f in FAMILIES if f in self.pairs]


def shown(setting: str, value: Any) -> str:
    """A swept value as tables print it (a setting's None as its own word: 'all', 'same')."""
    return str(value).lower() if isinstance(value, bool) else setting_text(setting, value)


def value_text(setting: str, value: Any) -> str:
    """A swept value as the report prints it: `shown`, with a whole number's thousands grouped ('16,000')."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return shown(setting, value)


def point_text(setting: str, point: SweepPoint, unit: str = " per language") -> str:
    """A point's value as the report prints it, with the pairs per language it stands for where the value does
    not say it: 'all (81,964 per language)' in the tables, 'all (81,964)' with `unit=""` where a list of points
    is already about pairs per language (the fit's)."""
    text = value_text(setting, point.value)
    return text if point.count_apart is None else f"{text} ({point.count_apart:,.0f}{unit})"


def axis_position(sweep: dict[str, Any]) -> float | None:
    """Where a swept value sits on a value axis: the pairs per language the run recorded for a `max_pairs` point
    whose value does not say it (`all`, a cap above what a language has), else the value when it is a number;
    None for a choice, a switch or an `all` recorded before its count was."""
    value, counted = sweep["value"], sweep.get("pairs_per_language")
    if isinstance(counted, int) and not isinstance(counted, bool) and counted > 0:
        return counted
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def _order(value: Any) -> tuple:
    # None ("all") is the largest setting a count can take, so it goes last
    return (value is None, 0 if value is None else value if isinstance(value, (int, float)) else str(value))


def sweep_curves(groups: dict[str, Group]) -> list[SweepCurve]:
    """Every sweep in the records, in name order."""
    sweeps: dict[tuple[str, str, str], list[Group]] = {}
    for group in groups.values():
        sweep = group.meta.get("sweep")
        if isinstance(sweep, dict) and {"setting", "value", "of"} <= set(sweep):
            # the shared recipe keeps apart two sweeps of one setting made with other settings; it is worked out
            # from the run block, not the stored id, which earlier records computed counting incidental settings
            recipe = sweep_recipe_id(group.run, sweep["setting"], group.meta.get("trainer")) if group.run \
                else str(sweep.get("id", ""))
            sweeps.setdefault((sweep["of"], sweep["setting"], recipe), []).append(group)
    curves = []
    for (of, setting, _), members in sorted(sweeps.items()):
        members.sort(key=lambda g: _order(g.meta["sweep"]["value"]))
        pairs = {}
        for family in FAMILIES:
            shared = set.intersection(*({k for k in g.keys() if g.family[k] == family} for g in members))
            if shared:
                pairs[family] = sorted(shared)
        if not pairs:
            continue  # its points were scored on no common pair: nothing to draw
        points = [SweepPoint(g.meta["sweep"]["value"], g.name, g.seeds,
                             {f: average_cell(g, keys) for f, keys in pairs.items()},
                             {f: g.seed_values(keys) for f, keys in pairs.items()},
                             axis_position(g.meta["sweep"])) for g in members]
        curve = SweepCurve(of, setting, points, pairs)
        if curve.numeric:  # where the pairs put them: `all` can be fewer than a cap no language fills
            curve.points.sort(key=lambda p: p.at)
        for role in (BASE, TEACHER):
            reference = groups.get(members[0].meta.get(role, ""))
            if reference is not None:
                cells = {f: average_cell(reference, keys) for f, keys in pairs.items()
                         if set(keys) <= reference.keys()}
                if cells:
                    curve.references[role] = (reference.name, cells)
        curves.append(curve)
    return curves
