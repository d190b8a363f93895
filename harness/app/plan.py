"""Validation that returns a plan: every name resolved, every task's data and every parallel file read
(once) and checked, before any model loads. Training and evaluation then consume the plan and read
nothing again, so a bad file fails in seconds and a good one is read once per run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness.app.config import DRY_RUN, EvalConfig, RunConfig, TrainCommand
from harness.app.plugins import FAMILY_DEFAULTS, FILE_TASKS, TASKS, TRAINERS
from harness.core.data import FileLedger, reading_once
from harness.core.errors import HarnessError
from harness.core.parallel import ParallelData, leak_key
from harness.core.paths import MODELS_DIR, data_root
from harness.core.task import Task
from harness.core.training import TrainSettings, differences_text, recipe_differences, sweep_recipe_id, unused_by
from harness.core.vocabulary import MINING, RETRIEVAL
from harness.data.sources import training_data
from harness.encoders.card import is_complete, stored_recipe
from harness.encoders.specs import ModelSpec, check_obtainable, resolve
from harness.results.store import ResultStore, safe_name
from trainers.save import (
    CHECKPOINT_RECIPE,
    checkpoint_differences,
    loop_recipe,
    other_checkpoints_error,
    read_after_the_loop,
)

TRAIN_FIELDS = tuple(f.name for f in fields(TrainSettings))
COMPAT_FAMILIES = (MINING, RETRIEVAL)  # a query searches candidates encoded by the teacher


def resolve_tasks(specs: list[str]) -> list[Task]:
    """Task names, family names and `KIND:ARGUMENT` file tasks -> task instances, in order, without repeats.

    The data root is looked up only when a dataset task is asked for.
    """
    names: list[str] = []
    tasks: list[Task] = []
    for spec in specs:
        kind, colon, argument = spec.partition(":")
        if colon and kind in FILE_TASKS:
            tasks.append(FILE_TASKS.get(kind).from_argument(argument))
            continue
        for name in FAMILY_DEFAULTS.get(spec, [spec]):
            if name not in names:
                factory = TASKS.get(name)  # an unknown name fails here, with a suggestion
                names.append(name)
                tasks.append(factory(data_root()))
    return tasks


def check_coverage(tasks: list[Task], langs: list[str]) -> None:
    """Every requested language must have data in at least one selected dataset task."""
    dataset_tasks = [task for task in tasks if task.follows_requested_languages]
    if not dataset_tasks:  # bring-your-own files declare their own languages
        return
    covered = {lang for task in dataset_tasks for pair in task.pairs(langs) for lang in (pair.src, pair.tgt)}
    missing = [lang for lang in langs if lang not in covered]
    if missing:
        names = ", ".join(task.metadata.name for task in dataset_tasks)
        raise HarnessError(f"no selected task ({names}) has data for language(s) {', '.join(missing)} "
                           f"under {data_root()}")


@dataclass
class EvalPlan:
    """What an evaluation will do: its tasks with their data loaded, and the models it will load."""

    config: EvalConfig
    tasks: list[Task]
    models: dict[str, ModelSpec]  # spec -> resolved, for the models not supplied ready-made
    ledger: FileLedger = field(default_factory=FileLedger)

    @property
    def n_pairs(self) -> int:
        return sum(len(task.pairs(self.config.langs)) for task in self.tasks)


def plan_eval(config: EvalConfig, supplied: set[str] | frozenset[str] = frozenset()) -> EvalPlan:
    """Resolve and read everything `config` asks for. `supplied` names models given as ready encoders."""
    with reading_once() as ledger:
        tasks = resolve_tasks(config.tasks)
        check_coverage(tasks, config.langs)
        for task in tasks:
            task.validate(config.langs)
    models = {spec: resolve(spec) for spec in config.models if spec not in supplied}
    for resolved in models.values():
        check_obtainable(resolved)
    check_device(config.device)
    check_writable(config.results_dir)
    return EvalPlan(config, tasks, models, ledger)


MAX_NAMED_LANGS = 12  # beyond this, a name gives the number of languages and a digest of the list


def languages_label(langs: list[str]) -> str:
    """'de-fr' for a few languages; '14-languages-<digest>' for many, so the name stays readable and distinct."""
    if len(langs) <= MAX_NAMED_LANGS:
        return "-".join(langs)
    return f"{len(langs)}-languages-{hashlib.sha256(','.join(langs).encode()).hexdigest()[:6]}"


def student_name(trainer: str, student: str, langs: list[str], tag: str = "", seed: int = 0) -> str:
    """The name a run gives a student: trainer, base, languages, tag, and the seed when it is not 0."""
    name = f"{trainer}-{Path(student).name}-{languages_label(langs)}" + (f"-{tag}" if tag else "")
    # The seed goes after the made-safe stem, never into its shortening, so every seed of a long name keeps
    # seed 0's name before its '-seedN' and the seed group joins (overview.group_name).
    return safe_name(name) + (f"-seed{seed}" if seed else "")


@dataclass
class StudentPlan:
    """One student to train: its trainer, seed, name, folder, data and settings."""

    trainer: str
    seed: int
    name: str
    output: Path
    data: ParallelData
    settings: dict[str, Any]  # the shared training settings, with this student's seed
    finished: bool = False  # its folder holds it, made the same way (`check_recipe`): reused, not retrained
    sweep: dict[str, Any] | None = None  # {"setting", "value", "id", "of"}: the swept value it was trained with
    # (and "pairs_per_language" for `max_pairs=all` or a cap above what a language has: `counted`)


def counted(sweep: dict[str, Any], data: ParallelData, langs: list[str]) -> dict[str, int]:
    """The pairs per language a `max_pairs` point trains on (the mean over its languages), where its value does
    not say it: `all`, or a cap above what some language has (es,ar,tr at 9,548 trains Arabic on fewer, after
    its dev pairs). A learning curve places the point there; a cap every language fills needs nothing."""
    if sweep["setting"] != "max_pairs" or not langs:
        return {}
    value = sweep["value"]
    if value is not None and data.n_pairs >= value * len(langs):
        return {}
    return {"pairs_per_language": round(data.n_pairs / len(langs))}


def leak_report(data: ParallelData) -> str:
    """One line on what the leak filter dropped, per source."""
    if not data.checked_against:
        return "leak filter: off (no evaluation sentences to check the pairs against)"
    if not data.dropped:
        return f"leak filter: no training pair is one of the run's {data.checked_against} evaluation sentences"
    per_source = ", ".join(f"{name} {s['dropped_as_evaluation']}" for name, s in data.sources.items()
                           if s["dropped_as_evaluation"])
    return f"leak filter: dropped {data.dropped} pairs that meet the run's evaluation sentences ({per_source})"


@dataclass
class RunPlan:
    """What `run` will do: the students to train, then the evaluation of teacher, base, students, peers."""

    config: RunConfig
    students: list[StudentPlan]
    evaluation: EvalPlan
    teacher: ModelSpec
    base: ModelSpec
    compat: EvalPlan | None = None  # students' queries against the teacher's index

    def describe(self) -> list[str]:
        """A short report of what was checked (the `validate` command prints it)."""
        tasks = self.evaluation.tasks
        data = {id(s.data): s.data for s in self.students}.values()
        training = ", ".join(f"{d.n_pairs} pairs in {len(d.train)} datasets; {leak_report(d)}" for d in data)
        return [f"tasks: {', '.join(t.metadata.name for t in tasks)} ({self.evaluation.n_pairs} language pairs, "
                f"data read and valid)",
                f"training data: {training}" if self.students else "training: none",
                f"students: {', '.join(s.name for s in self.students) or 'none'}",
                f"models: {', '.join(f'{s.spec} ({s.kind})' for s in (self.teacher, self.base))}", "ok"]


def evaluation_keys(tasks: list[Task], langs: list[str]) -> frozenset[str]:
    """The leak keys of every sentence the run evaluates on: training pairs that meet one are dropped."""
    return frozenset(leak_key(text) for task in tasks for pair in task.pairs(langs) for text in task.sentences(pair))


def plan_run(config: RunConfig) -> RunPlan:
    """Check a run before any model loads: trainers, tasks and their data, training data per seed, models."""

    for name in config.trainers:
        TRAINERS.get(name)
    eval_config = EvalConfig(models=[config.teacher], langs=config.evaluation_langs, tasks=config.tasks,
                             results_dir=config.results_dir, device=config.device,
                             trust_remote_code=config.trust_remote_code, progress=config.progress,
                             overwrite=config.overwrite, intervals=config.intervals)
    with reading_once() as ledger:
        tasks = resolve_tasks(config.tasks)
        check_coverage(tasks, config.evaluation_langs)
        by_name = {task.metadata.name: task for task in tasks}  # the same instance: its data is already read
        compat_tasks: list[Task] = []
        for spec in config.compat_tasks:
            compat_tasks += [by_name[spec]] if spec in by_name else resolve_tasks([spec])
        for task in compat_tasks:
            if task.metadata.family not in COMPAT_FAMILIES:
                raise HarnessError(f"compat_tasks: '{task.metadata.name}' is an {task.metadata.family} task; teacher "
                                   f"compatibility searches an index, so it takes mining and retrieval tasks")
        for task in [*tasks, *compat_tasks]:
            task.validate(config.evaluation_langs)
        exclude = evaluation_keys([*tasks, *compat_tasks], config.evaluation_langs) if config.trainers else frozenset()
        variants = swept_configs(config)
        data = {}  # one read per distinct (max_pairs, dev_pairs, seed): most sweeps share the data
        for variant, _ in variants:
            for seed in (variant.seeds if variant.trainers else []):
                key = (variant.max_pairs, variant.dev_pairs, seed)
                if key not in data:
                    data[key] = training_data(variant.parallel, variant.langs, data_root(),
                                              max_pairs=variant.max_pairs, dev_pairs=variant.dev_pairs, seed=seed,
                                              exclude=exclude)
    students = []
    for trainer in config.trainers:
        for variant, sweep in variants:
            for seed in config.seeds:
                name = student_name(trainer, config.student, config.langs, variant.tag, seed)
                settings = student_settings(variant, config.student, seed)
                sample = data[(variant.max_pairs, variant.dev_pairs, seed)]
                of = sweep and {**sweep, "of": student_name(trainer, config.student, config.langs, config.tag),
                                **counted(sweep, sample, config.langs)}
                students.append(StudentPlan(trainer, seed, name, Path(config.models_dir) / name, sample, settings,
                                            sweep=of))
                students[-1].finished = check_recipe(students[-1], config.teacher, config.results_dir,
                                                     config.overwrite, base=config.student)
    teacher, base = resolve(config.teacher), resolve(config.base_model)
    for resolved in (teacher, base, *(resolve(baseline) for baseline in config.baselines)):
        check_obtainable(resolved)
    check_device(config.device)
    check_writable(config.results_dir, config.leaderboard_dir, config.models_dir if config.trainers else None)
    evaluation = EvalPlan(eval_config, tasks, {}, ledger)
    compat = EvalPlan(eval_config, list(dict.fromkeys(compat_tasks)), {}, ledger) \
        if compat_tasks and config.teacher != config.base_model else None
    return RunPlan(config, students, evaluation, teacher, base, compat)


def swept_configs(config: RunConfig) -> list[tuple[RunConfig, dict[str, Any] | None]]:
    """The run's configuration per swept value, with `NAME-VALUE` appended to its tag, and {"setting", "value"}
    beside it; without a sweep, the run's own configuration alone."""
    if config.sweep is None:
        return [(config, None)]
    from harness.app.sweep import parse_sweep

    sweep = parse_sweep(config.sweep)
    for trainer in config.trainers:
        if sweep.setting in unused_by(trainer):
            raise HarnessError(f"sweep: {trainer} does not read {sweep.setting}: its students would all be the same")
    # the recipe the points share: two sweeps of one setting with other recipes are two curves, not one
    identity = sweep_recipe_id(config.recorded(), sweep.setting)
    variants = []
    for value in sweep.values:
        tag = "-".join(part for part in (config.tag, sweep.label(value)) if part)
        trained = value
        if config.dry_run and sweep.setting in DRY_RUN and isinstance(DRY_RUN[sweep.setting], int):
            # a dry run stays small: each value at most the preset's size
            trained = DRY_RUN[sweep.setting] if value is None else min(value, DRY_RUN[sweep.setting])
        variants.append((replace(config, **{sweep.setting: trained, "tag": tag}),
                         {"setting": sweep.setting, "value": value, "id": identity}))
    return variants


