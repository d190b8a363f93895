"""run/evaluate: the functions the CLI calls and library users call alike."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import EvalConfig
from harness.core.data import data_root
from harness.core.encoder import CachedEncoder
from harness.core.errors import HarnessError


@dataclass
class EvalReport:
    """What an evaluation did: records written, pairs reused from the store, pairs that failed."""

    written: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    encoded: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def plan_tasks(config: EvalConfig) -> list:
    """Resolve the tasks and check that every requested language is covered by one (no model loaded)."""
    from tasks.catalog import FileTask, resolve_tasks

    tasks = resolve_tasks(config.tasks)
    dataset_tasks = [task for task in tasks if not isinstance(task, FileTask)]
    if not dataset_tasks:  # bring-your-own files declare their own languages
        return tasks
    covered = {lang for task in dataset_tasks for pair in task.pairs(config.langs) for lang in (pair.src, pair.tgt)}
    missing = [lang for lang in config.langs if lang not in covered]
    if missing:
        raise HarnessError(f"no selected task has data for language(s) {', '.join(missing)}")
    return tasks


def validate_tasks(config: EvalConfig) -> list:
    """Plan the tasks and read all their data, so that bad input fails before any model loads."""
    tasks = plan_tasks(config)
    for task in tasks:
        task.validate(config.langs)
    return tasks


def _already_done(store, encoder, task, pair, overwrite: bool) -> bool:
    if overwrite:
        return False
    record = store.read(encoder.name, task.metadata.name, pair.key)
    return bool(record and record["status"] == "ok" and record["model"].get("revision") == encoder.revision
                and record["task"].get("version") == task.metadata.version)


def evaluate(config: EvalConfig, encoders: dict[str, Any] | None = None, log=print) -> EvalReport:
    """Evaluate each model on each task and language pair, writing one record per pair as it finishes.

    `encoders` may supply ready Encoder objects by name (library use, tests); others are loaded.
    Pairs whose result is already stored for the same model revision and task version are reused.
    """
    from tqdm.auto import tqdm

    from harness.models import load_encoder
    from results.schema import make_record
    from results.store import ResultStore

    tasks = validate_tasks(config)
    store = ResultStore(config.results_path)
    report = EvalReport()
    for spec in config.models:
        inner = (encoders or {}).get(spec) or load_encoder(
            spec, device=config.device, trust_remote_code=config.trust_remote_code, show_progress=config.progress)
        encoder = CachedEncoder(inner)
        model_info = {**config.model_meta.get(spec, {}), "name": encoder.name, "revision": encoder.revision}
        todo = sum(len(task.pairs(config.langs)) for task in tasks)
        bar = tqdm(total=todo, desc=f"{encoder.name}", unit="pair", disable=not config.progress, file=sys.stderr)
        for task in tasks:
            def skip(pair, task=task, encoder=encoder, bar=bar):
                done = _already_done(store, encoder, task, pair, config.overwrite)
                if done:
                    report.reused.append(f"{encoder.name} {task.metadata.name} {pair.key}")
                    bar.update(1)
                return done

            for result in task.evaluate(encoder, config.langs, batch_size=config.batch_size, skip=skip):
                label = f"{encoder.name} {task.metadata.name} {result.pair.key}"
                record = make_record(
                    model=model_info, task=task.metadata.to_dict(), pair=result.pair.key,
                    metrics={k: m.to_dict() for k, m in result.metrics.items()}, n_items=result.n_items,
                    seconds=result.seconds, analysis=result.analysis, error=result.error,
                    run=config.run_info or {"batch_size": config.batch_size, "langs": config.langs},
                )
                store.write(record)
                (report.failed if result.error else report.written).append(label)
                if result.error:
                    log(f"FAILED {label}: {result.error}")
                bar.update(1)
        bar.close()
        report.encoded[encoder.name] = encoder.encoded
    return report


@dataclass
class TrainRequest:
    """What `harness train` does: which trainer makes which student from which teacher, on what."""

    teacher: str
    student: str
    langs: list[str]
    trainer: str = "distill"
    output: str | None = None
    eval_tasks: list[str] = field(default_factory=lambda: ["stsb-multi-mt", "tatoeba"])
    results_dir: str = "results/runs"
    trust_remote_code: bool = False


def default_output(request: TrainRequest) -> str:
    from results.store import safe_name

    student = "teacher" if request.student == "teacher" else request.student
    return str(Path("models") / safe_name(f"{request.trainer}-{student}-{'-'.join(request.langs)}"))


def train(request: TrainRequest, config, log=print) -> tuple[Path, EvalReport | None]:
    """Train one student, then (optionally) evaluate it and write its scores into its model card.

    `config` is a trainers.config.TrainConfig; its `output` is filled from the request when empty.
    """
    from harness.models import load_encoder, load_sentence_transformer, resolve
    from trainers.base import TRAINERS
    from trainers.data import load_parallel

    trainer = TRAINERS.get(request.trainer)()  # unknown trainer: error before anything loads
    root = data_root()
    data = load_parallel(root, request.langs, max_pairs=config.max_pairs, dev_pairs=config.dev_pairs,
                         seed=config.seed)
    student_spec = resolve(request.teacher if request.student == "teacher" else request.student)
    if request.eval_tasks:
        validate_tasks(EvalConfig(models=["-"], langs=request.langs, tasks=request.eval_tasks))
    teacher = load_encoder(request.teacher, device=config.device, trust_remote_code=request.trust_remote_code)
    student = load_sentence_transformer(student_spec, device=config.device,
                                        trust_remote_code=request.trust_remote_code)
    warn_uncovered_languages(student, data, log)
    config.output = config.output or request.output or default_output(request)
    config.student_name = request.student
    if request.student == "teacher" and config.head == "auto":
        config.head = "none"  # a copy of the teacher already lives in the teacher's space
    log(f"training {request.trainer}: {data.n_pairs} pairs in {len(data.train)} datasets -> {config.output}")
    path = trainer.train(teacher, student, data, config)
    from trainers.common import is_main_process

    if not request.eval_tasks or not is_main_process():
        return path, None
    student_encoder = load_encoder(str(path), device=config.device)
    student_encoder.name = path.name
    report = evaluate(EvalConfig(models=[path.name], langs=request.langs, tasks=request.eval_tasks,
                                 results_dir=request.results_dir, progress=config.progress),
                      encoders={path.name: student_encoder}, log=log)
    _write_scores_into_card(path, request)
    return path, report


def _write_scores_into_card(path: Path, request: TrainRequest) -> None:
    from results.store import ResultStore
    from results.tables import long_table
    from trainers.common import read_summary, save_summary_and_card

    records, _ = ResultStore(request.results_dir).records()
    table = long_table([r for r in records if r["model"]["name"] == path.name])
    wanted = table[table["main"] | table["metric"].isin(["acc_cos_fwd", "acc_cos_bwd"])]
    summary = read_summary(path)
    summary["evaluation"] = wanted[["task", "pair", "metric", "value"]].to_dict(orient="records")
    save_summary_and_card(path, summary)


@dataclass
class RunReport:
    """What `run` did: the students it trained, its evaluation report, where the leaderboard is."""

    students: list[Path]
    evaluation: EvalReport
    leaderboard: list[Path]
    seconds: float

    @property
    def exit_code(self) -> int:
        return self.evaluation.exit_code


def trained_on(student: Path) -> str:
    """Where a student was trained, from its training summary: device and, on CPU, the core count."""
    from trainers.common import read_summary

    summary = read_summary(student)
    device = str(summary.get("device", "?"))
    return f"{device}, {summary['cpu_count']} cores" if device == "cpu" and "cpu_count" in summary else device


def student_name(trainer: str, student: str, langs: list[str], tag: str = "") -> str:
    from results.store import safe_name

    return safe_name(f"{trainer}-{Path(student).name}-{'-'.join(langs)}" + (f"-{tag}" if tag else ""))


def training_settings(config) -> dict[str, Any]:
    """The settings a RunConfig passes on to each trainer: every field TrainConfig shares with it, so a
    setting added to both reaches training without being listed here again."""
    from trainers.config import TrainConfig

    shared = set(type(config).__dataclass_fields__) & set(TrainConfig.__dataclass_fields__)
    return {name: getattr(config, name) for name in sorted(shared)}


def run_config_name(students: list[Path], models: list[str]) -> str:
    """The file a run's settings go to, named after the students it trained (whose names carry trainer,
    base, languages and tag), or after the models it scored when it trained none: so one ablation never
    overwrites another's settings."""
    from results.store import safe_name

    return f"run_config-{safe_name('+'.join(path.name for path in students) or '+'.join(models), 120)}.json"


