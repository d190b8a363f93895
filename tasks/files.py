"""Bring your own data: `--tasks sts-file:PATH,mining-file:SRC+TGT,retrieval-file:PATH`, each optionally
ending in `@src-tgt` to name the language pair (default 'xx-xx')."""

from __future__ import annotations

import re
from pathlib import Path

from harness.core.data import DataError, ScoredPair, read_aligned, read_sts_tsv, read_tsv
from harness.core.errors import HarnessError
from harness.core.languages import normalise
from harness.core.task import LangPair, TaskMetadata
from harness.core.vocabulary import MAIN_SCORE, MINING, RETRIEVAL, STS
from tasks.mining import BitextMiningTask
from tasks.retrieval import RetrievalSet, RetrievalTask
from tasks.sts import STSTask

_ARGUMENT = re.compile(r"^(?P<paths>[^@]+)(?:@(?P<src>[^-@]+)-(?P<tgt>[^-@]+))?$")


def _parse(kind: str, argument: str, files: int) -> tuple[list[Path], LangPair]:
    match = _ARGUMENT.match(argument)
    paths = [Path(p).expanduser() for p in match["paths"].split("+")] if match else []
    if not match or len(paths) != files:
        shape = "SRC+TGT" if files == 2 else "PATH"
        raise HarnessError(f"bad file task '{kind}:{argument}': use {kind}:{shape}, optionally followed by @src-tgt")
    for path in paths:
        if not path.is_file():
            raise DataError(path, "file not found")
    pair = LangPair(normalise(match["src"]), normalise(match["tgt"])) if match["src"] else LangPair("xx", "xx")
    return paths, pair


class FileTask:
    """A task over user files for one declared language pair, whatever languages were requested."""

    follows_requested_languages = False
    usage = ""

    def __init__(self, pair: LangPair):
        self.pair = pair

    def languages(self) -> list[str]:
        return sorted({self.pair.src, self.pair.tgt})

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return [self.pair]


class STSFile(FileTask, STSTask):
    """STS from a TSV `s1<TAB>s2<TAB>score` (score in [0, 5])."""

    usage = "sts-file:PATH[@src-tgt]  (TSV: sentence1, sentence2, score 0-5)"

    def __init__(self, path: Path, pair: LangPair):
        super().__init__(pair)
        self.path = path
        self.metadata = TaskMetadata(name=f"sts-file:{path.name}", family=STS, dataset=str(path), split="user",
                                     main_score=MAIN_SCORE[STS], description="user STS file")

    @classmethod
    def from_argument(cls, argument: str) -> STSFile:
        (path,), pair = _parse("sts-file", argument, 1)
        return cls(path, pair)

    def load_pair(self, pair: LangPair) -> list[ScoredPair]:
        return read_sts_tsv(self.path)


class MiningFile(FileTask, BitextMiningTask):
    """Bitext mining from two line-aligned text files."""

    usage = "mining-file:SRC+TGT[@src-tgt]  (two line-aligned text files)"

    def __init__(self, src: Path, tgt: Path, pair: LangPair):
        super().__init__(pair)
        self.src, self.tgt = src, tgt
        self.metadata = TaskMetadata(name=f"mining-file:{src.name}+{tgt.name}", family=MINING,
                                     dataset=f"{src}+{tgt}", split="user", main_score=MAIN_SCORE[MINING],
                                     description="user aligned files")

    @classmethod
    def from_argument(cls, argument: str) -> MiningFile:
        (src, tgt), pair = _parse("mining-file", argument, 2)
        read_aligned(src, tgt)  # fail early, before any model loads
        return cls(src, tgt, pair)

    def load_pair(self, pair: LangPair) -> tuple[list[str], list[str]]:
        return read_aligned(self.src, self.tgt)


class RetrievalFile(FileTask, RetrievalTask):
    """Retrieval from a TSV `query<TAB>relevant candidate`; the pool is every distinct candidate."""

    usage = "retrieval-file:PATH[@src-tgt]  (TSV: query, its relevant candidate)"

    def __init__(self, path: Path, pair: LangPair):
        super().__init__(pair)
        self.path = path
        self.metadata = TaskMetadata(name=f"retrieval-file:{path.name}", family=RETRIEVAL, dataset=str(path),
                                     split="user", main_score=MAIN_SCORE[RETRIEVAL], description="user retrieval file")

    @classmethod
    def from_argument(cls, argument: str) -> RetrievalFile:
        (path,), pair = _parse("retrieval-file", argument, 1)
        return cls(path, pair)

    def load_pair(self, pair: LangPair) -> RetrievalSet:
        rows = [fields for _, fields in read_tsv(self.path, 2)]
        pool = list(dict.fromkeys(candidate for _, candidate in rows))
        position = {text: i for i, text in enumerate(pool)}
        return RetrievalSet([q for q, _ in rows], pool, [position[c] for _, c in rows])
