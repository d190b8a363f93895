"""Conformance: every registered trainer trains a tiny BERT for a few steps into a loadable model."""

import json
from dataclasses import replace

import numpy as np
import pytest

from harness.app.plugins import TRAINERS
from harness.core.hash_encoder import HashEncoder
from harness.core.parallel import load_parallel
from harness.core.training import TrainConfig
from harness.search.mining import nearest_wrong


@pytest.fixture
def tiny_data(tiny_root):
    return load_parallel(tiny_root, ["de", "fr"], max_pairs=24, dev_pairs=8)


def load_student(path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu")


def config_for(tmp_path, **kw):
    settings = dict(output=str(tmp_path / "out"), batch_size=8, lr=1e-3, checkpoint_every=2, progress=False,
                    cache_dir=str(tmp_path / "cache"), head_fit_pairs=40, max_seq_length=16)
    return TrainConfig(**{**settings, **kw})


@pytest.mark.parametrize("name", TRAINERS.names())
def test_every_trainer_produces_a_loadable_model(name, tiny_bert, tiny_data, tmp_path):
    teacher = HashEncoder(dim=48)
    path = TRAINERS.get(name)().train(teacher, load_student(tiny_bert), tiny_data, config_for(tmp_path))
    model = load_student(path)
    # trained on 16-token inputs, saved with the base's inference length; a static model reads any length
    assert model.max_seq_length == (float("inf") if name == "static" else 32)
    vectors = model.encode(["Anna kauft 7 Äpfel.", "Anna buys 7 apples."])
    assert np.isfinite(vectors).all()
    summary = json.loads((path / "training_summary.json").read_text())
    assert summary["trainer"] == name and summary["steps"] == 6  # 48 pairs / batch 8
    card = (path / "README.md").read_text()
    for fact in ("hash-encoder", "de, fr", "big/en-de", "batch_size", "dev_acc_de"):
        assert fact in card
    if name == "distill":
        assert vectors.shape[1] == 48  # projection head to the teacher's dimension
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)  # teacher normalises: so does student


def test_distill_lowers_the_mse_to_the_teacher(tiny_bert, tiny_data, tmp_path):
    teacher = HashEncoder(dim=32)
    config = config_for(tmp_path, epochs=4, head="linear", freeze_embeddings=False)
    path = TRAINERS.get("distill")().train(teacher, load_student(tiny_bert), tiny_data, config)
    summary = json.loads((path / "training_summary.json").read_text())
    first, last = np.mean(summary["loss_first"]), np.mean(summary["loss_last"])
    assert last < 0.8 * first


def test_lstsq_head_starts_close_to_the_teacher(tiny_bert, tiny_data, tmp_path):
    from trainers.head import attach_head

    student = load_student(tiny_bert)
    texts = [s for d in tiny_data.train for s, _ in d.pairs]
    teacher = HashEncoder(dim=24).encode(texts)
    fitted = attach_head(student, 24, True, head="lstsq", fit=(student.encode(texts), teacher))
    random = attach_head(load_student(tiny_bert), 24, True, head="linear")
    err_fit = np.mean((fitted.encode(texts) - teacher) ** 2)
    err_random = np.mean((random.encode(texts) - teacher) ** 2)
    assert err_fit < 0.7 * err_random


def killed_after_step_4(trainer, teacher, tiny_bert, data, config, loop_module: str | None = None) -> None:
    """Train until the loss of step 5 is asked for, then fail as a kill would (the checkpoint of step 4 kept).
    `loop_module`: where the trainer's loop is called from, when not its own module (align-map: distill's)."""
    import importlib

    import trainers.loop as loop

    original = loop.train_loop

    def crash_after_step_4(model, loss_fn, *args, **kw):
        calls = {"n": 0}

        def flaky(m, items):
            calls["n"] += 1
            if calls["n"] == 5:
                raise KeyboardInterrupt("killed")
            return loss_fn(m, items)

        return original(model, flaky, *args, **kw)

    module = importlib.import_module(loop_module or type(trainer).__module__)
    module.train_loop = crash_after_step_4
    try:
        with pytest.raises(KeyboardInterrupt):
            trainer.train(teacher, load_student(tiny_bert), data, config)
    finally:
        module.train_loop = original


