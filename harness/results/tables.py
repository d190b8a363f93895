"""Result records -> pandas tables: long form, and models x (task, language pair) main scores."""

from __future__ import annotations

from typing import Any

import pandas as pd

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


def comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    """A comparison (harness.results.compare) for reading: the interval as one column, rows indexed."""
    shown = table.copy()
    shown["95% CI of change"] = [f"[{low:+.2f}, {high:+.2f}]" if pd.notna(low) else ""
                                 for low, high in zip(shown["ci_low"], shown["ci_high"])]
    shown["p"] = [f"{p:.2g}" if pd.notna(p) else "" for p in shown["p"]]
    shown["p (Holm)"] = [f"{p:.2g}" if pd.notna(p) else "" for p in shown["p_holm"]]
    columns = ["value_baseline", "value_candidate", "change", "95% CI of change", "p", "p (Holm)", "status"]
    return shown.set_index(["model", "task", "pair", "metric"])[columns]


ROLE_ORDER = {"teacher": 0, "base": 1, "student": 2, "baseline": 3}


def model_roles(records: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Model name -> its metadata (role, base, teacher, trainer) from the records."""
    roles: dict[str, dict[str, str]] = {}
    for record in sorted(records, key=lambda r: (r["model"]["name"], r["task"]["name"], r["pair"])):
        roles.setdefault(record["model"]["name"], {k: v for k, v in record["model"].items() if k != "revision"})
    return roles


def _languages_of(pair: str) -> set[str]:
    src, tgt = pair.split("-", 1)
    # an X-en pair belongs to X; en-en belongs to en
    return {lang for lang in (src, tgt) if lang != "en"} or {"en"}


def family_language_scores(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Mean main score per (model, family, language) over every task and pair touching that language."""
    long = long_table(records)
    long = long[long["main"]]
    rows = [{"model": r.model, "family": r.family, "lang": lang, "value": r.value}
            for r in long.itertuples() for lang in _languages_of(r.pair)]
    frame = pd.DataFrame(rows, columns=["model", "family", "lang", "value"])
    return frame.groupby(["model", "family", "lang"], sort=True)["value"].mean().reset_index()


def below_base_on_sts(records: list[dict[str, Any]]) -> dict[str, str]:
    """Students scoring below their own base on any STS pair: model -> description of the drops."""
    long = long_table(records)
    sts = long[(long["family"] == "sts") & long["main"]].set_index(["model", "task", "pair"])["value"]
    flags = {}
    for name, meta in model_roles(records).items():
        base = meta.get("base")
        if meta.get("role") != "student" or not base or base not in sts.index.get_level_values(0):
            continue
        drops = []
        for (task, pair), value in sts.loc[name].items():
            if (base, task, pair) in sts.index and value < sts[(base, task, pair)]:
                drops.append(f"{pair} {value - sts[(base, task, pair)]:+.1f}")
        if drops:
            flags[name] = "below base on STS: " + ", ".join(drops)
    return flags


def leaderboard_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Models x (family language) main scores, family averages, overall average, delta to the teacher, flags."""
    scores = family_language_scores(records)
    if scores.empty:
        return pd.DataFrame()
    wide = scores.pivot_table(index="model", columns=["family", "lang"], values="value", aggfunc="first")
    wide.columns = [f"{family} {lang}" for family, lang in wide.columns]
    for family in sorted(scores["family"].unique()):
        # average over the languages every model with this family was scored on, so that a model run
        # on twelve languages and one run on two are averaged over the same columns
        columns = [c for c in wide.columns if c.startswith(f"{family} ")]
        present = wide[columns].notna()
        has_family = present.any(axis=1)
        common = [c for c in columns if present.loc[has_family, c].all()] or columns
        wide[f"{family} avg"] = wide[common].mean(axis=1).where(has_family)
    family_avgs = [c for c in wide.columns if c.endswith(" avg")]
    wide["avg"] = wide[family_avgs].mean(axis=1, skipna=False)  # blank for a model missing a family
    roles = model_roles(records)
    teachers = [m for m, meta in roles.items() if meta.get("role") == "teacher" and m in wide.index]
    wide["Δ teacher"] = wide["avg"] - wide.loc[teachers[0], "avg"] if teachers else float("nan")
    flags = below_base_on_sts(records)
    wide.insert(0, "role", [roles.get(m, {}).get("role", "") for m in wide.index])
    wide["flag"] = [flags.get(m, "") for m in wide.index]
    order = sorted(wide.index, key=lambda m: (ROLE_ORDER.get(wide.loc[m, "role"], 9), m))
    return wide.loc[order]


TRAINING_SETTINGS = ["trainer", "langs", "max_pairs", "epochs", "lr", "freeze_layers", "balanced", "max_seq_length",
                     "tasks"]


def training_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """How each student was made, from the run configuration stored in its records (one row per student)."""
    rows = {}
    for record in sorted(records, key=lambda r: (r["model"]["name"], r["task"]["name"], r["pair"])):
        model, run = record["model"], record.get("run") or {}
        if model.get("role") != "student" or model["name"] in rows or not run:
            continue
        settings = {"trainer": model.get("trainer", ""), "teacher": model.get("teacher", ""),
                    "base": model.get("base", ""), "trained on": model.get("trained_on", "")}
        defaults = {"freeze_layers": 0, "balanced": True}  # runs stored before these settings existed
        for key in TRAINING_SETTINGS[1:]:
            value = run.get(key, defaults.get(key, ""))
            if isinstance(value, list):
                value = ",".join(value)
            elif isinstance(value, float):
                value = f"{value:g}"  # learning rates: 2e-05, not a rounded 0.0
            settings[key] = value
        rows[model["name"]] = settings
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()
