"""Evaluation tasks: STS, bitext mining and retrieval, run across languages."""
