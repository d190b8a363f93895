"""The evaluation sets this harness knows: where each comes from (a public repository at a pinned commit), its
licence, and the sha256 of every file as this project measured it. The file list lives in `manifest.json`
beside this module, built from a data root by `build()` (`python -m harness.data.manifest ROOT` rewrites it;
a test checks it against ../shared/data/eval, the files every committed score was computed on).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.languages import normalise
from harness.core.registry import did_you_mean
from harness.core.vocabulary import MINING, RETRIEVAL, STS

MANIFEST = Path(__file__).with_name("manifest.json")
RAW = "https://raw.githubusercontent.com"  # where every pinned file is served; --mirror replaces it
ADDED_BESIDE = ("README", "NOTE", "LICENSE")  # files this project put beside the upstream ones: not fetched


@dataclass(frozen=True)
class Source:
    """One evaluation set: its folder under eval/, the task that reads it, and where its files come from."""

    name: str
    task: str
    family: str
    licence: str
    repo: str
    commit: str
    description: str
    folder_in_repo: str  # the upstream folder of its files; zip members say their zip instead
    whole: bool = False  # its task scores every file whatever the languages asked for (STS17's seven tracks)

    def upstream(self, relpath: str) -> tuple[str, str | None]:
        """(path in the repository, zip member or None) of a file at `relpath` inside the set's folder."""
        if self.name == "sts17":
            folder, _, name = relpath.partition("/")
            zip_name = {"STS2017.eval.v1.1": "Sts2017.eval.v1.1.zip", "STS2017.gs": "Sts2017.gs.zip"}[folder]
            return f"{self.folder_in_repo}/{zip_name}", f"{folder}/{name}"
        return f"{self.folder_in_repo}/{relpath}", None


SOURCES = {s.name: s for s in [
    Source("tatoeba", "tatoeba", MINING, "tatoeba.org terms (CC-BY 2.0 FR); LASER code BSD",
           "facebookresearch/LASER", "74bc6ae7ffb7cba670fe0f428d0ede9f666fb821",
           "Tatoeba, LASER v1 files: up to 1,000 sentence pairs xxx-eng", "data/tatoeba/v1"),
    Source("flores200-devtest", "flores", MINING, "CC-BY-SA 4.0",
           "Helsinki-NLP/OPUS-MT-testsets", "ac0f19c0be3cb4e0d9450fcb2d7a9847c4bdd180",
           "FLORES-200 devtest: 1,012 n-way aligned sentences", "datasets/facebook/flores/flores200_dataset/devtest"),
    Source("stsb-multi-mt", "stsb-multi-mt", STS, "CC BY-SA 4.0 (scores)",
           "PhilipMay/stsb-multi-mt", "30de0dec4ee199b7f42351d3f1a0b19592955385",
           "STS benchmark, machine-translated: dev and test", "data"),
    Source("sts17", "sts17", STS, "CC BY-SA 4.0; repository MIT",
           "eduardofv/sts_eval", "b4cd273eb2c6cc0de34ebeffebd12ebf155ecff6",
           "SemEval-2017 STS, the official test sets (members of two zip files)", "data/sources", whole=True),
    Source("xquad-r", "xquad-r", RETRIEVAL, "CC BY-SA 4.0",
           "google-research-datasets/lareqa", "9bc8c7fb6dd8d01d72a05a93c2cb96882b0d299c",
           "XQuAD-R (LAReQA): questions retrieve answer sentences", "xquad-r"),
]}
ALIASES = {s.task: s.name for s in SOURCES.values()}  # 'flores' names the folder 'flores200-devtest'


@dataclass(frozen=True)
class DataFile:
    """One file of a set: where it goes under the data root, what it must hash to, where it comes from."""

    path: str  # relative to the data root, e.g. eval/tatoeba/tatoeba.deu-eng.deu
    sha256: str
    bytes: int
    langs: tuple[str, ...]
    upstream: str  # path in the source repository
    member: str | None = None  # inside the zip at `upstream`

    def url(self, source: Source, base: str = RAW) -> str:
        return f"{base.rstrip('/')}/{source.repo}/{source.commit}/{self.upstream}"


@dataclass(frozen=True)
class DataSet:
    source: Source
    files: tuple[DataFile, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def languages(self) -> list[str]:
        return sorted({lang for f in self.files for lang in f.langs})

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def for_langs(self, langs: list[str] | None) -> list[DataFile]:
        """The files a run in `langs` needs: those of these languages, English, and the ones of no language."""
        if not langs or self.source.whole:
            return list(self.files)
        wanted = set(langs) - {"en"}  # English comes with every pair; asking for it adds no pair
        return [f for f in self.files if not set(f.langs) - {"en"} or (set(f.langs) - {"en"}) & wanted]


def file_langs(source: Source, relpath: str) -> tuple[str, ...]:
    """The languages a file holds, read from its name in its set's convention."""
    name = Path(relpath).name
    patterns = {"tatoeba": r"tatoeba\.(\w+)-(eng)\.\w+$", "flores200-devtest": r"(\w+)\.devtest$",
                "stsb-multi-mt": r"stsb-(\w+)-(?:dev|test)\.csv$", "xquad-r": r"(\w+)\.json$",
                "sts17": r"track\w+\.(\w+)-(\w+)\.txt$"}
    found = re.search(patterns[source.name], name)
    if not found:
        return ()
    return tuple(sorted({normalise(code) for code in found.groups()}))


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(root: Path) -> dict[str, Any]:
    """The manifest of the evaluation files under `root`/eval (the files this project measured)."""
    sets = {}
    for source in SOURCES.values():
        folder = root / "eval" / source.name
        files = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            relpath = path.relative_to(folder).as_posix()
            if "/" not in relpath and relpath.upper().startswith(ADDED_BESIDE):
                continue
            upstream, member = source.upstream(relpath)
            files.append({"path": f"eval/{source.name}/{relpath}", "sha256": sha256_of(path),
                          "bytes": path.stat().st_size, "langs": list(file_langs(source, relpath)),
                          "upstream": upstream, **({"member": member} if member else {})})
        sets[source.name] = files
    return {"version": 1, "sets": sets}


def load(path: Path = MANIFEST) -> dict[str, DataSet]:
    """The committed manifest: set name -> DataSet."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {name: DataSet(SOURCES[name], tuple(DataFile(f["path"], f["sha256"], f["bytes"], tuple(f["langs"]),
                                                        f["upstream"], f.get("member")) for f in files))
            for name, files in raw["sets"].items()}


def pick(sets: dict[str, DataSet], names: list[str]) -> list[DataSet]:
    """Sets by name (a task name is accepted for its folder, e.g. flores); an unknown name is an error."""
    picked = []
    for name in names:
        key = ALIASES.get(name, name)
        if key not in sets:
            raise HarnessError(f"unknown data set '{name}'{did_you_mean(name, [*sets, *ALIASES])}; "
                               f"`python -m harness data list` shows them")
        if sets[key] not in picked:
            picked.append(sets[key])
    return picked


if __name__ == "__main__":  # maintainers: rewrite manifest.json from a data root
    import sys

    MANIFEST.write_text(json.dumps(build(Path(sys.argv[1])), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MANIFEST}")
