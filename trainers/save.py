"""Saving a student, and recognising a finished one (so a rerun reuses it, or refuses other settings)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.process import is_main_process
from harness.core.training import INCIDENTAL, differences_text, recipe_differences
from harness.encoders.card import SUMMARY, is_complete, save_summary_and_card, stored_recipe
from trainers.distributed import distributed, wait_for_all_ranks


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


CHECKPOINT_RECIPE = "recipe.json"  # in <output>/checkpoints: what the checkpoints beside it were trained with


def prepare_output(output: Path, recipe: dict[str, Any], overwrite: bool, log=print) -> None:
    """Get `output` ready to train `recipe` (settings and origin) into, before anything is fitted.

    Checkpoints of another recipe are refused (resuming them would make a student of two recipes; exit 2, naming
    the differences), or with `overwrite` discarded; `overwrite` also discards a finished student, so a retrain
    starts afresh instead of resuming the replaced run's last checkpoint. A killed retrain, rerun with the same
    command, resumes its own checkpoints. Then the recipe is written beside the checkpoints.

    Under torchrun every rank decides from the folder as it was, before rank 0 alone changes it, and none goes on
    until it has: a rank deciding after rank 0 discarded would see no finished student and no recipe, and so
    refuse or go on differently from rank 0. Should rank 0 fail in between, the others wait until torchrun ends
    them.
    """
    distributed()  # the process group, when launched by torchrun, so that the ranks can wait for each other
    checkpoints = output / "checkpoints"
    try:
        changed = checkpoint_differences(output, recipe)
    except HarnessError:
        if not overwrite:
            raise
        changed = {CHECKPOINT_RECIPE: ("unreadable", "discarded")}  # --overwrite discards what it cannot read
    discard = overwrite and (is_complete(output) or bool(changed))
    wait_for_all_ranks()  # every rank has read the folder
    if changed and not discard:
        raise other_checkpoints_error(output, changed)
    if is_main_process():
        from harness.core.atomic import write_text_atomic

        if discard:
            discard_training(output, log)
        checkpoints.mkdir(parents=True, exist_ok=True)
        write_text_atomic(checkpoints / CHECKPOINT_RECIPE, json.dumps(recipe, indent=1, sort_keys=True) + "\n")
    wait_for_all_ranks()  # and rank 0 has discarded and written


def loop_recipe(recipe: dict[str, Any], trainer_class) -> dict[str, Any]:
    """The part of a student's recipe its checkpoints are held to: all but the settings only the steps after the
    training loop read (the trainer class's `after_the_loop`), so a killed training resumes whatever these are."""
    after = read_after_the_loop(trainer_class)
    return {key: value for key, value in recipe.items() if key not in after}


def read_after_the_loop(trainer_class) -> frozenset[str]:
    """The recipe keys a trainer reads only after its training loop (none for a plug-in that does not say)."""
    return getattr(trainer_class, "after_the_loop", frozenset())


def checkpoint_differences(output: Path, recipe: dict[str, Any]) -> dict[str, tuple]:
    """How `recipe` differs from that of the checkpoints in `output` ({} when there are none, or they are older
    than recipes): the settings and origin keys `recipe` has, as `recipe_differences` compares them."""
    stored = _read_recipe(output / "checkpoints" / CHECKPOINT_RECIPE)
    return recipe_differences(stored, recipe, recipe.get("trainer", "")) if stored is not None else {}


def other_checkpoints_error(output: Path, changed: dict[str, tuple]) -> HarnessError:
    """The one-line refusal to resume checkpoints of another recipe."""
    return HarnessError(f"{output / 'checkpoints'}: checkpoints of a run with other settings "
                        f"({differences_text(changed)}); resuming them would mix two recipes: rerun with its settings, "
                        f"or start afresh (train: --overwrite; run: another tag, or --overwrite)")


def _read_recipe(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None  # none yet, or checkpoints from before recipes were kept: not checked
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HarnessError(f"{path}: not readable as JSON ({err}); delete it to resume unchecked") from None


def discard_training(output: Path, log=print) -> None:
    """Remove what a training left in `output` so that a retrain starts afresh: its checkpoints, the summary that
    marks it finished, and nested trainings (ranking-hn's stage1/). The weights stay until the retrain saves."""
    gone = []
    for child in sorted(output.iterdir()) if output.is_dir() else []:
        if child.name == "checkpoints" or (child.is_dir() and ((child / "checkpoints").is_dir() or is_complete(child))):
            shutil.rmtree(child, ignore_errors=True)
            gone.append(child.name + "/")
    if (output / SUMMARY).is_file():
        (output / SUMMARY).unlink()
        gone.append(SUMMARY)
    if gone:
        log(f"--overwrite: {output}: deleted {', '.join(gone)}; training starts afresh")


def origin(trainer: str, teacher, data) -> dict[str, Any]:
    """How a student is made besides its settings: which trainer, from which teacher, on which data."""
    return {"trainer": trainer, "teacher": teacher.name, "data_fingerprint": data.fingerprint}


def recipe_of(config, origin: dict[str, Any]) -> dict[str, Any]:
    """What a training learns from, as its checkpoints keep it: every setting but the incidental ones, and its
    origin (trainer, teacher, data fingerprint), as JSON has them."""
    settings = {k: v for k, v in config.to_dict().items() if k not in INCIDENTAL}
    return json.loads(json.dumps({**settings, **origin}))


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
    wait_for_all_ranks()
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
