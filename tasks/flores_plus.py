"""`flores-plus`: FLORES-200 devtest mining with hard negatives, after LASER's xSIM++ (Chen et al., ACL 2023).

Each English devtest sentence gets near-duplicates that change its meaning by one rule-based edit (a number,
an entity, a connective or direction word, a negation: tasks.near_duplicates). The other language's
sentences are the queries; the candidates are the 1,012 English sentences and all their near-duplicates.
A query is right when its best candidate by ratio margin (k = 4, as LASER's xsim.py) is its own English
sentence; the error rate is xSIM++'s. Each wrong pick is typed by the near-duplicate it chose ("other" when
it chose another original sentence), so the scores say which kind of meaning change a model cannot see.

Only xx -> en is scored: in the other direction English queries would search the foreign sentences, among
which there are no near-duplicates, and that is FLORES itself.

`xsimpp:AUGMENTED[+ERRTYPES]` scores LASER's published near-duplicates instead of these rules: the file
`eng_Latn_augmented.devtest` (one near-duplicate per line, appended to the English devtest as LASER does)
and its error-type file `eng_Latn_errtype.devtest.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.core.data import iter_lines, read_bytes
from harness.core.encoder import Encoder
from harness.core.errors import DataError
from harness.core.paths import data_root
from harness.core.task import Evidence, LangPair, Metric, PairResult, TaskMetadata
from harness.core.vocabulary import MINING
from harness.search.knn import SearchConfig, search_both_ways
from harness.search.mining import MARGIN_K, Neighbours, margin_top1
from tasks.base import PIVOT, Task, encode_sides, x100
from tasks.flores import FloresMining
from tasks.near_duplicates import TYPES, near_duplicates

WORST_N = 20
OTHER = "other"  # a wrong pick that is another original sentence, not a near-duplicate
FLORES_DEVTEST = 1012  # sentences in FLORES-200 devtest


@dataclass
class StressSet:
    """Queries (row i translates English sentence i) and the candidates: the English sentences first, then
    their near-duplicates, each with its type, the sentence it came from and its edit."""

    queries: list[str]
    candidates: list[str]
    kinds: list[str]  # "" for an original sentence
    origin: np.ndarray  # the original sentence a candidate came from (itself for an original)
    edits: list[tuple[str, str]]  # (before, after); empty strings for an original

    @property
    def n(self) -> int:
        return len(self.queries)


def stress_set(queries: list[str], english: list[str], extra: list[tuple[str, str, int, str, str]]) -> StressSet:
    """The set for aligned `queries` and `english`, with `extra` near-duplicates (text, kind, origin, before,
    after); a near-duplicate identical to an original sentence, or to another near-duplicate, is dropped."""
    seen = set(english)
    candidates, kinds, origin, edits = list(english), [""] * len(english), list(range(len(english))), \
        [("", "")] * len(english)
    for text, kind, source, before, after in extra:
        if text in seen:
            continue
        seen.add(text)
        candidates.append(text)
        kinds.append(kind)
        origin.append(source)
        edits.append((before, after))
    return StressSet(queries, candidates, kinds, np.asarray(origin, dtype=np.int64), edits)


class FloresPlus(Task):
    """FLORES-200 devtest xx -> en among the English sentences and their rule-made near-duplicates."""

    metadata = TaskMetadata(
        name="flores-plus", family=MINING, dataset="FLORES-200 + near-duplicates", split="devtest",
        main_score="acc_margin",
        description="xx->en mining among FLORES' English and near-duplicates (numbers, entities, causality, "
                    "negation); xSIM++-style error by type",
        reference="Chen et al. 2023, xSIM++, https://arxiv.org/abs/2306.12907",
    )
    search_config = SearchConfig()

    def __init__(self, root: Path):
        self.flores = FloresMining(root)

    def languages(self) -> list[str]:
        return [lang for lang in self.flores.languages() if lang != PIVOT]

    def pairs(self, langs: list[str]) -> list[LangPair]:
        return [LangPair(lang, PIVOT) for lang in langs if lang in self.languages()]

    def types(self, data: StressSet) -> tuple[str, ...]:
        """The near-duplicate types scored (the same metrics for every pair)."""
        return TYPES

    def near_duplicates(self, english: list[str]) -> list[tuple[str, str, int, str, str]]:
        return [(edit.text, edit.kind, index, edit.before, edit.after)
                for index, sentence in enumerate(english) for edit in near_duplicates(sentence, index)]

    def load_pair(self, pair: LangPair) -> StressSet:
        queries, english = self.flores.load_pair(pair)
        return stress_set(queries, english, self.near_duplicates(english))

    def sentences(self, pair: LangPair) -> list[str]:
        data = self.data(pair)
        return [*data.queries, *data.candidates]

    def evaluate_pair(self, encoder: Encoder, pair: LangPair, *, batch_size: int) -> PairResult:
        data = self.data(pair)
        queries, candidates = encode_sides(encoder, data.queries, data.candidates, batch_size)
        fwd, bwd = (Neighbours(*found) for found in search_both_ways(queries, candidates, MARGIN_K,
                                                                      self.search_config))
        picked, scores = margin_top1(fwd, bwd.mean_sim)
        gold_text = data.candidates[: data.n]
        correct = np.array([data.candidates[j] == gold_text[i] for i, j in enumerate(picked)])
        kinds = np.array([OTHER if ok or not data.kinds[j] else data.kinds[j] for ok, j in zip(correct, picked)])
        kinds[correct] = ""
        confused = {kind: ((~correct) & (kinds == kind)).astype(np.uint8) for kind in (*self.types(data), OTHER)}
        arrays = {"correct": correct.astype(np.uint8), **{f"confused_{k}": v for k, v in confused.items()}}
        statistics = {"acc_margin": ("mean", ("correct",)), "xsimpp_error": ("error", ("correct",)),
                      **{f"confused_{k}": ("mean", (f"confused_{k}",)) for k in confused}}
        metrics = {"acc_margin": Metric(x100(correct.mean())),
                   "xsimpp_error": Metric(x100(1 - correct.mean()), higher_is_better=False),
                   **{f"confused_{k}": Metric(x100(v.mean()), higher_is_better=False) for k, v in confused.items()}}
        errors = int((~correct).sum())
        analysis = {
            "candidates": {"original": data.n, **{kind: data.kinds.count(kind) for kind in self.types(data)}},
            "errors": errors,
            "errors_by_type": {kind: int(v.sum()) for kind, v in confused.items()},
            "share_of_errors": {kind: round(100.0 * int(v.sum()) / errors, 2) if errors else 0.0
                                for kind, v in confused.items()},
            "worst": self._worst(data, picked, scores, correct, candidates, queries),
        }
        return PairResult(pair, metrics, n_items=data.n, analysis=analysis,
                          evidence=Evidence(arrays, statistics))

    def _worst(self, data: StressSet, picked, scores, correct, candidates, queries) -> list[dict]:
        """The errors whose wrong pick beat the gold by the widest cosine, with the edit that fooled them."""
        wrong = np.flatnonzero(~correct)
        gold_cos = np.einsum("ij,ij->i", queries[wrong], candidates[wrong])
        picked_cos = np.einsum("ij,ij->i", queries[wrong], candidates[picked[wrong]])
        rows = []
        for index in np.argsort(gold_cos - picked_cos, kind="stable")[:WORST_N]:
            i, j = int(wrong[index]), int(picked[wrong[index]])
            before, after = data.edits[j]
            rows.append({"query": data.queries[i], "gold": data.candidates[i], "wrong": data.candidates[j],
                         "type": data.kinds[j] or OTHER, "edit": f"{before} -> {after}" if before else "",
                         "gap": round(float(gold_cos[index] - picked_cos[index]), 6)})
        return rows


class PublishedXsimPlusPlus(FloresPlus):
    """LASER's published xSIM++ near-duplicates of the FLORES-200 English devtest, from user files."""

    usage = "xsimpp:AUGMENTED[+ERRTYPES]  (LASER's eng_Latn_augmented.devtest and eng_Latn_errtype.devtest.json)"

    def __init__(self, root: Path, augmented: Path, types: Path | None):
        super().__init__(root)
        self.augmented, self.types_file = augmented, types
        self.metadata = TaskMetadata(
            name="xsimpp", family=MINING, dataset=f"FLORES-200 + {augmented.name}", split="devtest",
            main_score="acc_margin", description="xx->en mining among FLORES' English and LASER's published "
                                                 "xSIM++ near-duplicates", reference=FloresPlus.metadata.reference)

    @classmethod
    def from_argument(cls, argument: str) -> PublishedXsimPlusPlus:
        parts = [Path(p).expanduser() for p in argument.split("+")]
        if not 1 <= len(parts) <= 2:
            raise DataError(argument, "use xsimpp:AUGMENTED or xsimpp:AUGMENTED+ERRTYPES.json")
        for path in parts:
            if not path.is_file():
                raise DataError(path, "file not found")
        task = cls(data_root(), parts[0], parts[1] if len(parts) == 2 else None)
        task.published()  # fail early, before any model loads
        return task

    def published(self) -> list[tuple[str, str, int, str, str]]:
        """The published near-duplicates, typed from the error-type file when given ('unknown' otherwise). The
        type file may be a list (one type per line of AUGMENTED) or a mapping from the line's index (0-based,
        in AUGMENTED or in the English devtest followed by AUGMENTED) to its type."""
        lines = [text for _, text in iter_lines(self.augmented) if text.strip()]
        if not lines:
            raise DataError(self.augmented, "no near-duplicates")
        kinds = ["unknown"] * len(lines)
        if self.types_file is not None:
            try:
                table = json.loads(read_bytes(self.types_file).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise DataError(self.types_file, f"not JSON: {err}") from None
            kinds = _types_of(table, len(lines), self.types_file)
        return [(text, kind, -1, "", "") for text, kind in zip(lines, kinds)]

    def near_duplicates(self, english: list[str]) -> list[tuple[str, str, int, str, str]]:
        return self.published()

    def types(self, data: StressSet) -> tuple[str, ...]:
        return tuple(sorted({kind for kind in data.kinds if kind}))


def _types_of(table, n: int, path: Path) -> list[str]:
    if isinstance(table, list):
        if len(table) != n:
            raise DataError(path, f"{len(table)} types for {n} near-duplicates")
        return [str(kind) for kind in table]
    if isinstance(table, dict):
        keys = {int(k): str(v) for k, v in table.items() if str(k).lstrip("-").isdigit()}
        offset = 0 if keys and max(keys) < n else FLORES_DEVTEST  # indices into the devtest, then AUGMENTED
        return [keys.get(i + offset, "unknown") for i in range(n)]
    raise DataError(path, "expected a list of types or a mapping from line index to type")
