"""Evaluation data: the manifest of every set, fetching from the pinned sources, and verifying."""
