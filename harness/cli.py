"""`python -m harness`: subcommands eval | ls. Heavy libraries load only inside the commands."""

from __future__ import annotations

import argparse
import sys

from harness.config import DEFAULT_LANGS, DEFAULT_TASKS, EvalConfig, RunConfig, split_list
from harness.core.errors import HarnessError

MINING_DETAIL = ["acc_cos_fwd", "acc_cos_bwd", "acc_margin_fwd", "acc_margin_bwd"]


def _add_eval(sub) -> None:
    from harness.models import DEFAULT_TEACHER

    p = sub.add_parser("eval", help="evaluate models on STS, bitext mining and retrieval",
                       description="Evaluate one or more models; results go to --results-dir, one JSON per pair.")
    p.add_argument("--model", default=DEFAULT_TEACHER,
                   help=f"comma-separated model specs: alias, local folder or hub name (default {DEFAULT_TEACHER})")
    p.add_argument("--langs", default=",".join(DEFAULT_LANGS), help="comma-separated languages (default de,fr)")
    p.add_argument("--tasks", default=",".join(DEFAULT_TASKS),
                   help="families (sts, mining, retrieval), task names, or sts-file:PATH[@src-tgt] etc.")
    p.add_argument("--results-dir", default="results/runs", help="where result JSON is written")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    p.add_argument("--trust-remote-code", action="store_true", help="allow model code from the model folder/hub")
    p.add_argument("--overwrite", action="store_true", help="recompute pairs already in the results dir")
    p.add_argument("--role", choices=["teacher", "base", "student", "baseline"],
                   help="the models' role in the leaderboard (runs set it themselves)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _add_train(sub) -> None:
    from harness.models import DEFAULT_STUDENT, DEFAULT_TEACHER

    p = sub.add_parser("train", help="train a multilingual student from a teacher on the parallel data",
                       description="Train a student (distill | ranking | ranking-hn), save it as a "
                                   "sentence-transformers folder with a model card, then evaluate it.")
    p.add_argument("--teacher", default=DEFAULT_TEACHER)
    p.add_argument("--student", default=DEFAULT_STUDENT, help="model spec, or 'teacher' to start from a copy")
    p.add_argument("--langs", default=",".join(DEFAULT_LANGS))
    p.add_argument("--trainer", default="distill", help="distill | ranking | ranking-hn")
    p.add_argument("--output", default=None, help="model folder (default models/<trainer>-<student>-<langs>)")
    p.add_argument("--max-pairs", type=int, default=RunConfig.max_pairs,
                   help=f"training pairs per language (default {RunConfig.max_pairs}; 0: all)")
    p.add_argument("--dev-pairs", type=int, default=200, help="held-out pairs per language for the dev callback")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--head-lr", type=float, default=1e-3, help="learning rate of the projection head")
    p.add_argument("--head", default="auto", choices=["auto", "none", "linear", "lstsq"],
                   help="projection head: auto = closed-form least squares (none for --student teacher)")
    p.add_argument("--max-seq-length", type=int, default=64)
    p.add_argument("--train-embeddings", action="store_true", help="also train the word embeddings (frozen by default)")
    p.add_argument("--freeze-layers", type=int, default=0, help="keep the lowest N transformer layers fixed")
    p.add_argument("--micro-batch", type=int, default=16,
                   help="texts per forward pass, grouped by length (0: one padded forward per batch)")
    p.add_argument("--unbalanced", action="store_true", help="plain shuffling instead of balanced batches")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints (0: none)")
    p.add_argument("--eval-every", type=int, default=0, help="steps between dev evaluations (0: at the end)")
    p.add_argument("--device", default=None)
    p.add_argument("--no-eval", action="store_true", help="skip evaluating the trained student")
    p.add_argument("--eval-tasks", default="stsb-multi-mt,tatoeba")
    p.add_argument("--results-dir", default="results/runs")
    p.add_argument("--trust-remote-code", action="store_true")
    p.add_argument("--overwrite", action="store_true", help="retrain even if the output folder is complete")
    p.add_argument("--no-progress", action="store_true")


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="train students, evaluate teacher/base/students/baselines, rebuild leaderboard",
                       description="The whole pipeline. Flags override --config (TOML with the same names); "
                                   "defaults: distill all-MiniLM-L6-v2 into multilingual-e5-small on de,fr.")
    p.add_argument("--config", default=None, help="TOML file with run settings (keys as the flags, underscores)")
    p.add_argument("--teacher")
    p.add_argument("--student")
    p.add_argument("--langs")
    p.add_argument("--trainers", help="comma-separated: distill, ranking, ranking-hn (default distill)")
    p.add_argument("--tasks", help="families or task names (default sts,mining,retrieval)")
    p.add_argument("--baselines", help="comma-separated baselines (default use-multilingual; '' for none)")
    p.add_argument("--max-pairs", type=int, help=f"training pairs per language (default {RunConfig.max_pairs})")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--results-dir")
    p.add_argument("--device")
    p.add_argument("--quick", action="store_true", default=None,
                   help="a first try in a few minutes: 200 pairs per language, STS + Tatoeba, no baselines")
    p.add_argument("--trust-remote-code", action="store_true", default=None)
    p.add_argument("--no-progress", action="store_true")


