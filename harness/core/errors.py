"""User-facing errors: each becomes one line on stderr and exit code 2 in the CLI."""

from __future__ import annotations

from pathlib import Path


class HarnessError(Exception):
    """A problem the user can fix (bad input, bad config). Printed without a traceback."""

    exit_code = 2


class DataError(HarnessError):
    """A problem in a data file, located by path and (when known) 1-based line number."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")
