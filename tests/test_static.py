"""The static student: its token ids and mean vectors agree with sentence-transformers' StaticEmbedding, its
starting table is the base's plus a least-squares head, and training moves it towards the teacher."""

import json

import numpy as np
import pytest

from harness.core.hash_encoder import HashEncoder
from harness.core.parallel import load_parallel
from harness.core.training import TrainConfig
from tests.fixtures import sentences
from trainers.static import RCOND, StaticTrainer, TokenIds, bags, base_table, folded_table, mean_vectors

TEXTS = ["Anna kauft 7 Äpfel.", "Boris buys 14 books.", "", "Wer kauft Bücher?", "Karla achète 3 fleurs."]


@pytest.fixture
def base(tiny_bert):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_bert), device="cpu")


def static_model(tokenizer, table):
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    return SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=torch.from_numpy(table))],
                               device="cpu")


def test_token_ids_and_mean_vectors_are_what_static_embedding_computes(base):
    tokenizer, weights = base_table(base)
    tokens = TokenIds.of(tokenizer, TEXTS, chunk=2)  # chunks smaller than the list: their seams are covered
    model = static_model(tokenizer, weights)
    features = model[0].preprocess(TEXTS)
    ids, offsets = bags([tokens.row(i) for i in range(len(TEXTS))])
    np.testing.assert_array_equal(ids, features["input_ids"].numpy())
    np.testing.assert_array_equal(offsets, features["offsets"].numpy())
    ours = mean_vectors(weights, tokens)
    np.testing.assert_allclose(ours, model.encode(TEXTS), atol=1e-5)
    assert not ours[2].any()  # a text without tokens is the zero vector, as an empty bag is


def test_the_starting_table_is_the_base_table_with_a_least_squares_head_folded_in(base):
    tokenizer, weights = base_table(base)
    texts = [s for lang in ("en", "de", "fr") for s in sentences(lang, 40)]
    tokens = TokenIds.of(tokenizer, texts)
    targets = HashEncoder(dim=12).encode(texts)
    folded = folded_table(weights, tokens, targets)
    assert folded.shape == (len(weights), 12)
    x = mean_vectors(weights, tokens)
    x1 = np.hstack([x, np.ones((len(x), 1))])
    solution = np.linalg.pinv(x1, rcond=RCOND) @ targets  # the least-squares map, computed another way
    np.testing.assert_allclose(mean_vectors(folded, tokens), x1 @ solution, atol=1e-4)
    unseen = TokenIds.of(tokenizer, ["Wer kauft?"])  # tokens outside the fit are mapped too
    assert not set(unseen.ids) <= set(tokens.ids)
    np.testing.assert_allclose(mean_vectors(folded, unseen), np.hstack([mean_vectors(weights, unseen), [[1.0]]])
                               @ solution, atol=1e-4)


def test_static_training_moves_the_student_towards_the_teacher(base, tiny_root, tmp_path):
    from sentence_transformers import SentenceTransformer

    data = load_parallel(tiny_root, ["de", "fr"], max_pairs=48, dev_pairs=8)
    teacher = HashEncoder(dim=32)
    config = TrainConfig(output=str(tmp_path / "out"), batch_size=8, epochs=6, head_lr=0.05, progress=False,
                         cache_dir=str(tmp_path / "cache"), head_fit_pairs=40, checkpoint_every=0)
    path = StaticTrainer().train(teacher, base, data, config)
    summary = json.loads((path / "training_summary.json").read_text())
    assert np.mean(summary["loss_last"]) < 0.7 * np.mean(summary["loss_first"])
    assert summary["static"]["tokens"] == len(base_table(base)[1]) and summary["static"]["dim"] == 32
    assert summary["teacher_embeddings"]["computed_this_run"] == len({s for d in data.train for s, _ in d.pairs}
                                                                     | {s for p in data.dev.values() for s, _ in p})
    model = SentenceTransformer(str(path), device="cpu")
    assert [type(m).__name__ for m in model] == ["StaticEmbedding", "Normalize"]  # the hash teacher normalises
    dev_first, dev_last = summary["dev"][0], summary["dev"][-1]
    assert dev_last["dev_mse_de"] < dev_first["dev_mse_de"] and dev_last["dev_mse_fr"] < dev_first["dev_mse_fr"]


