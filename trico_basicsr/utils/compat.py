"""Fixes that make BasicSR 1.4.2 (the PyPI release) run on today's stack, on CPU, and resume exactly.

``import trico_basicsr`` calls :func:`apply` once, before anything imports ``basicsr``. Each fix below
says what breaks without it; ``tests/test_compat.py`` has a test per fix that fails when the fix is
undone (each fix can be reverted with :func:`undo` for that purpose).

1. ``torchvision_alias`` -- torchvision 0.17 removed ``torchvision.transforms.functional_tensor``;
   ``basicsr.data.degradations`` imports ``rgb_to_grayscale`` from it, so ``import basicsr`` fails.
   We alias the module to its private successor ``torchvision.transforms._functional_tensor``.
2. ``init_dist`` -- with ``--launcher pytorch`` BasicSR hard-codes NCCL and calls
   ``torch.cuda.set_device(rank % torch.cuda.device_count())`` (ZeroDivisionError without a GPU), and
   ignores the options' ``dist_params``. We use NCCL and the ``LOCAL_RANK`` device when CUDA is
   available, gloo otherwise, and honour ``dist_params.backend`` (falling back to gloo, with a
   warning, when it asks for NCCL on a machine without CUDA).
3. ``model_to_device`` -- ``BaseModel.model_to_device`` wraps DDP with
   ``device_ids=[torch.cuda.current_device()]``, which fails on CPU. Device ids are now passed only
   for CUDA models.
4. ``load_resume_state`` -- ``basicsr.train.load_resume_state`` maps the state onto
   ``torch.cuda.current_device()`` (fails on CPU) and looks for ``--auto_resume`` states under
   ``./experiments`` of the *working directory*, not of the root path. States now load on the CPU
   (the optimizers move them to their parameters' device) from ``opt['path']['training_states']``.
5. ``exact_resume`` -- on resume BasicSR restarts the interrupted epoch from its first batch, so the
   resumed run trains on other batches than an uninterrupted one. The train sampler
   (:class:`~trico_basicsr.data.draw_sampler.DrawKeySampler`) now skips the batches that the
   interrupted epoch already consumed, and hands draw keys to datasets that accept them, so
   on-the-fly crops and degradations do not depend on workers, ranks or restarts.
6. ``epoch_count`` -- BasicSR sizes the epoch loop with ``ceil(samples / batch)`` batches per epoch
   while its loader drops the last partial batch, so with small datasets training silently ends
   before ``total_iter``. The number of epochs now comes from the loader's real length, and a
   dataset too small for one batch is an error.
7. ``options_inheritance`` -- BasicSR reads ``-opt`` with a plain YAML loader, so an option file that
   inherits with ``_base_`` (``trico_x2.yml`` from ``trico_x4.yml``) would lose every inherited key.
   ``parse_options`` now hands BasicSR the resolved flat file (``utils/options.py``, mmengine's
   ``Config``), which is also what BasicSR copies into ``experiments/``; ``dist_params`` are read from
   the resolved options with ``--force_yml`` applied.
"""
import importlib
import logging
import math
import os
import sys
import warnings
from os import path as osp

_FUNCTIONAL_TENSOR = 'torchvision.transforms.functional_tensor'
_originals = {}
_options_dist_params = {}
_resume_position = None

logger = logging.getLogger('basicsr')


# --------------------------------------------------------------------------------------------- 1
def _alias_functional_tensor():
    if _FUNCTIONAL_TENSOR in sys.modules:
        return
    try:
        importlib.import_module(_FUNCTIONAL_TENSOR)  # torchvision < 0.17 still has it
    except ImportError:
        sys.modules[_FUNCTIONAL_TENSOR] = importlib.import_module('torchvision.transforms._functional_tensor')


# --------------------------------------------------------------------------------------------- 2
def parse_options(root_path, is_train=True):
    """BasicSR's ``parse_options`` on the resolved options (``_base_`` inheritance, see utils/options.py),
    remembering their ``dist_params`` for :func:`init_dist`."""
    global _options_dist_params
    from trico_basicsr.utils.option_check import check_run_options
    from trico_basicsr.utils.options import flat_option_file, option_file_argument, read_command_line_options
    argv = list(sys.argv)
    index, path = option_file_argument(argv[1:])
    try:  # one read of the options: validated here, their dist_params kept for init_dist
        opt = read_command_line_options(argv[1:]) or {}
        if opt:
            check_run_options(opt, path)
    except (KeyError, ValueError) as error:  # errors name the file and option; no traceback
        raise SystemExit(f'error: {error.args[0] if error.args else error}') from None
    _options_dist_params = dict(opt.get('dist_params') or {})
    if path and osp.isfile(path) and 'options_inheritance' in _applied:
        flat = flat_option_file(path)
        sys.argv[index + 1] = flat if argv[index + 1] == path else f'-opt={flat}'
    try:
        return _originals['parse_options'](root_path, is_train)
    finally:
        sys.argv = argv


