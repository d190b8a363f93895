"""The concrete tasks: Tatoeba, FLORES-200, STSb-multi-mt, XQuAD-R, and bring-your-own-file tasks.

Every dataset is read in place from the data root (env HARNESS_DATA); nothing is copied.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path

from harness.core.data import (
    DataError,
    ScoredPair,
    data_root,
    read_aligned,
    read_lines,
    read_sts_csv,
    read_sts_tsv,
    read_tsv,
)
from harness.core.errors import HarnessError
from harness.core.languages import LANGUAGES, normalise
from harness.core.registry import Registry
from tasks.base import LangPair, Task, TaskMetadata
from tasks.mining import BitextMiningTask
from tasks.retrieval import RetrievalSet, RetrievalTask
from tasks.sts import STSTask

PIVOT = "en"


def _pairs_with_pivot(available: list[str], langs: list[str], *, same: bool, both_ways: bool) -> list[LangPair]:
    """Pairs X-en for each requested X this task has; optionally X-X and en-X, and en-en first."""
    pairs = [LangPair(PIVOT, PIVOT)] if same and PIVOT in available else []
    for lang in langs:
        if lang == PIVOT or lang not in available:
            continue
        pairs.append(LangPair(lang, PIVOT))
        if both_ways:
            pairs.append(LangPair(PIVOT, lang))
        if same:
            pairs.append(LangPair(lang, lang))
    return pairs


class TatoebaMining(BitextMiningTask):
    """Tatoeba (LASER v1): up to 1,000 sentences per language aligned with English."""

    metadata = TaskMetadata(
        name="tatoeba", family="mining", dataset="Tatoeba (LASER v1)", split="test", main_score="acc_margin_mean",
        description="Bitext mining xx<->en, 112 languages, up to 1,000 pairs each",
        reference="Artetxe & Schwenk 2019, https://github.com/facebookresearch/LASER/tree/main/data/tatoeba/v1",
    )

    def __init__(self, root: Path):
        self.folder = root / "eval" / "tatoeba"

    @cached_property
    def _codes(self) -> dict[str, str]:
        codes = {}
        for path in sorted(self.folder.glob("tatoeba.*-eng.eng")):
            code = path.name.split(".")[1].split("-")[0]
            codes[normalise(code)] = code
        if not codes:
            raise HarnessError(f"{self.folder}: no tatoeba.xxx-eng.* files found")
        return codes

    def languages(self) -> list[str]:
        return sorted(self._codes)

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return [LangPair(lang, PIVOT) for lang in langs if lang in self._codes]

    def load_pair(self, pair: LangPair) -> tuple[list[str], list[str]]:
        code = self._codes[pair.src]
        return read_aligned(self.folder / f"tatoeba.{code}-eng.{code}", self.folder / f"tatoeba.{code}-eng.eng")


class FloresMining(BitextMiningTask):
    """FLORES-200 devtest: 1,012 n-way aligned sentences; any language against the pivot."""

    metadata = TaskMetadata(
        name="flores", family="mining", dataset="FLORES-200", split="devtest", main_score="acc_margin_mean",
        description="Bitext mining xx<->en over 1,012 n-way aligned sentences, 204 languages",
        reference="NLLB Team 2022, https://github.com/facebookresearch/flores",
    )

    def __init__(self, root: Path, pivot: str = PIVOT):
        self.folder = root / "eval" / "flores200-devtest"
        self.pivot = normalise(pivot)

    @cached_property
    def _files(self) -> dict[str, Path]:
        files: dict[str, Path] = {}
        for path in sorted(self.folder.glob("*.devtest")):
            lang = normalise(path.stem)
            script = path.stem.split("_")[-1]
            preferred = LANGUAGES[lang].script if lang in LANGUAGES else None
            # Several scripts of one language (arb_Arab, arb_Latn): keep the language's main script.
            if lang not in files or script == preferred:
                files[lang] = path
        if not files:
            raise HarnessError(f"{self.folder}: no *.devtest files found")
        return files

    def languages(self) -> list[str]:
        return sorted(self._files)

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return [LangPair(lang, self.pivot) for lang in langs if lang in self._files and lang != self.pivot]

    def load_pair(self, pair: LangPair) -> tuple[list[str], list[str]]:
        return read_aligned(self._files[pair.src], self._files[pair.tgt])


class STSbMultiMT(STSTask):
    """STSb-multi-mt: STS benchmark in 11 languages, rows aligned across languages."""

    metadata = TaskMetadata(
        name="stsb-multi-mt", family="sts", dataset="STSb multi-mt", split="test", main_score="spearman",
        description="STS, monolingual X-X and cross-lingual en-X / X-en from row-aligned translations",
        reference="May 2021, https://github.com/PhilipMay/stsb-multi-mt",
    )

    def __init__(self, root: Path, split: str = "test"):
        self.folder = root / "eval" / "stsb-multi-mt"
        self.split = split

    def _path(self, lang: str) -> Path:
        return self.folder / f"stsb-{lang}-{self.split}.csv"

    def languages(self) -> list[str]:
        return sorted(normalise(p.name.split("-")[1]) for p in self.folder.glob(f"stsb-*-{self.split}.csv"))

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return _pairs_with_pivot(self.languages(), langs, same=True, both_ways=True)

    def load_pair(self, pair: LangPair) -> list[ScoredPair]:
        first, second = read_sts_csv(self._path(pair.src)), read_sts_csv(self._path(pair.tgt))
        if len(first) != len(second):
            raise DataError(self._path(pair.tgt), f"has {len(second)} rows but {self._path(pair.src).name} "
                                                  f"has {len(first)}: rows are not aligned")
        # Cross-lingual: sentence1 from the source file, sentence2 from the target; the gold score is
        # the English row's (the translations copy it).
        scores = first if pair.src == PIVOT else second
        return [ScoredPair(a.s1, b.s2, s.score) for a, b, s in zip(first, second, scores)]


class XQuADR(RetrievalTask):
    """XQuAD-R (LAReQA): a question retrieves the sentence holding its answer from a language's pool."""

    metadata = TaskMetadata(
        name="xquad-r", family="retrieval", dataset="XQuAD-R", split="test", main_score="ndcg@10",
        description="Answer-sentence retrieval, question language X against pool language Y (11 languages)",
        reference="Roy et al. 2020 (LAReQA), https://github.com/google-research-datasets/lareqa",
    )

    def __init__(self, root: Path):
        self.folder = root / "eval" / "xquad-r"

    def languages(self) -> list[str]:
        return sorted(normalise(p.stem) for p in self.folder.glob("*.json"))

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return _pairs_with_pivot(self.languages(), langs, same=True, both_ways=True)

    @staticmethod
    def _parse(path: Path) -> tuple[dict[str, str], dict[str, str], list[str]]:
        """(question by id, answer sentence by id, unique sentences in order) of one language file."""
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            raise DataError(path, "file not found") from None
        except UnicodeDecodeError as err:
            raise DataError(path, f"invalid UTF-8 at byte {err.start}") from None
        except json.JSONDecodeError as err:
            raise DataError(path, f"invalid JSON: {err.msg}", err.lineno) from None
        questions, answers, sentences = {}, {}, {}
        try:
            for article in data["data"]:
                for paragraph in article["paragraphs"]:
                    spans = paragraph["sentence_breaks"]
                    texts = paragraph["sentences"]
                    for text in texts:
                        sentences.setdefault(text.strip(), None)
                    for qa in paragraph["qas"]:
                        start = qa["answers"][0]["answer_start"]
                        index = next((i for i, (a, b) in enumerate(spans) if a <= start < b), None)
                        if index is None:
                            raise DataError(path, f"answer of question {qa['id']} lies in no sentence")
                        questions[qa["id"]] = qa["question"]
                        answers[qa["id"]] = texts[index].strip()
        except (KeyError, IndexError, TypeError) as err:
            raise DataError(path, f"not in XQuAD-R format (missing or malformed {err})") from None
        return questions, answers, list(sentences)

    def load_pair(self, pair: LangPair) -> RetrievalSet:
        questions, _, _ = self._parse(self.folder / f"{pair.src}.json")
        _, answers, pool = self._parse(self.folder / f"{pair.tgt}.json")
        position = {text: i for i, text in enumerate(pool)}
        ids = [qid for qid in questions if qid in answers]
        if not ids:
            raise HarnessError(f"xquad-r {pair.key}: no question ids shared by the two files")
        return RetrievalSet([questions[q] for q in ids], pool, [position[answers[q]] for q in ids])


