"""A level's candidate loss terms, evaluated on named tensors.

Each term is a BasicSR loss (any ``LOSS_REGISTRY`` entry) plus which tensors it compares::

    pixel: {type: CharbonnierLoss, loss_weight: 1.0, pred: sr, target: gt}
    exposure: {type: ExposureControlLoss, loss_weight: 0.1, pred: lit, target: ~}   # no reference
    coupling: {type: LowerObjective, loss_weight: 1.0}                               # middle level only

Tensor names: ``sr`` (HR output), ``lit`` (brightened LR), ``illum`` (illumination map), ``lq``
(input), ``gt`` (HR target), ``gt_lr`` (normal-light LR target). ``LowerObjective`` is the lower
level's weighted loss (how well the SR level does on what the middle level hands it): it couples the
middle level to the lower level's response.
"""
from collections import OrderedDict
from copy import deepcopy

import torch
from basicsr.losses import build_loss
from torch import nn

TENSOR_NAMES = ('sr', 'lit', 'illum', 'lq', 'gt', 'gt_lr')
LOWER_OBJECTIVE = 'LowerObjective'


class LossTerms(nn.Module):
    """Named loss terms of one level; ``forward`` returns their values as one vector.

    Args:
        spec (dict): Term name -> ``{type, loss_weight, pred, target, ...loss arguments}``.
        default_pred (str): Tensor compared when a term gives no ``pred``.
        default_target (str | None): Reference when a term gives no ``target``.
        where (str): Option path for error messages, e.g. ``'train.pgr.sr_terms'``.
        allow_coupling (bool): Whether ``LowerObjective`` may appear. Default: False.
    """

    def __init__(self, spec, default_pred, default_target, where, allow_coupling=False):
        super().__init__()
        if not spec:
            raise ValueError(f'{where}: at least one loss term is needed')
        self.where = where
        self.inputs = OrderedDict()
        self.losses = nn.ModuleDict()
        self.coupling = OrderedDict()
        for name, term in spec.items():
            term = deepcopy(dict(term))
            pred, target = term.pop('pred', default_pred), term.pop('target', default_target)
            if term.get('type') == LOWER_OBJECTIVE:
                if not allow_coupling:
                    raise ValueError(f'{where}.{name}: {LOWER_OBJECTIVE} is only a middle-level (illum_terms) term')
                self.coupling[name] = float(term.get('loss_weight', 1.0))
                self.inputs[name] = None
                continue
            for role, key in (('pred', pred), ('target', target)):
                if key is not None and key not in TENSOR_NAMES:
                    raise ValueError(f"{where}.{name}.{role}: '{key}' is not one of {', '.join(TENSOR_NAMES)}")
            try:
                self.losses[name] = build_loss(term)
            except (KeyError, TypeError) as error:
                raise ValueError(f'{where}.{name}: cannot build loss from {term}: {error}') from error
            self.inputs[name] = (pred, target)

    @property
    def names(self):
        return list(self.inputs)

    def coupling_weights(self):
        """(n_terms,) tensor: each coupling term's ``loss_weight``, 0 for the other terms."""
        return torch.tensor([self.coupling.get(name, 0.0) for name in self.inputs])

    def needs(self, tensor_name):
        """Whether any term reads ``tensor_name``."""
        return any(io is not None and tensor_name in io for io in self.inputs.values())

    def forward(self, tensors, lower_objective=None):
        """Vector (n_terms,) of term values; ``lower_objective`` feeds the coupling terms."""
        values = []
        for name, io in self.inputs.items():
            if io is None:
                if lower_objective is None:
                    raise ValueError(f'{self.where}.{name}: the lower objective is not available here')
                values.append(self.coupling[name] * lower_objective)
                continue
            pred, target = io
            for key in (pred, target):
                if key is not None and tensors.get(key) is None:
                    raise ValueError(f"{self.where}.{name}: needs '{key}', "
                                     'which this network or batch does not provide')
            loss = self.losses[name]
            values.append(loss(tensors[pred], tensors[target]) if target is not None else loss(tensors[pred]))
        return torch.stack([v.reshape(()) for v in values])
