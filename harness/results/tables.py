"""Result records -> pandas tables: long form, and models x (task, language pair) main scores."""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness.core.training import legacy_values, setting_text, unused_by
from harness.core.vocabulary import BEFORE_GUARDS, TRAINED_ROLES

MINING_DIRECTIONS = ["acc_cos_fwd", "acc_cos_bwd", "acc_margin_fwd", "acc_margin_bwd"]  # fwd = xx->en
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
    # columns of text stay as written: tabulate would otherwise read "2e-05" as a number and round it
    text = [i + 1 for i, col in enumerate(flat.columns) if flat[col].map(lambda v: isinstance(v, str)).all()]
    flat = flat.round(digits).astype(object).where(flat.notna(), "")
    return flat.to_markdown(floatfmt=f".{digits}f", disable_numparse=text or False)


def task_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Models x pairs of one task: the main score with its 95% interval, as text ('72.0 [70.1, 73.8]')."""
    rows: dict[str, dict[str, str]] = {}
    for record in sorted(records, key=lambda r: (r["model"]["name"], r["pair"])):
        if record["status"] != "ok":
            continue
        metric = record["metrics"][record["task"]["main_score"]]
        interval = metric.get("ci")
        text = f"{metric['value']:.1f}" + (f" [{interval[0]:.1f}, {interval[1]:.1f}]" if interval else "")
        rows.setdefault(record["model"]["name"], {})[record["pair"]] = text
    return pd.DataFrame.from_dict(rows, orient="index").sort_index(axis=0).sort_index(axis=1).fillna("")


def scores_csv(records: list[dict[str, Any]]) -> str:
    """Every main score with its interval, one row per (model, task, pair): the CSV leaderboard."""
    rows = []
    for record in sorted(records, key=lambda r: (r["model"]["name"], r["task"]["name"], r["pair"])):
        if record["status"] != "ok":
            continue
        main = record["task"]["main_score"]
        metric = record["metrics"][main]
        low, high = metric.get("ci") or (None, None)
        rows.append({"model": record["model"]["name"], "role": record["model"].get("role", ""),
                     "seed": record["model"].get("seed", ""), "family": record["task"]["family"],
                     "task": record["task"]["name"], "pair": record["pair"], "metric": main, "value": metric["value"],
                     "ci_low": low, "ci_high": high, "n_items": record.get("n_items", "")})
    columns = ["model", "role", "seed", "family", "task", "pair", "metric", "value", "ci_low", "ci_high", "n_items"]
    return pd.DataFrame(rows, columns=columns).to_csv(index=False, float_format="%.3f", lineterminator="\n")


def hard_negative_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """% of queries where a wrong candidate outranks the gold (xx->en), per model and mining pair (the tasks
    that search aligned sides; an extraction task such as tatoeba-bucc has no such analysis)."""
    rows = [{"model": r["model"]["name"], "column": f"{r['task']['name']} {r['pair']}",
             "value": r["analysis"]["fwd"]["wrong_outranks_gold"]}
            for r in records if "fwd" in (r.get("analysis") or {})]
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).pivot_table(index="model", columns="column", values="value", aggfunc="first")
    table.columns.name = None
    return table


def comparison_table(table: pd.DataFrame, width: int = 30) -> pd.DataFrame:
    """One model's rows of a comparison (harness.results.compare) for reading in a terminal (the caller names
    the model above the table): old (baseline) and new (candidate) values, the interval as one column, rows
    indexed by task, pair and metric, a long task name (a file's path) cut from the left so that the row's
    label keeps to `width` characters (at least 12 of the task's), and the table to 120 columns."""
    shown = table.copy()
    room = [max(12, width - len(p) - len(m) - 2) for p, m in zip(shown["pair"], shown["metric"])]
    shown["task"] = [t if len(t) <= r else "…" + t[-(r - 1):] for t, r in zip(shown["task"], room)]
    shown["95% CI"] = [f"[{low:+.2f}, {high:+.2f}]" if pd.notna(low) else ""
                       for low, high in zip(shown["ci_low"], shown["ci_high"])]
    shown["p"] = [f"{p:.2g}" if pd.notna(p) else "" for p in shown["p"]]
    shown["Holm p"] = [f"{p:.2g}" if pd.notna(p) else "" for p in shown["p_holm"]]
    shown = shown.rename(columns={"value_baseline": "old", "value_candidate": "new"})
    columns = ["old", "new", "change", "95% CI", "p", "Holm p", "status"]
    return shown.set_index(["task", "pair", "metric"])[columns]


TRAINING_SETTINGS = ["trainer", "langs", "max_pairs", "epochs", "max_steps", "lr", "freeze_layers", "balanced",
                     "max_seq_length", "aligned_share", "tasks"]


def training_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """How each student was made, from the run configuration stored in its records (one row per student)."""
    rows = {}
    for record in sorted(records, key=lambda r: (r["model"]["name"], r["task"]["name"], r["pair"])):
        model, run = record["model"], record.get("run") or {}
        if model.get("role") not in TRAINED_ROLES or model["name"] in rows or not run:
            continue
        settings = {"trainer": model.get("trainer", ""), "teacher": model.get("teacher", ""),
                    "base": model.get("base", ""), "trained on": model.get("trained_on", ""),
                    "guards": model.get("guards", BEFORE_GUARDS)}
        # runs stored before these settings existed
        defaults = {"freeze_layers": 0, "balanced": True, "max_steps": None, **legacy_values(settings["trainer"])}
        unused = unused_by(settings["trainer"])
        for key in TRAINING_SETTINGS[1:]:
            if key in unused:
                settings[key] = ""  # a setting this trainer does not read
                continue
            settings[key] = setting_text(key, run.get(key, defaults.get(key, "")))  # lr 2e-05, max_pairs all
        rows[model["name"]] = settings
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()
