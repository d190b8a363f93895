"""XQuAD-R (LAReQA): a question in one language retrieves the sentence holding its answer from a pool of
another language's sentences."""

from __future__ import annotations

from pathlib import Path

from harness.core.data import DataError, read_json
from harness.core.errors import HarnessError
from harness.core.languages import normalise
from harness.core.paths import dataset_folder
from harness.core.task import LangPair, TaskMetadata
from harness.core.vocabulary import MAIN_SCORE, RETRIEVAL
from tasks.base import pairs_with_pivot
from tasks.retrieval import RetrievalSet, RetrievalTask

Parsed = tuple[dict[str, str], dict[str, str], list[str]]


def parse_xquad_r(path: Path) -> Parsed:
    """(question by id, answer sentence by id, unique sentences in order) of one language file."""
    data = read_json(path)
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


class XQuADR(RetrievalTask):
    """Pairs X-Y: questions of language X, the sentence pool of language Y; English pools always."""

    metadata = TaskMetadata(
        name="xquad-r", family=RETRIEVAL, dataset="XQuAD-R", split="test", main_score=MAIN_SCORE[RETRIEVAL],
        description="Answer-sentence retrieval, question language X against pool language Y (11 languages)",
        reference="Roy et al. 2020 (LAReQA), https://github.com/google-research-datasets/lareqa",
    )

    def __init__(self, root: Path):
        self.folder = dataset_folder(root, "eval", "xquad-r")

    def languages(self) -> list[str]:
        return sorted(normalise(p.stem) for p in self.folder.glob("*.json"))

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return pairs_with_pivot(self.languages(), langs, same=True, both_ways=True)

    def _parse(self, lang: str) -> Parsed:
        # parsed per pair, so that each pair's fingerprint sees both of its files; a run's ledger
        # still reads each file from disk once
        return parse_xquad_r(self.folder / f"{lang}.json")

    def load_pair(self, pair: LangPair) -> RetrievalSet:
        questions, _, _ = self._parse(pair.src)
        _, answers, pool = self._parse(pair.tgt)
        position = {text: i for i, text in enumerate(pool)}
        ids = [qid for qid in questions if qid in answers]
        if not ids:
            raise HarnessError(f"xquad-r {pair.key}: no question ids shared by the two files")
        return RetrievalSet([questions[q] for q in ids], pool, [position[answers[q]] for q in ids])
