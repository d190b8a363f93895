"""Mining metrics against independent implementations: direct numpy margin, mteb's evaluator."""

import numpy as np
import pytest

from harness.core.vectors import unit_rows as normalise
from harness.results.schema import WORST_KEPT
from harness.search.mining import MARGIN_K, Neighbours, margin_top1
from tasks.hard_negatives import analyse, error_tags
from tasks.mining import mining_metrics, weighted_f1


def noisy_pairs(n=200, dim=48, noise=0.9, seed=0):
    rng = np.random.default_rng(seed)
    src = rng.standard_normal((n, dim)).astype(np.float32)
    tgt = src + noise * rng.standard_normal((n, dim)).astype(np.float32)
    return normalise(src), normalise(tgt)


def direct_margin_predictions(src, tgt, k=MARGIN_K):
    """LASER's ratio margin written out over the full similarity matrix, no kNN structures."""
    sims = src @ tgt.T
    knn_src = np.sort(sims, axis=1)[:, -k:].mean(axis=1)  # each source's mean sim to its k nearest targets
    knn_tgt = np.sort(sims, axis=0)[-k:, :].mean(axis=0)
    margin = sims / ((knn_src[:, None] + knn_tgt[None, :]) / 2)
    # candidates are restricted to the k cosine neighbours, as in xsim/mine_bitexts
    top_k = np.argsort(-sims, axis=1)[:, :k]
    masked = np.full_like(margin, -np.inf)
    np.put_along_axis(masked, top_k, np.take_along_axis(margin, top_k, axis=1), axis=1)
    return masked.argmax(axis=1), masked.max(axis=1)


def test_margin_matches_direct_numpy():
    src, tgt = noisy_pairs()
    sims = src @ tgt.T
    fwd_ids = np.argsort(-sims, axis=1)[:, :MARGIN_K]
    bwd_ids = np.argsort(-sims.T, axis=1)[:, :MARGIN_K]
    fwd = Neighbours(np.take_along_axis(sims, fwd_ids, 1), fwd_ids)
    bwd = Neighbours(np.take_along_axis(sims.T, bwd_ids, 1), bwd_ids)
    ids, scores = margin_top1(fwd, bwd.mean_sim)
    ref_ids, ref_scores = direct_margin_predictions(src, tgt)
    assert (ids == ref_ids).all()
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_both_directions_match_direct_numpy_margin(seed):
    """Each direction re-ranks by the margin with the other side's neighbourhood means: the backward
    accuracy equals the direct computation with the roles swapped (a swap of the means, which only the golden
    snapshot used to see, changes these predictions)."""
    src, tgt = noisy_pairs(n=120, noise=2.5, seed=seed)
    gold = np.arange(len(src))
    metrics = mining_metrics(src, tgt).metrics
    for name, (queries, candidates) in {"fwd": (src, tgt), "bwd": (tgt, src)}.items():
        predicted, _ = direct_margin_predictions(queries, candidates)
        assert metrics[f"acc_margin_{name}"].value == pytest.approx(100 * np.mean(predicted == gold))
    swapped_means, _ = direct_margin_predictions(tgt, src)  # the mutation's answer differs on this data
    sims = tgt @ src.T
    own_means = np.sort(sims, axis=1)[:, -MARGIN_K:].mean(axis=1)
    top_k = np.argsort(-sims, axis=1)[:, :MARGIN_K]
    wrong = np.take_along_axis(sims, top_k, 1) / ((own_means[:, None] + own_means[top_k]) / 2)
    assert (top_k[np.arange(len(top_k)), wrong.argmax(1)] != swapped_means).any()


def test_margin_beats_cosine_on_hubs():
    # A hub target close to every source steals cosine top-1; the margin discounts it.
    src, tgt = noisy_pairs(n=100, noise=1.2)
    hub = normalise(src.mean(axis=0, keepdims=True) * 5)
    tgt = np.vstack([tgt, hub])
    src = np.vstack([src, normalise(np.random.default_rng(5).standard_normal((1, src.shape[1])))])
    metrics = mining_metrics(src, tgt).metrics
    assert metrics["acc_margin_fwd"].value >= metrics["acc_cos_fwd"].value


