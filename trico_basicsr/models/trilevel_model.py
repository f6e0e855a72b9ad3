"""TriLevelModel: TriCo's tri-level training with PGR, as a BasicSR model."""
from os import path as osp

import torch
from basicsr.archs import build_network
from basicsr.models.sr_model import SRModel
from basicsr.utils import get_root_logger
from basicsr.utils.registry import MODEL_REGISTRY

from trico_basicsr.data.coupled_degradation import PRESETS
from trico_basicsr.data.differentiable_darkening import Resynthesis
from trico_basicsr.data.upper_stream import build_upper_stream, unused_split_warning
from trico_basicsr.pgr import objectives
from trico_basicsr.pgr.algorithm import PhasedGradientResponse
from trico_basicsr.pgr.config import load_pgr_config, to_dict
from trico_basicsr.pgr.distributed import broadcast_from_rank0
from trico_basicsr.pgr.levels import LEVELS, LOWER, MIDDLE, UPPER
from trico_basicsr.pgr.optimizer_steps import optimizer_step_rule
from trico_basicsr.pgr.precision import Precision
from trico_basicsr.pgr.sample_groups import SampleGroups
from trico_basicsr.pgr.snr import HypergradientSNR
from trico_basicsr.utils.loss_window import LossWindow
from trico_basicsr.utils.option_check import check_arch_options, check_keys

from .level_optimizers import LevelOptimizers
from .trilevel_logging import TriLevelLogging
from .trilevel_state import TriLevelState

TRAIN_KEYS = ('total_iter', 'warmup_iter', 'ema_decay', 'pgr', 'scheduler', 'optim_sr', 'optim_illum', 'optim_hyper',
              'scheduler_sr', 'scheduler_illum', 'scheduler_hyper', 'amp', 'channels_last', 'compile')


