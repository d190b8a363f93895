"""Driver for kill/concurrency tests: evaluate hash models slowly into a results folder.

usage: python -m tests.helpers.slow_eval RESULTS_DIR DELAY_SECONDS MODEL [MODEL ...]
"""

import sys
import time

from harness.app.config import EvalConfig
from harness.app.runner import evaluate_models as evaluate
from harness.core.hash_encoder import HashEncoder


class SlowHash(HashEncoder):
    def __init__(self, name: str, delay: float):
        super().__init__(dim=32, name=name)
        self.delay = delay

    def encode(self, texts, *, batch_size=64):
        time.sleep(self.delay)
        return super().encode(texts, batch_size=batch_size)


if __name__ == "__main__":
    results, delay, *models = sys.argv[1:]
    encoders = {m: SlowHash(m, float(delay)) for m in models}
    report = evaluate(EvalConfig(models=models, langs=["de", "fr"], results_dir=results, progress=False),
                      encoders=encoders, log=lambda line: None)
    print(f"written={len(report.written)} reused={len(report.reused)}")
