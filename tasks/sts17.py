"""STS17 (SemEval-2017 Task 1): the distillation paper's benchmark, human-translated and human-scored.

Seven tracks of 250 scored pairs, named by language in the harness's convention (the language of
sentence1, then of sentence2). The published file names hide two things (see the dataset's README):
- tracks 2 and 6 are called `ar-en` and `tr-en`, but their sentence1 is English: they are en-ar, en-tr;
- track 6 has 500 input lines and 250 gold scores: the scores belong to the first 250 lines.
Tracks 4a (SNLI captions, sentence1 Spanish) and 4b (WMT news, sentence1 English) stay separate:
they are es-en and en-es.

The seven tracks are always evaluated together, whatever languages a run asks for: they are the paper's
benchmark, and for a student trained on other languages most of them measure transfer (250 pairs each,
seconds per model).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.core.data import DataError, ScoredPair, read_scores, read_tsv
from harness.core.paths import dataset_folder
from harness.core.task import LangPair, TaskMetadata
from harness.core.vocabulary import MAIN_SCORE, STS
from tasks.sts import STSTask


@dataclass(frozen=True)
class Track:
    name: str  # as in the file names
    pair: LangPair
    extra_input_lines: bool = False  # more input lines than gold scores, the extra ones unscored


TRACKS = (
    Track("track1.ar-ar", LangPair("ar", "ar")),
    Track("track2.ar-en", LangPair("en", "ar")),
    Track("track3.es-es", LangPair("es", "es")),
    Track("track4a.es-en", LangPair("es", "en")),
    Track("track4b.es-en", LangPair("en", "es")),
    Track("track5.en-en", LangPair("en", "en")),
    Track("track6.tr-en", LangPair("en", "tr"), extra_input_lines=True),
)


class STS17(STSTask):
    """The official SemEval-2017 test files: `STS.input.<track>.txt` and `STS.gs.<track>.txt`."""

    metadata = TaskMetadata(
        name="sts17", family=STS, dataset="STS17 (SemEval-2017 Task 1)", split="test", main_score=MAIN_SCORE[STS],
        description="STS, 7 tracks of 250 human-scored pairs, always all: ar-ar, en-ar, es-es, es-en (SNLI), "
                    "en-es (news), en-en, en-tr",
        reference="Cer et al. 2017, https://alt.qcri.org/semeval2017/task1/",
    )

    def __init__(self, root: Path):
        self.folder = dataset_folder(root, "eval", "sts17")
        self._tracks = {track.pair: track for track in TRACKS}

    def languages(self) -> list[str]:
        return sorted({lang for track in TRACKS for lang in (track.pair.src, track.pair.tgt)})

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return [track.pair for track in TRACKS]

    def load_pair(self, pair: LangPair) -> list[ScoredPair]:
        track = self._tracks[pair]
        inputs = self.folder / "STS2017.eval.v1.1" / f"STS.input.{track.name}.txt"
        scores = read_scores(self.folder / "STS2017.gs" / f"STS.gs.{track.name}.txt")
        rows = read_tsv(inputs, 2)
        numbers = [number for number, _ in rows]
        if numbers != list(range(1, len(rows) + 1)):
            blank = next(i for i, number in enumerate(numbers, start=1) if number != i)
            raise DataError(inputs, "blank line: the input no longer lines up with the gold scores", blank)
        if len(rows) < len(scores) or (len(rows) > len(scores) and not track.extra_input_lines):
            raise DataError(inputs, f"has {len(rows)} pairs for {len(scores)} gold scores")
        return [ScoredPair(fields[0], fields[1], score) for (_, fields), score in zip(rows, scores)]
