"""Encode speed of every model in the leaderboard that can be loaded here: the teachers and bases by their aliases
(with a prompt or a named output where the records have one), the peers, and each student whose folder is in
models/ and whose records are in results/runs; a student whose folder is not here is measured on a stand-in, its
recipe rebuilt from its records and trained two steps (the same network, other weights). Each encodes the same 512
FLORES-200 devtest sentences (the first 64 of eight languages, long news sentences), one call with batch size
64, as the harness encodes. The run writes sentences per second per model into results/encode-speed.json (the
leaderboard's speed column), each entry naming this session; `-k NAME` measures some models again and keeps the
others' entries. A model's multiple of its base's is only shown when both were measured in one session (a shared
CPU drifts between sessions): with `-k`, select the base too.

    tox -e bench -- tests/bench/test_bench_encode_speed.py
"""

import os
import platform
import time
from pathlib import Path

import pytest

from harness.core.paths import data_root, dataset_folder
from harness.encoders.specs import ALIASES, BASELINES, DEFAULT_STUDENT, DEFAULT_TEACHER
from harness.results.speed import SPEED_FILE, merged_speeds
from harness.results.store import write_json_atomic

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("eng_Latn", "deu_Latn", "fra_Latn", "spa_Latn", "arb_Arab", "tur_Latn", "zho_Hans", "jpn_Jpan")
PER_LANGUAGE = 64
TEXTS = f"FLORES-200 devtest, first {PER_LANGUAGE} lines of {', '.join(LANGUAGES)}"


def _students() -> list[str]:
    """Folders under models/ whose name has records: the students the leaderboard shows."""
    models, runs = ROOT / "models", ROOT / "results" / "runs"
    if not models.is_dir():
        return []
    return sorted(str(p.relative_to(ROOT)) for p in models.iterdir() if (p / "modules.json").is_file()
                  and (runs / p.name).is_dir())


def _first_records() -> list[dict]:
    """One record of each model folder in results/runs (a model's records share its name, role and run block)."""
    from harness.results.store import ResultStore

    runs = ROOT / "results" / "runs"
    if not runs.is_dir():
        return []
    store = ResultStore(runs)
    firsts = (next(folder.glob("*/*.json"), None) for folder in sorted(runs.iterdir()))
    return [store.load(first) for first in firsts if first]


def _recorded_aliases(records: list[dict]) -> list[str]:
    """Models with records that an alias loads, marks included (`multilingual-e5-small#prompt=query: `)."""
    return [r["model"]["name"] for r in records if r["model"]["name"].split("#")[0] in ALIASES]


def _stand_ins(records: list[dict]) -> list[tuple[str, dict]]:
    """The trained models the leaderboard shows as rows whose folder is not in models/ and whose own weights were
    never measured: (name, one of their records). Each is measured on a stand-in rebuilt from its recipe
    (`harness.app.stand_in`). A seed's model is left out: its row's speed is its first seed's."""
    from harness.results.overview import group_name
    from harness.results.speed import read_speeds

    own = {name for name, speed in read_speeds(ROOT / "results" / SPEED_FILE).items() if not speed.stand_in}
    found = []
    for record in records:
        name, trainer = record["model"].get("name", ""), record["model"].get("trainer")
        if trainer and record.get("run") and group_name(name) == name and not set("#@") & set(name) \
                and name not in own and not (ROOT / "models" / name / "modules.json").is_file():
            found.append((name, record))
    return found


RECORDS = _first_records()
SPECS = list(dict.fromkeys([DEFAULT_TEACHER, DEFAULT_STUDENT, *BASELINES, *_recorded_aliases(RECORDS), *_students()]))
STAND_INS = _stand_ins(RECORDS)
_MEASURED: dict[str, dict] = {}
# multiples of another model's speed are taken within one session: one pytest process (under pytest-xdist each
# worker would be a session of its own, and timings would share the CPU: run this benchmark without it)
SESSION = time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _machine() -> str:
    import torch

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").is_file() \
        else platform.processor()
    return f"{model}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads"


def first_lines(folder: str, names: list[str]) -> list[str]:
    """The first PER_LANGUAGE lines of each named file of an evaluation set (skips where the data is not here)."""
    root = dataset_folder(data_root(), "eval", folder)
    lines = []
    for name in names:
        path = root / name
        if not path.is_file():
            pytest.skip(f"{path} is not here (the data root)")
        lines += path.read_text(encoding="utf-8").splitlines()[:PER_LANGUAGE]
    return lines


@pytest.fixture(scope="module")
def texts():
    return first_lines("flores200-devtest", [f"{lang}.devtest" for lang in LANGUAGES])


@pytest.fixture(scope="module", autouse=True)
def write_speeds():
    yield
    if _MEASURED:
        path = ROOT / "results" / SPEED_FILE
        write_json_atomic(path, merged_speeds(path, _MEASURED, SESSION))


