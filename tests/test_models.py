"""Model specs: aliases, folders and the '#prompt=' suffix."""

import numpy as np
import pytest

from harness.core.errors import HarnessError
from harness.encoders.adapters import load_encoder
from harness.encoders.specs import resolve


def test_prompt_suffix_prepends_the_prompt_and_names_the_model(tiny_bert):
    from sentence_transformers import SentenceTransformer

    plain = load_encoder(str(tiny_bert))
    prompted = load_encoder(f"{tiny_bert}#prompt=query: ")
    texts = ["Anna kauft Äpfel.", "Der Hund schläft."]
    reference = SentenceTransformer(str(tiny_bert), device="cpu").encode(["query: " + t for t in texts])
    np.testing.assert_allclose(prompted.encode(texts), reference, atol=1e-5)
    assert not np.allclose(prompted.encode(texts), plain.encode(texts), atol=1e-3)
    assert prompted.name.endswith("#prompt=query: ") and prompted.revision == plain.revision
    assert resolve(f"{tiny_bert}#prompt=query: ").location == resolve(str(tiny_bert)).location


def test_prompt_on_a_model_without_text_input_is_an_error():
    with pytest.raises(HarnessError, match="needs a sentence-transformers model"):
        load_encoder("hash#prompt=query: ")
