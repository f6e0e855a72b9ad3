"""Files that are either complete or absent: checkpoints, images, records."""
import os
import tempfile
from os import path as osp

import torch


def umask_mode():
    """The permission bits a plain ``open(path, 'w')`` would give a new file (mkstemp uses 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_folder(folder):
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, write):
    """Call ``write(binary_file)`` on a temporary file in ``path``'s folder, fsync it, rename it over ``path``.

    A crash, a kill or a full disk mid-write leaves at most a hidden ``.partial`` file, never a truncated
    file under the real name; the fsync before the rename means a power loss cannot leave a renamed but
    empty file either (the rename may reach the disk before the data otherwise).
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.partial', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
        _fsync_folder(folder)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_torch_save(obj, path):
    """``torch.save`` through :func:`atomic_write` (BasicSR writes checkpoints in place and only retries)."""
    atomic_write(path, lambda f: torch.save(obj, f))
