"""Reject misspelt option keys with a message that lists the valid ones (BasicSR ignores them silently)."""
import difflib


def check_keys(options, allowed, where):
    """Raise ``KeyError`` if ``options`` has a key outside ``allowed``.

    Args:
        options (Mapping): The option block to check.
        allowed (Iterable[str]): Valid keys.
        where (str): Where the block sits, for the message (e.g. ``'datasets.train'``).
    """
    allowed = sorted(set(allowed))
    unknown = [key for key in options if key not in allowed]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hints.append(f"'{key}'" + (f" (did you mean '{close[0]}'?)" if close else ''))
        raise KeyError(f"{where}: unknown option {', '.join(hints)}. Valid keys: {', '.join(allowed)}.")


def require_keys(options, required, where):
    """Raise ``KeyError`` naming every key of ``required`` missing from ``options``."""
    missing = [key for key in required if key not in options]
    if missing:
        raise KeyError(f"{where}: missing required option(s) {', '.join(missing)}.")


def check_arch_options(net_opt, where='network_g'):
    """Fail early, listing the valid arguments, when ``network_g`` has a key its arch does not take."""
    from trico_basicsr.archs.arch_util import arch_arguments
    params = arch_arguments(net_opt['type'])
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        check_keys({k: v for k, v in net_opt.items() if k != 'type'}, [k for k in params if k != 'self'],
                   f"{where} ({net_opt['type']})")


# BasicSR's top-level and ``path`` keys: what its train/test pipelines and models read. Misspelt ones
# (``manual_sed``) would otherwise silently fall back to defaults (a random seed, no resume).
TOP_LEVEL_KEYS = ('name', 'model_type', 'scale', 'num_gpu', 'manual_seed', 'datasets', 'network_g', 'network_d',
                  'path', 'train', 'val', 'logger', 'dist_params', 'find_unused_parameters', 'use_static_graph',
                  'is_train', 'dist', 'rank', 'world_size', 'auto_resume', 'root_path', 'cudnn_deterministic')
PATH_KEYS = ('pretrain_network_g', 'strict_load_g', 'param_key_g', 'pretrain_network_d', 'strict_load_d',
             'param_key_d', 'resume_state', 'experiments_root', 'models', 'training_states', 'log', 'visualization',
             'results_root', 'root')


def check_run_options(opt, where):
    """Reject options BasicSR would accept silently and act on wrongly, naming the option and ``where``.

    Checks: unknown top-level and ``path`` keys; ``network_g.upscale`` against ``scale``; ``train.ema_decay``
    in [0, 1); every ``train.optim_*.lr`` a positive number (YAML reads ``1e-3`` without a dot as a
    string); every dataset's ``gt_size`` a positive integer.

    Args:
        opt (dict): The options as read from the file (``_base_`` resolved, ``--force_yml`` applied).
        where (str): The option file, for the messages.

    Raises:
        KeyError: An unknown key (the message lists the valid ones).
        ValueError: A value out of range or of the wrong type.
    """
    check_keys(opt, TOP_LEVEL_KEYS, where)
    check_keys(opt.get('path') or {}, PATH_KEYS, f'{where}: path')
    scale, upscale = opt.get('scale'), (opt.get('network_g') or {}).get('upscale')
    if scale is not None and upscale is not None and upscale != scale:
        raise ValueError(f'{where}: network_g.upscale is {upscale} but scale is {scale}: they must agree')
    train = opt.get('train') or {}
    decay = train.get('ema_decay', 0)
    if not _is_number(decay) or not 0 <= decay < 1:
        raise ValueError(f'{where}: train.ema_decay must be a number in [0, 1) (0: no weight average), not {decay!r}')
    for name, block in train.items():
        if name.startswith('optim_') and isinstance(block, dict) and 'lr' in block:
            lr = block['lr']
            if not _is_number(lr) or lr <= 0:
                raise ValueError(f'{where}: train.{name}.lr must be a positive number, not {lr!r}'
                                 + (' (write 1e-3 as !!float 1e-3 or 1.0e-3: YAML reads it as a string)'
                                    if isinstance(lr, str) else ''))
    for phase, dataset in (opt.get('datasets') or {}).items():
        size = (dataset or {}).get('gt_size')
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
            raise ValueError(f'{where}: datasets.{phase}.gt_size must be a positive integer, not {size!r}')


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)
