"""`python -m harness`: the subcommands. The options of eval, train, run and validate are generated from the
settings' declarations (harness.app.config), so each has one default and one help text. Heavy libraries
load only inside the commands."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from harness.app.config import EvalConfig, RunConfig, TrainCommand, build
from harness.core.errors import HarnessError
from harness.core.paths import RESULTS_DIR, RUNS_DIR
from harness.core.settings import Spec, default_of, specs, split_list
from harness.core.training import TrainSettings
from harness.core.vocabulary import MINING, SATURATION_CEILING


def _shown_default(value, spec: Spec) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "none"
    if value is None:
        return spec.nullable or "none"
    return str(value) if value != "" else "none"


def add_settings(parser: argparse.ArgumentParser, cls: type) -> None:
    """One option per declared setting of `cls`, the command's own first, then the training settings it
    shares; only the options given end up in the namespace."""
    shared = set(specs(TrainSettings)) if issubclass(cls, TrainSettings) else set()
    own = parser.add_argument_group(f"{parser.prog.split()[-1]} settings")
    training = parser.add_argument_group("training settings") if shared else own
    for name, spec in sorted(specs(cls).items(), key=lambda item: item[0] in shared):
        group = training if name in shared else own
        default = default_of(cls, name)
        help_text = _help(spec, default)
        if spec.kind == "bool":
            flag = spec.flag or (f"--no-{name.replace('_', '-')}" if default else f"--{name.replace('_', '-')}")
            group.add_argument(flag, dest=name, action="store_const", const=not default, default=argparse.SUPPRESS,
                               help=help_text)
        else:
            flag = spec.flag or f"--{name.replace('_', '-')}"
            # a list may be given comma-separated, or by repeating its flag (--parallel A --parallel B)
            group.add_argument(flag, dest=name, default=argparse.SUPPRESS, metavar=name.upper(), help=help_text,
                               action="append" if spec.kind == "list" else "store")


def _help(spec: Spec, default) -> str:
    extra = f"; one of {', '.join(spec.choices)}" if spec.choices and spec.kind != "list" else ""
    if spec.kind == "bool":
        text = f"turn off: {spec.help} (on by default)" if default else spec.help
    else:
        text = f"{spec.help}{extra} (default: {_shown_default(default, spec)})"
    return text.replace("%", "%%")  # argparse formats help with %


def _settings_of(args: argparse.Namespace, cls: type) -> dict:
    declared = specs(cls)
    return {name: ",".join(value) if declared[name].kind == "list" else value
            for name, value in vars(args).items() if name in declared}


def _command(parent, name: str, **kwargs) -> argparse.ArgumentParser:
    """A subcommand's parser; like every parser here it takes no abbreviations (--max-pair is not --max-pairs)."""
    return parent.add_parser(name, allow_abbrev=False, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__, allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)
    p = _command(sub, "eval", help="evaluate models on STS, bitext mining and retrieval",
                       description="Evaluate one or more models; results go to --results-dir, one JSON per pair.")
    add_settings(p, EvalConfig)
    p = _command(sub, "train", help="train a multilingual student from a teacher on the parallel data",
                       description="Train a student, save it as a sentence-transformers folder with a model card, "
                                   "then score it.")
    add_settings(p, TrainCommand)
    for command, text in (("run", "train students, evaluate teacher, base, students and peers, rebuild the "
                                  "leaderboard"),
                          ("validate", "check a run's settings, data, tasks and models without loading a model")):
        p = _command(sub, command, help=text, description=f"{text[0].upper()}{text[1:]}. Flags override --config "
                                                            "(a TOML file whose keys are the flags' names).")
        p.add_argument("--config", default=None, help="TOML file with run settings (keys as the flags, underscores)")
        add_settings(p, RunConfig)
    _add_results_commands(sub)
    _add_data_commands(sub)
    _add_mine_command(sub)
    ls = _command(sub, "ls", help="list tasks, trainers, models or languages")
    ls.add_argument("what", choices=["tasks", "trainers", "models", "languages"])
    ls.add_argument("--mteb", action="store_true", help="with tasks: the mteb tasks `--tasks mteb:NAME` can run "
                                                         "(STS, BitextMining, Retrieval)")
    return parser


