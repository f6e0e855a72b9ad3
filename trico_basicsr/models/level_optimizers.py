"""One optimiser and one learning-rate schedule per trained level, from ``train.optim_<level>`` and
``train.scheduler`` (or ``train.scheduler_<level>``): the part of :class:`TriLevelModel` that sets them up."""
from collections import OrderedDict
from copy import deepcopy

import torch
from basicsr.models import lr_scheduler

OPTIMIZERS = {'Adam': torch.optim.Adam, 'AdamW': torch.optim.AdamW, 'SGD': torch.optim.SGD}
SCHEDULERS = {'MultiStepLR': lr_scheduler.MultiStepRestartLR, 'MultiStepRestartLR': lr_scheduler.MultiStepRestartLR,
              'CosineAnnealingRestartLR': lr_scheduler.CosineAnnealingRestartLR}


class LevelOptimizers:
    """Mixin of :class:`TriLevelModel`: reads ``self.opt``, ``self.params`` and ``self._trained_levels()``;
    fills ``self.level_optimizers`` (``{level: optimizer}``), ``self.optimizers`` and ``self.schedulers``
    (BasicSR's lists, which its training loop steps and saves)."""

    def setup_optimizers(self):
        train_opt = self.opt['train']
        self.level_optimizers = OrderedDict()
        for level in self._trained_levels():
            optim_opt = deepcopy(train_opt.get(f'optim_{level}'))
            if not optim_opt:
                raise KeyError(f'train.optim_{level} is required: the {level} level is trained '
                               '(train.pgr.train_levels)')
            optimizer = self.get_optimizer(optim_opt.pop('type'), self.params[level], **optim_opt)
            self.level_optimizers[level] = optimizer
            self.optimizers.append(optimizer)

    def get_optimizer(self, optim_type, params, lr, **kwargs):
        if optim_type not in OPTIMIZERS:
            raise ValueError(f"optimizer type '{optim_type}' is not supported; choose one of {', '.join(OPTIMIZERS)}")
        return OPTIMIZERS[optim_type](params, lr, **kwargs)

    def setup_schedulers(self):
        train_opt = self.opt['train']
        for level, optimizer in self.level_optimizers.items():
            sched_opt = deepcopy(train_opt.get(f'scheduler_{level}') or train_opt.get('scheduler'))
            if not sched_opt:
                raise KeyError(f'train.scheduler (or train.scheduler_{level}) is required')
            sched_type = sched_opt.pop('type')
            if sched_type not in SCHEDULERS:
                raise ValueError(f"scheduler type '{sched_type}' is not supported; "
                                 f"choose one of {', '.join(SCHEDULERS)}")
            self.schedulers.append(SCHEDULERS[sched_type](optimizer, **sched_opt))