def _add_validate(sub) -> None:
    p = sub.add_parser("validate", help="check a run's data, tasks, languages and model specs without loading models")
    p.add_argument("--config", default=None, help="TOML run configuration to check")
    p.add_argument("--langs")
    p.add_argument("--tasks")
    p.add_argument("--trainers")


def _add_results_commands(sub) -> None:
    lb = sub.add_parser("leaderboard", help="rebuild LEADERBOARD.md/.csv and leaderboard.html from stored results")
    lb.add_argument("--results-dir", default="results/runs")
    lb.add_argument("--out", default="results", help="folder for the leaderboard files")
    cmp = sub.add_parser("compare", help="regression gate: exit 1 when a candidate's metric drops past a tolerance")
    cmp.add_argument("--baseline", required=True, help="results folder, or a git ref whose results/runs is used")
    cmp.add_argument("--candidate", default="results/runs")
    cmp.add_argument("--tolerance", type=float, default=0.5, help="allowed drop, in score points (default 0.5)")
    cmp.add_argument("--metrics", choices=["main", "all"], default="main")
    cmp.add_argument("--models", metavar="OLD,NEW",
                     help="compare model NEW (in --candidate) with model OLD (in --baseline), pair by pair")
    cmp.add_argument("--show", choices=["changed", "all"], default="changed",
                     help="print only metrics that moved past the tolerance (default), or every metric")
    ex = sub.add_parser("export", help="export stored results in another format")
    ex.add_argument("--format", choices=["mteb"], default="mteb")
    ex.add_argument("--results-dir", default="results/runs")
    ex.add_argument("--out", default="results/mteb")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_eval(sub)
    _add_train(sub)
    _add_run(sub)
    _add_validate(sub)
    _add_results_commands(sub)
    ls = sub.add_parser("ls", help="list tasks, models or languages")
    ls.add_argument("what", choices=["tasks", "models", "languages"])
    return parser


def cmd_eval(args: argparse.Namespace) -> int:
    import time

    from harness.runner import evaluate
    from results.store import ResultStore
    from results.tables import main_scores, metric_table, to_markdown

    config = EvalConfig(models=split_list(args.model), langs=split_list(args.langs), tasks=split_list(args.tasks),
                        results_dir=args.results_dir, batch_size=args.batch_size, device=args.device,
                        trust_remote_code=args.trust_remote_code, overwrite=args.overwrite,
                        progress=not args.no_progress)
    if args.role:
        config.model_meta = {name: {"role": args.role} for name in config.models}
    start = time.perf_counter()
    report = evaluate(config, log=lambda line: print(line, file=sys.stderr))
    records, _ = ResultStore(config.results_path).records()
    mine = [r for r in records if r["model"]["name"] in config.models
            and set(r["pair"].split("-")) <= set(config.langs) | {"en"}]
    print(f"\n## Main scores ({len(report.written)} written, {len(report.reused)} reused, "
          f"{len(report.failed)} failed; {time.perf_counter() - start:.0f} s)\n")
    print(to_markdown(main_scores(mine).T))
    if any(r["task"]["family"] == "mining" for r in mine):
        print("\n## Mining accuracy by direction (fwd = xx->en, bwd = en->xx)\n")
        print(to_markdown(metric_table([r for r in mine if r["task"]["family"] == "mining"], MINING_DETAIL)))
    print(f"\nresults: {config.results_path}")
    return report.exit_code


