"""Signal-to-noise ratio of the hypergradient, per hyper-variable, over a window of recent upper steps.

A hypergradient whose noise exceeds its signal only random-walks lambda under Adam (which rescales any
gradient to a full-size step). ``SNR = |mean| / standard error`` of each component over the last
``window`` hypergradients: above about 2 the component's sign is reliable; near 1 or below it is noise.
"""
from collections import deque

import torch


class HypergradientSNR:
    """Keep the last ``window`` hypergradients (flattened, on their device) and report each component's SNR.

    Args:
        window (int): Hypergradients kept (at least 2).
    """

    def __init__(self, window=20):
        if window < 2:
            raise ValueError(f'the SNR window needs at least 2 hypergradients, got {window}')
        self.samples = deque(maxlen=int(window))

    def add(self, grads):
        """grads (list[Tensor]): one hypergradient, in the hyper-variables' order."""
        self.samples.append(torch.cat([g.detach().reshape(-1).float() for g in grads]))

    def ratios(self):
        """(n_components,) tensor ``|mean| / (std / sqrt(n))``, or None with fewer than 2 samples."""
        if len(self.samples) < 2:
            return None
        stacked = torch.stack(list(self.samples))
        standard_error = stacked.std(dim=0) / len(self.samples)**0.5
        return stacked.mean(dim=0).abs() / standard_error.clamp_min(torch.finfo(stacked.dtype).tiny)

    def state_dict(self):
        return {'window': self.samples.maxlen, 'samples': [s.cpu() for s in self.samples]}

    def load_state_dict(self, state, device=None):
        self.samples = deque((s.to(device) for s in state['samples']), maxlen=state['window'])