@pytest.mark.parametrize("name", ["distill", "static"])
def test_interrupted_training_resumes_and_matches_an_uninterrupted_run(name, tiny_bert, tiny_data, tmp_path):
    teacher = HashEncoder(dim=32)
    trainer = TRAINERS.get(name)()
    full = trainer.train(teacher, load_student(tiny_bert), tiny_data, config_for(tmp_path / "a", checkpoint_every=2))

    config = config_for(tmp_path / "b", checkpoint_every=2)
    killed_after_step_4(trainer, teacher, tiny_bert, tiny_data, config)
    resumed = trainer.train(teacher, load_student(tiny_bert), tiny_data, config)
    summary = json.loads((resumed / "training_summary.json").read_text())
    assert summary["resumed_from"] == 4
    assert summary["teacher_embeddings"]["computed_this_run"] == 0  # the teacher cache was reused
    first = json.loads((full / "training_summary.json").read_text())["guards"]
    assert summary["guards"]["start"] == first["start"]  # judged from the first run's start, kept in the checkpoint
    assert all(entry["step"] > 4 for entry in summary["dev"])  # and the evaluation before training is not rerun
    parts = summary["training_parts"]  # the killed process's part, kept in the checkpoint, and this one's
    assert [(p["from_step"], p["to_step"], p["device"], p["world_size"], p["arithmetic"]) for p in parts] == \
        [(0, 4, "cpu", 1, "fp32"), (4, summary["steps"], "cpu", 1, "fp32")]  # precision 'auto', resolved per part
    assert all(p["seconds"] > 0 for p in parts) and parts[1]["seconds"] == round(summary["seconds"], 3)
    assert summary["training_seconds"] == pytest.approx(sum(p["seconds"] for p in parts), abs=1e-3)
    card = (resumed / "README.md").read_text()
    assert "Trained in 2 parts" in card and "steps 0 to 4, " in card and " s on cpu (fp32); " in card
    assert f"; {summary['training_seconds']:.0f} s in all" in card  # the summary's own total
    assert len(json.loads((full / "training_summary.json").read_text())["training_parts"]) == 1
    texts = ["Anna kauft 7 Äpfel.", "Boris buys 14 books."]
    np.testing.assert_allclose(load_student(full).encode(texts), load_student(resumed).encode(texts), atol=1e-5)


@pytest.mark.parametrize("change", [{"lr": 5e-4}, {"head": "none"}, {"freeze_layers": 1}])
def test_checkpoints_of_another_recipe_are_refused_before_anything_is_fitted(change, tiny_bert, tiny_data, tmp_path):
    """A changed head or frozen layers would not even load into the checkpoint's model or optimiser."""
    from harness.core.errors import HarnessError

    teacher, trainer = HashEncoder(dim=32), TRAINERS.get("distill")()
    config = config_for(tmp_path, checkpoint_every=2)
    killed_after_step_4(trainer, teacher, tiny_bert, tiny_data, config)
    name = next(iter(change))
    with pytest.raises(HarnessError, match=rf"out/checkpoints: checkpoints of a run with other settings \({name} "
                                           r".*--overwrite"):
        trainer.train(teacher, load_student(tiny_bert), tiny_data, replace(config, **change))
    with pytest.raises(HarnessError, match=r"other settings \(teacher_revision hash-v1-d32 -> hash-v1-d16\)"):
        trainer.train(HashEncoder(dim=16), load_student(tiny_bert), tiny_data, config)
    assert (tmp_path / "out" / "checkpoints" / "step-4").is_dir()  # refused: nothing touched


def test_overwrite_starts_afresh_and_a_killed_retrain_resumes_its_own_checkpoints(tiny_bert, tiny_data, tmp_path):
    teacher, trainer = HashEncoder(dim=32), TRAINERS.get("distill")()
    config = config_for(tmp_path, checkpoint_every=2)
    killed_after_step_4(trainer, teacher, tiny_bert, tiny_data, config)
    other = replace(config, lr=5e-4, overwrite=True)
    fresh = trainer.train(teacher, load_student(tiny_bert), tiny_data, other)  # another recipe: discarded
    summary = json.loads((fresh / "training_summary.json").read_text())
    assert summary["resumed_from"] is None and summary["config"]["lr"] == 5e-4
    assert [(p["from_step"], p["to_step"]) for p in summary["training_parts"]] == [(0, summary["steps"])]
    killed_after_step_4(trainer, teacher, tiny_bert, tiny_data, other)  # a finished student: discarded, retrained
    assert not (fresh / "training_summary.json").exists()  # no longer marked finished while it is retrained
    again = trainer.train(teacher, load_student(tiny_bert), tiny_data, other)  # the same command: resumes
    assert json.loads((again / "training_summary.json").read_text())["resumed_from"] == 4


