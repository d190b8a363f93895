"""FLORES-200 devtest: bitext mining over 1,012 n-way aligned sentences; any language against English."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from harness.core.data import read_aligned
from harness.core.errors import HarnessError
from harness.core.languages import LANGUAGES, normalise
from harness.core.paths import dataset_folder
from harness.core.task import LangPair, TaskMetadata
from harness.core.vocabulary import MAIN_SCORE, MINING
from tasks.base import PIVOT
from tasks.mining import BitextMiningTask


class FloresMining(BitextMiningTask):
    """Files `<lang_Script>.devtest`, n-way aligned."""

    metadata = TaskMetadata(
        name="flores", family=MINING, dataset="FLORES-200", split="devtest", main_score=MAIN_SCORE[MINING],
        description="Bitext mining xx<->en over 1,012 n-way aligned sentences, 204 languages",
        reference="NLLB Team 2022, https://github.com/facebookresearch/flores",
    )

    def __init__(self, root: Path, pivot: str = PIVOT):
        self.folder = dataset_folder(root, "eval", "flores200-devtest")
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
