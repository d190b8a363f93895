"""The regression gate: compare a candidate result set with a baseline (a folder or a git ref) and
fail when any metric gets worse by more than a tolerance, or disappears."""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.core.errors import HarnessError
from results.store import ResultStore
from results.tables import long_table

KEY = ["model", "task", "pair", "metric"]


@dataclass
class Comparison:
    """Every metric of the baseline next to the candidate's, with the signed change (positive = better)."""

    table: pd.DataFrame
    tolerance: float

    @property
    def regressions(self) -> pd.DataFrame:
        return self.table[self.table["status"].isin(["worse", "missing"])]

    @property
    def exit_code(self) -> int:
        return 1 if len(self.regressions) else 0


def materialise_baseline(spec: str, results_subdir: str = "results/runs"
                         ) -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """A folder of result JSON: `spec` itself when it is a folder, else `results_subdir` at git ref `spec`."""
    path = Path(spec)
    if path.is_dir():
        return path, None
    tmp = tempfile.TemporaryDirectory(prefix="harness-baseline-")
    try:
        archive = subprocess.run(["git", "archive", "--format=tar", spec, results_subdir],
                                 capture_output=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError) as err:
        tmp.cleanup()
        detail = err.stderr.decode(errors="replace").strip() if isinstance(err, subprocess.CalledProcessError) else ""
        raise HarnessError(f"baseline '{spec}' is neither a folder nor a git ref with {results_subdir}: "
                           f"{detail}") from None
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(tmp.name, filter="data")
    return Path(tmp.name) / results_subdir, tmp


def _one_model(table: pd.DataFrame, model: str, where: Path) -> pd.DataFrame:
    rows = table[table["model"] == model]
    if rows.empty:
        known = ", ".join(sorted(table["model"].unique())) or "none"
        raise HarnessError(f"{where} holds no results for model '{model}' (it has: {known})")
    return rows


def compare(baseline_dir: Path, candidate_dir: Path, tolerance: float = 0.5, metrics: str = "main",
            models: tuple[str, str] | None = None) -> Comparison:
    """Join the two result sets on (model, task, pair, metric). metrics: 'main' (each task's main score) or 'all'.

    `models` = (baseline model, candidate model) compares two different models instead of each model with
    itself: a student against the one it replaces, or against its base, language by language. The two
    folders may then be the same. The joined rows are named 'CANDIDATE vs BASELINE'.
    """
    base = long_table(ResultStore(baseline_dir).records()[0])
    cand = long_table(ResultStore(candidate_dir).records()[0])
    if models:
        base, cand = _one_model(base, models[0], baseline_dir), _one_model(cand, models[1], candidate_dir)
        base = base.assign(model=f"{models[1]} vs {models[0]}")
        cand = cand.assign(model=f"{models[1]} vs {models[0]}")
    if metrics == "main":
        base, cand = base[base["main"]], cand[cand["main"]]
    if base.empty:
        raise HarnessError(f"baseline {baseline_dir} holds no results")
    joined = base[KEY + ["value", "higher_is_better"]].merge(cand[KEY + ["value"]], on=KEY, how="left",
                                                              suffixes=("_baseline", "_candidate"))
    sign = joined["higher_is_better"].map({True: 1.0, False: -1.0})
    joined["change"] = (joined["value_candidate"] - joined["value_baseline"]) * sign
    joined["status"] = "ok"
    joined.loc[joined["change"] < -tolerance, "status"] = "worse"
    joined.loc[joined["change"] > tolerance, "status"] = "better"
    joined.loc[joined["value_candidate"].isna(), "status"] = "missing"
    table = joined.drop(columns="higher_is_better").sort_values(KEY, kind="stable").reset_index(drop=True)
    return Comparison(table, tolerance)
