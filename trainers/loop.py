"""The training loop every trainer shares: optimiser, warm-up, checkpoints and resume, dev callback,
progress bar with loss, seeds, CUDA/bf16 and torchrun (DDP, gloo on CPU) support.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.training import TrainConfig
from trainers.distributed import distributed
from trainers.guards import Guards, TrainingFailed
from trainers.sampling import BalancedBatches

STATE = "trainer_state.json"


@dataclass
class LoopResult:
    steps: int
    seconds: float
    samples: int
    resumed_from: int | None
    losses: list[float] = field(default_factory=list)
    dev: list[dict[str, Any]] = field(default_factory=list)
    guards: dict[str, Any] = field(default_factory=dict)
    parts: list[dict[str, Any]] = field(default_factory=list)  # one per process that trained: TrainingPart.record
    arithmetic: str = "fp32"  # this process's: bf16 when its steps ran under bf16 autocast


@dataclass
class TrainingPart:
    """The steps one process trained, from a checkpoint or the start, and its training seconds (dev evaluations
    left out). A run resumed over several sessions keeps the earlier parts in its checkpoints, so its summary can
    give the whole training time, not only the last part's."""

    first: int
    device: str
    world_size: int
    began: float  # time.perf_counter() when it started
    arithmetic: str  # bf16 or fp32, as --precision gave it here ('auto': bf16 only on a GPU that supports it)

    def seconds(self, evaluating: float) -> float:
        """Training seconds so far: the time since it began less the `evaluating` seconds."""
        return time.perf_counter() - self.began - evaluating

    def record(self, step: int, seconds: float) -> dict[str, Any]:
        """The part up to `step`, trained in `seconds`."""
        return {"from_step": self.first, "to_step": step, "device": self.device, "world_size": self.world_size,
                "arithmetic": self.arithmetic, "seconds": round(seconds, 3)}


def earlier_parts(state: dict[str, Any], start: int) -> list[dict[str, Any]]:
    """The parts a checkpoint's state lists; a checkpoint from before parts were kept: one part of unknown time."""
    if "parts" in state:
        return list(state["parts"])
    return [{"from_step": 0, "to_step": start, "device": None, "seconds": None}] if start else []


_LAYER = re.compile(r"\.layers?\.(\d+)\.")


def frozen(name: str, config: TrainConfig) -> bool:
    """Whether the parameter called `name` is kept fixed: word embeddings and the lowest layers, as configured."""
    if config.freeze_embeddings and "word_embeddings" in name:
        return True
    if config.freeze_layers > 0:
        if ".embeddings." in name:
            return True
        layer = _LAYER.search(name)
        return bool(layer) and int(layer.group(1)) < config.freeze_layers
    return False


def _param_groups(model, config: TrainConfig) -> list[dict[str, Any]]:
    head, body = [], []
    for name, param in model.named_parameters():
        if frozen(name, config):
            param.requires_grad_(False)
        if param.requires_grad:
            # parameters of modules after the transformer (projection heads) get the head rate
            (body if name.startswith("0.") else head).append(param)
    groups = [{"params": body, "lr": config.lr}]
    if head:
        groups.append({"params": head, "lr": config.head_lr})
    return groups


def clip_gradients(parameters, max_norm: float) -> None:
    """Scale all gradients together so that their total norm is at most `max_norm`: torch's clip_grad_norm_,
    which does not take sparse gradients (an embedding table's rows), and the same rule written out when some are."""
    import torch

    parameters = [p for p in parameters if p.grad is not None]
    if not any(p.grad.is_sparse for p in parameters):
        torch.nn.utils.clip_grad_norm_(parameters, max_norm)
        return
    grads = [p.grad.coalesce() if p.grad.is_sparse else p.grad for p in parameters]
    total = torch.stack([(g.values() if g.is_sparse else g).pow(2).sum() for g in grads]).sum().sqrt()
    factor = (max_norm / (total + 1e-6)).clamp(max=1.0)  # torch's own epsilon
    for param, grad in zip(parameters, grads):
        if grad.is_sparse:
            param.grad = grad * factor
        else:
            grad.mul_(factor)  # in place, as torch does (DDP may keep the gradient as a view of its bucket)


def _schedule(total: int, warmup: float) -> Callable[[int], float]:
    """Linear warm-up over the first `warmup` share of steps, then linear decay to zero."""
    warm = max(1, int(total * warmup))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total - step) / max(1, total - warm))

    return factor


