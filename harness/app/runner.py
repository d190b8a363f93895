"""Execute plans: evaluate models on the planned tasks, train the planned students, and run the whole
pipeline. The CLI calls these, and so can library users. Plug-ins are reached through the registries.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.app.config import DISPLAY_ONLY, EvalConfig, RunConfig, TrainCommand
from harness.app.plan import EvalPlan, StudentPlan, leak_report, plan_eval, plan_run, plan_train, with_models
from harness.app.plugins import TRAINERS
from harness.core.encoder import CachedEncoder
from harness.core.paths import RUN_CONFIGS_DIR
from harness.core.process import is_main_process
from harness.core.task import PairResult, Task
from harness.core.training import TrainConfig
from harness.core.vocabulary import BASE, BASELINE, COMPAT, TEACHER
from harness.encoders.card import guard_status, model_outputs, read_summary, save_summary_and_card, trained_on
from harness.results.evidence import bootstrap, evidence_to_json
from harness.results.schema import invalid_metric, make_record
from harness.results.store import ResultStore, safe_name, write_json_unless_same


@dataclass
class EvalReport:
    """What an evaluation did: records written, pairs reused from the store, pairs that failed."""

    written: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # comparisons that cannot be made (vectors of two sizes)
    encoded: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def record_of(result: PairResult, task: Task, model: dict[str, Any], run: dict[str, Any],
              intervals: bool = True) -> dict[str, Any]:
    """A result record, with each evidenced metric's interval (its replicates go to the replicate cache)."""
    metrics = {name: metric.to_dict() for name, metric in result.metrics.items()}
    main = task.metadata.main_score
    if result.ok:  # a side metric that cannot be computed is left out; a main score that cannot fails the pair
        metrics = {name: m for name, m in metrics.items() if name == main or invalid_metric({name: m}) is None}
        error = invalid_metric({main: metrics[main]}) if main in metrics else None
        if error:  # e.g. a correlation with constant gold scores: undefined, so the pair fails
            result, metrics = replace(result, error=f"{error}: the pair cannot be scored"), {}
    section = None
    if result.evidence is not None and result.ok and intervals:
        section = bootstrap(result.evidence, task.metadata.name, result.pair.key, task.metadata.main_score, metrics)
    return make_record(
        model=model, task=task.metadata.to_dict(), pair=result.pair.key, metrics=metrics, n_items=result.n_items,
        seconds=result.seconds, analysis=result.analysis, error=result.error, run=run,
        evidence=evidence_to_json(result.evidence) if result.evidence is not None and result.ok else None,
        bootstrap=section, data_fingerprint=result.data_fingerprint or None)


def _applies(encoder, pair) -> bool:
    """A two-sided encoder (student queries, teacher index) is scored only where its candidate side can index."""
    langs = getattr(encoder, "candidate_langs", None)
    return langs is None or pair.tgt in langs


def _stored_everything(plan: EvalPlan, store: ResultStore, spec: str, revision: str | None, encoder=None) -> bool:
    """True when every planned pair of this model is stored for this revision and data: no need to load it."""
    if revision is None or plan.config.overwrite:
        return False
    return all(store.reusable(spec, revision, task.metadata.to_dict(), pair.key, task.fingerprint(pair),
                              plan.config.intervals)
               for task in plan.tasks for pair in task.pairs(plan.config.langs) if _applies(encoder, pair))


KEPT_ON_REFRESH = ("sweep",)  # what only the run that trained a student knows about it


def _refresh(store: ResultStore, record: dict[str, Any], model: dict[str, Any]) -> None:
    """A reused record takes this run's description of the model (role, teacher, seed) when it changed; its
    scores and its `run` block, the settings of the run that computed them, stay. So a run that recomputes
    nothing leaves the results folder as it found it (each run's own settings go to run_configs/)."""
    kept = {key: record["model"][key] for key in KEPT_ON_REFRESH if key in record["model"] and key not in model}
    model = {**kept, **model}  # an eval that does not know the student was swept leaves it on its curve
    if record["model"] != model:
        store.write({**record, "model": model})


def own_settings(meta: dict[str, Any]) -> dict[str, Any]:
    """What a student's records store differently from its run's settings: its seed, and its swept value."""
    own = {"seed": meta["seed"]} if "seed" in meta else {}
    if meta.get("sweep"):
        own[meta["sweep"]["setting"]] = meta["sweep"]["value"]
    return own


