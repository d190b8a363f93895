"""The mining explorer's data: per model, mining pair and direction, the hard-negative summary stored in
the records, with the texts of the worst confusions deduplicated into one list (the same hard sentences
recur across models)."""

from __future__ import annotations

from typing import Any

from harness.core.vocabulary import MINING
from harness.results.overview import group_name

WORST_SHOWN = 10  # of the 20 a record keeps: enough to read, and the page stays small


def explorer_data(records: list[dict[str, Any]], models: list[str]) -> dict[str, Any]:
    """{"edges": histogram bin edges, "texts": [...], "entries": {"model|task|pair|dir": summary}} for the
    mining records of `models` (a student trained with several seeds shows its first seed)."""
    wanted = set(models)
    texts: dict[str, int] = {}
    entries: dict[str, Any] = {}
    edges: list[float] = []

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
            edges = edges or analysis["gap_histogram"]["edges"]
            quantiles = analysis["gap_quantiles"]
            entries[key] = {
                "n": analysis["n"], "rate": analysis["wrong_outranks_gold"],
                "hist": analysis["gap_histogram"]["counts"],
                "median": quantiles["p50"], "p5": quantiles["p5"],
                "tags": [f"{tag} {count}" for tag, count in sorted(analysis["error_tags"].items())],
                "worst": [[text_id(w["query"]), text_id(w["gold"]), text_id(w["wrong"]), w["gap"], " ".join(w["tags"])]
                          for w in analysis["worst"][:WORST_SHOWN]],
            }
    return {"edges": edges, "texts": list(texts), "entries": entries}
