"""What :class:`TriLevelModel` logs: each level's value and terms (means over the ``print_freq`` window),
lambda, the PGR phase, skipped updates, the hypergradients' signal-to-noise ratios; and the plot of lambda's
trajectory written at each validation."""
from collections import OrderedDict
from os import path as osp

from basicsr.utils.dist_util import master_only

from trico_basicsr.utils.plot import plot_hyper_trajectories


class TriLevelLogging:
    """Mixin of :class:`TriLevelModel`: reads ``self.loss_window``, ``self.hyper``, ``self.hyper_snr``,
    ``self.hyper_history``, ``self.skipped_updates``, ``self.precision`` and ``self.terms``."""

    def _losses(self, stats):
        """This iteration's level values and terms, ``{name: 0-dim tensor}`` (still on the device)."""
        values = stats['values']
        losses = OrderedDict(l_sr=values['g'])
        losses.update((f'l_sr_{name}', v) for name, v in zip(self.terms.lower.names, values['sr_values']))
        if self.has_middle:
            losses['l_illum'] = values['f_direct'] + values['coupling_coeff'] * values['g']
            losses.update((f'l_illum_{name}', v) for name, v in zip(self.terms.middle.names, values['illum_values']))
        if stats['upper_value'] is not None:
            losses['l_upper'] = stats['upper_value']
        return losses

    @property
    def log_dict(self):
        """This rank's values :meth:`get_current_log` would report now, without starting a new window
        (no rank average: safe to read on one rank)."""
        return self._log(reduce=None, reset=False)

    def get_current_log(self):
        """Mean of each logged loss over the iterations since the last call, averaged over ranks (read
        every ``print_freq``, on every rank: the only host-device synchronisation of the logging), the
        current lambda and counters."""
        return self._log(reduce=self.reduce_loss_dict, reset=True)

    def _log(self, reduce, reset):
        log = self.loss_window.read(reduce, reset)
        log['pgr_phase'] = self._phase
        weights = self.hyper.named_weights()
        log.update({f'lambda_{name}': w for name, w in weights.items()})
        log['skipped_updates'] = float(sum(self.skipped_updates.values()))
        ratios = self.hyper_snr.ratios()
        if ratios is not None:
            log.update((f'hyper_snr_{name}', r) for name, r in zip(weights, ratios.tolist()))
        if self.precision.scaled:
            log['loss_scale'] = self.precision.loss_scale
        return log

    def validation(self, dataloader, current_iter, tb_logger, save_img=False):
        super().validation(dataloader, current_iter, tb_logger, save_img)
        if self.is_train and hasattr(self, 'hyper_history'):
            self._plot_hyper(current_iter)

    @master_only
    def _plot_hyper(self, current_iter):
        plot_hyper_trajectories(self.hyper_history, osp.join(self.opt['path']['visualization'], 'hyper_variables.png'),
                                title=f"{self.opt['name']} - hyper-variables (iter {current_iter})",
                                current_iter=current_iter)
