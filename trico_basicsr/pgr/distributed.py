"""All-rank averaging of gradients (torch.distributed: gloo on CPU, NCCL on GPU)."""
import torch
import torch.distributed as dist


def world_size():
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def average_across_ranks(tensors):
    """Average a list of tensors over all ranks in one all-reduce; identity in a single process.

    Every gradient that updates theta_S, theta_I or lambda passes through here, so N ranks with
    batch b update exactly like one rank with batch N*b (losses are batch means).
    """
    size = world_size()
    if size == 1 or not tensors:
        return list(tensors)
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    flat /= size
    out, start = [], 0
    for t in tensors:
        out.append(flat[start:start + t.numel()].view_as(t))
        start += t.numel()
    return out


def broadcast_from_rank0(tensors):
    """Copy rank 0's values into ``tensors`` in place on every rank (identical initial weights)."""
    if world_size() == 1:
        return
    for t in tensors:
        dist.broadcast(t.data, src=0)
