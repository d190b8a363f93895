from __future__ import annotations

import pytest

from harness.core.encoder import HashEncoder
from tests.fixtures import make_data_root


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