def run(config, log=print) -> RunReport:
    """Train each trainer's student, evaluate teacher, base, students and baselines side by side,
    store the results with the resolved configuration, and regenerate the leaderboard.

    `config` is a harness.config.RunConfig. Everything is validated before any model loads.
    """
    import time

    from harness.models import load_encoder
    from results.render import write_leaderboard
    from results.store import write_json_atomic
    from trainers.config import TrainConfig

    began = time.perf_counter()
    validate_run(config)
    students: list[Path] = []
    for name in config.trainers:
        output = Path(config.models_dir) / student_name(name, config.student, config.langs, config.tag)
        request = TrainRequest(teacher=config.teacher, student=config.student, langs=config.langs, trainer=name,
                               output=str(output), eval_tasks=[], trust_remote_code=config.trust_remote_code)
        train_config = TrainConfig(output=str(output), **training_settings(config))
        students.append(train(request, train_config, log=log)[0])
    base = config.base_model
    encoders, meta = {}, {base: {"role": "base", "teacher": config.teacher}, config.teacher: {"role": "teacher"}}
    for path, trainer in zip(students, config.trainers):
        encoders[path.name] = load_encoder(str(path), device=config.device)
        encoders[path.name].name = path.name
        meta[path.name] = {"role": "student", "base": base, "teacher": config.teacher, "trainer": trainer,
                           "trained_on": trained_on(path)}
    for baseline in config.baselines:
        meta[baseline] = {"role": "baseline"}
    models = list(dict.fromkeys([config.teacher, base, *encoders, *config.baselines]))
    evaluation = evaluate(EvalConfig(models=models, langs=config.evaluation_langs, tasks=config.tasks,
                                     results_dir=config.results_dir, device=config.device,
                                     trust_remote_code=config.trust_remote_code, progress=config.progress,
                                     model_meta=meta, run_info=config.to_dict()), encoders=encoders, log=log)
    write_json_atomic(Path(config.leaderboard_dir) / run_config_name(students, models), config.to_dict())
    pages = write_leaderboard(config.results_dir, config.leaderboard_dir)
    return RunReport(students, evaluation, pages, time.perf_counter() - began)