def evaluate(plan: EvalPlan, encoders: dict[str, Any] | None = None, log=print) -> EvalReport:
    """Evaluate each model on each planned task and language pair, writing one record per pair as it finishes.

    `encoders` may supply ready Encoder objects by name (library use, tests); others are loaded, unless
    every pair of theirs is already stored for the same model revision, task version and data.
    """
    from tqdm.auto import tqdm

    from harness.encoders.adapters import known_revision, load_encoder

    config = plan.config
    store = ResultStore(config.results_path)
    report = EvalReport()
    for spec in config.models:
        supplied = (encoders or {}).get(spec)
        revision = supplied.revision if supplied else known_revision(plan.models[spec])
        meta = config.model_meta.get(spec, {})
        run = {**config.run_info, **own_settings(meta)} or {"batch_size": config.batch_size, "langs": config.langs}
        name = supplied.name if supplied else spec
        if _stored_everything(plan, store, name, revision, supplied):
            for task in plan.tasks:
                for pair in task.pairs(config.langs):
                    record = store.read(name, task.metadata.name, pair.key) if _applies(supplied, pair) else None
                    if record is not None:
                        _refresh(store, record, {**meta, "name": name, "revision": revision})
                        report.reused.append(f"{name} {task.metadata.name} {pair.key}")
            continue
        inner = supplied or load_encoder(spec, device=config.device, trust_remote_code=config.trust_remote_code,
                                         show_progress=config.progress)
        query, candidate = inner.dimensions() if hasattr(inner, "dimensions") else (0, 0)
        if query != candidate:
            log(f"skipped {name}: {inner.query.name} gives {query}-dimensional vectors and {inner.candidate.name} "
                f"{candidate}-dimensional ones, so its queries cannot search that index")
            report.skipped.append(name)
            continue
        # a two-sided encoder caches each side itself; any other gets the encode-once cache here
        encoder = inner if hasattr(inner, "encode_candidates") else CachedEncoder(inner)
        model_info = {**meta, "name": encoder.name, "revision": encoder.revision}
        bar = tqdm(total=plan.n_pairs, desc=encoder.name, unit="pair", disable=not config.progress, file=sys.stderr)
        for task in plan.tasks:
            def skip(pair, task=task, encoder=encoder, bar=bar, model_info=model_info):
                if not _applies(encoder, pair):
                    bar.update(1)
                    return True
                stored = None if config.overwrite else store.reusable(
                    encoder.name, encoder.revision, task.metadata.to_dict(), pair.key, task.fingerprint(pair),
                    config.intervals)
                if stored is not None:
                    _refresh(store, stored, model_info)
                    report.reused.append(f"{encoder.name} {task.metadata.name} {pair.key}")
                    bar.update(1)
                return stored is not None

            for result in task.evaluate(encoder, config.langs, batch_size=config.batch_size, skip=skip):
                label = f"{encoder.name} {task.metadata.name} {result.pair.key}"
                record = record_of(result, task, model_info, run, config.intervals)
                store.write(record)
                (report.failed if record["error"] else report.written).append(label)
                if record["error"]:
                    log(f"FAILED {label}: {record['error']}")
                bar.update(1)
        bar.close()
        report.encoded[encoder.name] = encoder.encoded
    return report


def evaluate_models(config: EvalConfig, encoders: dict[str, Any] | None = None, log=print) -> EvalReport:
    """Plan and evaluate in one call (library use): everything is checked before a model loads."""
    return evaluate(plan_eval(config, supplied=frozenset(encoders or {})), encoders, log)


# ---- training -----------------------------------------------------------------------------------------

def train_student(student: StudentPlan, teacher_spec: str, base_spec: str, *, device: str | None = None,
                  trust_remote_code: bool = False, progress: bool = True, overwrite: bool = False, log=print) -> Path:
    """Train one planned student, or reuse its folder when that holds a finished training made the same way:
    same settings, trainer, teacher and training data."""
    from harness.encoders.adapters import load_encoder, load_sentence_transformer
    from harness.encoders.coverage import coverage_warning
    from harness.encoders.specs import resolve

    config = TrainConfig(output=str(student.output), student_name=base_spec, device=device, progress=progress,
                         overwrite=overwrite, **student.settings)
    if student.finished:
        return student.output  # finished the same way (the plan checked): no model needs to load
    trainer = TRAINERS.get(student.trainer)()
    teacher = load_encoder(teacher_spec, device=device, trust_remote_code=trust_remote_code)
    model = load_sentence_transformer(resolve(teacher_spec if base_spec == "teacher" else base_spec), device=device,
                                      trust_remote_code=trust_remote_code)
    texts = {}
    for dataset in student.data.train:
        texts.setdefault(dataset.lang, []).extend(t for _, t in dataset.pairs[:500])
    if getattr(model, "tokenizer", None) is not None:
        warning = coverage_warning(model.tokenizer, texts)[1]
        if warning:
            log(warning)
    log(f"training {student.trainer}: {student.data.n_pairs} pairs in {len(student.data.train)} datasets "
        f"-> {student.output}; {leak_report(student.data)}")
    return trainer.train(teacher, model, student.data, config)


