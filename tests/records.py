"""Build and edit result records for the gate's tests: evidence first, scores and intervals recomputed
from it with the harness's own functions, so an edited record stays consistent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness.core.task import Evidence
from harness.results import stats
from harness.results.evidence import arrays_of, bootstrap, evidence_to_json
from harness.results.schema import make_record
from harness.results.store import ResultStore

MINING = {"acc_margin_mean": ("mean", ("correct_fwd", "correct_bwd")),
          "acc_margin_fwd": ("mean", ("correct_fwd",)),
          "xsim_error_fwd": ("error", ("correct_fwd",))}


def rescored(record: dict, arrays: dict[str, np.ndarray]) -> dict:
    """`record` with new evidence arrays and every evidenced metric recomputed (value, interval, replicates)."""
    statistics = {name: (kind, tuple(names)) for name, (kind, names) in record["evidence"]["statistics"].items()}
    evidence = Evidence(arrays, statistics)
    metrics = dict(record["metrics"])
    for name, (kind, names) in statistics.items():
        metrics[name] = {"value": round(stats.point_estimate(kind, [arrays[a] for a in names]), 6),
                         "higher_is_better": metrics[name]["higher_is_better"]}
    section = bootstrap(evidence, record["task"]["name"], record["pair"], record["task"]["main_score"], metrics)
    return {**record, "metrics": metrics, "evidence": evidence_to_json(evidence), "bootstrap": section}


def read_record(path: Path) -> dict:
    """The record stored at `path` (<model>/<task>/<pair>.json), read as the store reads it: shared parts put
    back, upgraded."""
    return ResultStore(path.parents[2]).load(path)


def edit_record(path: Path, change) -> dict:
    """Apply `change(record)` (returning the new record) to the record stored at `path` (in a store's
    <model>/<task>/<pair>.json), read and written through the store: its shared parts stay consistent."""
    store = ResultStore(path.parents[2])
    record = change(store.load(path))
    store.save(path, record)
    return record


def edit_evidence(path: Path, change) -> dict:
    """Apply `change(arrays)` to a stored record's evidence and rewrite it consistently."""
    def changed(record: dict) -> dict:
        arrays = {name: np.array(values) for name, values in arrays_of(record).items()}
        change(arrays)
        return rescored(record, arrays)

    return edit_record(path, changed)


def mining_record(model: str, correct_fwd: np.ndarray, correct_bwd: np.ndarray, pair: str = "de-en",
                  task_name: str = "tatoeba") -> dict:
    """A mining record whose scores come from per-query correctness (n = len(correct_fwd))."""
    task = {"name": task_name, "family": "mining", "dataset": "synthetic", "split": "test",
            "main_score": "acc_margin_mean", "description": "", "reference": "", "version": "1"}
    higher = {"acc_margin_mean": True, "acc_margin_fwd": True, "xsim_error_fwd": False}
    record = make_record(model={"name": model, "revision": "r"}, task=task, pair=pair,
                         metrics={name: {"value": 0.0, "higher_is_better": up} for name, up in higher.items()},
                         n_items=len(correct_fwd), seconds=0.0, data_fingerprint="data",
                         evidence={"n": len(correct_fwd), "arrays": {}, "statistics": {k: [kind, list(names)]
                                                                                     for k, (kind, names)
                                                                                     in MINING.items()}})
    return rescored(record, {"correct_fwd": correct_fwd.astype(np.uint8), "correct_bwd": correct_bwd.astype(np.uint8)})


def sts_record(model: str, cosine: np.ndarray, gold: np.ndarray, pair: str = "en-de") -> dict:
    """An STS record whose Spearman and Pearson come from the cosines and gold scores."""
    task = {"name": "stsb-multi-mt", "family": "sts", "dataset": "synthetic", "split": "test",
            "main_score": "spearman", "description": "", "reference": "", "version": "1"}
    statistics = {"spearman": ["spearman", ["cosine", "gold"]], "pearson": ["pearson", ["cosine", "gold"]]}
    record = make_record(model={"name": model, "revision": "r"}, task=task, pair=pair,
                         metrics={name: {"value": 0.0, "higher_is_better": True} for name in statistics},
                         n_items=len(gold), seconds=0.0, data_fingerprint="data",
                         evidence={"n": len(gold), "arrays": {}, "statistics": statistics})
    return rescored(record, {"cosine": cosine.astype(np.float32), "gold": gold.astype(np.float32)})


def write(folder: Path, record: dict) -> None:
    path = folder / record["model"]["name"] / record["task"]["name"] / f"{record['pair']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record), encoding="utf-8")
