"""Any mteb task of type STS, BitextMining or Retrieval as a harness task: `--tasks mteb:NAME`.

mteb loads the data (from the hub for online users, or from a local `datasets` cache), the harness scores it,
so the task gets per-item evidence, intervals, the hard-negative analysis and the report like a built-in
one. Each of the task's subsets is a language pair (STS17's `en-de` is en-de, a monolingual task is xx-xx);
a run scores the pairs whose non-English languages it asks for, as the built-in tasks do.

What is scored as what:
- STS: `sentence1`, `sentence2`, `score` (any scale: Spearman and Pearson do not see it);
- BitextMining: `sentence1` and `sentence2`, or the two language columns of a parallel subset;
- Retrieval: every query with exactly one relevant document, against the whole corpus (our retrieval
  metrics score one relevant item per query; a task with more is refused, naming how many).
The split is `test` where the task has one, else its last evaluation split. A subset whose languages repeat
another's (script variants such as FLORES' arb_Arab and arb_Latn) or are not natural languages (code) is left
out and listed in `left_out`; the first subset of each language pair is scored. mteb's own mock tasks
(`mteb.mocks`) can be named too, which is how this bridge is tested offline.
"""

from __future__ import annotations

import hashlib
from typing import Any

from harness.core.data import ScoredPair
from harness.core.errors import HarnessError
from harness.core.languages import normalise
from harness.core.registry import did_you_mean
from harness.core.task import LangPair, TaskMetadata
from harness.core.vocabulary import MAIN_SCORE, MINING, RETRIEVAL, STS
from tasks.mining import BitextMiningTask
from tasks.retrieval import RetrievalSet, RetrievalTask
from tasks.sts import STSTask

FAMILIES = {"STS": STS, "BitextMining": MINING, "Retrieval": RETRIEVAL}


def find(name: str) -> Any:
    """An mteb task instance by name: a registered task, else one of mteb's mock tasks."""
    try:
        import mteb
    except ImportError:
        raise HarnessError(f"mteb:{name}: needs the mteb library (python -m pip install mteb)") from None
    try:
        return mteb.get_task(name)
    except (KeyError, ValueError):
        pass
    import mteb.mocks as mocks

    mock = getattr(mocks, name, None)
    if isinstance(mock, type):
        return mock()
    known = [t.metadata.name for t in mteb.get_tasks(task_types=list(FAMILIES))]
    raise HarnessError(f"mteb:{name}: mteb has no such task{did_you_mean(name, known)}; "
                       f"`harness ls tasks --mteb` lists the STS, BitextMining and Retrieval ones")


def langs_of(scripts: list[str]) -> tuple[str, str]:
    """mteb's ['deu-Latn', 'eng-Latn'] -> ('de', 'en'); one language -> (it, it)."""
    codes = [normalise(s.split("-")[0]) for s in scripts]
    return (codes[0], codes[0]) if len(codes) == 1 else (codes[0], codes[1])