@pytest.mark.parametrize("rank", ["0", "1"])
def test_under_torchrun_every_rank_decides_before_rank_0_alone_discards(rank, tiny_bert, tiny_data, tmp_path,
                                                                         monkeypatch):
    """--overwrite of a finished student: a rank that looked after rank 0 had deleted the summary would see
    nothing to discard and could resume the replaced run's checkpoints. So all read, wait, rank 0 discards, all
    wait again; the other ranks delete nothing."""
    import trainers.save as save

    teacher, trainer = HashEncoder(dim=32), TRAINERS.get("distill")()
    config = config_for(tmp_path, checkpoint_every=2)
    out = trainer.train(teacher, load_student(tiny_bert), tiny_data, config)
    seen = []  # at each wait: is the student still marked finished, are its checkpoints there
    monkeypatch.setattr(save, "wait_for_all_ranks",
                        lambda: seen.append(((out / "training_summary.json").exists(), (out / "checkpoints").exists())))
    monkeypatch.setenv("RANK", rank)
    recipe = json.loads((out / "checkpoints" / "recipe.json").read_text())
    save.prepare_output(out, recipe, overwrite=True, log=lambda _: None)
    assert len(seen) == 2  # every rank waits twice: a wait only some took would hang the others
    assert seen[0] == (True, True)  # everyone decided before anything was deleted
    assert seen[1] == ((False, True) if rank == "0" else (True, True))  # rank 0 discarded, then all went on
    last = out / "checkpoints" / "step-4"
    assert not last.exists() if rank == "0" else last.is_dir()


def test_align_map_resumes_its_alignment_whatever_the_teacher_and_map_after_it(tiny_bert, tiny_data, tmp_path):
    """Its loop aligns the base to its own English space; the teacher and the map come in after it, so its
    checkpoints do not depend on them. What the loop learns from still does."""
    from harness.core.errors import HarnessError

    trainer = TRAINERS.get("align-map")()
    config = config_for(tmp_path, checkpoint_every=2, teacher_output="none")
    killed_after_step_4(trainer, HashEncoder(dim=32), tiny_bert, tiny_data, config, loop_module="trainers.distill")
    with pytest.raises(HarnessError, match=r"checkpoints of a run with other settings \(lr "):
        trainer.train(HashEncoder(dim=32), load_student(tiny_bert), tiny_data, replace(config, lr=5e-4))
    after = replace(config, head="orthogonal", head_fit_pairs=30, aligned_share=0.8, teacher_output="lstsq",
                    teacher_fit_sentences=40, save_dtype="float16")
    assert all(getattr(after, k) != getattr(config, k) for k in trainer.after_the_loop if hasattr(config, k))
    other = HashEncoder(dim=32, name="another-teacher")
    resumed = trainer.train(other, load_student(tiny_bert), tiny_data, after)
    summary = json.loads((resumed / "training_summary.json").read_text())
    assert summary["resumed_from"] == 4 and summary["map"]["head"] == "orthogonal"
    assert summary["teacher"] == "another-teacher" and summary["alignment"]["aligned_share"] == 0.8
    assert summary["map"]["teacher_output"]["head"] == "lstsq"
    with pytest.raises(HarnessError, match=r"holds a student trained with other settings"):  # finished: all count
        trainer.train(HashEncoder(dim=32), load_student(tiny_bert), tiny_data, config)


def test_unreadable_checkpoint_recipe_is_named_and_overwrite_discards_it(tiny_bert, tiny_data, tmp_path):
    from harness.core.errors import HarnessError

    teacher, trainer = HashEncoder(dim=32), TRAINERS.get("distill")()
    config = config_for(tmp_path, checkpoint_every=2)
    killed_after_step_4(trainer, teacher, tiny_bert, tiny_data, config)
    recipe = tmp_path / "out" / "checkpoints" / "recipe.json"
    recipe.write_text('{"lr": ')  # cut short
    with pytest.raises(HarnessError, match=r"recipe.json: not readable as JSON .*delete it to resume unchecked"):
        trainer.train(teacher, load_student(tiny_bert), tiny_data, config)
    fresh = trainer.train(teacher, load_student(tiny_bert), tiny_data, replace(config, overwrite=True))
    assert json.loads((fresh / "training_summary.json").read_text())["resumed_from"] is None  # started afresh
    assert json.loads(recipe.read_text())["lr"] == config.lr  # and its own recipe written


