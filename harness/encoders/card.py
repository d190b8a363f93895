"""A trained student's folder beside its weights: `training_summary.json` (written last, so it marks a
completed training) and the model card `README.md` rendered from it. Trainers write them; the application
reads them and adds evaluation scores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.core.atomic import write_text_atomic

SUMMARY = "training_summary.json"


def read_summary(folder: Path) -> dict[str, Any]:
    """The training summary a student folder carries (written last by `save_summary_and_card`)."""
    return json.loads((Path(folder) / SUMMARY).read_text(encoding="utf-8"))


def save_summary_and_card(output: Path, summary: dict[str, Any]) -> None:
    """(Re)write README.md from `summary`, then the summary itself (its presence marks completion)."""
    write_text_atomic(output / "README.md", model_card(summary))
    write_text_atomic(output / SUMMARY, json.dumps(summary, indent=2, sort_keys=True) + "\n")


def _arithmetic(part: dict[str, Any]) -> str:
    """` (bf16)`: the arithmetic a training (or one part of it) ran in, as its record gives it (none before it
    was kept)."""
    return f" ({part['arithmetic']})" if part.get("arithmetic") else ""


def _parts_line(summary: dict[str, Any]) -> list[str]:
    """A line for a run trained in several parts (resumed from checkpoints): the figures above are the last one's."""
    parts = summary.get("training_parts") or []
    if len(parts) < 2:
        return []
    each = "; ".join(f"steps {p['from_step']} to {p['to_step']}"
                     + (f", {p['seconds']:.0f} s on {p['device']}{_arithmetic(p)}" if p["seconds"] is not None
                        else ", not timed")
                     for p in parts)
    seconds = summary.get("training_seconds")  # the summary's sum: None when a part was not timed
    total = f"{seconds:.0f} s in all" if seconds is not None else "the total unknown"
    return [f"- **Trained in {len(parts)} parts** (resumed from checkpoints; the seconds and pairs/s above are the "
            f"last part's): {each}; {total}"]


def model_card(summary: dict[str, Any]) -> str:
    """A Markdown model card: teacher, base, trainer, languages, data, hyper-parameters, scores."""
    lines = [
        f"# {summary['trainer']} student: {summary['student']} <- {summary['teacher']}",
        "",
        "A multilingual sentence-embedding model made with the distillation harness "
        "(Reimers & Gurevych 2020 setup). Load it with `SentenceTransformer(path)`.",
        "",
        f"- **Trainer:** `{summary['trainer']}`",
        f"- **Teacher:** `{summary['teacher']}` ({summary.get('teacher_revision', '?')})",
        f"- **Student base:** `{summary['student']}`",
        f"- **Languages:** {', '.join(summary['langs'])}",
        f"- **Training pairs:** {summary['n_pairs']} over {len(summary['datasets'])} datasets "
        f"({'balanced' if summary['config']['balanced'] else 'unbalanced'} batches)",
        f"- **Steps:** {summary['steps']}, {summary['seconds']:.0f} s, {summary['pairs_per_second']:.1f} pairs/s "
        f"on {summary['device']}{_arithmetic(summary)}",
        *_parts_line(summary),
        "",
        *_outputs_section(summary.get("outputs") or {}),
        "## Data",
        "",
        "| dataset | pairs |",
        "|---|---|",
        *[f"| {name} | {count} |" for name, count in summary["datasets"].items()],
        "",
        "## Hyper-parameters",
        "",
        "| name | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in sorted(summary["config"].items())],
        "",
        "## Scores",
        "",
    ]
    dev = summary.get("dev") or []
    if dev:
        lines += ["Held-out dev pairs (final step):", "", "| metric | value |", "|---|---|",
                  *[f"| {k} | {v} |" for k, v in dev[-1].items() if k != "step"], ""]
    evaluation = summary.get("evaluation") or {}
    if evaluation:
        lines += ["Harness evaluation:", "", "| task | pair | metric | value |", "|---|---|---|---|",
                  *[f"| {row['task']} | {row['pair']} | {row['metric']} | {row['value']:.2f} |" for row in evaluation],
                  ""]
    return "\n".join(lines)


def _outputs_section(outputs: dict[str, str]) -> list[str]:
    """The model card's list of a model's named outputs (a Router's routes), with how to ask for each."""
    if not outputs:
        return []
    return ["## Outputs", "", "This model has one trunk and several outputs; `model.encode(texts)` gives the "
            "first, `model.encode(texts, task=NAME)` any of them (in the harness: `MODEL#output=NAME`).", "",
            *[f"- `{name}`: {what}" for name, what in outputs.items()], ""]


def model_outputs(folder: str | Path) -> tuple[str, ...]:
    """The named outputs of a sentence-transformers folder, read without loading it: the routes of a Router
    that follows its first module, its default route first (() for a model with one output, or a folder that
    is not a model)."""
    folder = Path(folder)
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        routers = [m for m in modules[1:] if str(m.get("type", "")).endswith(".Router")]
        if not routers:
            return ()
        config = json.loads((folder / routers[-1]["path"] / "router_config.json").read_text(encoding="utf-8"))
        default = config.get("parameters", {}).get("default_route")
        routes = list(config["structure"])
        return tuple(sorted(routes, key=lambda route: route != default))  # the default output first
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ()


def trained_on(folder: Path) -> str:
    """Where a student was trained, from its summary: the device and, on CPU, the core count; on a GPU, its name
    (e.g. 'cuda:0, NVIDIA H100 80GB HBM3')."""
    summary = read_summary(folder)
    device = str(summary.get("device", "?"))
    if device == "cpu" and "cpu_count" in summary:
        return f"{device}, {summary['cpu_count']} cores"
    if device.startswith("cuda") and summary.get("gpu"):
        return f"{device}, {summary['gpu']}"
    return device


def guard_status(folder: Path) -> str | None:
    """What the training guards (trainers.guards) saw, in a few words, from a student's summary; None for a
    student trained before the guards existed."""
    guards = read_summary(folder).get("guards")
    if not guards:
        return None
    if not guards.get("enabled"):
        return "off"
    if not guards.get("checks"):
        return "not checked (no dev pairs)"
    checks = f"{guards['checks']} checks"
    if guards.get("divergence"):
        steps = ", ".join(str(step) for step in guards.get("divergence_steps", []))
        return f"divergence at step {steps} ({checks})"
    return f"passed ({checks})"


ORIGIN = ("trainer", "teacher", "data_fingerprint")  # how a student was made, beside its settings


def stored_recipe(folder: Path) -> dict[str, Any]:
    """What a finished student was made with: its settings and its origin (trainer, teacher, training-data
    fingerprint), as its summary records them (compare with `harness.core.training.recipe_differences`)."""
    summary = read_summary(folder)
    return {**summary.get("config", {}), **{key: summary[key] for key in ORIGIN if key in summary}}


def is_complete(folder: Path) -> bool:
    """True when `folder` holds a finished training: its summary (written last) and its modules."""
    return (folder / SUMMARY).is_file() and (folder / "modules.json").is_file()
