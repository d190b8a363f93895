"""Tatoeba (LASER v1): bitext mining xx<->en, 112 languages, up to 1,000 sentence pairs each."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from harness.core.data import read_aligned
from harness.core.errors import HarnessError
from harness.core.languages import normalise
from harness.core.paths import dataset_folder
from harness.core.task import LangPair, TaskMetadata
from harness.core.vocabulary import MAIN_SCORE, MINING
from tasks.base import PIVOT
from tasks.mining import BitextMiningTask


class TatoebaMining(BitextMiningTask):
    """Files `tatoeba.xxx-eng.xxx` and `tatoeba.xxx-eng.eng`, line-aligned."""

    metadata = TaskMetadata(
        name="tatoeba", family=MINING, dataset="Tatoeba (LASER v1)", split="test", main_score=MAIN_SCORE[MINING],
        description="Bitext mining xx<->en, 112 languages, up to 1,000 pairs each",
        reference="Artetxe & Schwenk 2019, https://github.com/facebookresearch/LASER/tree/main/data/tatoeba/v1",
    )

    def __init__(self, root: Path):
        self.folder = dataset_folder(root, "eval", "tatoeba")

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
