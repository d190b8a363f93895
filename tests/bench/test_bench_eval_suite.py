"""The whole teacher evaluation (de, fr; STS, mining, retrieval): our engine against mteb running the
same tasks on the same model, in the same process.

Ours encodes every distinct text once per model (the encode cache) and answers both mining
directions from one search; mteb encodes per task and scores mining in one direction. Both get the
same (task, language pair) list, so mteb does less work, not more.
"""

import pytest

LANGS = ["de", "fr"]


@pytest.fixture(scope="module")
def plan():
    import mteb  # noqa: F401  both engines are timed with their libraries already imported

    from harness.app.config import EvalConfig
    from harness.encoders.adapters import load_sentence_transformer
    from harness.encoders.specs import resolve

    load_sentence_transformer(resolve("all-MiniLM-L6-v2"))  # and transformers' lazy imports done, for both
    from harness.app.plan import plan_eval

    config = EvalConfig(models=["all-MiniLM-L6-v2"], langs=LANGS, tasks=["sts", "mining", "retrieval"])
    return [(task, pair) for task in plan_eval(config).tasks for pair in task.pairs(LANGS)]


def test_ours_full_teacher_evaluation(benchmark, plan, tmp_path):
    from harness.app.config import EvalConfig
    from harness.app.runner import evaluate_models as evaluate

    runs = iter(range(100))

    def run():
        config = EvalConfig(models=["all-MiniLM-L6-v2"], langs=LANGS, tasks=["sts", "mining", "retrieval"],
                            results_dir=str(tmp_path / f"runs-{next(runs)}"), progress=False)
        return evaluate(config, log=lambda line: None)

    benchmark.group = "full teacher evaluation, de+fr"
    report = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["pairs"] = len(report.written)
    assert len(report.written) == len(plan) and not report.failed


@pytest.mark.parametrize("intervals", [True, False], ids=["with intervals", "without intervals"])
def test_cost_of_intervals(benchmark, plan, tmp_path, intervals):
    """The same full teacher evaluation with and without the bootstrap intervals (2,000 resamples of every
    evidenced metric), one round each, in one run: the goal is at most 10% more wall time."""
    from harness.app.config import EvalConfig
    from harness.app.runner import evaluate_models

    runs = iter(range(100))

    def run():
        config = EvalConfig(models=["all-MiniLM-L6-v2"], langs=LANGS, tasks=["sts", "mining", "retrieval"],
                            results_dir=str(tmp_path / f"runs-{next(runs)}"), progress=False, intervals=intervals)
        return evaluate_models(config, log=lambda line: None)

    benchmark.group = "cost of intervals: full teacher evaluation, de+fr"
    report = benchmark.pedantic(run, rounds=2, iterations=1)
    assert len(report.written) == len(plan) and not report.failed


def test_mteb_same_tasks_same_model(benchmark, plan):
    import mteb

    from harness.encoders.adapters import load_sentence_transformer
    from harness.encoders.specs import resolve
    from tasks.mteb_tasks import to_mteb

    def run():
        model = load_sentence_transformer(resolve("all-MiniLM-L6-v2"), device="cpu")
        return [mteb.evaluate(model, to_mteb(task, pair), cache=None, show_progress_bar=False)
                for task, pair in plan]

    benchmark.group = "full teacher evaluation, de+fr"
    results = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["pairs"] = len(results)
    assert len(results) == len(plan)