def test_a_run_resumed_with_other_incidental_settings_goes_on(tiny_bert, tiny_data, tmp_path):
    teacher, trainer = HashEncoder(dim=32), TRAINERS.get("distill")()
    config = config_for(tmp_path, checkpoint_every=2)
    killed_after_step_4(trainer, teacher, tiny_bert, tiny_data, config)
    resumed = trainer.train(teacher, load_student(tiny_bert), tiny_data, replace(config, micro_batch=4, eval_every=3))
    assert json.loads((resumed / "training_summary.json").read_text())["resumed_from"] == 4


def test_a_run_resumed_from_a_checkpoint_older_than_parts_says_its_time_is_unknown(tiny_bert, tiny_data, tmp_path):
    teacher, trainer = HashEncoder(dim=32), TRAINERS.get("distill")()
    config = config_for(tmp_path, checkpoint_every=2)
    killed_after_step_4(trainer, teacher, tiny_bert, tiny_data, config)
    state_file = tmp_path / "out" / "checkpoints" / "step-4" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({"step": state["step"], "guards": state["guards"]}))  # as written before
    resumed = trainer.train(teacher, load_student(tiny_bert), tiny_data, config)
    summary = json.loads((resumed / "training_summary.json").read_text())
    assert summary["training_parts"][0] == {"from_step": 0, "to_step": 4, "device": None, "seconds": None}
    assert summary["training_seconds"] is None and summary["training_parts"][1]["seconds"] > 0
    card = (resumed / "README.md").read_text()
    assert "steps 0 to 4, not timed" in card and "the total unknown" in card


def test_a_checkpoint_from_before_parts_were_kept_gives_an_untimed_first_part():
    from trainers.loop import earlier_parts
    from trainers.template import total_seconds

    old = earlier_parts({"step": 300, "guards": {}}, 300)
    assert old == [{"from_step": 0, "to_step": 300, "device": None, "seconds": None}]
    assert total_seconds([*old, {"from_step": 300, "to_step": 400, "device": "cpu", "seconds": 5.0}]) is None
    kept = [{"from_step": 0, "to_step": 2, "device": "cpu", "seconds": 1.5}]
    assert earlier_parts({"step": 2, "parts": kept}, 2) == kept and earlier_parts({}, 0) == []
    assert total_seconds([]) is None
    assert total_seconds([*kept, {"from_step": 2, "to_step": 4, "device": "cpu", "seconds": 2.0}]) == 3.5


def test_finished_output_is_not_retrained(tiny_bert, tiny_data, tmp_path):
    trainer = TRAINERS.get("ranking")()
    config = config_for(tmp_path)
    path = trainer.train(HashEncoder(), load_student(tiny_bert), tiny_data, config)
    stamp = (path / "training_summary.json").stat().st_mtime_ns
    trainer.train(HashEncoder(), load_student(tiny_bert), tiny_data, config)
    assert (path / "training_summary.json").stat().st_mtime_ns == stamp
    trainer.train(HashEncoder(), load_student(tiny_bert), tiny_data, replace(config, overwrite=True))
    assert (path / "training_summary.json").stat().st_mtime_ns != stamp


def test_hard_negative_mining_skips_gold_duplicates_and_near_duplicates():
    def unit(*weights):
        v = np.zeros(8, dtype=np.float32)
        v[:len(weights)] = weights
        return v / np.linalg.norm(v)

    tgt = np.stack([
        unit(1),  # 0: gold of source 0
        unit(1, 0.05),  # 1: near-duplicate of 0 (cosine 0.999): skipped
        unit(1, 0.75),  # 2: close but distinct (cosine 0.8): the hard negative
        unit(1, 0.48),  # 3: closer (0.9), but the same text as 0: skipped
        unit(0, 0, 1),
        unit(0, 0, 0, 1),
    ])
    texts = ["The cat.", "The cat sleeps.", "A dog.", "the cat. ", "x", "y"]
    negatives = nearest_wrong(tgt.copy(), tgt, texts)
    assert negatives[0] == 2
    assert all(n != i for i, n in enumerate(negatives))


