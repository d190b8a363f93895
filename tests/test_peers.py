"""The installable peers behind the Encoder protocol: the tokenlearn static model from PyPI."""

import sys

import numpy as np
import pytest

from harness.core.errors import HarnessError
from harness.encoders.adapters import load_encoder
from harness.encoders.specs import BASELINES


def test_the_tokenlearn_peer_gives_unit_vectors_of_64_numbers_and_says_its_version():
    pytest.importorskip("static_model")
    encoder = load_encoder("tokenlearn-static")
    vectors = encoder.encode(["Anna kauft Äpfel.", "Anna buys apples.", "Le chat dort."])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # the translation is nearer than another sentence
    assert encoder.encode([]).shape == (0, 64)
    assert encoder.revision.startswith("tokenlearn-static-model==") and "tokenlearn-static" in BASELINES


def test_without_the_package_the_peer_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "static_model", None)  # an import of it now fails
    with pytest.raises(HarnessError, match="pip install tokenlearn-static-model"):
        load_encoder("tokenlearn-static")
