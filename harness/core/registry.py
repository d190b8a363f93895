"""A small generic registry: unique names, lazy "module:attr" entries, did-you-mean errors."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Generic, TypeVar

from harness.core.errors import HarnessError

T = TypeVar("T")


class PluginError(HarnessError):
    """A registered plug-in that cannot be imported: names the entry and the cause."""


def did_you_mean(name: str, choices: list[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Registry(Generic[T]):
    """Maps names to objects. An entry is either the object or a lazy 'package.module:attr' string.

    Lazy entries keep heavy imports (torch, faiss) out of start-up: they are imported on first `get`.
    """

    def __init__(self, kind: str, entry_point_group: str | None = None):
        self.kind = kind
        self._entries: dict[str, T | str] = {}
        self._group = entry_point_group  # installed packages may add entries under this group
        self._discovered = entry_point_group is None

    def register(self, name: str, entry: T | str) -> None:
        if name in self._entries:
            raise ValueError(f"duplicate {self.kind} name '{name}'")
        self._entries[name] = entry

    def _discover(self) -> None:
        """Add the entries other installed packages declare under the entry-point group (once)."""
        if self._discovered:
            return
        self._discovered = True
        from importlib.metadata import entry_points

        for point in entry_points(group=self._group):
            if point.name not in self._entries:
                self._entries[point.name] = point.value

    def get(self, name: str) -> T:
        self._discover()
        if name not in self._entries:
            known = ", ".join(sorted(self._entries))
            raise HarnessError(f"unknown {self.kind} '{name}'{did_you_mean(name, list(self._entries))}; known: {known}")
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = self._load(name, entry)
            self._entries[name] = entry
        return entry

    def _load(self, name: str, entry: str) -> T:
        module_name, _, attr = entry.partition(":")
        try:
            obj = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as err:
            raise PluginError(f"{self.kind} '{name}' is registered as '{entry}', which cannot be loaded: "
                              f"{type(err).__name__}: {err}") from err
        return obj

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
