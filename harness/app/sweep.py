"""`run --sweep NAME=V1,V2,...`: one student per value of a training setting (times `--seeds`).

A sweep is written the same way on the command line and in a TOML file (`sweep = "max_pairs=500,1000"`).
Any training setting that is a number, a choice or a switch can be swept (`harness run --help` lists them),
except the seed, which `--seeds` varies. Each value is checked like the setting itself, so `lr=0` fails
with the setting's own message. A value's students are named with `NAME-VALUE` appended to the tag, and
their records carry `sweep` (setting, value, and the name the sweep shares) in their model description, so
the report can draw each family's score against the swept value. One value is a sweep too: it adds a point,
or more seeds at a point, to the curve of the same recipe.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from harness.core.errors import HarnessError
from harness.core.settings import SettingError, coerce, specs, split_list
from harness.core.training import INCIDENTAL, TrainSettings
from harness.results.sweeps import shown

NOT_SWEPT = frozenset({"seed"}) | INCIDENTAL  # the seed: --seeds; the rest change how a student is made, not it
SWEEP_KINDS = ("int", "float", "bool", "str")  # a str only with choices: a closed set of values


def sweepable() -> list[str]:
    """The settings `--sweep` takes: the training settings that are numbers, choices or switches."""
    declared = specs(TrainSettings)
    return [f.name for f in fields(TrainSettings) if f.name in declared and f.name not in NOT_SWEPT
            and declared[f.name].kind in SWEEP_KINDS and (declared[f.name].kind != "str" or declared[f.name].choices)]


@dataclass(frozen=True)
class Sweep:
    """The swept setting and its values, typed, in the order given."""

    setting: str
    values: tuple[Any, ...]

    def label(self, value: Any) -> str:
        """The tag part of one value's students: 'max_pairs-500', 'lr-2e-05', 'max_pairs-all'."""
        return f"{self.setting}-{shown(self.setting, value)}"


def parse_sweep(text: str, source: str = "sweep") -> Sweep:
    """'max_pairs=500,1000,2000' -> Sweep('max_pairs', (500, 1000, 2000)); a clear error otherwise."""
    name, equals, values_text = text.partition("=")
    name = name.strip().replace("-", "_")
    if not equals or not name:
        raise HarnessError(f"{source}: '{text}' is not NAME=V1,V2,... (e.g. max_pairs=500,1000,2000)")
    allowed = sweepable()
    if name in ("seed", "seeds"):
        raise HarnessError(f"{source}: the seed is not swept: use --seeds 0,1,2 (with a sweep too)")
    if name not in allowed:
        from harness.core.registry import did_you_mean

        raise HarnessError(f"{source}: '{name}' cannot be swept{did_you_mean(name, allowed)}; a sweep takes one "
                           f"of: {', '.join(allowed)}")
    spec = specs(TrainSettings)[name]
    values: list[Any] = []
    for raw in split_list(values_text):
        try:
            value = coerce(name, spec, raw, source)
        except SettingError as err:
            raise HarnessError(str(err)) from None
        if shown(name, value) in {shown(name, v) for v in values}:  # equal values, or equally named
            raise HarnessError(f"{source}: {name} value {raw!r} is given twice (or names the same student as "
                               f"another: {shown(name, value)})")
        values.append(value)
    if not values:
        raise HarnessError(f"{source}: '{text}' gives no value of {name} (e.g. {name}=500,1000)")
    return Sweep(name, tuple(values))
