"""Export stored results as mteb TaskResult JSON: results/mteb/<model>/<revision>/<task>.json.

mteb reports scores in [0, 1]; ours are x100, so they are divided back.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.core.languages import mteb_code
from harness.results.store import ResultStore, safe_name, write_json_atomic

NOT_PERCENT = {"extract_threshold"}


def task_result(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One mteb TaskResult dict for all pairs of one (model, task)."""
    task = records[0]["task"]
    entries = []
    for record in sorted(records, key=lambda r: r["pair"]):
        src, tgt = record["pair"].split("-", 1)
        scores = {name: (m["value"] if name in NOT_PERCENT else m["value"] / 100.0)
                  for name, m in sorted(record["metrics"].items())}
        entries.append({"hf_subset": f"{src}-{tgt}", "languages": sorted({mteb_code(src), mteb_code(tgt)}),
                        "main_score": scores[task["main_score"]], **scores})
    return {
        "dataset_revision": f"{task['dataset']}@{task.get('version', '1')}",
        "task_name": task["name"],
        "mteb_version": None,
        "scores": {task["split"]: entries},
        "evaluation_time": round(sum(r["timing"]["seconds"] for r in records), 3),
        "kg_co2_emissions": None,
    }


def export_mteb(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write one TaskResult file per (model, task) of the successful records."""
    records, _ = ResultStore(results_dir).records()
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if record["status"] == "ok":
            key = (record["model"]["name"], record["model"].get("revision", "unknown"), record["task"]["name"])
            groups[key].append(record)
    paths = []
    for (model, revision, task), group in sorted(groups.items()):
        path = Path(out_dir) / safe_name(model) / safe_name(revision) / f"{safe_name(task)}.json"
        write_json_atomic(path, task_result(group))
        paths.append(path)
    return paths