def cmd_train(args: argparse.Namespace) -> int:
    from harness.core.languages import parse_langs
    from harness.runner import TrainRequest, train
    from trainers.config import TrainConfig

    request = TrainRequest(teacher=args.teacher, student=args.student, langs=parse_langs(args.langs),
                           trainer=args.trainer, output=args.output,
                           eval_tasks=[] if args.no_eval else split_list(args.eval_tasks),
                           results_dir=args.results_dir, trust_remote_code=args.trust_remote_code)
    config = TrainConfig(output="", epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, head_lr=args.head_lr,
                         head=args.head, max_seq_length=args.max_seq_length, max_pairs=args.max_pairs or None,
                         dev_pairs=args.dev_pairs, balanced=not args.unbalanced, seed=args.seed,
                         checkpoint_every=args.checkpoint_every, eval_every=args.eval_every,
                         freeze_embeddings=not args.train_embeddings, freeze_layers=args.freeze_layers,
                         micro_batch=args.micro_batch, device=args.device,
                         progress=not args.no_progress, overwrite=args.overwrite)
    path, report = train(request, config, log=lambda line: print(line, file=sys.stderr))
    print(f"student: {path}")
    print((path / "README.md").read_text(encoding="utf-8"))
    return report.exit_code if report else 0


def cmd_run(args: argparse.Namespace) -> int:
    from harness.runner import run

    overrides = {k: v for k, v in vars(args).items()
                 if v is not None and k not in ("command", "config", "no_progress")}
    for key in ("langs", "trainers", "tasks", "baselines"):
        if key in overrides:
            overrides[key] = split_list(overrides[key])
    if args.no_progress:
        overrides["progress"] = False
    config = RunConfig.from_file(args.config, **overrides) if args.config else RunConfig(**overrides)
    report = run(config, log=lambda line: print(line, file=sys.stderr))
    print(f"run finished in {report.seconds:.0f} s; students: {', '.join(map(str, report.students)) or 'none'}")
    print((report.leaderboard[0]).read_text(encoding="utf-8"))
    return report.exit_code


def cmd_validate(args: argparse.Namespace) -> int:
    from harness.runner import validate_run

    overrides = {k: split_list(v) for k, v in vars(args).items() if k in ("langs", "tasks", "trainers") and v}
    config = RunConfig.from_file(args.config, **overrides) if args.config else RunConfig(**overrides)
    for line in validate_run(config):
        print(line)
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from results.render import write_leaderboard

    for path in write_leaderboard(args.results_dir, args.out):
        print(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from results.compare import compare, materialise_baseline
    from results.tables import to_markdown

    models = split_list(args.models) if args.models else None
    if models is not None and len(models) != 2:
        raise HarnessError(f"--models takes two model names, OLD,NEW; got '{args.models}'")
    baseline, tmp = materialise_baseline(args.baseline)
    try:
        result = compare(baseline, __import__("pathlib").Path(args.candidate), args.tolerance, args.metrics,
                         tuple(models) if models else None)
    finally:
        if tmp:
            tmp.cleanup()
    shown = result.table if args.show == "all" else result.table[result.table["status"] != "ok"]
    changed = shown.set_index(["model", "task", "pair", "metric"])
    print(f"{len(result.table)} metrics compared; tolerance {args.tolerance}; "
          f"{len(result.regressions)} regression(s)\n")
    print(to_markdown(changed, digits=2) if len(changed) else "no change beyond the tolerance")
    return result.exit_code


def cmd_export(args: argparse.Namespace) -> int:
    from results.export_mteb import export_mteb

    paths = export_mteb(args.results_dir, args.out)
    print(f"wrote {len(paths)} mteb TaskResult files under {args.out}")
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    if args.what == "tasks":
        from tasks.catalog import FAMILY_DEFAULTS, TASKS

        for name in TASKS:
            meta = TASKS.get(name).metadata
            print(f"{name:15} {meta.family:10} {meta.dataset:20} {meta.description}")
        print("\nfamilies: " + "; ".join(f"{f} = {', '.join(n)}" for f, n in FAMILY_DEFAULTS.items()))
        print("your own files: sts-file:PATH[@src-tgt], mining-file:SRC+TGT[@src-tgt], retrieval-file:PATH[@src-tgt]")
    elif args.what == "models":
        from harness.models import ALIASES, BASELINES

        for alias in [*ALIASES, *BASELINES]:
            print(alias)
        print("hash[:DIM]  (deterministic model-free encoder for tests)")
    else:
        from harness.core.languages import LANGUAGES

        for code, lang in sorted(LANGUAGES.items()):
            print(f"{code:8} {lang.name} ({lang.script})")
    return 0


COMMANDS = {"eval": cmd_eval, "train": cmd_train, "run": cmd_run, "leaderboard": cmd_leaderboard,
            "compare": cmd_compare, "validate": cmd_validate, "export": cmd_export, "ls": cmd_ls}


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    return f"warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    import warnings

    warnings.formatwarning = _one_line_warning
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except HarnessError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 141  # what a shell reports for a tool killed by SIGPIPE: never a silent pass of the gate