def check_writable(*folders: str | Path | None) -> None:
    """Each folder a command will write can be written, checked before any work: a read-only results folder
    found only when the first record is saved would lose the work done before it."""
    import tempfile

    for folder in folders:
        if folder is None:
            continue
        path = Path(folder)
        existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
        if not existing.is_dir():
            raise HarnessError(f"{path}: cannot write here, {existing} is a file")
        try:
            with tempfile.TemporaryFile(dir=existing):
                pass
        except OSError as err:
            raise HarnessError(f"{path}: cannot write here ({err.strerror or err}); choose another folder") from None


def check_device(device: str | None) -> None:
    """A GPU asked for must be here: `--device cuda:1` on a machine with one GPU (or none) fails now, in one
    line, not after the data has been read and the models loaded."""
    if not device or not device.startswith("cuda"):
        return
    import torch

    index = int(device.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise HarnessError(f"device {device}: this machine has {count or 'no'} CUDA device(s)"
                           + ("" if count else "; use cpu, or leave --device out"))


def student_settings(config, base_spec: str, seed: int) -> dict[str, Any]:
    """A student's training settings, as its summary will record them."""
    settings = {**{name: getattr(config, name) for name in TRAIN_FIELDS}, "seed": seed}
    return {**settings, "head": effective_head(settings["head"], base_spec)}


def effective_head(head: str, base_spec: str) -> str:
    """The head a student gets: none for a copy of the teacher, which already lives in the teacher's space."""
    return "none" if base_spec == "teacher" and head == "auto" else head


def teacher_revision(teacher: str) -> str | None:
    """The revision a teacher installed here will report once loaded, found without loading it (a package's
    version, a folder's hash of its model files); None for a hub teacher, whose load may download another
    snapshot than the one cached, and when only loading can tell."""
    from harness.encoders.adapters import known_revision

    resolved = resolve(teacher)
    if resolved.kind not in ("baseline", "hash") and not Path(resolved.location).is_dir():
        return None
    return known_revision(resolved)


def check_recipe(student: StudentPlan, teacher: str, results_dir: str | Path | None, overwrite: bool,
                 hint: str = "give a --tag for a new student, or --overwrite to replace it", base: str = "") -> bool:
    """Refuse, before anything is trained, to put a student made another way under a name already in use: a
    finished student in its folder, or, when there is none (a fresh clone has the committed students' records
    but not their folders), the newest record that a `run` wrote under the name, made with other settings,
    trainer or teacher. `--overwrite` allows it; `hint` says how to give the new student its own name. A killed
    training's checkpoints in the folder made otherwise (the base among them, and the teacher's revision when it is
    known without loading the teacher) are refused as the trainer would refuse them.

    True when the folder holds this very student, finished: the one reuse decision, which the runner follows
    without reading the folder again."""
    if overwrite:
        return False
    wanted = {**student.settings, "trainer": student.trainer, "teacher": teacher,
              "data_fingerprint": student.data.fingerprint}
    if is_complete(student.output):
        changed = recipe_differences(stored_recipe(student.output), wanted, student.trainer)
        if changed:
            raise HarnessError(f"{student.output} holds a student trained with other settings "
                               f"({differences_text(changed)}); {hint}")
        return True  # the folder is the student: the records under its name are its own
    # checkpoints of another recipe, refused now rather than once the students before this one have trained (the
    # trainer checks again once the teacher is loaded: a hub teacher's revision may be known only then)
    made_of = {**wanted, **({"student": base} if base else {})}
    trainer_class = TRAINERS.get(student.trainer)
    if (student.output / "checkpoints" / CHECKPOINT_RECIPE).is_file() \
            and "teacher_revision" not in read_after_the_loop(trainer_class):  # else hashing a folder is wasted
        revision = teacher_revision(teacher)
        if revision is not None:  # None: the trainer compares the loaded teacher's
            made_of["teacher_revision"] = revision
    changed = checkpoint_differences(student.output, loop_recipe(made_of, trainer_class))
    if changed:
        raise other_checkpoints_error(student.output, changed)
    if results_dir is None:
        return False
    newest = None
    for path, record in ResultStore(results_dir).scan(student.name):
        run = record.get("run") if isinstance(record, dict) else None
        if isinstance(run, dict) and "trainers" in run:  # written by `run`: its block holds the recipe
            if newest is None or str(record.get("created_at", "")) > str(newest[1].get("created_at", "")):
                newest = (path, record)
    if newest is None:
        return False  # records of `train` or `eval` carry no recipe to compare
    path, record = newest
    run = record["run"]
    stored = {key: run[key] for key in (*TRAIN_FIELDS, "teacher") if key in run}
    if "head" in stored:
        stored["head"] = effective_head(stored["head"], run.get("student", ""))
    if student.trainer not in run["trainers"]:
        stored["trainer"] = ",".join(run["trainers"])
    changed = recipe_differences(stored, wanted, student.trainer)
    if changed:
        raise HarnessError(f"{path}: the results stored under {student.name} were made with other settings "
                           f"({differences_text(changed)}); {hint}")
    return False


def _present(specs: list[str], langs: list[str]) -> list[Task]:
    """The tasks of `specs` whose data is under the data root (the others are left out, not an error)."""
    present = []
    for spec in specs:
        try:
            tasks = resolve_tasks([spec])
            for task in tasks:
                task.validate(langs)
        except HarnessError:
            continue
        present += tasks
    return present


def plan_train(command: TrainCommand) -> tuple[StudentPlan, EvalPlan | None]:
    """Check a `train` command: its trainer, training data and (when it scores the student) its tasks."""

    TRAINERS.get(command.trainer)
    for spec in (command.teacher, *([] if command.student == "teacher" else [command.student])):
        check_obtainable(resolve(spec))
    check_device(command.device)
    check_writable(command.results_dir if command.evaluate else None,
                   Path(command.output).parent if command.output else MODELS_DIR)
    with reading_once() as ledger:
        tasks = resolve_tasks(command.eval_tasks) if command.evaluate else []
        for task in tasks:
            task.validate(command.langs)
        # without scoring, the leak filter still keeps out the sentences of the tasks it would score, when their
        # data is here (a student trained on them could not be scored on them later)
        guarded = tasks if command.evaluate else _present(command.eval_tasks, command.langs)
        data = training_data(command.parallel, command.langs, data_root(), max_pairs=command.max_pairs,
                             dev_pairs=command.dev_pairs, seed=command.seed,
                             exclude=evaluation_keys(guarded, command.langs))
    name = student_name(command.trainer, command.student, command.langs, seed=command.seed)
    output = Path(command.output) if command.output else Path(MODELS_DIR) / name
    settings = student_settings(command, command.student, command.seed)
    student_plan = StudentPlan(command.trainer, command.seed, output.name, output, data, settings)
    student_plan.finished = check_recipe(
        student_plan, command.teacher, command.results_dir if command.evaluate else None, command.overwrite,
        hint="train into another folder (--output), or --overwrite to replace it", base=command.student)
    if not command.evaluate:
        return student_plan, None
    eval_config = EvalConfig(models=[output.name], langs=command.langs, tasks=command.eval_tasks,
                             results_dir=command.results_dir, device=command.device, progress=command.progress,
                             trust_remote_code=command.trust_remote_code)
    return student_plan, EvalPlan(eval_config, tasks, {}, ledger)


def with_models(plan: EvalPlan, models: list[str], meta: dict[str, dict[str, str]],
                run_info: dict[str, Any]) -> EvalPlan:
    """The plan's evaluation, for these models (known only once the students exist)."""
    config = replace(plan.config, models=models, model_meta=meta, run_info=run_info)
    return replace(plan, config=config)