def write_scores_into_card(folder: Path, results_dir: str | Path) -> None:
    """Add the student's main scores (and cosine mining accuracy) to its training summary and model card."""
    from harness.results.tables import long_table

    records, _ = ResultStore(results_dir).records()
    table = long_table([r for r in records if r["model"]["name"] == folder.name])
    wanted = table[table["main"] | table["metric"].isin(["acc_cos_fwd", "acc_cos_bwd"])]
    summary = read_summary(folder)
    summary["evaluation"] = wanted[["task", "pair", "metric", "value"]].to_dict(orient="records")
    save_summary_and_card(folder, summary)


def train(command: TrainCommand, log=print) -> tuple[Path, EvalReport | None]:
    """`harness train`: train one student, then (optionally) score it and write the scores into its card."""
    from harness.encoders.adapters import load_encoder

    student, eval_plan = plan_train(command)
    path = train_student(student, command.teacher, command.student, device=command.device,
                         trust_remote_code=command.trust_remote_code, progress=command.progress,
                         overwrite=command.overwrite, log=log)
    if eval_plan is None or not is_main_process():
        return path, None
    encoder = load_encoder(str(path), device=command.device, trust_remote_code=command.trust_remote_code)
    encoder.name = path.name
    report = evaluate(with_models(eval_plan, [path.name], {}, {}), {path.name: encoder}, log)
    write_scores_into_card(path, command.results_dir)
    return path, report


# ---- the whole pipeline ---------------------------------------------------------------------------------

@dataclass
class RunReport:
    """What `run` did: the students it trained, its evaluation, where the leaderboard is, the models touched."""

    students: list[Path]
    evaluation: EvalReport
    leaderboard: list[Path]
    seconds: float
    models: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return self.evaluation.exit_code


def run_settings_path(leaderboard_dir: str | Path, students: list[Path], models: list[str]) -> Path:
    """Where a run's settings go: run_configs/<student>.json per student, or <models>.json when it trained
    none, so that one ablation never overwrites another's settings."""
    folder = Path(leaderboard_dir) / Path(RUN_CONFIGS_DIR).name
    name = "+".join(path.name for path in students) or "+".join(models)
    return folder / f"{safe_name(name, 120)}.json"


def _run_block(config: RunConfig) -> dict[str, Any]:
    """The run's settings as each record stores them: all it records but the seed list (a record of a student
    gets that student's own seed instead)."""
    return {k: v for k, v in config.recorded().items() if k != "seeds"}


def run(config: RunConfig, log=print) -> RunReport:
    """Train each trainer's student per seed, evaluate teacher, base, students and baselines side by side,
    store the results with the resolved configuration, and regenerate the leaderboard.

    Everything is checked (and every data file read) before any model loads.
    """
    from harness.encoders.specs import resolve
    from harness.results.report import write_leaderboard

    began = time.perf_counter()
    plan = plan_run(config)
    students: list[Path] = []
    for student in plan.students:
        students.append(train_student(student, config.teacher, config.student, device=config.device,
                                      trust_remote_code=config.trust_remote_code, progress=config.progress,
                                      overwrite=config.overwrite, log=log))
    base = config.base_model
    encoders: dict[str, Any] = {}
    meta = {base: {"role": BASE, "teacher": config.teacher}, config.teacher: {"role": TEACHER}}
    for path, student in zip(students, plan.students):
        encoders[path.name] = LazyEncoder.for_spec(str(path), config, name=path.name)
        meta[path.name] = {"role": config.role, "base": base, "teacher": config.teacher, "trainer": student.trainer,
                           "trained_on": trained_on(path), "seed": student.seed,
                           **({"sweep": student.sweep} if student.sweep else {})}
        guards = guard_status(path)  # absent from the records of students trained before the guards
        if guards is not None:
            meta[path.name]["guards"] = guards
    for baseline in config.baselines:
        meta[baseline] = {"role": BASELINE}
    models = list(dict.fromkeys([config.teacher, base, *encoders, *config.baselines]))
    eval_plan = with_models(plan.evaluation, models, meta, _run_block(config))
    eval_plan.models.update({m: resolve(m) for m in models if m not in encoders})
    evaluation = evaluate(eval_plan, encoders, log)
    if plan.compat is not None:
        compat = _compat_encoders(config, encoders)
        _merge(evaluation, evaluate(_compat_plan(plan, config, compat, meta), compat, log))
    for path in students:
        write_json_unless_same(run_settings_path(config.leaderboard_dir, [path], []),
                               {**config.recorded(), **own_settings(meta[path.name])}, ignore=DISPLAY_ONLY)
    if not students:
        write_json_unless_same(run_settings_path(config.leaderboard_dir, [], models), config.recorded(),
                               ignore=DISPLAY_ONLY)
    pages = write_leaderboard(config.results_dir, config.leaderboard_dir,
                              warn=lambda line: log(f"leaderboard: skipped {line}"))
    return RunReport(students, evaluation, pages, time.perf_counter() - began, models)