def test_length_grouped_micro_batches_give_the_whole_batch_embeddings_and_gradients(tiny_bert):
    import torch

    from trainers.batching import encode_with_grad

    texts = ["kurz", "Anna kauft sieben rote Äpfel auf dem Markt am Montag", "ja", "Der Hund schläft.",
             "Ein sehr langer Satz mit vielen Wörtern, damit die Polsterung sichtbar wird", "nein"]
    results = []
    for micro_batch in (0, 2):
        model = load_student(tiny_bert)
        model.eval()  # no dropout: the two passes must compute the same function
        emb = encode_with_grad(model, texts, micro_batch)
        (emb * torch.arange(emb.shape[1], dtype=emb.dtype)).sum().backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        results.append((emb.detach(), grads))
    (whole, whole_grads), (grouped, grouped_grads) = results
    torch.testing.assert_close(grouped, whole, atol=1e-5, rtol=1e-4)  # same rows, same order
    assert whole_grads.keys() == grouped_grads.keys()
    for name in whole_grads:
        torch.testing.assert_close(grouped_grads[name], whole_grads[name], atol=1e-5, rtol=1e-3)


def test_frozen_lower_layers_do_not_move(tiny_bert, tiny_data, tmp_path):
    from pathlib import Path

    import torch
    from safetensors.torch import load_file

    base = load_file(str(next(Path(tiny_bert).rglob("model.safetensors"))))
    config = config_for(tmp_path, freeze_layers=1, head="linear")
    path = TRAINERS.get("distill")().train(HashEncoder(dim=32), load_student(tiny_bert), tiny_data, config)
    trained = load_file(str(path / "model.safetensors"))
    layer0 = [k for k in trained if ".layer.0." in k]
    layer1 = [k for k in trained if ".layer.1." in k]
    assert layer0 and layer1
    for key in layer0 + [k for k in trained if "embeddings" in k]:
        torch.testing.assert_close(trained[key], base[key], msg=key)
    assert any(not torch.equal(trained[k], base[k]) for k in layer1)  # the layer above still learns


def test_orthogonal_head_recovers_a_rotation_and_keeps_cosines():
    from trainers.head import orthogonal_head

    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 16))
    rotation, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    weight, bias = orthogonal_head(x, x @ rotation.T)
    np.testing.assert_allclose(weight, rotation, atol=1e-5)
    assert not bias.any()
    wide, _ = orthogonal_head(x, rng.standard_normal((500, 24)))  # into a larger teacher space
    np.testing.assert_allclose(wide.T @ wide, np.eye(16), atol=1e-5)
    with pytest.raises(ValueError, match="cannot map 16 dimensions into 8"):
        orthogonal_head(x, x[:, :8])


def _router_heads(model) -> dict:
    router = model[len(model) - 1]
    assert type(router).__name__ == "Router"
    return {name: next(m for m in modules if type(m).__name__ == "Dense").linear.weight.detach().numpy()
            for name, modules in router.sub_modules.items()}


