"""Multi-process training through the standard launcher: torchrun with 2 CPU processes (gloo)."""

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.process
def test_torchrun_two_processes_train_one_student(tiny_bert, data_env, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517",
           "-m", "harness", "train", "--teacher", "hash:32", "--student", str(tiny_bert), "--langs", "de",
           "--max-pairs", "32", "--dev-pairs", "8", "--batch-size", "8", "--output", str(out), "--no-eval",
           "--no-progress", "--checkpoint-every", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["world_size"] == 2
    assert summary["steps"] == 4  # 32 pairs / batch 8: each process took half of every batch
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(out), device="cpu").encode(["Anna kauft 7 Äpfel."]).shape == (1, 32)

    again = subprocess.run(cmd + ["--overwrite"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]  # both ranks retrain afresh: none resumes a checkpoint
    retrained = json.loads((out / "training_summary.json").read_text())
    assert retrained["resumed_from"] is None and retrained["world_size"] == 2
    assert [(p["from_step"], p["to_step"]) for p in retrained["training_parts"]] == [(0, 4)]


@pytest.mark.process
def test_a_collapse_under_torchrun_stops_every_rank(tiny_bert, data_env, tmp_path):
    """Rank 0 alone evaluates and stops with its one line; the other rank fails in its next all-reduce (with
    torchrun's traceback) instead of waiting, and torchrun reports the failure (exit 1: its code, not ours)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29519",
           "-m", "harness", "train", "--teacher", "hash:32", "--student", str(tiny_bert), "--langs", "de",
           "--max-pairs", "32", "--dev-pairs", "8", "--batch-size", "8", "--output", str(tmp_path / "ddp"),
           "--no-eval", "--no-progress", "--lr", "1.0", "--eval-every", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "error: align-map: align: the student's embeddings collapsed at step 1" in proc.stderr
    assert not (tmp_path / "ddp" / "modules.json").exists()
