"""The level objectives g, f and F as plain functions of (variables, batch), with no hidden state.

``variables`` maps each level (:mod:`.levels`) to a list of tensors: the network levels' trainable
parameters in ``LevelNets.names`` order and the hyper-variables' logits. ``batch`` holds ``lq``
(N, 3, H, W), ``gt`` (N, 3, sH, sW) and ``gt_lr`` (N, 3, H, W), float in [0, 1]; with darkening
hyper-variables also ``'darken'``, a function of their values that returns the batch's ``lq`` (see
:class:`trico_basicsr.data.differentiable_darkening.Resynthesis`), so that every objective sees its
inputs as a function of lambda. The networks are run with ``torch.func.functional_call``, so any
variables -- live parameters, unrolled responses, finite-difference probes -- can be substituted
without touching the modules.
"""
import functools
from dataclasses import dataclass
from typing import Optional

import torch
from torch.func import functional_call

from trico_basicsr.archs.arch_util import split_illumination

from .algorithm import FirstOrder, Objectives
from .config import to_dict
from .hyper import DARKENING, HyperVariables
from .levels import LOWER, MIDDLE, NETWORK_LEVELS, UPPER
from .response import regroup
from .sample_groups import SAMPLES, select, split_batch, weighted_term_values
from .terms import LossTerms


class _ScaleGrad(torch.autograd.Function):
    """Identity forward; multiplies the gradient by ``scale`` backward."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


@dataclass(frozen=True)
class LevelNets:
    """A network's level modules (``{'sr': ..., 'illum': ...}``) and the names of their trainable parameters."""
    modules: dict
    names: dict

    @classmethod
    def of(cls, net):
        """The levels of ``net``: ``.sr`` and ``.illum`` sub-modules when it has both, else all of it is ``sr``."""
        if all(isinstance(getattr(net, level, None), torch.nn.Module) for level in NETWORK_LEVELS):
            modules = {level: getattr(net, level) for level in NETWORK_LEVELS}
        else:
            modules = {LOWER: net}
        names = {level: [n for n, p in module.named_parameters() if p.requires_grad]
                 for level, module in modules.items()}
        return cls(modules, names)

    @property
    def has_middle(self):
        return MIDDLE in self.modules

    def parameters(self):
        """``{level: [trainable parameter, ...]}`` in ``names`` order (the live tensors PGR updates)."""
        return {level: [dict(module.named_parameters())[n] for n in self.names[level]]
                for level, module in self.modules.items()}


@dataclass(frozen=True)
class LevelTerms:
    """The candidate loss terms of each level and the hyper-variables that weigh them."""
    lower: LossTerms
    middle: Optional[LossTerms]
    upper: LossTerms
    hyper: HyperVariables

    @classmethod
    def from_config(cls, cfg, has_middle, device, sample_groups=None):
        """The terms ``train.pgr`` (validated, ``cfg``) names, and lambda over them, on ``device``; with
        ``sample_groups`` (:class:`.sample_groups.SampleGroups`) lambda also weighs those groups, and
        ``train.pgr.darkening.parameters`` adds the darkening's parameters to lambda."""
        lower = LossTerms(to_dict(cfg.sr_terms), 'sr', 'gt', 'train.pgr.sr_terms').to(device)
        middle = LossTerms(to_dict(cfg.illum_terms), 'lit', 'gt_lr', 'train.pgr.illum_terms',
                           allow_coupling=True).to(device) if has_middle else None
        upper = LossTerms(to_dict(cfg.upper_objective), 'sr', 'gt', 'train.pgr.upper_objective').to(device)
        term_names = {LOWER: lower.names, **({MIDDLE: middle.names} if middle is not None else {})}
        if sample_groups is not None:
            term_names[SAMPLES] = list(sample_groups.names)
        continuous = (to_dict(cfg.darkening.parameters) or None) if cfg.darkening.learn else None
        return cls(lower, middle, upper, HyperVariables(term_names, cfg.parametrization, continuous).to(device))


def forward(nets, variables, lq, couple_scale=None, precision=None):
    """Run the net with ``variables`` substituted: ``{'sr', 'lit', 'illum'}``, float32 outputs.

    ``couple_scale`` scales the gradient that flows from the lower level back into the middle level
    (the fused first-order pass uses it to route ``grad_I f``'s coupling part, see docs/pgr.md).
    ``precision`` (:class:`.precision.Precision`) runs the networks under autocast; the loss terms
    always see float32.
    """
    if precision is not None and precision.enabled:
        with precision.autocast(lq.device):
            out = forward(nets, variables, lq, couple_scale)
        return {key: value.float() if value is not None else None for key, value in out.items()}
    sr_params = dict(zip(nets.names[LOWER], variables[LOWER]))
    if not nets.has_middle:
        return {'sr': functional_call(nets.modules[LOWER], sr_params, (lq,)), 'lit': None, 'illum': None}
    illum_params = dict(zip(nets.names[MIDDLE], variables[MIDDLE]))
    lit, illum = split_illumination(functional_call(nets.modules[MIDDLE], illum_params, (lq,)))
    lit_in, illum_in = lit, illum
    if couple_scale is not None:
        lit_in = _ScaleGrad.apply(lit, couple_scale)
        illum_in = _ScaleGrad.apply(illum, couple_scale) if illum is not None else None
    sr_level = nets.modules[LOWER]
    args = (lit_in, illum_in) if getattr(sr_level, 'accepts_illumination', False) else (lit_in,)
    return {'sr': functional_call(sr_level, sr_params, args), 'lit': lit, 'illum': illum}