def test_align_map_has_a_rotation_output_and_a_teacher_space_output(tiny_bert, tiny_data, tmp_path):
    from sentence_transformers import SentenceTransformer

    from harness.encoders.card import model_outputs

    config = config_for(tmp_path, head="auto", epochs=1, teacher_fit_sentences=80)
    teacher = HashEncoder(dim=32)
    path = TRAINERS.get("align-map")().train(teacher, load_student(tiny_bert), tiny_data, config)
    summary = json.loads((path / "training_summary.json").read_text())
    assert summary["trainer"] == "align-map" and summary["map"]["head"] == "orthogonal"
    assert model_outputs(path) == ("default", "teacher") and set(summary["outputs"]) == {"default", "teacher"}
    model = SentenceTransformer(str(path), device="cpu")
    heads = _router_heads(model)
    rotation, least_squares = heads["default"], heads["teacher"]
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(rotation.shape[1]), atol=1e-4)  # cosines kept
    assert not np.allclose(least_squares.T @ least_squares, np.eye(least_squares.shape[1]), atol=1e-2)
    # the default output is the trunk rotated, so every cosine of the trunk is kept; the other is not
    texts = [s for s, _ in tiny_data.train[0].pairs[:40]]
    trunk = SentenceTransformer(modules=list(model)[:-1], device="cpu").encode(texts)
    own, theirs = model.encode(texts), model.encode(texts, task="teacher")
    np.testing.assert_allclose(own @ own.T, unit(trunk) @ unit(trunk).T, atol=1e-4)
    assert np.abs(theirs @ theirs.T - own @ own.T).max() > 1e-2
    # on the English it was fitted on, the least-squares output lands nearer the teacher than the rotation (a
    # random hash teacher has nothing to generalise, so held-out pairs would say nothing here)
    target = unit(teacher.encode(texts))
    assert np.einsum("ij,ij->i", unit(theirs), target).mean() > np.einsum("ij,ij->i", unit(own), target).mean()
    assert set(summary["map"]["teacher_output"]["dev"]) == set(summary["dev"][-1]) - {"step"}
    # fitted on more English than the rotation: the training pairs' own, then that of pairs left out by the cap
    fitted = summary["map"]["teacher_output"]
    assert fitted["fitted_on_english_sentences"] == config.teacher_fit_sentences
    assert 0 < fitted["of_which_from_pairs_not_trained_on"] < config.teacher_fit_sentences
    assert "## Outputs" in (path / "README.md").read_text()


@pytest.mark.parametrize("limit", [None, 10, 20])
def test_the_teacher_output_fit_takes_the_training_english_then_the_spare(tiny_data, limit):
    from trainers.align_map import english_sentences, teacher_fit_english

    english = english_sentences(tiny_data, 20)
    assert teacher_fit_english(tiny_data, english, limit) == []  # 'same', or no more than the rotation's
    more = teacher_fit_english(tiny_data, english, 80)
    assert len(more) == 60 and len(set(more)) == 60 and not set(more) & set(english)
    trained = [s for s in english_sentences(tiny_data, 10_000) if s not in set(english)]
    assert trained and more[:len(trained)] == trained  # the rest of the training English first
    assert set(more[len(trained):]) <= set(tiny_data.spare_english)  # then English no pair trained on


def test_align_map_with_one_output_is_the_rotation_alone(tiny_bert, tiny_data, tmp_path):
    from sentence_transformers import SentenceTransformer

    from harness.encoders.card import model_outputs

    config = config_for(tmp_path, head="auto", epochs=1, teacher_output="none")
    path = TRAINERS.get("align-map")().train(HashEncoder(dim=32), load_student(tiny_bert), tiny_data, config)
    assert model_outputs(path) == ()
    model = SentenceTransformer(str(path), device="cpu")
    dense = next(module for module in model if type(module).__name__ == "Dense")
    weight = dense.linear.weight.detach().numpy()
    np.testing.assert_allclose(weight.T @ weight, np.eye(weight.shape[1]), atol=1e-4)
    assert "outputs" not in json.loads((path / "training_summary.json").read_text())


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_similarity_loss_is_zero_only_when_the_cosines_match():
    import torch

    from trainers.distill import similarity_loss

    targets = torch.randn(8, 16)
    assert similarity_loss(targets, targets, targets).item() == pytest.approx(0.0, abs=1e-7)
    assert similarity_loss(targets, torch.randn(8, 16), targets).item() > 0.01


def test_align_map_student_is_the_weighted_average_of_the_aligned_model_and_its_base(tiny_bert, tiny_data,
                                                                                      tmp_path):
    from sentence_transformers import SentenceTransformer

    def transformer_weights(path):
        state = SentenceTransformer(str(path), device="cpu")[0].auto_model.state_dict()
        return {key: tensor.float().numpy() for key, tensor in state.items() if tensor.is_floating_point()}

    trained = {share: TRAINERS.get("align-map")().train(
        HashEncoder(dim=32), load_student(tiny_bert), tiny_data,
        config_for(tmp_path / str(share), head="auto", epochs=1, aligned_share=share))
        for share in (1.0, 0.25)}
    base, aligned, averaged = (transformer_weights(p) for p in (tiny_bert, trained[1.0], trained[0.25]))
    moved = [key for key in base if not np.allclose(base[key], aligned[key])]
    assert moved, "the alignment changed no weight"
    for key in base:
        np.testing.assert_allclose(averaged[key], 0.25 * aligned[key] + 0.75 * base[key], atol=1e-5)
    summary = json.loads((trained[0.25] / "training_summary.json").read_text())
    assert summary["alignment"]["aligned_share"] == 0.25


