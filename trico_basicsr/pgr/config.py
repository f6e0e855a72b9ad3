"""``train.pgr`` options: defaults, validation (unknown keys list the valid ones; yacs checks types)."""
from copy import deepcopy

from yacs.config import CfgNode

from trico_basicsr.data.differentiable_darkening import check_parameters
from trico_basicsr.utils.option_check import check_keys

from .hyper import PARAMETRIZATIONS
from .levels import LEVELS, MIDDLE
from .response import HVP_MODES
from .sample_groups import GROUP_KINDS

RESPONSE_STEPS = ('optimizer', 'sgd')
HYPERGRADIENTS = ('response', 'gauss_newton')
DEFAULT_SR_TERMS = {
    'pixel': {'type': 'CharbonnierLoss', 'loss_weight': 1.0, 'eps': 1e-6},
    'ssim': {'type': 'SSIMLoss', 'loss_weight': 0.2},
    'edge': {'type': 'GradientLoss', 'loss_weight': 0.5},
    'fft': {'type': 'FFTAmplitudeLoss', 'loss_weight': 0.05},
    'perceptual': {'type': 'SemanticPerceptualLoss', 'loss_weight': 0.05},
}
DEFAULT_ILLUM_TERMS = {
    'pixel': {'type': 'L1Loss', 'loss_weight': 1.0, 'pred': 'lit', 'target': 'gt_lr'},
    'color': {'type': 'ColorConstancyLoss', 'loss_weight': 0.5, 'pred': 'lit', 'target': None},
    'exposure': {'type': 'ExposureControlLoss', 'loss_weight': 0.1, 'pred': 'lit', 'target': None},
    'smooth': {'type': 'IlluminationSmoothnessLoss', 'loss_weight': 0.05, 'pred': 'illum', 'target': 'gt_lr'},
    'coupling': {'type': 'LowerObjective', 'loss_weight': 1.0},
}
DEFAULT_UPPER_OBJECTIVE = {'pixel': {'type': 'L1Loss', 'loss_weight': 1.0, 'pred': 'sr', 'target': 'gt'}}