def evaluate(nets, terms, variables, batch, couple_scale=None, precision=None):
    """Every level's loss on ``batch`` (with ``sample_groups``, each group's samples weighted by lambda's
    sample weights, see :mod:`.sample_groups`).

    Returns:
        dict: ``g`` (weighted lower loss), ``sr_values`` (its terms); with a middle level also
        ``f_direct`` (the weighted middle loss without its coupling term), ``coupling_coeff`` (the
        coupling term's weight: f = f_direct + coupling_coeff * g) and ``illum_values`` (its terms).
    """
    weights = terms.hyper.weights_from(variables[UPPER])
    lq = batch['darken'](weights.get(DARKENING)) if 'darken' in batch else batch['lq']
    out = forward(nets, variables, lq, couple_scale, precision)
    if 'sample_groups' in batch:  # per-group sample weights (pgr/sample_groups.py)
        groups, targets = batch['sample_groups']

        def values(level_terms, **kwargs):
            return weighted_term_values(level_terms, out, targets, groups, weights[SAMPLES], **kwargs)
    else:
        tensors = {**out, 'lq': lq, 'gt': batch['gt'], 'gt_lr': batch.get('gt_lr')}

        def values(level_terms, **kwargs):
            return level_terms(tensors, **kwargs)
    sr_values = values(terms.lower)
    result = {'g': (weights[LOWER] * sr_values).sum(), 'sr_values': sr_values}
    if nets.has_middle:
        direct = values(terms.middle, lower_objective=torch.zeros_like(result['g']))
        coupling = terms.middle.coupling_weights().to(direct)
        result['f_direct'] = (weights[MIDDLE] * direct).sum()
        result['coupling_coeff'] = (weights[MIDDLE] * coupling).sum()
        result['illum_values'] = direct + coupling * result['g']
    return result


def lower_objective(nets, terms, batch, variables):
    """g: the lower level's weighted loss."""
    return evaluate(nets, terms, variables, batch)['g']


def middle_objective(nets, terms, batch, variables):
    """f = f_direct + coupling_coeff * g: the middle level's weighted loss, the lower loss included."""
    r = evaluate(nets, terms, variables, batch)
    return r['f_direct'] + r['coupling_coeff'] * r['g']


def upper_objective(nets, terms, upper_batch, variables):
    """F: the fixed fidelity loss on the held-out (upper-level) batch."""
    out = forward(nets, variables, upper_batch['lq'])
    return terms.upper({**out, **upper_batch}).sum()


def first_order(nets, terms, batch, trained, variables, precision=None):
    """``grad_S g`` and ``grad_I f`` from one forward and one backward, and the level values for logging.

    The coupling part of ``grad_I f`` (``coupling_coeff * grad_I g``) reaches theta_I through the
    lower level: scaling that gradient by ``coupling_coeff`` on its way back routes both gradients
    through a single backward of ``g + f_direct`` (docs/pgr.md, "fused first-order pass").
    With ``precision`` (:mod:`.precision`) the networks run under autocast; with float16 the loss is
    multiplied by the loss scale before backward and the gradients divided by it after (in float32).
    """
    leaves = {k: [t.detach().requires_grad_(k in trained) for t in v] for k, v in variables.items()}
    coeff = None
    if nets.has_middle:
        with torch.no_grad():
            illum_weights = terms.hyper.weights_from(leaves[UPPER])[MIDDLE]
            coeff = (illum_weights * terms.middle.coupling_weights().to(illum_weights)).sum()
    r = evaluate(nets, terms, leaves, batch, couple_scale=coeff, precision=precision)
    total = r['g'] + (r['f_direct'] if nets.has_middle else 0)
    targets = [t for level in trained for t in leaves[level]]
    scale = precision.loss_scale if precision is not None else 1.0
    grads = torch.autograd.grad(total * scale if scale != 1.0 else total, targets, allow_unused=True)
    if scale != 1.0:
        grads = [g.float() / scale if g is not None else None for g in grads]
    values = {key: value.detach() for key, value in r.items()}
    return FirstOrder(regroup(grads, targets, trained, leaves), values)


def make_objectives(nets, terms, batch, upper_batch=None, precision=None):
    """This iteration's :class:`Objectives`: g, f, F (when ``upper_batch`` is given) and the fused pass
    (in ``precision``, :mod:`.precision`; the other objectives are float32)."""
    trained = [level for level in (LOWER, MIDDLE) if level in nets.modules]
    if batch.get('group_ids') is not None and 'darken' in batch:
        raise ValueError('train.pgr.sample_weights and train.pgr.darkening cannot be combined yet: the sample '
                         'groups are sliced from the dataset inputs, which the darkening replaces')
    if batch.get('group_ids') is not None:  # split once per batch: every evaluation reuses the slices
        groups = split_batch(batch['group_ids'], len(terms.hyper.terms[SAMPLES]))
        targets = [select({'lq': batch['lq'], 'gt': batch['gt'], 'gt_lr': batch.get('gt_lr')}, index)
                   for _, index, _ in groups]
        batch = {**batch, 'sample_groups': (groups, targets)}
    return Objectives(
        lower=functools.partial(lower_objective, nets, terms, batch),
        middle=functools.partial(middle_objective, nets, terms, batch) if nets.has_middle else None,
        upper=functools.partial(upper_objective, nets, terms, upper_batch) if upper_batch is not None else None,
        first_order=functools.partial(first_order, nets, terms, batch, trained, precision=precision))
