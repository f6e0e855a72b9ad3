"""Run BasicSR training in-process or as a subprocess, for tests."""
import os
import subprocess
import sys
from os import path as osp

import torch

ROOT = osp.abspath(osp.join(osp.dirname(__file__), osp.pardir, osp.pardir))
TINY = osp.join(ROOT, 'tests', 'data', 'tiny_trico_x4.yml')


def overrides(**values):
    """``--force_yml`` entries from keyword arguments: ``train__total_iter=6`` -> ``train:total_iter=6``."""
    return [f"{key.replace('__', ':')}={value}" for key, value in values.items()]


def train_in_process(root, opt_file, force, launcher='none', extra_args=()):
    """Run ``basicsr.train.train_pipeline`` here with ``root`` as root path; returns the model it built.

    ``extra_args``: more command-line flags, e.g. ``['--auto_resume']``.
    """
    import trico_basicsr  # noqa: F401, I001  (before basicsr: applies the compat fixes)
    import basicsr.train as bs_train
    built = {}
    original_build = bs_train.build_model

    def capture(opt):
        built['model'] = original_build(opt)
        return built['model']

    argv = sys.argv
    sys.argv = ['train.py', '-opt', opt_file, '--launcher', launcher, *extra_args, '--force_yml', *force]
    bs_train.build_model = capture
    try:
        bs_train.train_pipeline(root)
    finally:
        sys.argv = argv
        bs_train.build_model = original_build
    return built['model']


def run(args, cwd=ROOT, timeout=600, env=None, check=True):
    """Run a command; on failure the assertion shows its output."""
    full_env = {**os.environ, 'PYTHONUNBUFFERED': '1', **(env or {})}
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env)
    if check:
        assert proc.returncode == 0, f'{args} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}'
    return proc


def load_params(path, key='params'):
    return torch.load(path, map_location='cpu')[key]


def max_abs_diff(a, b):
    assert a.keys() == b.keys()
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


def free_port():
    """A TCP port on localhost that is free right now (for torchrun's rendezvous)."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])