def test_the_weight_average_visits_a_tied_weight_once_and_refuses_a_mismatch():
    import torch

    from trainers.align_map import average_with

    class Tied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Linear(4, 4, bias=False)
            self.decoder = torch.nn.Linear(4, 4, bias=False)
            self.decoder.weight = self.encoder.weight  # one tensor, two names in the state dict

    model = Tied()
    base = {key: torch.zeros_like(tensor) for key, tensor in model.state_dict().items()}
    before = model.encoder.weight.detach().clone()
    average_with(model, base, 0.5)
    torch.testing.assert_close(model.decoder.weight.detach(), 0.5 * before)  # not 0.25: averaged once
    with pytest.raises(ValueError, match="cannot average encoder.weight"):
        average_with(model, {"encoder.weight": torch.zeros(2, 2)}, 0.5)


def test_an_align_map_student_from_before_the_average_is_not_reused_as_an_averaged_one(tmp_path):
    from harness.core.errors import HarnessError
    from trainers.save import finished

    config = config_for(tmp_path)
    stored = {key: value for key, value in config.to_dict().items() if key != "aligned_share"}
    for trainer in ("align-map", "distill"):
        folder = tmp_path / trainer
        folder.mkdir()
        (folder / "modules.json").write_text("[]")
        (folder / "training_summary.json").write_text(json.dumps({"config": stored, "trainer": trainer}))
    with pytest.raises(HarnessError, match="aligned_share 1 -> 0.5"):
        finished(tmp_path / "align-map", config, {"trainer": "align-map"})  # compared at its value before it existed
    assert finished(tmp_path / "distill", config, {"trainer": "distill"})  # a setting distill does not read
    # the runner and the plan ask the same function, so they cannot disagree with the trainers
    from harness.core.training import recipe_differences
    from harness.encoders.card import stored_recipe

    wanted = {**config.to_dict(), "trainer": "align-map"}
    changed = recipe_differences(stored_recipe(tmp_path / "align-map"), wanted, "align-map")
    assert changed == {"aligned_share": (1.0, 0.5)}
    assert recipe_differences(stored_recipe(tmp_path / "distill"), {**wanted, "trainer": "distill"}, "distill") == {}


def test_max_steps_stops_early_and_bf16_runs_on_the_cpu(tiny_bert, tiny_data, tmp_path):
    """max_steps shortens training (the summary counts the steps taken); precision bf16 is honoured on the CPU
    too (autocast), which is how the GPU path's precision switch is exercised without a GPU."""
    import torch

    from trainers.loop import autocast_plan

    assert autocast_plan(torch.device("cpu"), "auto") == ("cpu", False)
    assert autocast_plan(torch.device("cpu"), "bf16") == ("cpu", True)
    assert autocast_plan(torch.device("cpu"), "fp32") == ("cpu", False)
    config = config_for(tmp_path, max_steps=2, precision="bf16", epochs=3)
    path = TRAINERS.get("distill")().train(HashEncoder(dim=48), load_student(tiny_bert), tiny_data, config)
    summary = json.loads((path / "training_summary.json").read_text())
    assert summary["steps"] == 2 and len(summary["loss_first"]) == 2 and summary["config"]["precision"] == "bf16"
    assert summary["arithmetic"] == summary["training_parts"][0]["arithmetic"] == "bf16"  # what it ran in
    assert "on cpu (bf16)" in (path / "README.md").read_text()


def test_a_random_head_starts_the_same_for_a_seed(tiny_bert, tiny_data, tmp_path):
    """--head linear draws its first weights at random: from the seed, so two runs give one student."""
    from safetensors.numpy import load_file

    teacher = HashEncoder(dim=32)
    runs = [TRAINERS.get("distill")().train(teacher, load_student(tiny_bert), tiny_data,
                                           config_for(tmp_path / name, head="linear", max_steps=2))
            for name in "ab"]
    files = [load_file(str(run / "2_Dense" / "model.safetensors")) for run in runs]
    assert all(np.array_equal(files[0][k], files[1][k]) for k in files[0])
