"""Running sums of logged losses kept on the device, read (and synchronised) only when printed."""
from collections import OrderedDict

import torch


class LossWindow:
    """Sum each named 0-dim loss tensor over iterations without leaving the device.

    ``add`` stacks an iteration's values into one vector and adds it to the running sum (no
    ``.item()``, so no host-device synchronisation); ``read`` returns the per-name means as floats.
    A name seen only in some iterations (e.g. ``l_upper``, computed every ``upper_interval``) is
    averaged over the iterations that reported it.
    """

    def __init__(self):
        self.reset()

    def reset(self):
        self.sums, self.counts = OrderedDict(), OrderedDict()

    def add(self, losses):
        """losses (dict[str, Tensor]): 0-dim tensors, all on one device."""
        names = list(losses)
        stacked = torch.stack([losses[name].detach().reshape(()).float() for name in names])
        key = tuple(names)
        self.sums[key] = self.sums[key] + stacked if key in self.sums else stacked
        self.counts[key] = self.counts.get(key, 0) + 1

    def read(self, reduce=None, reset=True):
        """``{name: mean}`` as floats; ``reduce`` (BasicSR's ``reduce_loss_dict``) averages over ranks."""
        totals, counts = OrderedDict(), OrderedDict()
        for key, summed in self.sums.items():
            for name, value in zip(key, summed):
                totals[name] = totals[name] + value if name in totals else value
                counts[name] = counts.get(name, 0) + self.counts[key]
        means = OrderedDict((name, totals[name] / counts[name]) for name in totals)
        if reset:
            self.reset()
        if not means:
            return OrderedDict()
        if reduce is not None:
            return OrderedDict(reduce(means))
        return OrderedDict(zip(means, torch.stack(list(means.values())).tolist()))  # one synchronisation
