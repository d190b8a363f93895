"""Our tasks as mteb tasks: AbsTask subclasses that load the same local files for one language pair,
so that `mteb.evaluate` can run them (and so that the two engines can be checked against each other).

mteb's BitextMining scores src->tgt with cosine (our `acc_cos_fwd`); its STS main score is cosine
Spearman in [0, 1]; its Retrieval main score is nDCG@10 in [0, 1].
"""

from __future__ import annotations

from typing import Any

from harness.core.languages import mteb_code
from harness.core.task import LangPair
from harness.core.vocabulary import MAIN_SCORE, MINING, RETRIEVAL, STS
from tasks.base import Task

OUR_MAIN = {"BitextMining": "acc_cos_fwd", "STS": MAIN_SCORE[STS], "Retrieval": MAIN_SCORE[RETRIEVAL]}
MTEB_MAIN = {"BitextMining": "accuracy", "STS": "cosine_spearman", "Retrieval": "ndcg_at_10"}
_TYPES = {MINING: "BitextMining", STS: "STS", RETRIEVAL: "Retrieval"}


def _metadata(task: Task, pair: LangPair, kind: str):
    from mteb.abstasks.task_metadata import TaskMetadata

    meta = task.metadata
    return TaskMetadata(
        name=f"Harness-{meta.name}-{pair.key}", type=kind, main_score=MTEB_MAIN[kind],
        description=f"{meta.description} (harness task '{meta.name}', pair {pair.key}, local files)",
        reference=meta.reference.split(", ")[-1] if meta.reference.startswith("http") or ", http" in meta.reference
        else None,
        dataset={"path": f"local/{meta.name}", "revision": meta.version}, category="t2t", modalities=["text"],
        eval_splits=["test"], eval_langs=sorted({mteb_code(pair.src), mteb_code(pair.tgt)}),
        date=None, dialect=[], domains=[], task_subtypes=[], license="not specified",
        annotations_creators="derived", sample_creation="found", bibtex_citation="",
    )


def to_mteb(task: Task, pair: LangPair) -> Any:
    """An mteb task instance over `task`'s data for `pair`."""
    from datasets import Dataset, DatasetDict
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.sts import AbsTaskSTS
    from mteb.abstasks.text.bitext_mining import AbsTaskBitextMining

    kind = _TYPES[task.metadata.family]
    data = task.data(pair)

    def load(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if kind == "BitextMining":
            self.dataset = DatasetDict({"test": Dataset.from_dict({"sentence1": data[0], "sentence2": data[1]})})
        elif kind == "STS":
            columns = {"sentence1": [i.s1 for i in data], "sentence2": [i.s2 for i in data],
                       "score": [i.score for i in data]}
            self.dataset = DatasetDict({"test": Dataset.from_dict(columns)})
        else:
            from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData

            split = RetrievalSplitData(
                queries=Dataset.from_dict({"id": [f"q{i}" for i in range(len(data.queries))], "text": data.queries}),
                corpus=Dataset.from_dict({"id": [f"d{i}" for i in range(len(data.candidates))],
                                          "text": data.candidates}),
                relevant_docs={f"q{i}": {f"d{g}": 1} for i, g in enumerate(data.gold)},
                top_ranked=None,
            )
            self.dataset = {"default": {"test": split}}
        self.data_loaded = True

    base = {"BitextMining": AbsTaskBitextMining, "STS": AbsTaskSTS, "Retrieval": AbsTaskRetrieval}[kind]
    cls = type(f"Harness_{task.metadata.name.replace('-', '_')}_{pair.src}_{pair.tgt}", (base,),
               {"metadata": _metadata(task, pair, kind), "load_data": load})
    return cls()