def _mteb_metrics(query, corpus):
    from mteb._evaluators.text.bitext_mining_evaluator import BitextMiningEvaluator
    from mteb.abstasks.text.bitext_mining import AbsTaskBitextMining
    from mteb.similarity_functions import cos_sim

    class Model:  # mteb only needs .similarity from the model at this stage
        similarity = staticmethod(cos_sim)

    neighbours = BitextMiningEvaluator._similarity_search(None, query, corpus, Model())
    gold = [(i, i) for i in range(len(query))]
    return AbsTaskBitextMining._compute_metrics(None, neighbours, gold)


@pytest.mark.parametrize("seed", [0, 1])
def test_accuracy_and_f1_agree_with_mteb_on_same_embeddings(seed):
    src, tgt = noisy_pairs(n=150, noise=2.0, seed=seed)
    ours = mining_metrics(src, tgt).metrics
    theirs_fwd, theirs_bwd = _mteb_metrics(src, tgt), _mteb_metrics(tgt, src)
    assert 0 < theirs_fwd["accuracy"] < 1  # the fixture must contain errors, or the check is weak
    assert abs(ours["acc_cos_fwd"].value / 100 - theirs_fwd["accuracy"]) < 1e-4
    assert abs(ours["acc_cos_bwd"].value / 100 - theirs_bwd["accuracy"]) < 1e-4
    assert abs(ours["f1_cos_fwd"].value / 100 - theirs_fwd["f1"]) < 1e-4
    assert abs(ours["f1_cos_bwd"].value / 100 - theirs_bwd["f1"]) < 1e-4


def test_weighted_f1_matches_sklearn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(3)
    gold = rng.integers(0, 30, 200)
    predicted = np.where(rng.random(200) < 0.6, gold, rng.integers(0, 30, 200))
    assert abs(weighted_f1(predicted, gold) - f1_score(gold, predicted, average="weighted", zero_division=0)) < 1e-9


def test_xsim_error_is_margin_error_rate_and_perfect_data_scores_100():
    src, _ = noisy_pairs(n=50)
    metrics = mining_metrics(src, src.copy()).metrics
    assert metrics["acc_cos_fwd"].value == 100 and metrics["acc_margin_bwd"].value == 100
    assert metrics["xsim_error_fwd"].value == 0 and not metrics["xsim_error_fwd"].higher_is_better
    assert metrics["extract_f1"].value == 100


def test_extraction_f1_is_below_100_with_noise():
    src, tgt = noisy_pairs(n=150, noise=2.0)
    metrics = mining_metrics(src, tgt).metrics
    assert 0 < metrics["extract_f1"].value < 100
    assert metrics["extract_precision"].value > 0 and metrics["extract_recall"].value > 0


def test_hard_negative_analysis():
    src, tgt = noisy_pairs(n=120, noise=2.0)
    mined = mining_metrics(src, tgt)
    metrics, fwd = mined.metrics, mined.fwd
    texts_src = [f"source {i}" for i in range(120)]
    texts_tgt = [f"target {i}" for i in range(120)]
    gold_scores = np.einsum("ij,ij->i", src, tgt)
    result = analyse(texts_src, texts_tgt, gold_scores, fwd.ids, fwd.scores)
    # a wrong candidate outranks the gold exactly when cosine top-1 is wrong
    assert abs(result["wrong_outranks_gold"] - (100 - metrics["acc_cos_fwd"].value)) < 1e-3
    assert result["n"] == 120 and "gap_histogram" not in result  # the explorer bins the gaps' evidence
    assert len(result["worst"]) == WORST_KEPT
    gaps = [w["gap"] for w in result["worst"]]
    assert gaps == sorted(gaps) and gaps[0] < 0
    worst = result["worst"][0]
    assert worst["gap"] == pytest.approx(worst["gold_score"] - worst["wrong_score"], abs=1e-5)
    assert worst["query"] == texts_src[int(worst["query"].split()[1])]
    import json

    json.dumps(result)  # JSON-serialisable data


def test_error_tags():
    assert error_tags("He paid 20 euros.", "He paid 30 euros.") == ["number_mismatch"]
    assert "entity_mismatch" in error_tags("Tom met Mary.", "Tom met John.")
    assert error_tags("I know.", "I know.") == ["duplicate"]
    assert error_tags("Yes.", "Yes, but only if it does not rain tomorrow morning.") == ["length_ratio"]
