"""Typed, validated settings: each setting has one default, one help text, a type and a range, declared
once on a dataclass field. Values from a TOML file and from command-line flags are checked here, in one
place, with one message shape: `SOURCE: NAME must be ..., got VALUE`. The argparse options of a command
are generated from the same declarations (see harness.app.cli).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.registry import did_you_mean

COMMAND_LINE = "command line"
INT_MAX = 2**31 - 1  # the ceiling of an integer setting that declares none: counts, sizes, steps
SEED_MAX = 2**32 - 1  # what numpy's and torch's generators take from every platform
SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]*$")  # tags become parts of folder and file names


class SettingError(HarnessError):
    """A setting with a value of the wrong type or out of range, named with where it came from."""

    def __init__(self, source: str, name: str, problem: str):
        self.source, self.name, self.problem = source, name, problem
        super().__init__(f"{source}: {name} {problem}")


@dataclass(frozen=True)
class Spec:
    """How one setting is typed and checked. `kind`: int | float | str | bool | list | path."""

    help: str
    kind: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] | None = None
    nullable: str | None = None  # the word that stands for None (e.g. max_pairs = "all")
    item: Callable[[list[str]], list[str]] | None = None  # checks and normalises list items
    flag: str | None = None  # a command-line spelling other than --name (a bool's opposite, say)
    pattern: re.Pattern | None = None  # strings: allowed characters
    pattern_help: str = "may hold only letters, digits, '.', '_' and '-'"  # the error when `pattern` fails


def setting(default: Any, help: str, *, kind: str | None = None, **checks: Any) -> Any:
    """A dataclass field that is a user setting. `kind` defaults to the type of `default`."""
    if kind is None:
        kind = {bool: "bool", int: "int", float: "float", str: "str", list: "list"}[type(default)]
    spec = Spec(help=help, kind=kind, **checks)
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata={"setting": spec})
    return dataclasses.field(default=default, metadata={"setting": spec})


def specs(cls: type) -> dict[str, Spec]:
    """The settings a dataclass declares, in declaration order."""
    return {f.name: f.metadata["setting"] for f in dataclasses.fields(cls) if "setting" in f.metadata}


def default_of(cls: type, name: str) -> Any:
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    return field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default


def split_list(text: str, strip: bool = True) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c'] (with strip=False, ' b' stays as written: an item function decides)"""
    return [item.strip() if strip else item for item in text.split(",") if item.strip()]


def _shown(raw: Any) -> str:
    return repr(raw) if isinstance(raw, str) else str(raw)


def coerce(name: str, spec: Spec, raw: Any, source: str) -> Any:
    """Check one value against its declaration and return it typed; raises SettingError."""
    def fail(problem: str) -> SettingError:
        return SettingError(source, name, problem)

    if spec.nullable and (raw is None or (isinstance(raw, str) and raw.strip().lower() == spec.nullable)):
        return None
    either = f" (or '{spec.nullable}')" if spec.nullable else ""
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false", "yes", "no", "1", "0"):
            return raw.lower() in ("true", "yes", "1")
        raise fail(f"must be true or false, got {_shown(raw)}")
    if spec.kind in ("int", "float"):
        value = _number(raw, spec.kind)
        if value is None:
            article = "an integer" if spec.kind == "int" else "a number"
            raise fail(f"must be {article}{either}, got {_shown(raw)}")
        _check_range(value, spec, fail, either)
        return value
    if spec.kind == "list":
        items = split_list(raw, strip=False) if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(i, (str, int)) and not isinstance(i, bool)
                                                  for i in items):
            raise fail(f"must be a list (or a comma-separated string), got {_shown(raw)}")
        items = [str(i) for i in items if str(i).strip()]
        if spec.item is None or spec.choices:
            items = [i.strip() for i in items]
        if spec.choices:
            for item in items:
                if item not in spec.choices:
                    raise fail(f"has unknown item {item!r}{did_you_mean(item, list(spec.choices))}; "
                               f"choose from {', '.join(spec.choices)}")
        if spec.item is None:
            return items
        try:
            return spec.item(items)
        except (HarnessError, ValueError) as err:
            raise SettingError(source, name, f"is invalid: {err}") from None
    if not isinstance(raw, str):
        raise fail(f"must be a string, got {_shown(raw)}")
    if spec.choices and raw not in spec.choices:
        suggestion = did_you_mean(raw, list(spec.choices))
        raise fail(f"must be one of {', '.join(spec.choices)}, got {_shown(raw)}{suggestion}")
    if spec.pattern and not spec.pattern.match(raw):
        raise fail(f"{spec.pattern_help}, got {_shown(raw)}")
    return raw


def _number(raw: Any, kind: str) -> int | float | None:
    if isinstance(raw, bool):
        return None
    if kind == "int":
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
            return int(raw)
        return None
    if isinstance(raw, (int, float)):
        return float(raw) if math.isfinite(raw) else None
    try:
        value = float(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _check_range(value: float, spec: Spec, fail: Callable[[str], SettingError], either: str) -> None:
    low, high = spec.minimum, spec.maximum
    if high is None and spec.kind == "int":
        high = INT_MAX

    def shown(number: float) -> str:
        return str(int(number)) if spec.kind == "int" else f"{number:g}"

    if low is not None and (value <= low if spec.exclusive_minimum else value < low):
        raise fail(f"must be {'greater than' if spec.exclusive_minimum else 'at least'} {shown(low)}{either}, "
                   f"got {shown(value)}")
    if high is not None and value > high:
        raise fail(f"must be at most {shown(high)}, got {shown(value)}")


def resolve_settings(cls: type, layers: Iterable[tuple[str, Mapping[str, Any]]],
                     presets: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Merge and check setting values: defaults < a preset < each layer in order (a file, then flags).

    A preset (e.g. `quick`) fills only settings that no layer sets: an explicit setting always wins.
    Returns {name: typed value} for every declared setting.
    """
    declared = specs(cls)
    explicit: dict[str, Any] = {}
    for source, values in layers:
        for name, raw in values.items():
            if name not in declared:
                raise HarnessError(f"{source}: unknown setting '{name}'{did_you_mean(name, list(declared))}")
            explicit[name] = coerce(name, declared[name], raw, source)
    values = {name: default_of(cls, name) for name in declared}
    for preset, chosen in (presets or {}).items():
        if explicit.get(preset):
            for name, raw in chosen.items():
                if name not in explicit:
                    values[name] = coerce(name, declared[name], raw, f"the {preset} preset")
    values.update(explicit)
    return values


def check_fields(config: Any, source: str | None = None) -> None:
    """Check (and normalise) every declared setting of a config object built directly in code."""
    for name, spec in specs(type(config)).items():
        setattr(config, name, coerce(name, spec, getattr(config, name), source or type(config).__name__))


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML settings file; a missing or malformed file is a DataError naming it."""
    import tomllib

    from harness.core.errors import DataError

    path = Path(path)
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except IsADirectoryError:
        raise DataError(path, "is a folder, not a TOML file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise DataError(path, f"invalid TOML: {err}") from None
