"""Result records -> pandas tables: long form, and models x (task, language pair) main scores."""

from __future__ import annotations

from typing import Any

import pandas as pd

LONG_COLUMNS = ["model", "family", "task", "pair", "metric", "value", "higher_is_better", "main"]


def long_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per (model, task, pair, metric) of the successful records, sorted for determinism."""
    rows = []
    for record in records:
        if record["status"] != "ok":
            continue
        task = record["task"]
        for metric, entry in record["metrics"].items():
            rows.append({
                "model": record["model"]["name"], "family": task["family"], "task": task["name"],
                "pair": record["pair"], "metric": metric, "value": float(entry["value"]),
                "higher_is_better": bool(entry["higher_is_better"]), "main": metric == task["main_score"],
            })
    frame = pd.DataFrame(rows, columns=LONG_COLUMNS)
    return frame.sort_values(["model", "family", "task", "pair", "metric"], kind="stable").reset_index(drop=True)


def main_scores(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Models as rows, (task, pair) as columns, each task's main score as values."""
    long = long_table(records)
    long = long[long["main"]]
    if long.empty:
        return pd.DataFrame()
    wide = long.pivot_table(index="model", columns=["task", "pair"], values="value", aggfunc="first")
    return wide.sort_index(axis=0).sort_index(axis=1)


def metric_table(records: list[dict[str, Any]], metrics: list[str]) -> pd.DataFrame:
    """(model, task, pair) rows x chosen metric columns (e.g. both mining directions)."""
    long = long_table(records)
    long = long[long["metric"].isin(metrics)]
    if long.empty:
        return pd.DataFrame()
    wide = long.pivot_table(index=["model", "task", "pair"], columns="metric", values="value", aggfunc="first")
    return wide.sort_index(axis=0)[[m for m in metrics if m in wide.columns]]


def to_markdown(frame: pd.DataFrame, digits: int = 1) -> str:
    """A Markdown table with flattened column names and fixed precision (deterministic text)."""
    if frame.empty:
        return "(no results)"
    flat = frame.copy()
    if isinstance(flat.index, pd.MultiIndex):
        flat.index = [" ".join(str(part) for part in row) for row in flat.index]
    flat.columns = [" ".join(str(part) for part in col) if isinstance(col, tuple) else str(col)
                    for col in flat.columns]
    return flat.round(digits).to_markdown(floatfmt=f".{digits}f")
