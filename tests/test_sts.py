"""STS metrics against scipy on independently computed cosines, and against mteb's scorer."""

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics.pairwise import paired_cosine_distances

from tasks.sts import cosine_rows, sts_metrics


def embeddings(n=120, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, 32))
    b = a + rng.uniform(0.1, 3.0, (n, 1)) * rng.standard_normal((n, 32))
    gold = 5 - np.linalg.norm(a - b, axis=1) / 3 + 0.3 * rng.standard_normal(n)
    return a, b, np.clip(gold, 0, 5)


def test_spearman_and_pearson_match_scipy():
    a, b, gold = embeddings()
    cos = 1 - paired_cosine_distances(a, b)
    ours = sts_metrics(cosine_rows(a, b), gold)
    assert abs(ours["spearman"].value - 100 * spearmanr(cos, gold).statistic) < 1e-4
    assert abs(ours["pearson"].value - 100 * pearsonr(cos, gold).statistic) < 1e-4
    assert 20 < ours["spearman"].value < 100


def test_matches_mteb_sts_scorer():
    from mteb.abstasks.sts import AbsTaskSTS
    from sklearn.metrics.pairwise import paired_euclidean_distances, paired_manhattan_distances

    a, b, gold = embeddings(seed=1)
    scores = {
        "cosine_scores": (1 - paired_cosine_distances(a, b)).tolist(),
        "manhattan_distances": (-paired_manhattan_distances(a, b)).tolist(),
        "euclidean_distances": (-paired_euclidean_distances(a, b)).tolist(),
        "similarity_scores": None,
    }
    theirs = AbsTaskSTS._calculate_scores(None, scores, list(gold / 5))
    ours = sts_metrics(cosine_rows(a, b), gold)
    assert abs(ours["spearman"].value / 100 - theirs["cosine_spearman"]) < 1e-4
    assert abs(ours["pearson"].value / 100 - theirs["cosine_pearson"]) < 1e-4
