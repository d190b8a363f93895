"""The mining explorer's data: per model, mining pair and direction, the hard-negative summary stored in
the records, with the texts of the worst confusions deduplicated into one list (the same hard sentences
recur across models).

The gap histogram is drawn over the range the gaps of that model, pair and direction actually take: the
explorer bins the per-item gaps of the record's evidence over their own range (always including 0, the
line between right and wrong), where fixed bins from -1 to +1 put a good model's gaps (a few hundredths)
into one or two bars. Records written before the gaps were evidence kept such a fixed-bin histogram, and
show it; schema 3 no longer stores it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.core.vocabulary import MINING
from harness.results.evidence import decode_array
from harness.results.overview import group_name
from harness.results.schema import WORST_KEPT

WORST_SHOWN = WORST_KEPT  # every one a record keeps (schema version 2 kept 20)
GAP_BINS = 40
GAP_RANGE_QUANTILES = (0.005, 0.995)  # the few gaps beyond these fall into the end bars, which say so


def gap_histogram(gaps: np.ndarray, bins: int = GAP_BINS) -> dict[str, Any]:
    """{"range": [low, high], "counts": [...]}: `bins` equal bins over the range most finite gaps take, with 0
    on a bin edge (a bar holds only errors or only right answers); gaps beyond either end count in the end
    bin."""
    finite = gaps[np.isfinite(gaps)]
    if not len(finite):
        return {"range": [-1.0, 1.0], "counts": [0] * bins}
    low, high = np.quantile(finite, GAP_RANGE_QUANTILES)
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    width = max(high - low, 0.02) / (bins - 1)  # one bin spare, so that 0 can sit on an edge
    low = math.floor(low / width + 1e-9) * width
    high = low + bins * width
    counts, _ = np.histogram(np.clip(finite, low, high), bins=bins, range=(low, high))
    return {"range": [round(low, 10), round(high, 10)], "counts": counts.tolist()}


def _gap_evidence(record: dict[str, Any], direction: str) -> np.ndarray | None:
    entry = (record.get("evidence") or {}).get("arrays", {}).get(f"gap_{direction}")
    return None if entry is None else decode_array(entry).astype(np.float64)


def _stored_histogram(analysis: dict[str, Any]) -> dict[str, Any]:
    """The fixed-bin histogram a record written before its gaps were evidence keeps (none: an empty one)."""
    kept = analysis.get("gap_histogram") or {"edges": [-1.0, 1.0], "counts": [0] * GAP_BINS}
    return {"range": [kept["edges"][0], kept["edges"][-1]], "counts": kept["counts"]}


def explorer_data(records: list[dict[str, Any]], models: list[str]) -> dict[str, Any]:
    """{"texts": [...], "entries": {"model|task|pair|dir": summary}} for the
    mining records of `models` (a student trained with several seeds shows its first seed). Each entry's
    histogram is {"range": [low, high], "counts": [...]} over equal bins."""
    wanted = set(models)
    texts: dict[str, int] = {}
    entries: dict[str, Any] = {}

    def text_id(text: str) -> int:
        return texts.setdefault(text, len(texts))

    for record in sorted(records, key=lambda r: (r["model"]["name"], r["task"]["name"], r["pair"])):
        group = group_name(record["model"]["name"])
        if record["task"]["family"] != MINING or not record.get("analysis") or group not in wanted:
            continue
        for direction in ("fwd", "bwd"):
            key = f"{group}|{record['task']['name']}|{record['pair']}|{direction}"
            analysis = record["analysis"].get(direction)
            if analysis is None or key in entries:
                continue
            quantiles = analysis["gap_quantiles"]
            evidence = _gap_evidence(record, direction)
            entries[key] = {
                "n": analysis["n"], "rate": analysis["wrong_outranks_gold"],
                "hist": _stored_histogram(analysis) if evidence is None else gap_histogram(evidence),
                "median": quantiles["p50"], "p5": quantiles["p5"],
                "tags": [f"{tag} {count}" for tag, count in sorted(analysis["error_tags"].items())],
                "worst": [[text_id(w["query"]), text_id(w["gold"]), text_id(w["wrong"]), w["gap"], " ".join(w["tags"])]
                          for w in analysis["worst"][:WORST_SHOWN]],
            }
    return {"texts": list(texts), "entries": entries}
