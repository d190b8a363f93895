"""Which process of a torchrun launch this is: only rank 0 writes files and evaluates."""

from __future__ import annotations

import os


def is_main_process() -> bool:
    """False on the non-zero ranks of a torchrun launch."""
    return os.environ.get("RANK", "0") == "0"
