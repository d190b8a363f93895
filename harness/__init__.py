"""Evaluation-first harness for multilingual sentence embeddings made by knowledge distillation.

Layers, from the top: `harness.app` (configuration, plan, runner, CLI); the plug-ins `tasks` and
`trainers`; `harness.results`; `harness.encoders` and `harness.search`; `harness.core`.
"""

from harness.core.version import __version__

__all__ = ["__version__"]