def _choose_backend(requested):
    import torch
    has_cuda = torch.cuda.is_available() and torch.cuda.device_count() > 0
    if requested is None:
        return 'nccl' if has_cuda else 'gloo'
    if requested == 'nccl' and not has_cuda:
        warnings.warn("dist_params.backend is 'nccl' but CUDA is not available: using 'gloo'.")
        return 'gloo'
    return requested


def init_dist(launcher, backend=None, **kwargs):
    """Initialise torch.distributed for the ``pytorch`` (torchrun) or ``slurm`` launcher.

    Args:
        launcher (str): ``'pytorch'`` or ``'slurm'``.
        backend (str | None): Process-group backend; None picks NCCL with CUDA, gloo without.
        **kwargs: Passed to ``init_process_group`` (pytorch) or BasicSR's slurm initialiser.
    """
    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp

    if launcher != 'pytorch':
        return _originals['init_dist'](launcher, backend or 'nccl', **kwargs)
    if mp.get_start_method(allow_none=True) is None:
        mp.set_start_method('spawn')
    params = {**_options_dist_params, **kwargs}
    params.pop('port', None)  # torchrun exports MASTER_PORT; BasicSR's option is for slurm only
    from_options = params.pop('backend', None)
    backend = _choose_backend(backend or from_options)
    if backend == 'nccl':
        local_rank = int(os.environ.get('LOCAL_RANK', os.environ.get('RANK', 0)))
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
    dist.init_process_group(backend=backend, **params)


# --------------------------------------------------------------------------------------------- 3
def model_to_device(self, net):
    """Move ``net`` to the model's device and wrap it in DDP (any device) or DataParallel (GPUs)."""
    import torch
    from torch.nn.parallel import DataParallel, DistributedDataParallel

    net = net.to(self.device)
    if self.opt['dist']:
        device_ids = [torch.cuda.current_device()] if self.device.type == 'cuda' else None
        net = DistributedDataParallel(
            net, device_ids=device_ids, find_unused_parameters=self.opt.get('find_unused_parameters', False))
    elif self.opt['num_gpu'] > 1:
        net = DataParallel(net)
    return net


# --------------------------------------------------------------------------------------------- 4
def _states_newest_first(state_dir):
    from basicsr.utils import scandir
    if not osp.isdir(state_dir):
        return []
    iters = [int(name.split('.state')[0]) for name in scandir(state_dir, suffix='.state')
             if name.split('.state')[0].isdigit()]
    return [osp.join(state_dir, f'{it}.state') for it in sorted(iters, reverse=True)]


def _remove_partial_files(folders):
    """Delete the hidden ``.*.partial`` files a killed run left mid-write (atomic_write's temporary files)."""
    for folder in folders:
        if not folder or not osp.isdir(folder):
            continue
        for name in os.listdir(folder):
            if name.startswith('.') and name.endswith('.partial'):
                try:
                    os.remove(osp.join(folder, name))
                except FileNotFoundError:  # another rank removed it first
                    continue
                logging.getLogger('basicsr').warning(f'--auto_resume: removed {osp.join(folder, name)}, '
                                                     'an incomplete file left by an interrupted run')


def _read_state(path, models_dir):
    """A training state and the network checkpoint it resumes with, both loadable; else ValueError saying why."""
    import torch
    try:
        state = torch.load(path, map_location='cpu')
    except Exception as error:  # truncated zip, bad pickle, empty file
        reason = (str(error).splitlines() or ['empty or truncated file'])[0][:120]
        raise ValueError(f'{path} cannot be read ({type(error).__name__}: {reason})') from error
    if not isinstance(state, dict) or not {'epoch', 'iter', 'optimizers', 'schedulers'} <= set(state):
        raise ValueError(f'{path} is not a BasicSR training state (keys epoch, iter, optimizers, schedulers)')
    network = osp.join(models_dir, f"net_g_{state['iter']}.pth")
    if osp.isdir(models_dir) and not osp.isfile(network):
        raise ValueError(f'{path}: its network checkpoint {network} is missing')
    if osp.isfile(network):  # a crash while it was written elsewhere (copied, synced) leaves it truncated
        try:
            torch.load(network, map_location='cpu', weights_only=True)
        except Exception as error:
            reason = (str(error).splitlines() or ['empty or truncated file'])[0][:120]
            raise ValueError(f'{path}: its network checkpoint {network} cannot be read '
                             f'({type(error).__name__}: {reason})') from error
    return state