def _add_results_commands(sub) -> None:
    lb = _command(sub, "leaderboard", help="rebuild LEADERBOARD.md/.csv and leaderboard.html from stored results")
    lb.add_argument("--results-dir", default=RUNS_DIR, help=f"the stored records (default: {RUNS_DIR})")
    lb.add_argument("--out", default=RESULTS_DIR, help=f"folder for the leaderboard files (default: {RESULTS_DIR})")
    lb.add_argument("--ceiling", type=float, default=SATURATION_CEILING,
                    help="a pair on which every model scores at least this, none significantly below the best, is "
                         f"saturated: named, and left out of the averages (default: {SATURATION_CEILING:g})")
    lb.add_argument("--keep-saturated", action="store_true", help="keep saturated pairs in the averages")
    lb.add_argument("--skip-invalid", action="store_true",
                    help="exit 0 although some records were unreadable or invalid and left out (each is still "
                         "named on stderr)")
    cmp = _command(sub, "compare", help="regression gate: exit 1 on a significant drop larger than the tolerance",
                         description="Exit codes: 0 pass; 1 a metric dropped by more than --tolerance and the drop "
                                     "is significant after Holm's correction (or is missing, or its record is "
                                     "inconsistent); 2 bad input.")
    cmp.add_argument("--baseline", required=True, help="results folder, or a git ref whose results/runs is used")
    cmp.add_argument("--candidate", default=RUNS_DIR, help=f"results folder (default: {RUNS_DIR})")
    cmp.add_argument("--tolerance", type=float, default=0.5,
                     help="the smallest drop that matters, in score points (default 0.5)")
    cmp.add_argument("--metrics", choices=["main", "all"], default="main")
    cmp.add_argument("--models", metavar="OLD,NEW",
                     help="compare model NEW (in --candidate) with model OLD (in --baseline), pair by pair")
    cmp.add_argument("--show", choices=["changed", "all"], default="changed",
                     help="print only the metrics whose status is not ok (default), or every metric")
    cmp.add_argument("--fail-on-significant", action="store_true",
                     help="also fail on a significant drop smaller than the tolerance")
    cmp.add_argument("--allow-missing", action="store_true",
                     help="leave out, and count, the baseline's pairs the candidate was not scored on (by default "
                          "each fails as missing)")
    mg = _command(sub, "migrate", help="rewrite stored records in the current, compact schema",
                  description="Rewrite every record of a results folder in the current schema version (compressed "
                              "evidence, no stored replicates, one field per line, the run block and gold scores "
                              "a model's records share stored once in its _shared folder), one file at a time, "
                              "atomically; then removes the shared parts no record refers to any more (those "
                              "over an hour old). A record is rewritten only if its new form reads back with the "
                              "same metrics and evidence. Exit codes: 0 done; 1 some files were unreadable or not "
                              "rewritten (named); 2 bad input.")
    mg.add_argument("--results-dir", default=RUNS_DIR, help=f"the stored records (default: {RUNS_DIR})")
    mg.add_argument("--dry-run", action="store_true", help="write nothing: say what would be rewritten, and sizes")
    ex = _command(sub, "export", help="export stored results in another format")
    ex.add_argument("--format", choices=["mteb"], default="mteb")
    ex.add_argument("--results-dir", default=RUNS_DIR)
    ex.add_argument("--out", default="results/mteb")


