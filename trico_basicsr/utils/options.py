"""The one option loader: YAML files with mmengine-style ``_base_`` inheritance, resolved to flat options.

Every reader of option files goes through :func:`read_options`: BasicSR's ``parse_options`` (patched in
``compat``), the launchers, the scripts and the tests. A file may start with ``_base_: other.yml`` (a
path relative to it, or a list of them); its keys are merged recursively over the base's, and a
block holding ``_delete_: true`` replaces the base's block instead of merging with it (mmengine's
``Config`` does the merging). Files without ``_base_`` read exactly as BasicSR reads them.
"""
import argparse
import atexit
import copy
import os
import shutil
import tempfile
from os import path as osp

import yaml

_flat_dirs = []


def read_options(path):
    """The options of the YAML file ``path`` as plain nested dicts, ``_base_`` inheritance resolved.

    Raises:
        FileNotFoundError: ``path`` (or a base it names) does not exist.
        ValueError: The file cannot be parsed; the message names it.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'option file {path} not found')
    check_plain_yaml(path)
    from mmengine.config import Config
    try:
        return Config.fromfile(path).to_dict()
    except FileNotFoundError:
        raise
    except Exception as error:  # yaml errors, a bad _base_
        raise ValueError(f'option file {path}: {error}') from error


def check_plain_yaml(path, chain=()):
    """Parse ``path`` and every ``_base_`` it names with YAML's safe loader, before mmengine reads them.

    mmengine's YAML reader can build arbitrary Python objects (``!!python/object/apply:os.system``), so an
    option file from a stranger could run code; the safe loader accepts plain data and BasicSR's
    ``!!float`` tags only.

    Raises:
        ValueError: A file holds anything else, or the ``_base_`` chain loops; the message names the file.
    """
    path = osp.abspath(path)
    if path in chain:
        raise ValueError(f'option file {path}: _base_ chain loops back to it')
    try:
        with open(path) as f:
            raw = yaml.safe_load(f) or {}
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f'option file {path} is refused: only plain YAML data is read ({first})') from error
    bases = raw.get('_base_', []) if isinstance(raw, dict) else []
    for base in [bases] if isinstance(bases, str) else bases:
        base_path = osp.join(osp.dirname(path), base)
        if not osp.isfile(base_path):
            raise FileNotFoundError(f'option file {path}: its _base_ {base_path} not found')
        check_plain_yaml(base_path, chain + (path,))


def uses_inheritance(path):
    """True when ``path`` names a ``_base_`` (so BasicSR's own reader would miss the inherited keys)."""
    with open(path) as f:
        raw = yaml.safe_load(f) or {}
    return isinstance(raw, dict) and '_base_' in raw


def set_option(opt, keys, value):
    """Set the option at the colon path ``keys`` (``'train:total_iter'``) of ``opt`` to ``value``, in place."""
    *parents, last = keys.split(':')
    for key in parents:
        opt = opt[key]
    opt[last] = value


def apply_force_yml(opt, entries):
    """Apply ``--force_yml`` entries (``train:total_iter=6``) to ``opt`` in place, as BasicSR does."""
    from basicsr.utils.options import _postprocess_yml_value
    for entry in entries or ():
        keys, value = (part.strip() for part in entry.split('=', 1))
        set_option(opt, keys, _postprocess_yml_value(value))
    return opt


def option_file_argument(argv):
    """``(index, path)`` of the ``-opt`` value in ``argv`` (``-opt PATH`` or ``-opt=PATH``), or ``(None, None)``."""
    for i, arg in enumerate(argv):
        if arg == '-opt' and i + 1 < len(argv):
            return i + 1, argv[i + 1]
        if arg.startswith('-opt='):
            return i, arg[len('-opt='):]
    return None, None


def read_command_line_options(argv):
    """The options that BasicSR's command line ``argv`` runs: the ``-opt`` file, inheritance and ``--force_yml``
    applied; None when ``argv`` names no existing file.

    Every file of the ``_base_`` chain is safe-loaded first (:func:`read_options`), so BasicSR's own reader,
    which would run Python tags, only ever sees checked files.
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('-opt', type=str, default=None)
    parser.add_argument('--force_yml', nargs='+', default=None)
    args, _ = parser.parse_known_args(argv)
    if not args.opt or not osp.isfile(args.opt):
        return None
    return apply_force_yml(read_options(args.opt), args.force_yml)


def flat_option_file(path):
    """``path`` itself when it has no ``_base_``; else a resolved flat copy of the same name, in a
    temporary folder that lives as long as the process (BasicSR copies it into ``experiments/``)."""
    if not uses_inheritance(path):
        return path
    folder = tempfile.mkdtemp(prefix='trico_options_')
    if not _flat_dirs:
        atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True) for d in _flat_dirs])
    _flat_dirs.append(folder)
    flat = osp.join(folder, osp.basename(path))
    with open(flat, 'w') as f:
        f.write(f'# {path} with its _base_ options resolved (trico_basicsr.utils.options.read_options)\n')
        yaml.safe_dump(read_options(path), f, sort_keys=False, default_flow_style=None, width=120)
    return flat


def load_training_options(path, root, **changes):
    """Options of ``path`` for a single-process training run rooted at ``root``, as ``parse_options`` makes them.

    For notebooks, scripts and tests that build a model with ``basicsr.models.build_model`` instead of
    running the training pipeline. ``changes`` maps colon paths to values like ``--force_yml``
    (``**{'train:total_iter': 3}``).
    """
    opt = read_options(path)
    for keys, value in changes.items():
        set_option(opt, keys, copy.deepcopy(value))
    opt.update(dist=False, rank=0, world_size=1, is_train=True, auto_resume=False, root_path=root)
    if opt.get('num_gpu') == 'auto':
        import torch
        opt['num_gpu'] = torch.cuda.device_count()
    for phase, dataset in opt['datasets'].items():
        dataset['phase'] = phase.split('_')[0]
        dataset['scale'] = opt['scale']
    experiments = os.path.join(root, 'experiments', opt['name'])
    opt['path'].update(experiments_root=experiments, models=os.path.join(experiments, 'models'),
                       training_states=os.path.join(experiments, 'training_states'), log=experiments,
                       visualization=os.path.join(experiments, 'visualization'))
    return opt
