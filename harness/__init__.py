"""Evaluation-first harness for multilingual sentence embeddings made by knowledge distillation."""

__version__ = "0.1.0"