def _add_data_commands(sub) -> None:
    data = _command(sub, "data", help="the evaluation sets: list them, fetch them from their pinned sources, "
                                       "verify a data root", description="Every evaluation set with its source (a "
                                       "public repository at a pinned commit), licence and the sha256 of every "
                                       "file as this project measured it.")
    verbs = data.add_subparsers(dest="verb", required=True)
    _command(verbs, "list", help="each set: family, languages, size, licence, source and its state here")
    fetch = _command(verbs, "fetch", help="download sets from their pinned sources, checked against the manifest",
                             description="Download evaluation sets, resumably; each file is verified (sha256) "
                                         "before it is put in place, atomically. Exit 2 on any failure, naming it.")
    fetch.add_argument("sets", nargs="*", metavar="SET", help="set names (`harness data list`), or --all")
    fetch.add_argument("--all", action="store_true", help="every set")
    fetch.add_argument("--langs", default=None, help="only the files these languages need (English always)")
    fetch.add_argument("--to", default=None, help="the data root to fill (default: the data root in use, see "
                                                   "`harness data list`)")
    fetch.add_argument("--mirror", default=None, metavar="URL",
                       help="fetch from URL/OWNER/REPO/COMMIT/PATH instead of https://raw.githubusercontent.com")
    fetch.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    verify = _command(verbs, "verify", help="recompute every file's sha256; exit 1 if any is missing or changed")
    verify.add_argument("root", nargs="?", default=None, metavar="DIR", help="a data root (default: the one in use)")
    verify.add_argument("--sets", default=None, help="only these sets, comma-separated")
    verify.add_argument("--langs", default=None, help="only the files these languages need (English always)")


