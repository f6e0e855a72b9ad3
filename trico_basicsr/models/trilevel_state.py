"""Checkpoints and training states of :class:`TriLevelModel`: BasicSR's layouts, written atomically,
with the arch options in each network file and the PGR state (lambda, upper data stream, counters) in
each training state, so a resumed run continues exactly where it stopped."""
from copy import deepcopy
from os import path as osp

from basicsr.utils.dist_util import master_only

from trico_basicsr.utils.atomic import atomic_torch_save


class TriLevelState:
    """Mixin of :class:`TriLevelModel` (its ``save_network``, ``save_training_state`` and ``resume_training``)."""

    @master_only
    def save_network(self, net, net_label, current_iter, param_key='params'):
        """BasicSR's layout (``{param_key: state_dict}``), written atomically, plus the arch options."""
        label = 'latest' if current_iter == -1 else current_iter
        nets = net if isinstance(net, list) else [net]
        keys = param_key if isinstance(param_key, list) else [param_key]
        payload = {key: {k: v.cpu() for k, v in self.get_bare_model(n).state_dict().items()}
                   for n, key in zip(nets, keys)}
        payload['network_g'] = deepcopy(dict(self.opt['network_g']))
        payload['scale'] = self.opt['scale']
        atomic_torch_save(payload, osp.join(self.opt['path']['models'], f'{net_label}_{label}.pth'))

    @master_only
    def save_training_state(self, epoch, current_iter):
        """Optimizers, schedulers and the PGR state (lambda, upper stream, counters), written atomically."""
        if current_iter == -1:
            return
        state = {'epoch': epoch, 'iter': current_iter, 'optimizers': [o.state_dict() for o in self.optimizers],
                 'schedulers': [s.state_dict() for s in self.schedulers], 'pgr': self._pgr_state()}
        atomic_torch_save(state, osp.join(self.opt['path']['training_states'], f'{current_iter}.state'))

    def _pgr_state(self):
        return {'hyper': {k: v.detach().cpu() for k, v in self.hyper.state_dict().items()},
                'upper_stream': self.upper_stream.state_dict() if self.upper_stream is not None else None,
                'skipped_updates': dict(self.skipped_updates), 'loss_scale': self.precision.scale.state_dict(),
                'hyper_snr': self.hyper_snr.state_dict(), 'pgr': self.pgr.state_dict(),
                'hyper_history': [[it, dict(w)] for it, w in self.hyper_history]}

    def resume_training(self, resume_state):
        super().resume_training(resume_state)
        state = resume_state.get('pgr')
        if state is None:
            raise KeyError('the training state has no PGR state: it was not written by TriLevelModel')
        self.hyper.load_state_dict(state['hyper'])
        if self.upper_stream is not None and state['upper_stream'] is not None:
            self.upper_stream.load_state_dict(state['upper_stream'])
        self.skipped_updates.update(state['skipped_updates'])
        if 'loss_scale' in state:  # states written before AMP existed have none
            self.precision.scale.load_state_dict(state['loss_scale'])
        if 'hyper_snr' in state:
            self.hyper_snr.load_state_dict(state['hyper_snr'], self.device)
        if 'pgr' in state:  # states written before hypergradient accumulation have none
            self.pgr.load_state_dict(state['pgr'], self.device)
        self.hyper_history = [(it, dict(w)) for it, w in state['hyper_history']]
