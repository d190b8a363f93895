"""The regression gate: compare a candidate result set with a baseline (a folder or a git ref), pair by
pair on the same items, and fail only on drops the data can tell from noise.

For each (model, task, pair, metric) both sides have evidence for, the change is tested on the same items
(`evidence.paired_difference`: the exact sign-flip mid-p test for accuracies, the paired permutation test
for correlations, the bootstrap over items for the rest); the p-values of all the rows compared are Holm-corrected
together. A row fails the gate when its drop is larger than the tolerance **and** significant after the
correction. A larger drop that is not significant is reported as such, with its interval; a significant
drop within the tolerance is reported and fails only with `fail_on_significant`. Rows without evidence
(records from before schema 2) fall back to the tolerance alone. The gate fails closed: a pair the baseline
has and the candidate lacks fails as missing (unless missing pairs are allowed), one whose candidate record
is a failed evaluation fails, and so does a record whose evidence does not reproduce its score. A record
that cannot be read, or whose values are not finite or outside their metric's range, on either side, is bad
input: the gate stops and names the file.

Exit codes: 0 the candidate passes; 1 it fails; 2 bad input (a missing folder, an unknown git ref, an
unreadable or invalid record).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.core.errors import HarnessError
from harness.core.paths import RUNS_DIR
from harness.results import stats
from harness.results.evidence import consistent, paired_difference
from harness.results.store import ResultStore

KEY = ["model", "task", "pair", "metric"]
FAILING = ("worse", "worse (no evidence)", "missing", "failed", "inconsistent")


@dataclass
class Comparison:
    """Every compared metric: baseline and candidate values, the change (positive = better), its 95%
    interval, the raw and Holm-corrected p-values, and a status."""

    table: pd.DataFrame
    tolerance: float
    fail_on_significant: bool = False
    left_out: int = 0  # pairs of the baseline the candidate was not scored on, left out by allow_missing

    @property
    def tests(self) -> int:
        return int(self.table["p"].notna().sum())

    @property
    def regressions(self) -> pd.DataFrame:
        failing = [*FAILING, "small drop"] if self.fail_on_significant else list(FAILING)
        return self.table[self.table["status"].isin(failing)]

    @property
    def exit_code(self) -> int:
        return 1 if len(self.regressions) else 0


def materialise_baseline(spec: str, results_subdir: str = RUNS_DIR
                         ) -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """A folder of result JSON: `spec` itself when it is a folder, else `results_subdir` at git ref `spec`."""
    path = Path(spec)
    if path.is_dir():
        return path, None
    commit = _git_commit(spec, results_subdir)  # nothing the user typed reaches git as an option
    tmp = tempfile.TemporaryDirectory(prefix="harness-baseline-")
    try:
        archive = subprocess.run(["git", "archive", "--format=tar", commit, "--", results_subdir],
                                 capture_output=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError) as err:
        tmp.cleanup()
        detail = err.stderr.decode(errors="replace").strip() if isinstance(err, subprocess.CalledProcessError) else ""
        raise HarnessError(f"baseline '{spec}' is neither a folder nor a git ref with {results_subdir}: "
                           f"{detail}") from None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp.name, filter="data")
    return Path(tmp.name) / results_subdir, tmp


def _git_commit(spec: str, results_subdir: str) -> str:
    """The commit a git ref names, resolved with --end-of-options so that a value like '--output=FILE' is read
    as a (missing) ref, never as an option of git."""
    not_found = f"baseline '{spec}' is neither a folder nor a git ref with {results_subdir}"
    if not spec or spec.startswith("-"):
        raise HarnessError(not_found)
    try:
        resolved = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec}^{{commit}}"],
                                  capture_output=True, text=True)
    except FileNotFoundError:
        raise HarnessError(f"{not_found} (git is not installed)") from None
    if resolved.returncode != 0 or not resolved.stdout.strip():
        raise HarnessError(not_found)
    return resolved.stdout.strip()


def _readable(folder: Path, side: str, model: str | None = None) -> list[dict]:
    """Every record of a results folder (of one model, when comparing named models); one that cannot be read
    or is invalid stops the gate (fail closed), and so does a folder that is not there (a mistyped candidate
    would otherwise make every baseline pair "missing", a regression rather than bad input)."""
    if not Path(folder).is_dir():
        raise HarnessError(f"{side} {folder}: no such folder of result records")
    records, problems = ResultStore(folder).records(model)
    if problems:
        shown = "; ".join(f"{p.path}: {p.reason}" for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise HarnessError(f"{side} {folder}: {len(problems)} unreadable or invalid record(s), so nothing is "
                           f"compared: {shown}{more}")
    return records


def _by_key(records: list[dict], model: str | None, where: Path) -> dict[tuple[str, str, str], dict]:
    chosen = {}
    for record in records:
        if model is None or record["model"]["name"] == model:
            chosen[(record["model"]["name"], record["task"]["name"], record["pair"])] = record
    if model is not None and not chosen:
        known = ", ".join(sorted(p.name for p in Path(where).iterdir() if p.is_dir())) or "none"
        raise HarnessError(f"{where} holds no results for model '{model}' (it has: {known})")
    return chosen


def _row(name: str, old: dict, new: dict | None, metric: str) -> dict:
    entry = old["metrics"][metric]
    sign = 1.0 if entry["higher_is_better"] else -1.0
    row = {"model": name, "task": old["task"]["name"], "pair": old["pair"], "metric": metric,
           "value_baseline": entry["value"], "value_candidate": None, "change": None, "ci_low": None,
           "ci_high": None, "p": None, "status": "missing"}
    if new is not None and new["status"] != "ok":
        row["status"] = "failed"
        return row
    if new is None or metric not in new["metrics"]:
        return row
    row["value_candidate"] = new["metrics"][metric]["value"]
    row["change"] = sign * (row["value_candidate"] - row["value_baseline"])
    if not (consistent(old, metric) and consistent(new, metric)):
        row["status"] = "inconsistent"
        return row
    difference = paired_difference(old, new, metric)
    row["status"] = "no evidence"
    if difference is not None:
        low, high = sorted((sign * difference.low, sign * difference.high))
        row.update(ci_low=low, ci_high=high, p=difference.p_value, status="tested")
    return row


def _status(row: pd.Series, tolerance: float) -> str:
    if row["status"] in ("missing", "failed", "inconsistent"):
        return row["status"]
    change = row["change"]
    if row["status"] == "no evidence":
        return "worse (no evidence)" if change < -tolerance else ("better" if change > tolerance else "ok")
    significant = row["p_holm"] < 1.0 - stats.LEVEL
    if change < -tolerance:
        return "worse" if significant else "not significant"
    if change < 0 and significant:
        return "small drop"
    if change > tolerance and significant:
        return "better"
    return "ok"


def compare(baseline_dir: Path, candidate_dir: Path, tolerance: float = 0.5, metrics: str = "main",
            models: tuple[str, str] | None = None, fail_on_significant: bool = False,
            allow_missing: bool = False) -> Comparison:
    """Pair up the two result sets on (model, task, pair, metric) and test each change on the same items.

    metrics: 'main' (each task's main score) or 'all'. `models` = (baseline model, candidate model) compares
    two different models instead of each model with itself (a student against the one it replaces, or
    against its base); the two folders may then be the same and the rows are named 'NEW vs OLD'.
    A baseline pair the candidate lacks is a failing 'missing' row, or with `allow_missing` is left out and
    counted in `left_out`. A baseline record that is itself a failed evaluation has nothing to compare.
    """
    if not (tolerance >= 0 and tolerance != float("inf")):
        raise HarnessError(f"--tolerance must be a finite number of points, 0 or more; got {tolerance}")
    old_model, new_model = models if models else (None, None)
    old = _by_key(_readable(baseline_dir, "baseline", old_model), old_model, baseline_dir)
    new = _by_key(_readable(candidate_dir, "candidate", new_model), new_model, candidate_dir)
    old = {key: record for key, record in old.items() if record["status"] == "ok"}
    if not old:
        raise HarnessError(f"baseline {baseline_dir} holds no results")
    rows, left_out = [], 0
    for (model, task, pair), record in sorted(old.items()):
        partner = new.get((models[1], task, pair) if models else (model, task, pair))
        if partner is None and allow_missing:
            left_out += 1
            continue
        name = f"{models[1]} vs {models[0]}" if models else model
        names = [record["task"]["main_score"]] if metrics == "main" else sorted(record["metrics"])
        rows += [_row(name, record, partner, metric) for metric in names if metric in record["metrics"]]
    table = pd.DataFrame(rows)
    tested = table["p"].notna()
    table["p_holm"] = None
    if tested.any():
        table.loc[tested, "p_holm"] = stats.holm(table.loc[tested, "p"].astype(float).tolist())
    table["status"] = [_status(row, tolerance) for _, row in table.iterrows()]
    table = table.sort_values(KEY, kind="stable").reset_index(drop=True)
    return Comparison(table, tolerance, fail_on_significant, left_out)