def _add_mine_command(sub) -> None:
    from harness.search.bitext import EXACT_BELOW, MODES
    from harness.search.corpus import CHUNK_SENTENCES
    from harness.search.miner import DEFAULT_THRESHOLD

    mine = _command(sub, "mine", help="find translation pairs in two monolingual corpora (LASER-style margin mining)",
                    description="Encode two corpora (one sentence per line, UTF-8, plain or .gz) in cached chunks, "
                                "search both ways, score by ratio margin (k=4) and write score<TAB>source<TAB>target, "
                                "best first. A killed run resumes from its cached chunks. Exit 2 on bad input.")
    mine.add_argument("--model", required=True, help="a model spec, as in eval (alias, folder, hub name, "
                                                          "MODEL#output=NAME)")
    mine.add_argument("--src", required=True, type=Path, help="the source-language corpus")
    mine.add_argument("--tgt", required=True, type=Path, help="the target-language corpus")
    mine.add_argument("--out", required=True, type=Path, help="the pairs file to write (TSV)")
    mine.add_argument("--mode", choices=MODES, default="max",
                      help="candidates: max (both directions, each sentence once; LASER's mining default), "
                           "intersection, forward or backward (default: max)")
    mine.add_argument("--threshold", type=float, default=None,
                      help=f"keep pairs whose margin is at least this (default: calibrated on --gold when given, "
                           f"else {DEFAULT_THRESHOLD}, where LASER's mined corpora were cut; other models' margins "
                           f"spread otherwise, so calibrate on a gold sample when you can)")
    mine.add_argument("--gold", type=Path, default=None,
                      help="known pairs (source<TAB>target, both lines of the corpora): the threshold is the one that "
                           "maximises F1 on them (BUCC), and precision, recall and F1 are reported")
    mine.add_argument("--exact-below", type=int, default=EXACT_BELOW,
                      help=f"exact search when neither corpus is longer, the approximate ivfpq index above "
                           f"(default: {EXACT_BELOW})")
    mine.add_argument("--chunk", type=int, default=CHUNK_SENTENCES,
                      help=f"sentences per cached chunk of embeddings (default: {CHUNK_SENTENCES})")
    mine.add_argument("--cache", type=Path, default=None,
                      help="folder for the embedding chunks (default: mine/ under $HARNESS_CACHE)")
    mine.add_argument("--no-cache", dest="use_cache", action="store_false", help="keep no embeddings on disk")
    mine.add_argument("--batch-size", type=int, default=64)
    mine.add_argument("--device", default=None, help="torch device for the model (default: what it picks)")
    mine.add_argument("--trust-remote-code", action="store_true", help="run a hub model's own code (off by default)")
    mine.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def cmd_mine(args: argparse.Namespace) -> int:
    from harness.core.paths import cache_root
    from harness.encoders.adapters import load_encoder
    from harness.search.miner import MineOptions, mine_corpora, read_corpora

    for name in ("chunk", "batch_size", "exact_below"):
        if getattr(args, name) < 1:
            raise HarnessError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(args, name)}")
    for given in (args.src, args.tgt, args.gold):
        if given is not None and args.out.resolve() == given.resolve():
            raise HarnessError(f"--out {args.out} is an input file: it would be overwritten")
    if args.out.is_dir():
        raise HarnessError(f"--out {args.out} is a folder; name the pairs file to write")
    if not args.out.parent.is_dir():
        raise HarnessError(f"--out {args.out}: the folder {args.out.parent} does not exist")
    if args.cache is not None and args.cache.exists() and not args.cache.is_dir():
        raise HarnessError(f"--cache {args.cache} is a file, not a folder")
    if args.threshold is not None and not math.isfinite(args.threshold):
        raise HarnessError(f"--threshold must be a finite margin, not {args.threshold}")
    options = MineOptions(mode=args.mode, threshold=args.threshold, exact_below=args.exact_below,
                          chunk=args.chunk, batch_size=args.batch_size, progress=args.progress,
                          cache=(args.cache or cache_root() / "mine") if args.use_cache else None)
    corpora = read_corpora(args.src, args.tgt, args.gold)  # bad input fails before a model loads
    encoder = load_encoder(args.model, device=args.device, trust_remote_code=args.trust_remote_code)
    report = mine_corpora(encoder, corpora, args.out, options, log=lambda line: print(line, file=sys.stderr))
    how = "calibrated on the gold pairs" if report.calibrated else "given" if args.threshold is not None else "default"
    print(f"{report.written:,} pairs written to {args.out} (margin >= {report.threshold:.4f}, {how}; "
          f"{report.candidates:,} {args.mode} candidates; search {report.search})")
    print(f"sentences: {report.sentences['source']:,} source, {report.sentences['target']:,} target "
          f"({report.duplicates['source']:,} and {report.duplicates['target']:,} repeated lines dropped); "
          f"encoded now {report.encoded['source'] + report.encoded['target']:,}, the rest from the cache")
    if report.quality is not None:
        q = report.quality
        sample = " (in-sample: the threshold was chosen on these pairs)" if report.calibrated else ""
        print(f"against the gold pairs: precision {100 * q.precision:.2f}, recall {100 * q.recall:.2f}, "
              f"F1 {100 * q.f1:.2f} ({q.correct:,} of {q.mined:,} mined pairs are gold){sample}")
    print("seconds: " + ", ".join(f"{stage} {value:.1f}" for stage, value in report.seconds.items()))
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from harness.core.languages import parse_langs
    from harness.core.paths import data_root
    from harness.data import fetch as data_fetch
    from harness.data.manifest import load, pick

    sets = load()
    langs = parse_langs(args.langs) if getattr(args, "langs", None) else None
    if args.verb == "list":
        root = data_root()
        print(f"data root: {root}\n")
        rows = [[d.name, d.source.task, d.source.family, len(d.languages), len(d.files), f"{d.bytes / 1e6:.1f} MB",
                 d.source.licence, data_fetch.state(d, root)] for d in sets.values()]
        from tabulate import tabulate

        print(tabulate(rows, headers=["set", "task", "family", "languages", "files", "size", "licence", "state"]))
        print("\nsources, each at the commit the files were measured at:")
        for d in sets.values():
            print(f"  {d.name:18} https://github.com/{d.source.repo}/tree/{d.source.commit}/{d.source.folder_in_repo}")
        print("\nparallel/ (training pairs) is not fetched: give your own with --parallel (README, 'Training').")
        return 0
    if args.verb == "fetch":
        if not args.sets and not args.all:
            raise HarnessError("data fetch: name the sets (`harness data list`) or give --all")
        chosen = list(sets.values()) if args.all else pick(sets, args.sets)
        root = Path(args.to).expanduser() if args.to else data_root()
        report = data_fetch.fetch(chosen, root, langs=langs, mirror=args.mirror, progress=args.progress)
        print(f"{root}: {len(report.fetched)} file(s) fetched, {len(report.present)} already present and verified"
              + (f", {len(report.replaced)} changed file(s) fetched again" if report.replaced else ""))
        return 0
    root = Path(args.root).expanduser() if args.root else data_root()
    chosen = pick(sets, split_list(args.sets)) if args.sets else list(sets.values())
    checked, problems = data_fetch.verify(chosen, root, langs)
    for problem in problems:
        print(f"{problem.what}: {root / problem.path}")
    print(f"{root}: {checked} file(s) checked, {len(problems)} missing or changed"
          + ("" if problems else ": every file is the one this project measured"))
    return 1 if problems else 0


