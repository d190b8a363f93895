"""Mining speed: our FAISS search (both directions, cosine and margin) against mteb's bitext-mining
evaluator and a plain numpy matmul top-1, on the same embeddings, in the same run."""

import numpy as np
import pytest

from tasks.mining import mining_metrics

SIZES = [1_000, 10_000, 100_000]


def numpy_top1_both_directions(src, tgt, chunk=2048):
    fwd = np.concatenate([np.argmax(src[i:i + chunk] @ tgt.T, axis=1) for i in range(0, len(src), chunk)])
    bwd = np.concatenate([np.argmax(tgt[i:i + chunk] @ src.T, axis=1) for i in range(0, len(tgt), chunk)])
    return fwd, bwd


def mteb_both_directions(src, tgt):
    from mteb._evaluators.text.bitext_mining_evaluator import BitextMiningEvaluator
    from mteb.abstasks.text.bitext_mining import AbsTaskBitextMining
    from mteb.similarity_functions import cos_sim

    class Model:
        similarity = staticmethod(cos_sim)

    gold = [(i, i) for i in range(len(src))]
    fwd = BitextMiningEvaluator._similarity_search(None, src, tgt, Model())
    bwd = BitextMiningEvaluator._similarity_search(None, tgt, src, Model())
    return AbsTaskBitextMining._compute_metrics(None, fwd, gold), AbsTaskBitextMining._compute_metrics(None, bwd, gold)


@pytest.mark.parametrize("n", SIZES)
def test_ours_faiss_cosine_and_margin(benchmark, pairs_by_size, n):
    src, tgt = pairs_by_size(n)
    benchmark.group = f"mining n={n}"
    mined = benchmark.pedantic(mining_metrics, args=(src, tgt), rounds=3 if n < 100_000 else 1,
                                       iterations=1, warmup_rounds=1 if n < 100_000 else 0)
    assert mined.metrics["acc_cos_fwd"].value > 50


@pytest.mark.parametrize("n", SIZES)
def test_numpy_matmul_top1(benchmark, pairs_by_size, n):
    src, tgt = pairs_by_size(n)
    benchmark.group = f"mining n={n}"
    fwd, _ = benchmark.pedantic(numpy_top1_both_directions, args=(src, tgt), rounds=3 if n < 100_000 else 1,
                                iterations=1, warmup_rounds=1 if n < 100_000 else 0)
    assert (fwd == np.arange(n)).mean() > 0.5


@pytest.mark.parametrize("n", SIZES[:2])
def test_mteb_evaluator(benchmark, pairs_by_size, n):
    src, tgt = pairs_by_size(n)
    benchmark.group = f"mining n={n}"
    fwd, _ = benchmark.pedantic(mteb_both_directions, args=(src, tgt), rounds=3, iterations=1, warmup_rounds=1)
    assert fwd["accuracy"] > 0.5
