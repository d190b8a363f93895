"""Where training runs: the device, and the process group when launched by torchrun (rank 0 writes files)."""

from __future__ import annotations

import os


def distributed() -> tuple[int, int]:
    """(rank, world size), starting the process group when launched by torchrun."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        import torch

        if torch.cuda.is_available():  # each rank its own GPU before NCCL's first collective, which may be a barrier
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def pick_device(config) -> str:
    """The configured device, else this process's GPU, else the CPU."""
    import torch

    if config.device:
        return config.device
    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return "cpu"


def wait_for_all_ranks() -> None:
    """Under torchrun, return when every rank has got here (so what one rank writes, all read next); else at once."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