def cmd_eval(args: argparse.Namespace) -> int:
    import time

    from harness.app.runner import evaluate_models
    from harness.results.store import ResultStore
    from harness.results.tables import MINING_DIRECTIONS, main_scores, metric_table, to_markdown

    config = build(EvalConfig, _settings_of(args, EvalConfig))
    start = time.perf_counter()
    report = evaluate_models(config, log=lambda line: print(line, file=sys.stderr))
    records, _ = ResultStore(config.results_path).records()
    mine = [r for r in records if r["model"]["name"] in config.models
            and set(r["pair"].split("-")) <= set(config.langs) | {"en"}]
    print(f"\n## Main scores ({len(report.written)} written, {len(report.reused)} reused, "
          f"{len(report.failed)} failed; {time.perf_counter() - start:.0f} s)\n")
    print(to_markdown(main_scores(mine).T))
    if any(r["task"]["family"] == MINING for r in mine):
        print("\n## Mining accuracy by direction (fwd = xx->en, bwd = en->xx)\n")
        print(to_markdown(metric_table([r for r in mine if r["task"]["family"] == MINING], MINING_DIRECTIONS)))
    print(f"\nresults: {config.results_path}")
    return report.exit_code


def cmd_train(args: argparse.Namespace) -> int:
    from harness.app.runner import train

    command = build(TrainCommand, _settings_of(args, TrainCommand))
    path, report = train(command, log=lambda line: print(line, file=sys.stderr))
    print(f"student: {path}")
    print((path / "README.md").read_text(encoding="utf-8"))
    return report.exit_code if report else 0


def cmd_run(args: argparse.Namespace) -> int:
    from harness.app.runner import run

    config = build(RunConfig, _settings_of(args, RunConfig), args.config)
    from harness.results.report import run_summary
    from harness.results.store import ResultStore

    report = run(config, log=lambda line: print(line, file=sys.stderr))
    print(f"run finished in {report.seconds:.0f} s: {len(report.evaluation.written)} results written, "
          f"{len(report.evaluation.reused)} reused; students: {', '.join(map(str, report.students)) or 'none'}\n")
    for line in run_summary(ResultStore(config.results_dir).records()[0], report.models):
        print(line)
    page = next(path for path in report.leaderboard if path.suffix == ".html")
    print(f"\nreport: {page}  (all tables: {report.leaderboard[0]})")
    return report.exit_code


def cmd_validate(args: argparse.Namespace) -> int:
    from harness.app.runner import validate

    for line in validate(build(RunConfig, _settings_of(args, RunConfig), args.config)):
        print(line)
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from harness.results.report import write_leaderboard

    if not 0.0 < args.ceiling <= 100.0:
        raise HarnessError(f"--ceiling must be a score in (0, 100], not {args.ceiling:g}")
    skipped: list[str] = []
    ceiling = None if args.keep_saturated else args.ceiling
    for path in write_leaderboard(args.results_dir, args.out, warn=skipped.append, ceiling=ceiling):
        print(path)
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    if skipped and not args.skip_invalid:
        print(f"error: {len(skipped)} record(s) unreadable or invalid, left out of the leaderboard (listed above "
              f"and at the end of LEADERBOARD.md); mend or remove them, or pass --skip-invalid", file=sys.stderr)
        return 1
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.results.compare import compare, materialise_baseline
    from harness.results.stats import LEVEL, PERMUTATIONS, RESAMPLES
    from harness.results.tables import comparison_table, to_markdown

    models = split_list(args.models) if args.models else None
    if models is not None and len(models) != 2:
        raise HarnessError(f"--models takes two model names, OLD,NEW; got '{args.models}'")
    baseline, tmp = materialise_baseline(args.baseline)
    try:
        result = compare(baseline, Path(args.candidate), args.tolerance, args.metrics,
                         tuple(models) if models else None, args.fail_on_significant, args.allow_missing)
    finally:
        if tmp:
            tmp.cleanup()
    shown = result.table if args.show == "all" else result.table[result.table["status"] != "ok"]
    import textwrap

    summary = (f"{len(result.table)} metrics compared, {result.tests} of them paired on the same items (accuracies: "
               f"exact sign-flip mid-p; correlations: permutation, {PERMUTATIONS} swaps; others: bootstrap, "
               f"{RESAMPLES} resamples; {LEVEL:.0%} intervals); p-values Holm-corrected over those "
               f"{result.tests} tests; tolerance {args.tolerance}; {len(result.regressions)} regression(s)"
               + (f" ({missing} of them pairs the candidate was not scored on: --allow-missing leaves those out)"
                  if (missing := int((result.table["status"] == "missing").sum())) else "")
               + (f"; {result.left_out} pair(s) the candidate was not scored on left out (--allow-missing)"
                  if result.left_out else ""))
    print(textwrap.fill(summary, 120) + "\n")
    if not len(shown):
        print("no change beyond the tolerance")
    for model, rows in shown.groupby("model", sort=True):  # one table per model: rows fit a terminal
        print(f"model: {model}\n")
        print(to_markdown(comparison_table(rows), digits=2) + "\n")
    return result.exit_code