def _defaults():
    c = CfgNode()
    c.phases = CfgNode()
    c.phases.cooperative_start = 0  # first iteration whose middle-level update includes the lower response
    c.phases.trilevel_start = 0  # first iteration whose upper level (lambda) is updated
    c.train_levels = list(LEVELS)
    c.lower_steps = 1  # T_L: lower-level steps per iteration
    c.middle_interval = 1  # T_M: iterations between response-aware middle updates (first-order between)
    c.upper_interval = 10  # T_U: iterations between hypergradient updates of lambda
    # Hypergradients averaged into each lambda update, evenly spaced over the T_U window (a divisor of
    # T_U): k of them cut the noise of the update's direction by sqrt(k) at k times the upper cost.
    c.hyper_accumulate = 1
    c.unroll_steps = 1  # K: differentiable SGD steps in each response
    # 'optimizer': a response unrolls the level's real optimiser step (Adam's preconditioned step at its
    # current learning rate, pgr/optimizer_steps.py); 'sgd': plain gradient descent at response_lr.
    c.response_step = 'optimizer'
    c.response_lr = CfgNode()
    c.response_lr.sr = 0.01  # alpha: SGD step of the unrolled lower-level response (and before Adam has state)
    c.response_lr.illum = 0.01  # beta: SGD step of the unrolled middle-level response
    # 'response': dF/dlambda through the unrolled middle and lower responses (PGR, docs/pgr.md step 3);
    # 'gauss_newton': CollaBA's one-backward estimate at the current point -- no unroll, cheaper, cruder.
    c.hypergradient = 'response'
    c.hvp = 'finite_difference'
    c.fd_epsilon = 0.01
    c.parametrization = 'softmax'
    # Stop (with the weights saved) after this many consecutive non-finite updates of one level: the
    # guard skips a rare bad batch, but a run whose updates are all NaN must not spin to total_iter.
    c.max_consecutive_skips = 20
    # Hypergradients over which each hyper-variable's signal-to-noise ratio is logged (hyper_snr_*).
    c.snr_window = 20
    c.sr_terms = CfgNode(new_allowed=True)
    c.illum_terms = CfgNode(new_allowed=True)
    c.upper_objective = CfgNode(new_allowed=True)
    c.upper_data = CfgNode()
    c.upper_data.source = 'split'  # 'split': datasets.train's upper_split; 'dataset': upper_data.dataset
    c.upper_data.batch_size_per_gpu = 4
    c.upper_data.seed = None  # None: the options' manual_seed
    # With source split: degrade the held-out images with this preset (or list) instead of the training
    # dataset's -- another family, e.g. upper_reinhard_skip, so lambda learns how to train for a target
    # that differs from the training data. None: the training dataset's presets.
    c.upper_data.preset = None
    c.upper_data.dataset = CfgNode(new_allowed=True)
    # Per-group sample weights as further hyper-variables (pgr/sample_groups.py): by 'preset' (the
    # degradation mixture of datasets.train.preset) or 'exposure' (per-difficulty, bins of the exposure
    # the darkening kept); None: off.
    c.sample_weights = CfgNode()
    c.sample_weights.by = None
    c.sample_weights.exposure_bins = [0.03, 0.1]
    # Continuous parameters of the synthetic training data as further hyper-variables
    # (data/differentiable_darkening.py): name -> initial value. Each iteration, every training sample
    # the dataset darkened itself (its 'preset' is a darkening preset; real pairs keep their input) is
    # darkened again in torch from its target with these values, so the hypergradient reaches them. {}: off.
    c.darkening = CfgNode()
    c.darkening.parameters = CfgNode(new_allowed=True)
    c.darkening.learn = True  # False: the same torch darkening at these fixed values (the baseline of the study)
    return c


DEFAULTS = _defaults()


def _floats_where_default_is_float(user, defaults):
    """yacs refuses int -> float; accept ``1`` where ``1.0`` is expected."""
    out = {}
    for key, value in user.items():
        default = defaults.get(key) if isinstance(defaults, dict) else None
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif isinstance(value, dict) and isinstance(default, dict):
            value = _floats_where_default_is_float(value, default)
        out[key] = value
    return out


def to_dict(node):
    """A CfgNode (or nested dict) as plain nested dicts."""
    if isinstance(node, dict):
        return {key: to_dict(value) for key, value in node.items()}
    return node


def load_pgr_config(options, has_middle=True, where='train.pgr'):
    """Validate ``train.pgr`` options and fill in defaults.

    Args:
        options (dict | None): The user's ``train.pgr`` block.
        has_middle (bool): Whether the network has a middle (illumination) level. Without one the
            illumination terms default to none and ``'illum'`` leaves ``train_levels``.
        where (str): Option path for messages.

    Returns:
        CfgNode: The complete configuration.
    """
    options = deepcopy(dict(options or {}))
    check_keys(options, DEFAULTS.keys(), where)
    for block in ('phases', 'response_lr', 'upper_data', 'sample_weights', 'darkening'):
        if isinstance(options.get(block), dict):
            check_keys(options[block], DEFAULTS[block].keys(), f'{where}.{block}')
    cfg = DEFAULTS.clone()
    try:
        cfg.merge_from_other_cfg(CfgNode(_floats_where_default_is_float(options, DEFAULTS)))
    except (KeyError, ValueError) as error:
        raise ValueError(f'{where}: {error}') from error
    if not cfg.sr_terms:
        cfg.sr_terms = CfgNode(DEFAULT_SR_TERMS)
    if not cfg.illum_terms and has_middle and 'illum_terms' not in options:
        cfg.illum_terms = CfgNode(DEFAULT_ILLUM_TERMS)
    if not cfg.upper_objective:
        cfg.upper_objective = CfgNode(DEFAULT_UPPER_OBJECTIVE)
    if not has_middle:
        if cfg.illum_terms:
            raise ValueError(f'{where}.illum_terms: the network has no illumination (middle) level')
        cfg.train_levels = [level for level in cfg.train_levels if level != MIDDLE]
    _check_values(cfg, where)
    return cfg


