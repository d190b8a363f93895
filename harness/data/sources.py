"""Training pairs from anywhere (`--parallel SPEC`, repeatable, or `parallel = [...]` in TOML):

- nothing given: the data root's parallel/ folder, one dataset per `<source>/en-<lang>.tsv.gz` (the offline
  default);
- `FILE[@LANG]`: a TSV (`english<TAB>translation`), TSV.gz, JSONL or JSONL.gz file; the language is read from a
  name like `en-de.tsv.gz` or `talks.de-en.jsonl`, or given after `@`;
- `FOLDER[@LANG]`: every such file of the run's languages under the folder, each its own dataset (named
  FOLDER/RELATIVE-PATH);
- `hf:NAME[:SUBSET][@REVISION]`: a Hugging Face dataset through the `datasets` library, e.g.
  `hf:sentence-transformers/parallel-sentences-talks:en-de` (columns `english` and `non_english`, or the first
  two text columns); the language comes from the subset (`en-de`), its commit goes into the training summary
  and a hash of its pairs into the student's reuse key (the same data, whether the hub answers or not). NAME
  may be a local folder of parquet files (`NAME/SUBSET/*.parquet`), which is how it is tested offline;
- `mined:FILE@SRC-TGT[>=SCORE]`: the pairs `harness mine` wrote (`score<TAB>source<TAB>target`) for a source
  language SRC and target TGT, one of them English, keeping those whose margin is at least SCORE (default:
  every pair in the file);
- `data-root`: the data root's parallel/ folder beside the others.

Every source is its own dataset for the balanced batches, and every pair whose English or foreign side is an
evaluation sentence of the run is dropped (the leak filter; `harness.core.parallel.assemble`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from harness.core.data import fingerprint, read_jsonl_pairs, read_mined_pairs, read_pairs, recording_reads
from harness.core.errors import HarnessError
from harness.core.languages import LANGUAGES, normalise
from harness.core.parallel import ParallelData, ParallelDataset, assemble, root_sources

DATA_ROOT = "data-root"
MINED = "mined:"
_MINED = re.compile(r"^mined:(?P<path>.+)@(?P<src>[^-@>=]+)-(?P<tgt>[^-@>=]+?)(?:>=(?P<score>[^@]+))?$")
SUFFIXES = (".tsv", ".tsv.gz", ".jsonl", ".jsonl.gz")
_CODE = r"[a-z]{2,3}(?:_[a-z]{4})?"
_EN_FIRST = re.compile(rf"(?:^|[._-])en-({_CODE})(?=[._-]|$)")  # en-de, wmt-en-de: the usual spelling, tried first
_EN_LAST = re.compile(rf"(?:^|[._-])({_CODE})-en(?=[._-]|$)")  # de-en


def training_data(specs: list[str], langs: list[str], root: Path, *, max_pairs: int | None, dev_pairs: int,
                  seed: int, exclude: frozenset[str] = frozenset()) -> ParallelData:
    """Read every source `specs` names (none: the data root's parallel/), keep the run's languages, drop the
    pairs that meet `exclude`, hold out dev pairs and cap: the data a student trains on."""
    with recording_reads() as used:
        read: list[ParallelDataset] = []
        for spec in specs or [DATA_ROOT]:
            if spec == DATA_ROOT:
                read += root_sources(root, langs, strict=len(specs) <= 1)
            elif spec.startswith(MINED):
                source = mined_source(spec)
                # the file's digest alone would give every minimum score the same key
                used[Path("mined") / source.name] = pairs_digest(source.pairs)
                read.append(source)
            elif spec.startswith("hf:"):
                source = hub_source(spec)
                # the pairs themselves key the student: the same data offline (revision unknown) and online
                used[Path("hf") / source.name] = pairs_digest(source.pairs)
                read.append(source)
            else:
                read += file_sources(spec, langs)
    names = [source.name for source in read]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise HarnessError(f"--parallel: two sources are both called {', '.join(twice)}; give each a distinct "
                           f"file name (the name identifies a dataset in batches, summaries and the leak report)")
    read = [source for source in read if source.lang in langs]
    missing = [lang for lang in langs if not any(s.lang == lang for s in read)]
    if missing:
        raise HarnessError(f"no training pairs for {', '.join(missing)} in {', '.join(specs or [DATA_ROOT])}; "
                           f"the sources give {', '.join(sorted({s.lang for s in read})) or 'none of the run'}")
    return assemble(read, langs, used, max_pairs=max_pairs, dev_pairs=dev_pairs, seed=seed, exclude=exclude)


def pairs_digest(pairs: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for english, other in pairs:
        digest.update(f"{english}\t{other}\n".encode())
    return digest.hexdigest()


def language_of(name: str) -> str | None:
    """'en-de.tsv.gz', 'wmt-en-de.tsv', 'talks.de-en.jsonl', 'en-de' -> 'de'; None when the name does not say
    (only languages the harness knows count, so 'ted-en.tsv' is not a language called 'ted')."""
    for pattern in (_EN_FIRST, _EN_LAST):
        for found in pattern.finditer(name.lower()):
            code = found.group(1)
            if _known(code):
                return normalise(code)
    return None


def _known(code: str) -> bool:
    try:
        return normalise(code) in LANGUAGES
    except HarnessError:
        return False


def file_sources(spec: str, langs: list[str] | None = None) -> list[ParallelDataset]:
    """The sources of a FILE[@LANG] or FOLDER[@LANG] spec, one per file; in a folder, only the files of `langs`
    are read."""
    path_text, at, lang_text = spec.rpartition("@")
    if not at or "/" in lang_text:
        path_text, lang_text = spec, ""
    path = Path(path_text).expanduser()
    if not path.exists():
        raise HarnessError(f"--parallel {spec}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)) if path.is_dir() \
        else [path]
    if not files:
        raise HarnessError(f"--parallel {spec}: no {', '.join(SUFFIXES)} files in the folder")
    sources = []
    for file in files:
        if not file.name.endswith(SUFFIXES):
            raise HarnessError(f"{file}: not a parallel file; expected one of {', '.join(SUFFIXES)}")
        lang = normalise(lang_text) if lang_text else language_of(file.name)
        if lang is None:
            raise HarnessError(f"{file}: its name does not say the language (name it like en-de.tsv.gz, or give "
                               f"--parallel {path_text}@LANG)")
        if path.is_dir() and langs is not None and lang not in langs:
            continue  # another language of the folder: not read, not in the student's key
        reader = read_jsonl_pairs if ".jsonl" in file.name else read_pairs
        name = f"{path.name}/{file.relative_to(path).as_posix()}" if path.is_dir() else file.name
        sources.append(ParallelDataset(name, lang, reader(file)))
    return sources


def mined_source(spec: str) -> ParallelDataset:
    """The pairs of a `harness mine` file, as one source named after the file and its threshold."""
    match = _MINED.match(spec)
    if match is None:
        raise HarnessError(f"--parallel {spec}: use mined:FILE@SRC-TGT or mined:FILE@SRC-TGT>=SCORE, e.g. "
                           f"mined:pairs.tsv@de-en>=1.1")
    src, tgt = normalise(match["src"]), normalise(match["tgt"])
    if "en" not in (src, tgt) or src == tgt:
        raise HarnessError(f"--parallel {spec}: one side of {src}-{tgt} must be English, the other not")
    try:
        score = float(match["score"]) if match["score"] else -float("inf")
    except ValueError:
        raise HarnessError(f"--parallel {spec}: the minimum score {match['score']!r} is not a number") from None
    path = Path(match["path"]).expanduser()
    if not path.is_file():
        raise HarnessError(f"--parallel {spec}: no such file")
    pairs = read_mined_pairs(path, english_first=src == "en", min_score=score)
    suffix = f">={match['score']}" if match["score"] else ""
    return ParallelDataset(f"mined:{path.name}{suffix}", tgt if src == "en" else src, pairs)


def hub_source(spec: str) -> ParallelDataset:
    """A Hugging Face dataset (or a local folder of parquet files of the same shape) as one source."""
    body, _, revision = spec[len("hf:"):].partition("@")
    name, _, subset = body.partition(":")
    lang = language_of(subset) if subset else None
    if lang is None:
        raise HarnessError(f"--parallel {spec}: name the language pair as the subset, e.g. hf:{name}:en-de")
    dataset, resolved = _load_hub_dataset(spec, name, subset, revision or None)
    columns = _text_columns(spec, dataset)
    pairs = [(str(a), str(b)) for a, b in zip(dataset[columns[0]], dataset[columns[1]])]
    bad = next((i for i, (a, b) in enumerate(pairs) if not a.strip() or not b.strip()), None)
    if bad is not None:
        raise HarnessError(f"{spec}: row {bad + 1} has an empty side")
    if not pairs:
        raise HarnessError(f"{spec}: empty dataset: no rows")
    return ParallelDataset(f"hf:{name}:{subset}", lang, pairs, resolved)


def _load_hub_dataset(spec: str, name: str, subset: str, revision: str | None):
    """(the train split, the revision it was read at): a commit for the hub, a content hash for a folder."""
    try:
        import datasets
    except ImportError:
        raise HarnessError(f"--parallel {spec}: needs the `datasets` library (python -m pip install datasets)") \
            from None
    folder = Path(name).expanduser()
    try:
        if folder.is_dir():
            files = sorted(str(p) for p in (folder / subset).glob("*.parquet")) or \
                sorted(str(p) for p in folder.glob(f"{subset}*.parquet"))
            if not files:
                raise HarnessError(f"--parallel {spec}: no parquet files under {folder / subset}")
            hashed = {Path(f): hashlib.sha256(Path(f).read_bytes()).hexdigest() for f in files}
            loaded = datasets.load_dataset("parquet", data_files=files, split="train")
            return loaded, f"local:{fingerprint(hashed)}"
        loaded = datasets.load_dataset(name, subset, split="train", revision=revision)
    except HarnessError:
        raise
    except Exception as err:  # the datasets library raises many kinds; the user needs the first line
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise HarnessError(f"--parallel {spec}: cannot load the dataset: {first}") from None
    return loaded, revision or _hub_commit(name, revision) or "unknown"


def _hub_commit(name: str, revision: str | None) -> str | None:
    """The commit a hub dataset resolves to, when the hub answers (offline, from the cache: unknown)."""
    try:
        from huggingface_hub import HfApi

        return HfApi().dataset_info(name, revision=revision, timeout=10).sha
    except Exception:  # offline or unknown: the pairs' own hash still keys the student
        return None


def _text_columns(spec: str, dataset) -> tuple[str, str]:
    names = list(dataset.column_names)
    if {"english", "non_english"} <= set(names):
        return "english", "non_english"
    text = [c for c in names if getattr(dataset.features[c], "dtype", "") in ("string", "large_string")]
    if len(text) < 2:
        raise HarnessError(f"--parallel {spec}: expected columns english and non_english (or two text columns); "
                           f"it has {', '.join(names)}")
    return text[0], text[1]