def cmd_migrate(args: argparse.Namespace) -> int:
    from harness.results.compact import migrate_folder

    root = Path(args.results_dir)
    if not root.is_dir():
        raise HarnessError(f"--results-dir {root} is not a folder")
    done = migrate_folder(root, dry_run=args.dry_run)
    verb = "would rewrite" if args.dry_run else "rewrote"
    pruned = f"; {'would remove' if args.dry_run else 'removed'} {done.pruned} unreferenced shared part(s)" \
        if done.pruned else ""
    print(f"{root}: {verb} {done.rewritten} record(s), {done.unchanged} already current{pruned}; "
          f"{done.bytes_before / 1e6:.1f} MB -> {done.bytes_after / 1e6:.1f} MB")
    for problem in done.problems:
        print(f"{problem.path}: {problem.reason}", file=sys.stderr)
    return 1 if done.problems else 0


def cmd_export(args: argparse.Namespace) -> int:
    from harness.results.export_mteb import export_mteb

    paths = export_mteb(args.results_dir, args.out)
    print(f"wrote {len(paths)} mteb TaskResult files under {args.out}")
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    from harness.app.plugins import FAMILY_DEFAULTS, FILE_TASKS, TASKS, TRAINERS

    if args.what == "tasks" and args.mteb:
        found = FILE_TASKS.get("mteb").catalogue()
        for name, family, subsets in found:
            print(f"mteb:{name:45} {family:10} {subsets:4} subset(s)")
        print(f"\n{len(found)} mteb tasks; `--tasks mteb:NAME` scores one (data from the hub, or a local cache)")
    elif args.what == "tasks":
        for name in TASKS:
            meta = TASKS.get(name).metadata
            print(f"{name:15} {meta.family:10} {meta.dataset:28} {meta.description}")
        print("\nfamilies: " + "; ".join(f"{f} = {', '.join(n)}" for f, n in FAMILY_DEFAULTS.items()))
        print("your own files and mteb's tasks: " + "; ".join(FILE_TASKS.get(kind).usage for kind in FILE_TASKS))
    elif args.what == "trainers":
        for name in TRAINERS:
            doc = (TRAINERS.get(name).__doc__ or "").strip().splitlines()
            print(f"{name:12} {doc[0] if doc else ''}")
    elif args.what == "models":
        from harness.encoders.specs import ALIASES, BASELINES

        for alias in [*ALIASES, *BASELINES]:
            print(alias)
        print("hash[:DIM]  (deterministic model-free encoder for tests)")
    else:
        from harness.core.languages import LANGUAGES

        for code, lang in sorted(LANGUAGES.items()):
            print(f"{code:8} {lang.name} ({lang.script})")
    return 0


COMMANDS = {"eval": cmd_eval, "train": cmd_train, "run": cmd_run, "leaderboard": cmd_leaderboard,
            "compare": cmd_compare, "validate": cmd_validate, "export": cmd_export, "ls": cmd_ls, "data": cmd_data,
            "mine": cmd_mine, "migrate": cmd_migrate}


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
