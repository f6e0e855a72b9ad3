"""Per-group sample weights: the degradation mixture and per-difficulty weights as hyper-variables.

``train.pgr.sample_weights: {by: preset}`` gives every preset of the training dataset's mix a weight,
``{by: exposure, exposure_bins: [0.03, 0.1]}`` every exposure bin (how much light the darkening kept,
the main axis of difficulty). The weights are upper-level variables like the loss-term weights (the
pseudo-level :data:`SAMPLES` of :class:`~trico_basicsr.pgr.hyper.HyperVariables`: positive, mean 1,
logged as ``lambda_samples_<group>``), and they weigh the lower and middle levels' losses per sample::

    loss = sum_g (n_g / N) * w_g * loss(samples of group g)        (n_g of the batch's N samples in g)

With every ``w_g = 1`` this is the ordinary batch mean (the loss terms are per-sample means). The
samples are still drawn uniformly from the mix; weighting group ``g`` by ``w_g`` trains, in
expectation, as if group ``g`` were drawn ``w_g`` times as often -- so learning ``w`` by the
hypergradient learns the training mixture (a curriculum) without re-drawing data.
"""
from dataclasses import dataclass

import torch

SAMPLES = 'samples'
GROUP_KINDS = ('preset', 'exposure')


@dataclass(frozen=True)
class SampleGroups:
    """How samples are grouped: ``by`` ``'preset'`` (``names`` = the mix's distinct presets) or
    ``'exposure'`` (``bins`` = ascending bin edges in linear-light exposure, ``len(bins) + 1`` groups)."""
    by: str
    names: tuple
    bins: tuple = ()

    @classmethod
    def from_config(cls, cfg, presets, where='train.pgr.sample_weights'):
        """Groups from ``train.pgr.sample_weights`` (``cfg``) and the training dataset's ``presets``
        (a name or list of names); None when ``cfg.by`` is unset."""
        if not cfg or not cfg.get('by'):
            return None
        if cfg['by'] not in GROUP_KINDS:
            raise ValueError(f"{where}.by: '{cfg['by']}' is not one of {', '.join(GROUP_KINDS)}")
        if cfg['by'] == 'preset':
            names = [presets] if isinstance(presets, str) else list(presets or [])
            names = tuple(dict.fromkeys(names))  # distinct, in the mix's order
            if len(names) < 2:
                raise ValueError(f'{where}.by is preset, but datasets.train mixes {len(names)} preset(s) '
                                 f'({", ".join(names) or "none"}): give datasets.train.preset a list of at least two')
            return cls('preset', names)
        bins = tuple(float(b) for b in cfg.get('exposure_bins') or ())
        if not bins or any(b <= 0 for b in bins) or list(bins) != sorted(set(bins)):
            raise ValueError(f'{where}.exposure_bins must be ascending, distinct and positive, got {list(bins)}')
        edges = (0.0,) + bins + (float('inf'),)
        names = tuple(f'exposure_{lo:g}-{hi:g}' for lo, hi in zip(edges[:-1], edges[1:]))
        return cls('exposure', names, bins)

    def ids(self, data, device=None):
        """Group index (N,) int64 of each sample of a training batch ``data`` (a collated dataset dict)."""
        if self.by == 'preset':
            if 'preset' not in data:
                raise KeyError('train.pgr.sample_weights.by is preset, but the training batches do not say which '
                               'preset made each sample: use CoupledOnlineDataset for datasets.train')
            index = {name: i for i, name in enumerate(self.names)}
            unknown = sorted(set(data['preset']) - set(index))
            if unknown:
                raise KeyError(f'samples of preset(s) {unknown}, which are not in the groups {list(self.names)}')
            return torch.tensor([index[name] for name in data['preset']], dtype=torch.long, device=device)
        exposure = data.get('degradation', {}).get('exposure') if isinstance(data.get('degradation'), dict) else None
        if exposure is None:
            raise KeyError('train.pgr.sample_weights.by is exposure, but the training batches carry no '
                           "degradation['exposure']: use CoupledOnlineDataset for datasets.train")
        exposure = torch.as_tensor(exposure, dtype=torch.float64)
        return torch.bucketize(exposure, torch.tensor(self.bins, dtype=torch.float64), right=True).to(device)


def split_batch(ids, num_groups):
    """``[(group, index (n_g,), n_g / N), ...]`` for the groups present among ``ids`` (N,)."""
    counts = torch.bincount(ids, minlength=num_groups).tolist()  # one host read per batch
    total = float(ids.numel())
    return [(g, torch.nonzero(ids == g).flatten(), n / total) for g, n in enumerate(counts) if n > 0]


def select(tensors, index):
    """The samples ``index`` of every tensor in ``tensors`` (None stays None)."""
    return {key: value.index_select(0, index) if torch.is_tensor(value) else value for key, value in tensors.items()}


def weighted_term_values(terms, outputs, targets, groups, weights, **kwargs):
    """``sum_g fraction_g * weights[g] * terms(samples of g)``: the term vector (n_terms,) under group weights.

    Args:
        terms (LossTerms): A level's terms.
        outputs (dict): Network outputs over the whole batch (sliced per group here).
        targets (list[dict]): Per group in ``groups``, its targets already sliced (sliced once per batch,
            so a loss that caches features of its target tensor keeps hitting its cache).
        groups (list): :func:`split_batch`'s list.
        weights (Tensor): (G,) group weights.
    """
    total = 0
    for (g, index, fraction), target in zip(groups, targets):
        total = total + (fraction * weights[g]) * terms({**select(outputs, index), **target}, **kwargs)
    return total
