from __future__ import annotations

import pytest

from harness.core.hash_encoder import HashEncoder
from tests.fixtures import make_data_root


@pytest.fixture(scope="session", autouse=True)
def own_cache(tmp_path_factory):
    """The tests' caches (replicates, unpacked packaged models, mining) in a folder of their own: a test never
    reads what a user's runs left in ~/.cache, nor leaves anything there. Subprocesses inherit it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARNESS_CACHE", str(tmp_path_factory.mktemp("harness-cache")))
        yield


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory):
    return make_data_root(tmp_path_factory.mktemp("data"))


@pytest.fixture
def data_env(tiny_root, monkeypatch):
    """Point HARNESS_DATA at the tiny data root."""
    monkeypatch.setenv("HARNESS_DATA", str(tiny_root))
    return tiny_root


@pytest.fixture
def hash_encoder():
    return HashEncoder(dim=64)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """Path of a randomly initialised 2-layer BERT sentence-transformers folder (32-d)."""
    from tests.fixtures import make_tiny_bert

    return make_tiny_bert(tmp_path_factory.mktemp("bert"))


@pytest.fixture
def run_toml(tmp_path, tiny_bert):
    """A small run: hash teacher, tiny BERT student, German, distill, STSb and Tatoeba, all under tmp_path."""
    path = tmp_path / "run.toml"
    path.write_text(f'''
teacher = "hash:32"
student = "{tiny_bert}"
langs = "de"
trainers = ["distill"]
tasks = ["stsb-multi-mt", "tatoeba"]
baselines = []
max_pairs = 24
batch_size = 8
head_fit_pairs = 40
results_dir = "{tmp_path / 'results' / 'runs'}"
leaderboard_dir = "{tmp_path / 'results'}"
models_dir = "{tmp_path / 'models'}"
''')
    return path
