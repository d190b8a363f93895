"""The settings of `eval`, `train` and `run`: one typed, validated declaration each (harness.core.settings),
merged from defaults, a preset, a TOML file and command-line flags in one place (`build`)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.languages import parse_langs
from harness.core.paths import MODELS_DIR, RESULTS_DIR, RUNS_DIR
from harness.core.settings import (
    COMMAND_LINE,
    SAFE_NAME,
    SEED_MAX,
    check_fields,
    read_toml,
    resolve_settings,
    setting,
)
from harness.core.training import TrainSettings
from harness.core.vocabulary import FAMILIES, ROLES, STUDENT, TRAINED_ROLES
from harness.encoders.specs import DEFAULT_STUDENT, DEFAULT_TEACHER, PROMPT_MARK

DEFAULT_LANGS = ["de", "fr"]
DEFAULT_TASKS = list(FAMILIES)
TASKS_HELP = ("families (sts, mining, retrieval), task names (`harness ls tasks`), or your own files: "
              "KIND:ARGUMENT, e.g. sts-file:my.tsv@de-en")


def parse_models(items: list[str]) -> list[str]:
    """Model specs as written, but for surrounding spaces; a prompt keeps its trailing space ('query: ')."""
    return [item.lstrip() if PROMPT_MARK in item else item.strip() for item in items]


def parse_seeds(items: list[str]) -> list[int]:
    """'0,1,2' -> [0, 1, 2]: distinct non-negative integers, in order."""
    seeds: list[int] = []
    for item in items:
        item = item.strip()
        if not item.isdigit():
            raise ValueError(f"seed {item!r} is not a non-negative integer")
        if int(item) > SEED_MAX:
            raise ValueError(f"seed {item} is above {SEED_MAX}, the largest seed every generator takes")
        if int(item) not in seeds:
            seeds.append(int(item))
    if not seeds:
        raise ValueError("no seed given")
    return seeds


DEVICE = re.compile(r"^(cpu|mps|(cuda|xpu)(:\d+)?)$")


# settings every command has: fresh field objects per class, one declaration here
def _device() -> Any:
    return setting(None, "torch device, e.g. cpu or cuda:0 (default: a GPU when present)", kind="str",
                   nullable="auto", pattern=DEVICE, pattern_help="must be cpu, cuda, cuda:N, mps or xpu[:N]")


def _trust_remote_code() -> Any:
    return setting(False, "allow model code from the model folder or hub")


def _parallel() -> Any:
    return setting([], "training pairs, comma-separated: FILE[@LANG] or FOLDER (TSV, TSV.gz, JSONL), "
                       "hf:NAME[:SUBSET][@REVISION] (a Hugging Face dataset), mined:FILE@SRC-TGT[>=SCORE] (pairs "
                       "`harness mine` wrote), data-root (the data root's parallel/); none: the data root's parallel/ "
                       "(README, 'Training')", kind="list")


def _progress() -> Any:
    return setting(True, "show progress bars", flag="--no-progress")


@dataclass
class EvalConfig:
    """What `harness eval` does: which models, on which tasks and languages, written where."""

    models: list[str] = setting([DEFAULT_TEACHER], "comma-separated model specs: alias, local folder or hub "
                                                   "name (`harness ls models`)", flag="--model", item=parse_models)
    langs: list[str] = setting(DEFAULT_LANGS, "comma-separated languages (de, deu, deu_Latn and German are the "
                                              "same)", item=parse_langs)
    tasks: list[str] = setting(DEFAULT_TASKS, TASKS_HELP)
    results_dir: str = setting(RUNS_DIR, "where result JSON is written")
    batch_size: int = setting(64, "sentences per encoding batch", minimum=1)
    overwrite: bool = setting(False, "recompute pairs already in the results folder")
    intervals: bool = setting(True, "bootstrap 95% intervals for every evidenced metric (off: scores and evidence "
                                    "only, as a benchmark's control)")
    role: str | None = setting(None, "the models' role in the leaderboard (runs set it themselves)", kind="str",
                               choices=ROLES, nullable="none")
    device: str | None = _device()
    trust_remote_code: bool = _trust_remote_code()
    progress: bool = _progress()
    model_meta: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> role, base, teacher, trainer
    run_info: dict[str, Any] = field(default_factory=dict)  # stored in every record (the resolved run config)

    def __post_init__(self) -> None:
        check_fields(self)
        if not self.models:
            raise HarnessError("no model given")
        if not self.tasks:
            raise HarnessError("no task given")
        if self.role:
            self.model_meta = {name: {"role": self.role, **self.model_meta.get(name, {})} for name in self.models}

    @property
    def results_path(self) -> Path:
        return Path(self.results_dir)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DISPLAY_ONLY = frozenset({"progress"})  # settings that change what a run shows, never what it computes

QUICK = {"max_pairs": 200, "tasks": ["stsb-multi-mt", "tatoeba"], "compat_tasks": ["tatoeba"], "baselines": [],
         "head_fit_pairs": 400,
         "results_dir": "results/quick/runs", "leaderboard_dir": "results/quick", "models_dir": "models/quick"}

# `--dry-run`: the same run in miniature, to prove a config end to end before it runs for real (on a GPU, say):
# two training steps on a few pairs per language, one small task, no peers. Unlike `quick` it overrides the
# config file; flags still win.
DRY_RUN = {"max_pairs": 32, "dev_pairs": 8, "max_steps": 2, "head_fit_pairs": 64, "checkpoint_every": 0,
           "tasks": ["sts17"], "eval_langs": ["es"], "compat_tasks": [], "baselines": [],
           "results_dir": "results/dry-run/runs", "leaderboard_dir": "results/dry-run", "models_dir": "models/dry-run"}


@dataclass
class RunConfig(TrainSettings):
    """What `harness run` does: train students from a teacher, evaluate everything side by side, write
    results and regenerate the leaderboard. Loadable from TOML (`--config run.toml`)."""

    teacher: str = setting(DEFAULT_TEACHER, "the teacher: alias, local folder or hub name")
    student: str = setting(DEFAULT_STUDENT, "the model students start from, or 'teacher' for a copy of the teacher")
    langs: list[str] = setting(DEFAULT_LANGS, "training languages", item=parse_langs)
    trainers: list[str] = setting(["align-map"], "trainers, comma-separated (`harness ls trainers`)")
    parallel: list[str] = _parallel()
    tasks: list[str] = setting(DEFAULT_TASKS, TASKS_HELP)
    baselines: list[str] = setting(["use-multilingual"], "peers scored beside the students ('' for none)")
    compat_tasks: list[str] = setting(["tatoeba", "xquad-r"], "teacher compatibility: tasks on which each student's "
                                                              "(and the base's) queries search an index the teacher "
                                                              "built ('' for none)")
    tag: str = setting("", "appended to student names, so ablations of one trainer live side by side",
                       pattern=SAFE_NAME)
    role: str = setting(STUDENT, "the students' role in the leaderboard: student (a headline result) or "
                                   "ablation (a variation, shown on demand)", choices=TRAINED_ROLES)
    eval_langs: list[str] | None = setting(None, "evaluate on these languages; none: the training languages",
                                           kind="list", item=parse_langs, nullable="none")
    seeds: list[int] = setting([0], "train one student per seed, e.g. 0,1,2 (seed 0 keeps the plain name)",
                               item=parse_seeds)
    seed: int = 0  # the seed of the student being trained: set per student from `seeds`
    sweep: str | None = setting(None, "train one student per value of a training setting (for each seed): "
                                      "NAME=V1,V2,..., e.g. max_pairs=500,1000,2000 (README: 'Sweeps')",
                                kind="str", nullable="none")
    results_dir: str = setting(RUNS_DIR, "where result JSON is written")
    leaderboard_dir: str = setting(RESULTS_DIR, "where the leaderboard, the report and run settings are written")
    models_dir: str = setting(MODELS_DIR, "where trained students are saved")
    quick: bool = setting(False, "a smaller first try: 200 pairs per language, STSb + Tatoeba, no "
                                 "baselines (explicit settings still win)")
    dry_run: bool = setting(False, "the same run in miniature: 2 training steps on 32 pairs per language, STS17 "
                                   "in Spanish only, no peers, under results/dry-run (overrides --config; flags "
                                   "still win)")
    overwrite: bool = setting(False, "retrain the students and recompute every stored result")
    intervals: bool = setting(True, "bootstrap 95% intervals for every evidenced metric")
    device: str | None = _device()
    trust_remote_code: bool = _trust_remote_code()
    progress: bool = _progress()

    def __post_init__(self) -> None:
        check_fields(self)
        if self.sweep is not None:
            from harness.app.sweep import parse_sweep

            parse_sweep(self.sweep)

    @property
    def base_model(self) -> str:
        """The model students start from: the student spec, or the teacher itself for 'teacher'."""
        return self.teacher if self.student == "teacher" else self.student

    @property
    def evaluation_langs(self) -> list[str]:
        """The languages scored: `eval_langs` when given, else the training languages."""
        return self.eval_langs or self.langs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def recorded(self) -> dict[str, Any]:
        """The settings a run stores (its run config, its records' run block): all but how it is displayed,
        so that a run with --no-progress leaves what a plain run wrote as it was."""
        return {k: v for k, v in asdict(self).items() if k not in DISPLAY_ONLY}


@dataclass
class TrainCommand(TrainSettings):
    """What `harness train` does: which trainer makes which student from which teacher, then (optionally)
    scores it."""

    teacher: str = setting(DEFAULT_TEACHER, "the teacher: alias, local folder or hub name")
    student: str = setting(DEFAULT_STUDENT, "the model the student starts from, or 'teacher' for a copy of it")
    langs: list[str] = setting(DEFAULT_LANGS, "training languages", item=parse_langs)
    trainer: str = setting("align-map", "the trainer (`harness ls trainers`)")
    parallel: list[str] = _parallel()
    output: str | None = setting(None, "model folder (default models/<trainer>-<student>-<langs>)", kind="str",
                                 nullable="auto")
    evaluate: bool = setting(True, "score the trained student", flag="--no-eval")
    eval_tasks: list[str] = setting(["stsb-multi-mt", "tatoeba"], TASKS_HELP)
    results_dir: str = setting(RUNS_DIR, "where the student's result JSON is written")
    overwrite: bool = setting(False, "retrain even if the output folder holds a finished student")
    device: str | None = _device()
    trust_remote_code: bool = _trust_remote_code()
    progress: bool = _progress()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build(cls: type, flags: dict[str, Any] | None = None, config_file: str | Path | None = None) -> Any:
    """A checked config of `cls` from its defaults, the `quick` preset, a TOML file, then flags (which win)."""
    layers = []
    if config_file is not None:
        layers.append((str(config_file), read_toml(config_file)))
    if cls is RunConfig and _asks_for_dry_run([*layers, (COMMAND_LINE, flags or {})]):
        layers.append(("the dry-run preset", DRY_RUN))
    layers.append((COMMAND_LINE, flags or {}))
    presets = {"quick": QUICK} if cls is RunConfig else None
    return cls(**resolve_settings(cls, layers, presets))


def _asks_for_dry_run(layers: list[tuple[str, dict[str, Any]]]) -> bool:
    """Whether the last layer that sets `dry_run` turns it on (checked and typed like any setting)."""
    from harness.core.settings import coerce, specs

    wanted = False
    for source, values in layers:
        if "dry_run" in values:
            wanted = coerce("dry_run", specs(RunConfig)["dry_run"], values["dry_run"], source)
    return wanted
