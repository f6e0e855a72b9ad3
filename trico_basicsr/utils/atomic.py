"""Checkpoints that are either complete or absent."""
import os
import tempfile
from os import path as osp

import torch


def umask_mode():
    """The permission bits a plain ``open(path, 'w')`` would give a new file (mkstemp uses 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_torch_save(obj, path):
    """``torch.save`` to a temporary file in the target folder, then rename over ``path``.

    A crash or a full disk mid-write leaves at most a hidden ``.partial`` file, never a truncated
    checkpoint under the real name (BasicSR writes in place and only retries).
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.partial', dir=folder)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