class MtebTask:
    """The part every family shares: the task's metadata, its subsets as language pairs, its data once."""

    follows_requested_languages = True
    usage = "mteb:NAME  (an mteb STS, BitextMining or Retrieval task: `harness ls tasks --mteb`)"

    @staticmethod
    def catalogue() -> list[tuple[str, str, int]]:
        """(name, family, number of subsets) of every mteb task the bridge can score, by family and name."""
        try:
            import mteb
        except ImportError:
            raise HarnessError("listing mteb's tasks needs the mteb library (python -m pip install mteb)") from None

        rows = []
        for task in mteb.get_tasks(task_types=list(FAMILIES)):
            langs = task.metadata.eval_langs
            subsets = len(langs) if isinstance(langs, dict) else 1
            rows.append((task.metadata.name, FAMILIES[task.metadata.type], subsets))
        return sorted(rows, key=lambda row: (row[1], row[0]))

    @classmethod
    def from_argument(cls, argument: str) -> Any:
        task = find(argument.strip())
        return bridge(task)

    def __init__(self, task: Any):
        meta = task.metadata
        self.mteb_task = task
        self.split = "test" if "test" in meta.eval_splits else meta.eval_splits[-1]
        family = FAMILIES[meta.type]
        self.metadata = TaskMetadata(
            name=f"mteb-{meta.name}", family=family, dataset=str(meta.dataset.get("path", meta.name)),
            split=self.split, main_score=MAIN_SCORE[family], description=(meta.description or "").split(". ")[0][:200],
            reference=meta.reference or "", version=f"mteb-{meta.dataset.get('revision', 'unknown')}")
        scripts = meta.eval_langs if isinstance(meta.eval_langs, dict) else {"default": meta.eval_langs}
        self.subsets: dict[LangPair, str] = {}
        self.left_out: dict[str, str] = {}  # subset -> why it is not scored
        for subset, langs in scripts.items():
            try:
                pair = LangPair(*langs_of(langs))
            except HarnessError:
                self.left_out[subset] = f"languages {', '.join(langs)} are not natural languages the harness knows"
                continue
            if pair in self.subsets:
                self.left_out[subset] = f"{pair.key} again (as {self.subsets[pair]}): the first one is scored"
                continue
            self.subsets[pair] = subset
        if not self.subsets:
            raise HarnessError(f"mteb:{meta.name}: none of its subsets is a language pair the harness knows "
                               f"({', '.join(scripts)})")
        self._loaded = False

    def languages(self) -> list[str]:
        return sorted({lang for pair in self.subsets for lang in (pair.src, pair.tgt)})

    def pairs(self, langs: list[str]) -> list[LangPair]:
        wanted = {*langs, "en"}
        return [pair for pair in self.subsets if {pair.src, pair.tgt} <= wanted]

    def split_data(self, pair: LangPair) -> Any:
        """The evaluation split of a pair's subset, as mteb loaded it."""
        if not self._loaded:
            try:
                self.mteb_task.load_data()
            except Exception as err:  # datasets raises many kinds, offline among them
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise HarnessError(f"{self.metadata.name}: mteb could not load its data: {first}") from None
            self._loaded = True
        dataset = self.mteb_task.dataset
        subset = self.subsets[pair]
        if isinstance(dataset, dict) and subset in dataset and self.split not in dataset:
            dataset = dataset[subset]
        return dataset[self.split]

    def fingerprint(self, pair: LangPair) -> str:
        """The dataset revision mteb pins, with a hash of the texts it loaded for the pair (computed once: reuse
        checks and every result ask for it)."""
        known = self.__dict__.setdefault("_content_fingerprints", {})
        if pair not in known:
            digest = hashlib.sha256(self.metadata.version.encode())
            for text in self.sentences(pair):
                digest.update(text.encode("utf-8") + b"\0")
            known[pair] = digest.hexdigest()[:16]
        return known[pair]


class MtebSTS(MtebTask, STSTask):
    def load_pair(self, pair: LangPair) -> list[ScoredPair]:
        rows = self.split_data(pair)
        return [ScoredPair(a, b, float(s)) for a, b, s in zip(rows["sentence1"], rows["sentence2"], rows["score"])]


class MtebMining(MtebTask, BitextMiningTask):
    def load_pair(self, pair: LangPair) -> tuple[list[str], list[str]]:
        rows = self.split_data(pair)
        columns = list(rows.column_names)
        if {"sentence1", "sentence2"} <= set(columns):
            return list(rows["sentence1"]), list(rows["sentence2"])
        first, _, second = self.subsets[pair].partition("-")
        if first in columns and second in columns:  # a parallel subset such as eng_Latn-fra_Latn
            return list(rows[first]), list(rows[second])
        raise HarnessError(f"{self.metadata.name} {pair.key}: no sentence1/sentence2 columns (it has "
                           f"{', '.join(columns)})")


class MtebRetrieval(MtebTask, RetrievalTask):
    def load_pair(self, pair: LangPair) -> RetrievalSet:
        split = self.split_data(pair)
        corpus, queries, relevant = split["corpus"], split["queries"], split["relevant_docs"]
        position = {doc_id: i for i, doc_id in enumerate(corpus["id"])}
        texts = [f"{t} {x}".strip() if t else x for t, x in zip(corpus["title"], corpus["text"])] \
            if "title" in corpus.column_names else list(corpus["text"])
        gold = []
        for query_id in queries["id"]:
            wanted = [doc for doc, score in relevant.get(query_id, {}).items() if score > 0]
            if len(wanted) != 1:
                raise HarnessError(f"{self.metadata.name} {pair.key}: query {query_id} has {len(wanted)} relevant "
                                   f"documents; the harness scores tasks with exactly one per query")
            gold.append(position[wanted[0]])
        return RetrievalSet(list(queries["text"]), texts, gold)


def bridge(task: Any) -> MtebTask:
    """A harness task over an mteb task instance of a family the harness scores."""
    kind = task.metadata.type
    if kind not in FAMILIES:
        raise HarnessError(f"mteb:{task.metadata.name} is a {kind} task; the harness scores "
                           f"{', '.join(FAMILIES)} tasks")
    return {"STS": MtebSTS, "BitextMining": MtebMining, "Retrieval": MtebRetrieval}[kind](task)