def _check_values(cfg, where):
    unknown = sorted(set(cfg.train_levels) - set(LEVELS))
    if unknown:
        raise ValueError(f"{where}.train_levels: unknown level(s) {', '.join(unknown)}; valid: {', '.join(LEVELS)}")
    if cfg.response_step not in RESPONSE_STEPS:
        raise ValueError(f"{where}.response_step: '{cfg.response_step}' is not one of {', '.join(RESPONSE_STEPS)}")
    if cfg.hypergradient not in HYPERGRADIENTS:
        raise ValueError(f"{where}.hypergradient: '{cfg.hypergradient}' is not one of {', '.join(HYPERGRADIENTS)}")
    if cfg.hvp not in HVP_MODES:
        raise ValueError(f"{where}.hvp: '{cfg.hvp}' is not one of {', '.join(HVP_MODES)}")
    if cfg.parametrization not in PARAMETRIZATIONS:
        raise ValueError(f"{where}.parametrization: '{cfg.parametrization}' is not one of "
                         f"{', '.join(PARAMETRIZATIONS)}")
    for key in ('lower_steps', 'middle_interval', 'upper_interval', 'unroll_steps', 'max_consecutive_skips'):
        if int(cfg[key]) < 1:
            raise ValueError(f'{where}.{key} must be >= 1, got {cfg[key]}')
    if int(cfg.hyper_accumulate) < 1 or int(cfg.upper_interval) % int(cfg.hyper_accumulate):
        raise ValueError(f'{where}.hyper_accumulate must be >= 1 and divide upper_interval ({cfg.upper_interval}), '
                         f'got {cfg.hyper_accumulate}')
    if int(cfg.snr_window) < 2:
        raise ValueError(f'{where}.snr_window must be >= 2 (a standard error needs two samples), got {cfg.snr_window}')
    coop, tri = cfg.phases.cooperative_start, cfg.phases.trilevel_start
    if coop is not None and tri is not None and tri < coop:
        raise ValueError(f'{where}.phases: trilevel_start ({tri}) must not precede cooperative_start ({coop})')
    if cfg.upper_data.source not in ('split', 'dataset'):
        raise ValueError(f"{where}.upper_data.source: '{cfg.upper_data.source}' is not 'split' or 'dataset'")
    if cfg.upper_data.preset and cfg.upper_data.source != 'split':
        raise ValueError(f'{where}.upper_data.preset applies to source split; with source dataset give the '
                         'preset in upper_data.dataset')
    if cfg.upper_data.source == 'dataset' and not cfg.upper_data.dataset:
        raise ValueError(f'{where}.upper_data.dataset: source is dataset but no dataset options are given')
    if cfg.sample_weights.by is not None and cfg.sample_weights.by not in GROUP_KINDS:
        raise ValueError(f"{where}.sample_weights.by: '{cfg.sample_weights.by}' is not one of "
                         f"{', '.join(GROUP_KINDS)} (or ~: off)")
    if cfg.darkening.parameters:
        check_parameters(dict(cfg.darkening.parameters), f'{where}.darkening.parameters')
        if cfg.sample_weights.by is not None:
            raise ValueError(f'{where}: sample_weights and darkening cannot be combined yet (the sample groups '
                             'are sliced from the dataset inputs, which the darkening replaces)')
    if cfg.fd_epsilon <= 0 or cfg.response_lr.sr <= 0 or cfg.response_lr.illum <= 0:
        raise ValueError(f'{where}: fd_epsilon and response_lr must be positive')