@pytest.mark.parametrize("spec", SPECS, ids=[Path(s).name for s in SPECS])  # the name the records carry
def test_encode_speed(benchmark, spec, texts):
    _measure(benchmark, str(ROOT / spec) if spec.startswith("models/") else spec, texts, Path(spec).name)


@pytest.mark.parametrize("name, record", STAND_INS, ids=[name for name, _ in STAND_INS])
def test_encode_speed_of_a_stand_in(benchmark, name, record, texts, tmp_path):
    """A student whose folder is gone, measured on its recipe rebuilt in miniature: the same network, other
    weights (tests/test_stand_in.py holds a stand-in against the student it stands for)."""
    from harness.app.stand_in import STAND_IN_TEXT, build_stand_in
    from harness.core.errors import HarnessError

    try:
        stand_in = build_stand_in(record, tmp_path / name)
    except (HarnessError, OSError) as err:  # its teacher, base or training data is not here
        pytest.skip(f"{name}: no stand-in here ({err})")
    _measure(benchmark, str(stand_in), texts, name, stand_in=STAND_IN_TEXT)


def _measure(benchmark, spec: str, texts: list[str], name: str, **extra: str) -> None:
    """Benchmark one model's encoding of `texts` and keep its entry for the speed file under `name`."""
    from harness.core.errors import HarnessError
    from harness.encoders.adapters import load_encoder

    try:
        encoder = load_encoder(spec, device="cpu")
    except HarnessError as err:
        if "not installed" not in str(err):
            raise  # a broken folder is a failure, not a skip
        pytest.skip(str(err))  # an optional model (all-mpnet-base-v2's PyPI parts): the error says how to install
    encoder.encode(texts[:64])  # warm-up: first-call allocations and lazy loading are not the model's speed
    vectors = benchmark.pedantic(encoder.encode, args=(texts,), rounds=3, iterations=1)
    assert vectors.shape[0] == len(texts)  # every sentence encoded: the speed is for all of them
    median = benchmark.stats.stats.median
    _MEASURED[name] = {"sentences_per_second": round(len(texts) / median, 1), "median_seconds": round(median, 4),
                       "rounds": 3, "texts": TEXTS, "machine": _machine(), "measured": time.strftime("%Y-%m-%d"),
                       **extra}


SHORT = ("deu", "fra", "spa", "ara", "tur", "cmn", "jpn", "rus")


@pytest.fixture(scope="module")
def short_texts():
    """512 short everyday sentences: the first 64 Tatoeba test lines of eight languages."""
    return first_lines("tatoeba", [f"tatoeba.{lang}-eng.{lang}" for lang in SHORT])


STATIC_STUDENT = "models/static-multilingual-e5-small-14-languages-7100e8-all-pairs"


@pytest.mark.parametrize("spec", [DEFAULT_STUDENT, STATIC_STUDENT, "tokenlearn-static"],
                         ids=["base", "static-student", "tokenlearn-static"])
def test_encode_speed_on_short_sentences(benchmark, spec, short_texts):
    """The same measure on short sentences, where a transformer's cost per sentence is lowest: the ratio the
    static student keeps there (BENCHMARKS §10; not written to the speed file, whose texts are FLORES's)."""
    from harness.encoders.adapters import load_encoder

    if spec.startswith("models/") and not (ROOT / spec / "modules.json").is_file():
        pytest.skip(f"{spec} is not trained here (configs/static.toml)")
    encoder = load_encoder(str(ROOT / spec) if spec.startswith("models/") else spec, device="cpu")
    encoder.encode(short_texts[:64])
    vectors = benchmark.pedantic(encoder.encode, args=(short_texts,), rounds=3, iterations=1)
    assert vectors.shape[0] == len(short_texts)


def test_teacher_encoding_of_the_training_english(benchmark):
    """The static student's dominant one-off cost: the teacher's embeddings of the training pairs' distinct
    English sources, on a seeded sample of 2,048 of them (the rate times their number is the cost of all)."""
    import gzip
    import random

    from harness.encoders.adapters import load_encoder

    files = sorted(dataset_folder(data_root(), "parallel").glob("*/en-*.tsv.gz"))
    if not files:
        pytest.skip("no parallel data here (the data root)")
    english = sorted({line.split("\t", 1)[0] for f in files for line in gzip.open(f, "rt", encoding="utf-8")})
    sample = random.Random(0).sample(english, 2048)
    teacher = load_encoder(DEFAULT_TEACHER, device="cpu")
    vectors = benchmark.pedantic(teacher.encode, args=(sample,), rounds=2, iterations=1)
    assert vectors.shape[0] == len(sample)
    benchmark.extra_info.update(distinct_english=len(english),
                                minutes_for_all=round(len(english) / (len(sample) / benchmark.stats.stats.median)
                                                      / 60, 1))
