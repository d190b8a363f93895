"""Saving a student, and recognising a finished one (so a rerun reuses it, or refuses other settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.process import is_main_process
from harness.core.training import differences_text, recipe_differences
from harness.encoders.card import is_complete, save_summary_and_card, stored_recipe


def finished(output: Path, config=None, origin: dict[str, Any] | None = None) -> bool:
    """True when `output` holds a completed training (its summary is written last).

    With `config` (and `origin`: trainer, teacher, data fingerprint), a completed training made otherwise is an
    error rather than a silent reuse. Settings the trainer does not read are not compared; one it reads that
    an older summary lacks is compared at the value it had before it existed (`harness.core.training`).
    """
    if not is_complete(output):
        return False
    if config is not None:
        changed = recipe_differences(stored_recipe(output), {**config.to_dict(), **(origin or {})},
                                     (origin or {}).get("trainer", ""))
        if changed:
            raise HarnessError(f"{output} holds a student trained with other settings ({differences_text(changed)}); "
                               f"delete it, or train into another folder (train: --output or --overwrite; "
                               f"run: a tag)")
    return True


def origin(trainer: str, teacher, data) -> dict[str, Any]:
    """How a student is made besides its settings: which trainer, from which teacher, on which data."""
    return {"trainer": trainer, "teacher": teacher.name, "data_fingerprint": data.fingerprint}


def save_student(model, output: Path, summary: dict[str, Any]) -> Path:
    """Save a sentence-transformers folder, its model card, and the training summary (last).

    Under torchrun, rank 0 saves and every rank waits for it, so that all can read the folder next.
    """
    if is_main_process():
        output.mkdir(parents=True, exist_ok=True)
        model.save(str(output), safe_serialization=True)
        dtype = summary.get("config", {}).get("save_dtype", "float32")
        if dtype != "float32":
            cast_weights(output, dtype)
        save_summary_and_card(output, summary)
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
    return output


def cast_weights(folder: Path, dtype: str) -> None:
    """Store every floating-point weight of a saved model folder as `dtype` (float16 halves it on disk).

    The configs keep float32, so the model loads as float32 again, as the fp16-stored base does; checkpoints
    and other files beside the model's own are left alone."""
    import torch
    from safetensors.torch import load_file, save

    from harness.core.atomic import write_bytes_atomic
    from harness.encoders.specs import model_files

    wanted = getattr(torch, dtype)
    for path in model_files(folder):
        if path.suffix != ".safetensors":
            continue
        tensors = {k: v.to(wanted) if v.is_floating_point() else v for k, v in load_file(path).items()}
        write_bytes_atomic(path, save(tensors, metadata={"format": "pt"}))