# ---- bring your own files: `--tasks sts-file:PATH@de-en,mining-file:A+B@de-en,retrieval-file:PATH@de-en`


class FileTask:
    """A task over user files for one declared language pair (default 'xx-xx' when not given)."""

    def __init__(self, pair: LangPair):
        self.pair = pair

    def languages(self) -> list[str]:
        return sorted({self.pair.src, self.pair.tgt})

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return [self.pair]


class STSFile(FileTask, STSTask):
    """STS from a TSV `s1<TAB>s2<TAB>score` (score in [0, 5])."""

    def __init__(self, path: Path, pair: LangPair):
        super().__init__(pair)
        self.path = path
        self.metadata = TaskMetadata(name=f"sts-file:{path.name}", family="sts", dataset=str(path), split="user",
                                     main_score="spearman", description="user STS file")

    def load_pair(self, pair: LangPair) -> list[ScoredPair]:
        return read_sts_tsv(self.path)


class MiningFile(FileTask, BitextMiningTask):
    """Bitext mining from two line-aligned text files."""

    def __init__(self, src: Path, tgt: Path, pair: LangPair):
        super().__init__(pair)
        self.src, self.tgt = src, tgt
        self.metadata = TaskMetadata(name=f"mining-file:{src.name}+{tgt.name}", family="mining",
                                     dataset=f"{src}+{tgt}", split="user", main_score="acc_margin_mean",
                                     description="user aligned files")

    def load_pair(self, pair: LangPair) -> tuple[list[str], list[str]]:
        return read_aligned(self.src, self.tgt)