@MODEL_REGISTRY.register()
class TriLevelModel(LevelOptimizers, TriLevelLogging, TriLevelState, SRModel):
    """Train a net's levels with PGR: lower = SR (``net_g.sr``), middle = illumination (``net_g.illum``),
    upper = the loss-term weights lambda, tuned on held-out data.

    ``network_g`` is any registered arch. With ``.sr`` and ``.illum`` sub-modules (``TriCoNet``,
    ``TwoLevelCascade``) it is trained as three levels; any other arch (e.g. BasicSR's ``MSRResNet``)
    as two: the whole net is the lower level and lambda weighs its candidate losses.

    Options (``train``): ``optim_sr``, ``optim_illum``, ``optim_hyper`` (type Adam | AdamW | SGD + args),
    ``scheduler`` (shared) or ``scheduler_<level>``, ``total_iter``, ``warmup_iter``, ``ema_decay``,
    ``pgr`` (see ``trico_basicsr/pgr/config.py`` and ``docs/pgr.md``), ``amp`` (mixed precision of the
    first-order pass, :mod:`trico_basicsr.pgr.precision`), ``channels_last`` (bool: NHWC memory
    layout for the network and its inputs) and ``compile`` (false, true, or ``torch.compile`` keyword
    arguments such as ``{mode: max-autotune-no-cudagraphs}``: compiles the level networks in place;
    the first iteration of each kind then takes minutes; finite-difference HVPs only).

    Logged (means over the ``print_freq`` window, read only when printed): ``l_sr`` (g), ``l_illum``
    (f), ``l_upper`` (F, when computed), ``l_<level>_<term>`` (term values), ``lambda_<level>_<term>``
    (current weights), ``pgr_phase`` (0 warm-up, 1 cooperative, 2 tri-level), ``skipped_updates``
    (non-finite updates skipped), ``hyper_snr_<level>_<term>`` (each hyper-variable's hypergradient
    |mean| / standard error over the last ``train.pgr.snr_window`` upper steps, :mod:`trico_basicsr.pgr.snr`)
    and ``loss_scale`` (float16 AMP only).
    """

    def __init__(self, opt):
        check_arch_options(opt['network_g'])
        super().__init__(opt)

    # ------------------------------------------------------------------ devices and DDP
    def model_to_device(self, net):
        """No DDP wrapper: PGR averages every gradient itself; ranks start from rank 0's weights."""
        net = net.to(self.device)
        if self._channels_last():
            net = net.to(memory_format=torch.channels_last)
        if self.opt['dist']:
            broadcast_from_rank0(list(net.parameters()) + list(net.buffers()))
        elif self.opt['num_gpu'] > 1:
            get_root_logger().warning('TriLevelModel does not use DataParallel; '
                                      'launch one process per GPU with torchrun.')
        return net

    def _channels_last(self):
        return bool(self.opt.get('train', {}).get('channels_last', False)) and self.is_train

    # ------------------------------------------------------------------ set-up
    def init_training_settings(self):
        train_opt = self.opt['train']
        check_keys(train_opt, TRAIN_KEYS, 'train')
        self.net_g.train()
        self.nets = objectives.LevelNets.of(self.net_g)
        self.has_middle = self.nets.has_middle
        cfg = self.pgr_cfg = load_pgr_config(train_opt.get('pgr'), has_middle=self.has_middle)
        train_data = self.opt.get('datasets', {}).get('train', {})
        self.sample_groups = SampleGroups.from_config(to_dict(cfg.sample_weights),
                                                      train_data.get('preset', 'ultra_dark'))
        self.terms = objectives.LevelTerms.from_config(cfg, self.has_middle, self.device, self.sample_groups)
        self.hyper = self.terms.hyper
        self.params = {**self.nets.parameters(), UPPER: self.hyper.logit_list()}

        self.precision = Precision.from_options(train_opt.get('amp'))
        self.ema_decay = train_opt.get('ema_decay', 0)
        if self.ema_decay > 0:
            self.net_g_ema = build_network(self.opt['network_g']).to(self.device)
            self._init_ema()
            self.net_g_ema.eval()

        self._compile_levels(train_opt.get('compile', False))
        self.pgr = PhasedGradientResponse(cfg)
        self.upper_stream = build_upper_stream(self.opt, cfg.upper_data) if UPPER in cfg.train_levels else None
        self.skipped_updates = {level: 0 for level in self.params}
        self.consecutive_skips = {level: 0 for level in self.params}
        warning = unused_split_warning(self.opt, cfg)
        if warning:
            get_root_logger().warning(warning)
        self.hyper_history = [(0, self.hyper.named_weights())]
        self.loss_window, self._phase = LossWindow(), 0.0
        self.hyper_snr = HypergradientSNR(cfg.snr_window)
        self.setup_optimizers()
        self.setup_schedulers()

    def _compile_levels(self, option):
        """``torch.compile`` each level network in place (parameter names, and so checkpoints, unchanged)."""
        if not option:
            return
        if option is not True and not isinstance(option, dict):
            raise ValueError(f'train.compile: expected true, false or torch.compile arguments, got {option!r}')
        kwargs = dict(option) if isinstance(option, dict) else {}
        if self.pgr_cfg.hvp == 'double_backward':
            raise ValueError('train.compile needs train.pgr.hvp: finite_difference -- compiled graphs do not '
                             'support the double backward the other mode takes')
        for module in self.nets.modules.values():
            module.compile(**kwargs)

    def _init_ema(self):
        """Start the weight average from the checkpoint's ``params_ema`` (a resume sets it), as SRModel does.

        Rebuilding it from the current weights on resume would make the averaged weights -- the ones
        validation and inference use -- differ from an uninterrupted run's.
        """
        load_path = self.opt['path'].get('pretrain_network_g')
        if load_path is None:
            self.model_ema(0)
            return
        self.load_network(self.net_g_ema, load_path, self.opt['path'].get('strict_load_g', True), 'params_ema')

    def _trained_levels(self):
        return [level for level in LEVELS if level in self.params and level in self.pgr_cfg.train_levels]

    # ------------------------------------------------------------------ data
    def feed_data(self, data):
        layout = torch.channels_last if self._channels_last() else torch.contiguous_format
        self.lq = data['lq'].to(self.device, memory_format=layout)
        if 'gt' in data:
            self.gt = data['gt'].to(self.device, memory_format=layout)
        self.gt_lr = data['gt_lr'].to(self.device, memory_format=layout) if 'gt_lr' in data else None
        # which group each sample is in, read when a training step needs it (validation batches may come
        # from other families or datasets)
        self._group_info = {key: data[key] for key in ('preset', 'degradation') if key in data}

    # ------------------------------------------------------------------ objectives
    def _batch(self):
        if self.gt_lr is None and self.has_middle:
            self.gt_lr = torch.nn.functional.interpolate(self.gt, scale_factor=1 / self.opt['scale'], mode='bicubic',
                                                         antialias=True, align_corners=False).clamp(0, 1)
        return {'lq': self.lq, 'gt': self.gt, 'gt_lr': self.gt_lr}

    def _objectives(self, current_iter=None):
        """This iteration's objectives (pgr/objectives.py); an upper batch is drawn only when a hypergradient is due."""
        upper_batch = None
        if self.upper_stream is not None and current_iter is not None and \
                self.pgr.hypergradient_due(current_iter, self.params):
            drawn = self.upper_stream.next_batch()
            upper_batch = {k: v.to(self.device) for k, v in drawn.items() if torch.is_tensor(v)}
        batch = self._batch()
        if self.sample_groups is not None:
            batch['group_ids'] = self.sample_groups.ids(self._group_info, self.device)
        if self.pgr_cfg.darkening.parameters:
            batch['darken'] = self._resynthesis(batch, current_iter)
        return objectives.make_objectives(self.nets, self.terms, batch, upper_batch, self.precision)

    def _resynthesis(self, batch, current_iter):
        """The batch's inputs as a function of the darkening hyper-variables (``train.pgr.darkening``).

        Samples the dataset darkened itself (their preset is a darkening preset) are darkened again; real
        pairs keep theirs. The draws depend on the seed, the rank and the iteration only, so a resumed
        run draws what the uninterrupted one did.
        """
        presets = self._group_info.get('preset')
        if presets is None:
            raise ValueError('train.pgr.darkening needs training samples that name their darkening preset '
                             '(datasets.train of type CoupledOnlineDataset or CoupledMixDataset)')
        mask = torch.tensor([name in PRESETS for name in presets], dtype=torch.bool)
        seed = int(self.opt.get('manual_seed') or 0) * 1_000_003 + int(current_iter or 0) * 101 + self.opt['rank']
        fixed = to_dict(self.pgr_cfg.darkening.parameters)
        return Resynthesis(batch['gt'], batch['lq'], mask, list(fixed), self.opt['scale'],
                           torch.Generator().manual_seed(seed), fixed=fixed)

    # ------------------------------------------------------------------ training step
    def _apply(self, level, grads):
        # One host-device synchronisation per update: the norm of a gradient holding NaN or inf is not finite.
        if not bool(torch.isfinite(torch.stack(torch._foreach_norm(grads))).all()):
            self.skipped_updates[level] += 1
            self.consecutive_skips[level] += 1
            get_root_logger().warning(f'PGR: non-finite {level} gradient, update skipped '
                                      f'({self.skipped_updates[level]} so far).')
            if self.consecutive_skips[level] >= self.pgr_cfg.max_consecutive_skips:
                self._stop_diverged(level)
            return
        self.consecutive_skips[level] = 0
        optimizer = self.level_optimizers[level]
        optimizer.zero_grad(set_to_none=True)
        for param, grad in zip(self.params[level], grads):
            param.grad = grad.detach().view_as(param)  # fresh tensors each iteration: no copy needed
        optimizer.step()
        if level == UPPER:
            self.hyper_history.append((self._current_iter, self.hyper.named_weights()))
            self.hyper_snr.add(grads)

    def _stop_diverged(self, level):
        """Save the weights (unchanged by the skipped updates, so the last good ones) and stop training."""
        nets = [self.net_g, self.net_g_ema] if self.ema_decay > 0 else self.net_g
        keys = ['params', 'params_ema'] if self.ema_decay > 0 else 'params'
        self.save_network(nets, 'net_g', self._current_iter, param_key=keys)
        path = osp.join(self.opt['path']['models'], f'net_g_{self._current_iter}.pth')
        raise FloatingPointError(
            f'training stopped at iteration {self._current_iter}: {self.consecutive_skips[level]} consecutive '
            f'non-finite {level} updates (train.pgr.max_consecutive_skips). The last good weights are in {path}. '
            'Lower the learning rates, check the data for NaN/inf, or resume from an earlier training state.')

    def optimize_parameters(self, current_iter):
        self._current_iter = current_iter
        skipped_before = dict(self.skipped_updates)
        stats = self.pgr.iteration(current_iter, self.params, self._objectives(current_iter), self._apply,
                                   steps=self._response_steps)
        if self.precision.scaled:
            self._update_loss_scale(skipped_before, responded=bool(stats['middle_response']))
        self.loss_window.add(self._losses(stats))
        self._phase = stats['phase']
        if self.ema_decay > 0:
            self.model_ema(decay=self.ema_decay)

    def _response_steps(self, first_order_grads=None):
        """``{level: StepRule}`` of each level's optimiser (``train.pgr.response_step: optimizer``), or None.

        ``first_order_grads`` (``{level: grads}``) are this iteration's gradients, which Adam's next
        second-moment estimate includes.
        """
        if self.pgr_cfg.response_step != 'optimizer':
            return None
        grads = first_order_grads or {}
        return {level: optimizer_step_rule(optimizer, self.params[level], grads.get(level))
                for level, optimizer in self.level_optimizers.items() if level != UPPER}

    def _update_loss_scale(self, skipped_before, responded):
        """Back the float16 loss scale off when an update from the scaled first-order pass overflowed: the
        lower level's always, the middle level's unless it came from the (float32) response."""
        levels = [LOWER] + ([MIDDLE] if MIDDLE in skipped_before and not responded else [])
        overflowed = any(self.skipped_updates[level] > skipped_before[level] for level in levels)
        self.precision.scale.update(finite=not overflowed)

    def model_ema(self, decay=0.999):
        """BasicSR's weight average (``ema = decay * ema + (1 - decay) * params``) in two fused list ops."""
        params = list(self.get_bare_model(self.net_g).parameters())
        averaged = list(self.net_g_ema.parameters())
        with torch.no_grad():
            torch._foreach_mul_(averaged, decay)
            torch._foreach_add_(averaged, params, alpha=1 - decay)