def test_the_saved_tokenizer_reads_whole_texts_whatever_the_base_was_last_called_with(base, tiny_root, tmp_path):
    """transformers leaves its last call's truncation on the base's tokenizer; the static model must not keep it."""
    from sentence_transformers import SentenceTransformer

    base.tokenizer(["a few words"], truncation=True, max_length=4, padding="max_length")  # sets both on it
    assert base.tokenizer._tokenizer.truncation is not None
    tokenizer, _ = base_table(base)
    assert tokenizer.truncation is None and tokenizer.padding is None
    data = load_parallel(tiny_root, ["de"], max_pairs=16, dev_pairs=4)
    config = TrainConfig(output=str(tmp_path / "out"), batch_size=8, progress=False, cache_dir=str(tmp_path / "c"),
                         head_fit_pairs=16, checkpoint_every=0, similarity_weight=1.0)  # the similarity term runs too
    model = SentenceTransformer(str(StaticTrainer().train(HashEncoder(dim=8), base, data, config)), device="cpu")
    long_text = " ".join(["Anna kauft Äpfel"] * 40)
    assert len(model[0].preprocess([long_text])["input_ids"]) > 100  # every token, not the first four


def test_a_base_without_a_fast_tokenizer_is_refused_with_one_line():
    from harness.core.errors import HarnessError

    class NoTokenizer(list):
        tokenizer = None

    with pytest.raises(HarnessError, match="no fast") as err:
        base_table(NoTokenizer([object()]))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("scale", [100.0, 0.001])  # clipped, and left as it is
def test_sparse_gradients_are_clipped_as_torch_clips_the_same_gradients_dense(scale):
    import torch

    from trainers.loop import clip_gradients

    sparse = torch.nn.EmbeddingBag(50, 4, mode="mean", sparse=True)
    dense = torch.nn.EmbeddingBag(50, 4, mode="mean")
    dense.weight.data.copy_(sparse.weight.data)
    ids, offsets = torch.tensor([3, 7, 7, 9, 11, 3, 40, 2]), torch.tensor([0, 3, 5])
    for bag in (sparse, dense):
        (bag(ids, offsets) * scale).pow(2).sum().backward()
    assert sparse.weight.grad.is_sparse
    clip_gradients(sparse.parameters(), 1.0)
    torch.nn.utils.clip_grad_norm_(dense.parameters(), 1.0)
    torch.testing.assert_close(sparse.weight.grad.to_dense(), dense.weight.grad)


def test_a_constant_teacher_leaves_a_degenerate_static_student_and_the_guard_stops_it(base, tiny_root, tmp_path):
    """The planted failure: a teacher with one vector for every sentence. The least-squares start maps every
    token to it, so the student's dev spread is rounding noise (~1e-17, not 0) before its first step, and the
    guard stops the run there."""
    from tests.test_guards import ConstantTeacher
    from trainers.guards import TrainingFailed

    data = load_parallel(tiny_root, ["de", "fr"], max_pairs=24, dev_pairs=8)
    config = TrainConfig(output=str(tmp_path / "out"), batch_size=8, progress=False, cache_dir=str(tmp_path / "c"),
                         head_fit_pairs=40, checkpoint_every=0)
    with pytest.raises(TrainingFailed, match="degenerate from the start"):
        StaticTrainer().train(ConstantTeacher(dim=16), base, data, config)
    assert not (tmp_path / "out" / "training_summary.json").exists()  # nothing saved as a student


def test_under_torchrun_on_a_gpu_machine_static_refuses_with_one_line(base, tiny_root, tmp_path, monkeypatch):
    import torch

    from harness.core.errors import HarnessError

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    data = load_parallel(tiny_root, ["de"], max_pairs=8, dev_pairs=4)
    config = TrainConfig(output=str(tmp_path / "out"), progress=False, cache_dir=str(tmp_path / "c"))
    with pytest.raises(HarnessError, match="without torchrun") as err:
        StaticTrainer().train(HashEncoder(dim=8), base, data, config)
    assert "\n" not in str(err.value)


def test_a_static_student_is_not_told_apart_by_settings_it_does_not_read():
    from harness.core.training import recipe_differences

    stored = {"lr": 2e-5, "head": "auto", "max_seq_length": 64, "head_lr": 0.05}
    wanted = {"lr": 1e-3, "head": "lstsq", "max_seq_length": 128, "head_lr": 0.05}
    assert recipe_differences(stored, wanted, "static") == {}
    assert set(recipe_differences(stored, wanted, "distill")) == {"lr", "head", "max_seq_length"}
    assert recipe_differences(stored, {**wanted, "head_lr": 0.1}, "static") == {"head_lr": (0.05, 0.1)}
