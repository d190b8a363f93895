"""STSb-multi-mt: the STS benchmark machine-translated into 10 languages, rows aligned across languages."""

from __future__ import annotations

from pathlib import Path

from harness.core.data import DataError, ScoredPair, read_sts_csv
from harness.core.languages import normalise
from harness.core.paths import dataset_folder
from harness.core.task import LangPair, TaskMetadata
from harness.core.vocabulary import MAIN_SCORE, STS
from tasks.base import PIVOT, pairs_with_pivot
from tasks.sts import STSTask


class STSbMultiMT(STSTask):
    """Monolingual X-X, and cross-lingual en-X / X-en by pairing the rows of two languages' files."""

    metadata = TaskMetadata(
        name="stsb-multi-mt", family=STS, dataset="STSb multi-mt", split="test", main_score=MAIN_SCORE[STS],
        description="STS, monolingual X-X and cross-lingual en-X / X-en from row-aligned translations",
        reference="May 2021, https://github.com/PhilipMay/stsb-multi-mt",
    )

    def __init__(self, root: Path, split: str = "test"):
        self.folder = dataset_folder(root, "eval", "stsb-multi-mt")
        self.split = split

    def _path(self, lang: str) -> Path:
        return self.folder / f"stsb-{lang}-{self.split}.csv"

    def languages(self) -> list[str]:
        return sorted(normalise(p.name.split("-")[1]) for p in self.folder.glob(f"stsb-*-{self.split}.csv"))

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return pairs_with_pivot(self.languages(), langs, same=True, both_ways=True)

    def load_pair(self, pair: LangPair) -> list[ScoredPair]:
        first, second = read_sts_csv(self._path(pair.src)), read_sts_csv(self._path(pair.tgt))
        if len(first) != len(second):
            raise DataError(self._path(pair.tgt), f"has {len(second)} rows but {self._path(pair.src).name} "
                                                  f"has {len(first)}: rows are not aligned")
        # Cross-lingual: sentence1 from the source file, sentence2 from the target; the gold score is
        # the English row's (the translations copy it).
        scores = first if pair.src == PIVOT else second
        return [ScoredPair(a.s1, b.s2, s.score) for a, b, s in zip(first, second, scores)]