def _latest_checkpoint(folder: Path) -> Path | None:
    done = [p for p in folder.glob("step-*") if (p / STATE).is_file()]
    return max(done, key=_step_of) if done else None


def _save_checkpoint(folder: Path, model, optimizer, scheduler, step: int, keep: int,
                     guards: dict[str, Any] | None = None, parts: list[dict[str, Any]] | None = None) -> None:
    import torch
    from safetensors.torch import save_model

    final = folder / f"step-{step}"
    tmp = folder / f".tmp-step-{step}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_model(model, str(tmp / "model.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state()}, tmp / "optimizer.pt")
    state = {"step": step, "guards": guards or {}}
    if parts is not None:  # a state without parts reads as one untimed part on resume: never an empty list by default
        state["parts"] = parts
    (tmp / STATE).write_text(json.dumps(state), encoding="utf-8")  # written last: marks completeness
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    checkpoints = sorted(folder.glob("step-*"), key=_step_of)
    vouched = [p for p in checkpoints if guards and guards.get("last_good_step") is not None
               and _step_of(p) <= guards["last_good_step"]]
    for old in checkpoints[:-keep]:
        if vouched and old == vouched[-1]:
            continue  # the newest one a guard has passed: where a run that collapses later goes back to
        shutil.rmtree(old, ignore_errors=True)


def _step_of(path: Path) -> int:
    return int(path.name.split("-")[1])


def _drop_checkpoints_after(folder: Path, step: int) -> Path | None:
    """Remove the checkpoints taken after `step` (the last evaluation a guard passed); the newest one left."""
    for path in folder.glob("step-*"):
        if _step_of(path) > step:
            shutil.rmtree(path, ignore_errors=True)
    return _latest_checkpoint(folder)


def _state(path: Path | None) -> dict[str, Any]:
    return json.loads((path / STATE).read_text()) if path else {}