class LazyEncoder:
    """A model behind the Encoder protocol, loaded only if one of its pairs must be computed. Its revision is
    known without loading it (a folder's content hash, a package version), except for a hub model, whose
    revision is read once it is loaded."""

    def __init__(self, spec: str, name: str, revision: str | None, device: str | None, trust_remote_code: bool):
        self.spec, self.name, self._revision = spec, name, revision
        self.device, self.trust_remote_code = device, trust_remote_code
        self._encoder = None

    @classmethod
    def for_spec(cls, spec: str, config: RunConfig, name: str | None = None) -> LazyEncoder:
        from harness.encoders.adapters import known_revision
        from harness.encoders.specs import resolve

        return cls(spec, name or spec, known_revision(resolve(spec)), config.device, config.trust_remote_code)

    def _loaded(self):
        if self._encoder is None:
            from harness.encoders.adapters import load_encoder

            self._encoder = load_encoder(self.spec, device=self.device, trust_remote_code=self.trust_remote_code)
        return self._encoder

    @property
    def revision(self) -> str:
        return self._revision or self._loaded().revision

    def encode(self, texts: list[str], *, batch_size: int = 64):
        return self._loaded().encode(texts, batch_size=batch_size)


def _compat_encoders(config: RunConfig, students: dict[str, Any]) -> dict[str, Any]:
    """Each student's and the base's queries against an index its teacher builds (English candidates): the
    teacher's side is one cache for all of them, so each English sentence is encoded once. A student with
    several outputs is searched through each (`NAME#output=teacher` beside `NAME`)."""
    from harness.core.encoder import TwoSidedEncoder
    from harness.encoders.specs import OUTPUT_MARK

    teacher = CachedEncoder(LazyEncoder.for_spec(config.teacher, config))
    queries = {**students, config.base_model: LazyEncoder.for_spec(config.base_model, config)}
    for name, student in students.items():  # a student with several outputs: each named one searches too
        for output in model_outputs(student.spec)[1:]:
            spec = f"{student.spec}{OUTPUT_MARK}{output}"
            queries[f"{name}{OUTPUT_MARK}{output}"] = LazyEncoder(spec, f"{name}{OUTPUT_MARK}{output}",
                                                                  student.revision, config.device,
                                                                  config.trust_remote_code)
    pairs = {}
    for name, encoder in queries.items():
        if name != config.teacher:
            two_sided = TwoSidedEncoder(encoder, teacher)
            pairs[two_sided.name] = two_sided
    return pairs


def _compat_plan(plan, config: RunConfig, encoders: dict[str, Any], students: dict[str, dict[str, Any]]) -> EvalPlan:
    """The compatibility evaluation; a swept student's records carry its swept value (model and run block)."""
    from harness.encoders.specs import OUTPUT_MARK

    meta = {}
    for name, encoder in encoders.items():
        student = students.get(encoder.query.name.partition(OUTPUT_MARK)[0], {})
        meta[name] = {"role": COMPAT, "queries": encoder.query.name, "candidates": encoder.candidate.name,
                      **({"sweep": student["sweep"]} if "sweep" in student else {})}
    return with_models(plan.compat, list(encoders), meta, _run_block(config))


def _merge(report: EvalReport, more: EvalReport) -> None:
    report.written += more.written
    report.reused += more.reused
    report.failed += more.failed
    report.skipped += more.skipped
    report.encoded.update(more.encoded)


def validate(config: RunConfig) -> list[str]:
    """Everything `run` checks before loading a model, as a short report (the `validate` command)."""
    return plan_run(config).describe()