COVERAGE_WARN = 1.0  # % unknown tokens above which a language is reported as not covered


def warn_uncovered_languages(student, data, log=print) -> dict[str, float]:
    """Warn when the student's tokenizer maps a requested language's text to unknown tokens."""
    from harness.models import unknown_token_rates

    tokenizer = getattr(student, "tokenizer", None)
    if tokenizer is None:
        return {}
    sample: dict[str, list[str]] = {}
    for dataset in data.train:
        sample.setdefault(dataset.lang, []).extend(t for _, t in dataset.pairs[:500])
    rates = unknown_token_rates(tokenizer, sample)
    if any(rate > COVERAGE_WARN for rate in rates.values()):
        table = ", ".join(f"{lang} {rate:.1f}%" for lang, rate in sorted(rates.items()))
        log(f"warning: the student's tokenizer does not cover every language; unknown-token rate: {table}")
    return rates


def validate_run(config) -> list[str]:
    """Everything `run` checks before loading a model: tasks and their data, trainer names, training
    data, model specs. Returns a short report; raises HarnessError on the first problem."""
    from harness.models import resolve
    from trainers.base import TRAINERS
    from trainers.data import load_parallel

    tasks = validate_tasks(EvalConfig(models=["-"], langs=config.evaluation_langs, tasks=config.tasks))
    for name in config.trainers:
        TRAINERS.get(name)
    data = load_parallel(data_root(), config.langs, max_pairs=config.max_pairs, dev_pairs=config.dev_pairs,
                         seed=config.seed) if config.trainers else None
    specs = [resolve(config.teacher), resolve(config.base_model)]
    pairs = sum(len(task.pairs(config.evaluation_langs)) for task in tasks)
    return [f"tasks: {', '.join(t.metadata.name for t in tasks)} ({pairs} language pairs, data read and valid)",
            f"training data: {data.n_pairs} pairs in {len(data.train)} datasets" if data else "training: none",
            f"models: {', '.join(f'{s.spec} ({s.kind})' for s in specs)}", "ok"]