def _load_checkpoint(path: Path, model, optimizer, scheduler) -> int:
    import torch
    from safetensors.torch import load_model

    load_model(model, str(path / "model.safetensors"), device=str(next(model.parameters()).device))
    state = torch.load(path / "optimizer.pt", weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    return int(json.loads((path / STATE).read_text())["step"])


def autocast_plan(device, precision: str) -> tuple[str, bool]:
    """(autocast device type, whether bf16 autocast is on) for a model on `device` at `precision`.

    'auto' is bf16 on a GPU that supports it and fp32 elsewhere; 'bf16' asks for it on any device (the CPU
    too, which is slow but lets the GPU path be checked without a GPU); 'fp32' never autocasts."""
    import torch

    device_type = "cuda" if device.type == "cuda" else "cpu"
    if precision == "auto":
        return device_type, device_type == "cuda" and torch.cuda.is_bf16_supported()
    return device_type, precision == "bf16"


DEV_EVALUATIONS = 6  # dev evaluations in a run when eval_every is 'auto' (beside the one before the first step):
# five comparisons, of which the divergence guard needs three in a row


def eval_interval(config: TrainConfig, total: int) -> int:
    """Steps between dev evaluations: the setting, or with 'auto' about DEV_EVALUATIONS in the run when the
    guards are on (they judge a trend) and only the last one when they are off; 0: only the last one."""
    if config.eval_every is not None:
        return config.eval_every
    return max(1, math.ceil(total / DEV_EVALUATIONS)) if config.guards else 0


@dataclass
class DevWatch:
    """Runs the dev callback and the guards on what it returns (rank 0 alone), at the steps the loop asks."""

    dev_fn: Callable | None
    guards: Guards
    result: LoopResult
    checkpoints: Path
    log: Callable = print
    seconds: float = 0.0  # spent evaluating, which the loop's training time leaves out
    _losses_seen: int = 0

    def __call__(self, model, step: int) -> None:
        if self.dev_fn is None:
            return
        began = time.perf_counter()
        try:
            self._evaluate(model, step)
        finally:
            self.seconds += time.perf_counter() - began

    def _evaluate(self, model, step: int) -> None:
        scores = self.dev_fn(model)
        self.result.dev.append({"step": step, **scores})
        recent = self.result.losses[self._losses_seen:]
        self._losses_seen = len(self.result.losses)
        try:
            self.guards.check(step, scores, sum(recent) / len(recent) if recent else None, self.log)
        except TrainingFailed as failed:
            kept = _drop_checkpoints_after(self.checkpoints, self.guards.last_good_step or 0)
            where = (f"kept: {kept}, the last checkpoint before it (the same command resumes there; another "
                     f"{self.guards.rate_flag} is another recipe: add --overwrite to start afresh)"
                     if kept else "no checkpoint was taken before it")
            raise TrainingFailed(f"{failed}; {where}") from None
        model.train()


def train_loop(model, loss_fn: Callable, batches: BalancedBatches, config: TrainConfig, workdir: Path,
               dev_fn: Callable | None = None, desc: str = "train",
               make_optimizer: Callable[[], Any] | None = None, rate_flag: str = "--lr") -> LoopResult:
    """Run `epochs` over `batches`; `loss_fn(model, items)` returns the loss of one (local) batch.

    `make_optimizer` replaces the default optimiser (AdamW, the transformer at `lr`, modules after it at `head_lr`,
    frozen parameters left out); `rate_flag` is the option its failures tell the user to lower. Gradients are
    clipped to norm 1, sparse ones too. Resumes from the newest complete checkpoint in `workdir/checkpoints`. The
    guards (trainers.guards) check every dev evaluation, the first before the first step; a collapse raises
    TrainingFailed (exit 3).
    """
    import torch
    from tqdm.auto import tqdm

    rank, world = distributed()
    torch.manual_seed(config.seed)
    optimizer = make_optimizer() if make_optimizer else torch.optim.AdamW(_param_groups(model, config),
                                                                          weight_decay=config.weight_decay)
    total = len(batches) * config.epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(total, config.warmup))
    ckpt_dir = workdir / "checkpoints"
    latest = _latest_checkpoint(ckpt_dir)
    start = _load_checkpoint(latest, model, optimizer, scheduler) if latest else 0
    train_model = model
    if world > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
    device_type, use_bf16 = autocast_plan(next(model.parameters()).device, config.precision)
    result = LoopResult(steps=total, seconds=0.0, samples=0, resumed_from=start or None,
                        arithmetic="bf16" if use_bf16 else "fp32")
    state = _state(latest)
    guards = Guards.restored(state.get("guards", {}), desc=desc, enabled=config.guards, rate_flag=rate_flag)
    earlier = earlier_parts(state, start)
    watch = DevWatch(dev_fn if rank == 0 else None, guards, result, ckpt_dir)
    every = eval_interval(config, total)
    if guards.enabled and guards.start is None:
        watch(model, start)  # the spread before training, which the collapse guard compares with
    watch.seconds = 0.0
    bar = tqdm(total=total, initial=start, desc=desc, unit="step", disable=not config.progress or rank != 0)
    began, ema = time.perf_counter(), None
    part = TrainingPart(start, str(next(model.parameters()).device), world, began, result.arithmetic)
    step = start
    for epoch in range(start // len(batches), config.epochs):
        model.train()
        for items in batches.epoch(epoch, start=step - epoch * len(batches)):
            if step >= total:
                break
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=use_bf16):
                loss = loss_fn(train_model, items[rank::world])
            value = loss.item()  # the one host sync of a step
            if not math.isfinite(value):
                raise TrainingFailed(f"{desc}: the loss became {value} at step {step}; lower {rate_flag}")
            loss.backward()
            clip_gradients(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            result.samples += len(items)
            ema = value if ema is None else 0.95 * ema + 0.05 * value
            result.losses.append(round(value, 6))
            bar.update(1)
            bar.set_postfix(loss=f"{ema:.4g}")
            if every and step % every == 0 and step < total:
                watch(model, step)
            if rank == 0 and config.checkpoint_every and step % config.checkpoint_every == 0 and step < total:
                _save_checkpoint(ckpt_dir, model, optimizer, scheduler, step, config.keep_checkpoints, guards.state(),
                                 [*earlier, part.record(step, part.seconds(watch.seconds))])
    bar.close()
    result.steps = step  # the steps taken (max_steps stops early; a resumed run counts its earlier steps too)
    result.seconds = part.seconds(watch.seconds)  # training alone: pairs/s stay comparable
    result.parts = [*earlier, part.record(step, result.seconds)] if step > start or not earlier else earlier
    watch(model, step)
    result.guards = guards.summary()
    return result
