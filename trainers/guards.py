"""Guards against silent failure, checked by the training loop at every dev evaluation (the first one before
the first step), on in every trainer:

- **collapse**: the spread of the student's embeddings of the dev sentences (the mean variance per dimension of
  the unit vectors, with the mean cosine between two different sentences beside it) falls below a share of
  its spread before training. The run stops (`TrainingFailed`, exit 3) and keeps the checkpoints taken up to
  the last evaluation that passed; the collapsed weights are never saved as a student.
- **divergence**: the dev translation accuracy (mean over languages) falls at `patience` evaluations in a row
  while the training loss falls too: a warning in the log and a flag in the training summary (the loss is
  being lowered by something that does not transfer; sentence-transformers #1068).

What the guards saw goes into the training summary (`guards`), and from there into every record of the
student and the report's guard columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.core.errors import HarnessError

COLLAPSE_SHARE = 0.05  # spread below 5% of the start's: the embeddings have collapsed towards one point
DEGENERATE = 1e-12  # a spread (variance per dimension) at or below this is none: rounding leaves ~1e-17, not 0
NO_SPREAD = 1e-6  # targets this much less spread than the student's start are one point (a constant teacher)
PATIENCE = 3  # falls in a row of dev accuracy, with the loss falling, that make a divergence
SPREAD_SAMPLE = 1024  # dev sentences the spread is measured on (trainers.dev takes an even sample)
MEAN_COS = "spread_mean_cos"
VARIANCE = "spread_var_per_dim"
TEACHER_VARIANCE = "teacher_spread_var_per_dim"  # the targets' own spread, where the trainer has targets


class TrainingFailed(HarnessError):
    """A training run that stopped because its student failed (collapsed, or a loss that is not a number)."""

    exit_code = 3


def spread(vectors: np.ndarray) -> dict[str, float]:
    """How spread out embeddings are: the mean cosine between two different rows and the mean variance per
    dimension of the rows made unit length. A collapsed model maps every sentence to (nearly) one point: mean
    cosine 1, variance 0. Rows of zeros or not-a-number count as a collapse (variance 0)."""
    x = np.asarray(vectors, dtype=np.float64)
    if len(x) < 2 or not np.isfinite(x).all():
        return {MEAN_COS: 1.0, VARIANCE: 0.0}
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    total = unit.sum(axis=0)
    n = len(unit)
    mean_cos = (float(total @ total) - float((unit * unit).sum())) / (n * (n - 1))  # the off-diagonal mean
    return {MEAN_COS: round(mean_cos, 6), VARIANCE: float(f"{unit.var(axis=0).mean():.6g}")}


def mean_accuracy(scores: dict[str, Any]) -> float | None:
    """The dev translation accuracy over languages, or None when the evaluation has none."""
    values = [v for k, v in scores.items() if k.startswith("dev_acc_")]
    return float(np.mean(values)) if values else None


@dataclass
class Guards:
    """What the guards have seen in one training loop; `check` is called at each dev evaluation."""

    desc: str = "train"
    rate_flag: str = "--lr"  # the option that sets the trainer's learning rate, which the collapse message names
    enabled: bool = True
    patience: int = PATIENCE
    start: dict[str, float] | None = None
    last_good_step: int | None = None
    checks: int = 0
    falls: int = 0  # dev-accuracy falls in a row with a falling loss
    divergence_steps: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _previous: tuple[float, float] | None = None  # (dev accuracy, loss) at the last evaluation

    KEPT = ("start", "last_good_step", "checks", "falls", "divergence_steps", "warnings", "_previous")

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps, so that a resumed run goes on judging from the same start."""
        return {name: getattr(self, name) for name in self.KEPT}

    @classmethod
    def restored(cls, state: dict[str, Any], desc: str, enabled: bool, rate_flag: str = "--lr") -> Guards:
        """Guards that go on from a checkpoint's `state` ({} for a fresh run, or a checkpoint from before)."""
        guards = cls(desc=desc, enabled=enabled, rate_flag=rate_flag)
        for name in cls.KEPT:
            if name in state:
                value = state[name]
                setattr(guards, name, tuple(value) if name == "_previous" and value is not None else value)
        return guards

    def check(self, step: int, scores: dict[str, Any], loss: float | None, log=print) -> None:
        """Check one dev evaluation (`scores` from trainers.dev, `loss` the mean training loss since the last
        one, None before the first step). Raises TrainingFailed on a collapse."""
        if not self.enabled or VARIANCE not in scores:
            return
        self.checks += 1
        if self.start is None:
            self.start = {MEAN_COS: scores[MEAN_COS], VARIANCE: scores[VARIANCE]}
        if not self.start[VARIANCE] > DEGENERATE:
            raise TrainingFailed(f"{self.desc}: every dev sentence has the same embedding before training (spread "
                                 f"{self.start[VARIANCE]:.3g}): the student is degenerate from the start (--no-guards "
                                 f"trains on regardless)")
        if not scores[VARIANCE] > COLLAPSE_SHARE * self.reference(scores):
            raise TrainingFailed(self._collapse_message(step, scores))
        self.last_good_step = step
        accuracy = mean_accuracy(scores)
        if accuracy is None or loss is None or not math.isfinite(loss):
            return
        if self._previous is not None:
            before_acc, before_loss = self._previous
            self.falls = self.falls + 1 if accuracy < before_acc and loss < before_loss else 0
            if self.falls == self.patience:  # flagged once per run of falls
                self.divergence_steps.append(step)
                warning = (f"{self.desc}: dev translation accuracy fell at {self.falls} evaluations in a row while "
                           f"the training loss fell (step {step}: accuracy {accuracy:.1f}, loss {loss:.4g}); "
                           f"the loss is lowered by something that does not transfer")
                self.warnings.append(warning)
                log(f"warning: {warning}")
        self._previous = (accuracy, loss)

    def reference(self, scores: dict[str, Any]) -> float:
        """The spread a collapse is judged against: the student's before training, or its targets' where those
        are more concentrated (a student distilled into a narrow teacher space is not collapsing). Targets
        without any spread do not lower it: a constant teacher is a failure, not a space."""
        assert self.start is not None
        targets = scores.get(TEACHER_VARIANCE) or 0.0
        without_spread = targets <= NO_SPREAD * self.start[VARIANCE]  # rounding's leftovers of one vector
        return self.start[VARIANCE] if without_spread else min(self.start[VARIANCE], targets)

    def _collapse_message(self, step: int, scores: dict[str, Any]) -> str:
        assert self.start is not None
        reference = self.reference(scores)
        against = "its spread before training" if reference == self.start[VARIANCE] else "its targets' spread"
        return (f"{self.desc}: the student's embeddings collapsed at step {step}: the spread of its dev embeddings "
                f"(mean variance per dimension) fell to {scores[VARIANCE]:.3g}, {scores[VARIANCE] / reference:.1%} "
                f"of {against}, {reference:.3g} (the guard stops below {COLLAPSE_SHARE:.0%}); mean cosine between "
                f"dev sentences {scores[MEAN_COS]:.4f}, {self.start[MEAN_COS]:.4f} before training. Lower "
                f"{self.rate_flag}, or check the teacher's embeddings (--no-guards trains on regardless)")

    def summary(self) -> dict[str, Any]:
        """The training summary's `guards` entry."""
        if not self.enabled:
            return {"enabled": False}
        return {"enabled": True, "checks": self.checks, "collapse_share": COLLAPSE_SHARE, "start": self.start,
                "collapsed": False, "divergence": bool(self.divergence_steps),
                "divergence_steps": self.divergence_steps, "patience": self.patience, "warnings": self.warnings}