def load_resume_state(opt):
    """Load the training state to resume from (``--auto_resume`` or ``path.resume_state``) onto the CPU.

    With ``--auto_resume`` the newest *readable* state wins: a truncated or corrupt one (a crash while a
    state was written by another tool, a damaged disk) is skipped with a warning naming it. An explicit
    ``path.resume_state`` that cannot be read is an error naming it.
    """
    global _resume_position
    from basicsr.utils import check_resume

    _resume_position = None
    models_dir = opt['path'].get('models', '')
    state = None
    if opt['auto_resume']:
        _remove_partial_files([opt['path']['training_states'], models_dir])
        for candidate in _states_newest_first(opt['path']['training_states']):
            try:
                state = _read_state(candidate, models_dir)
            except ValueError as error:
                warnings.warn(f'--auto_resume: skipping {error}')
                logging.getLogger('basicsr').warning(f'--auto_resume: skipping {error}')
                continue
            opt['path']['resume_state'] = candidate
            break
    path = opt['path'].get('resume_state')
    if not path:
        return None
    if state is None:
        if not osp.isfile(path):
            raise FileNotFoundError(f'path.resume_state: no training state file at {path}')
        state = _read_state(path, models_dir)
    check_resume(opt, state['iter'])
    _resume_position = (state['epoch'], state['iter'])
    return state


# --------------------------------------------------------------------------------------------- 5, 6
def create_train_val_dataloader(opt, logger_):
    """BasicSR's loader factory, with the real epoch count and a resumed run's place in its epoch."""
    train_loader, train_sampler, val_loaders, total_epochs, total_iters = \
        _originals['create_train_val_dataloader'](opt, logger_)
    batches_per_epoch = len(train_loader)
    if 'epoch_count' in _applied:
        if batches_per_epoch == 0:
            raise ValueError(f"datasets.train: {len(train_sampler)} samples per process cannot fill one batch of "
                             f"{train_loader.batch_size} (the last partial batch is dropped); lower batch_size_per_gpu "
                             'or raise dataset_enlarge_ratio')
        # One spare epoch: a resumed run's first epoch is shorter; the loop stops at total_iter anyway.
        total_epochs = math.ceil(total_iters / batches_per_epoch) + 1
    if 'exact_resume' in _applied:
        train_sampler.seed = int(opt['manual_seed'])
        if _resume_position is not None:
            _continue_interrupted_epoch(train_loader, train_sampler, batches_per_epoch, logger_)
    return train_loader, train_sampler, val_loaders, total_epochs, total_iters


def _continue_interrupted_epoch(train_loader, train_sampler, batches_per_epoch, logger_):
    epoch, current_iter = _resume_position
    consumed_batches = current_iter - epoch * batches_per_epoch
    if 0 <= consumed_batches <= batches_per_epoch:
        train_sampler.continue_epoch(epoch, consumed_batches * train_loader.batch_size)
        logger_.info(f'Resume: epoch {epoch} continues after its first {consumed_batches} batches.')
    else:
        logger_.warning(f'Resume: iteration {current_iter} does not fall in epoch {epoch} with '
                        f'{batches_per_epoch} batches per epoch (options changed?); the epoch restarts.')


# --------------------------------------------------------------------------------------------- apply
def _patches():
    """(module, attribute, replacement) for every patched name, fix by fix."""
    import basicsr.models.base_model as base_model
    import basicsr.test as bs_test
    import basicsr.train as bs_train
    import basicsr.utils.dist_util as dist_util
    import basicsr.utils.options as bs_options

    from trico_basicsr.data.draw_sampler import DrawKeySampler
    return {
        'init_dist': [(dist_util, 'init_dist', init_dist), (bs_options, 'init_dist', init_dist),
                      (bs_options, 'parse_options', parse_options), (bs_train, 'parse_options', parse_options),
                      (bs_test, 'parse_options', parse_options)],
        'model_to_device': [(base_model.BaseModel, 'model_to_device', model_to_device)],
        'load_resume_state': [(bs_train, 'load_resume_state', load_resume_state)],
        'exact_resume': [(bs_train, 'EnlargedSampler', DrawKeySampler)],
        # Fixes 5 and 6 share the loader factory wrapper; each part checks that its fix is applied.
        'epoch_count': [(bs_train, 'create_train_val_dataloader', create_train_val_dataloader)],
        # parse_options (patched with init_dist above) checks that this fix is applied.
        'options_inheritance': [],
    }


_applied = {}


def apply():
    """Apply every fix (idempotent). Must run before the first ``import basicsr``."""
    _alias_functional_tensor()
    if _applied:
        return
    for fix, patches in _patches().items():
        _applied[fix] = []
        for owner, name, replacement in patches:
            original = getattr(owner, name)
            _originals.setdefault(name, original)
            _applied[fix].append((owner, name, original))
            setattr(owner, name, replacement)


def undo(fix):
    """Revert one fix by name (for tests that prove the fix is needed); ``apply`` does not redo it."""
    for owner, name, original in _applied.pop(fix, []):
        setattr(owner, name, original)


def redo(fix):
    """Re-apply a fix reverted by :func:`undo`."""
    _applied.setdefault(fix, [])
    for owner, name, replacement in _patches()[fix]:
        _applied[fix].append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)