class RetrievalFile(FileTask, RetrievalTask):
    """Retrieval from a TSV `query<TAB>relevant candidate`; the pool is every distinct candidate."""

    def __init__(self, path: Path, pair: LangPair):
        super().__init__(pair)
        self.path = path
        self.metadata = TaskMetadata(name=f"retrieval-file:{path.name}", family="retrieval", dataset=str(path),
                                     split="user", main_score="ndcg@10", description="user retrieval file")

    def load_pair(self, pair: LangPair) -> RetrievalSet:
        rows = [fields for _, fields in read_tsv(self.path, 2)]
        pool = list(dict.fromkeys(candidate for _, candidate in rows))
        position = {text: i for i, text in enumerate(pool)}
        return RetrievalSet([q for q, _ in rows], pool, [position[c] for _, c in rows])


_FILE_SPEC = re.compile(r"^(?P<kind>sts|mining|retrieval)-file:(?P<paths>[^@]+)(?:@(?P<src>[^-@]+)-(?P<tgt>[^-@]+))?$")


def file_task(spec: str) -> Task:
    """Build a bring-your-own task from 'sts-file:PATH[@src-tgt]' (mining: 'mining-file:A+B[@src-tgt]')."""
    match = _FILE_SPEC.match(spec)
    if not match:
        raise HarnessError(f"bad file task '{spec}': use sts-file:PATH, mining-file:SRC+TGT or "
                           f"retrieval-file:PATH, each optionally followed by @src-tgt")
    pair = LangPair(normalise(match["src"]), normalise(match["tgt"])) if match["src"] else LangPair("xx", "xx")
    paths = [Path(p).expanduser() for p in match["paths"].split("+")]
    for path in paths:
        if not path.is_file():
            raise DataError(path, "file not found")
    if match["kind"] == "mining":
        if len(paths) != 2:
            raise HarnessError(f"bad file task '{spec}': mining-file needs two files joined by '+'")
        read_lines(paths[0])  # fail early, before any model loads
        return MiningFile(paths[0], paths[1], pair)
    return (STSFile if match["kind"] == "sts" else RetrievalFile)(paths[0], pair)


TASKS: Registry[type[Task]] = Registry("task")
TASKS.register("stsb-multi-mt", STSbMultiMT)
TASKS.register("tatoeba", TatoebaMining)
TASKS.register("flores", FloresMining)
TASKS.register("xquad-r", XQuADR)

FAMILY_DEFAULTS = {"sts": ["stsb-multi-mt"], "mining": ["tatoeba", "flores"], "retrieval": ["xquad-r"]}


def resolve_tasks(specs: list[str], root: Path | None = None) -> list[Task]:
    """Turn names, family names and file specs into task instances (in order, without repeats).

    The data root (default: HARNESS_DATA) is looked up only when a dataset task is asked for.
    """
    names: list[str] = []
    tasks: list[Task] = []
    for spec in specs:
        if "-file:" in spec:
            tasks.append(file_task(spec))
            continue
        for name in FAMILY_DEFAULTS.get(spec, [spec]):
            if name not in names:
                names.append(name)
                factory = TASKS.get(name)
                root = root or data_root()
                tasks.append(factory(root))
    return tasks
