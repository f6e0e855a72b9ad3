"""Split a training image list into the lower/middle levels' part and the upper level's held-out part.

The upper level (the loss-weight hyper-variables) must be tuned on images that the lower and middle
levels never train on. ``upper_split: {fraction, seed}`` in a training dataset's options holds out
``ceil(fraction * N)`` images (at least one, at most N - 1), chosen by ``seed``; the dataset keeps the
rest (``split_part: lower``, the default) or only the held-out images (``split_part: upper``).
"""
import math

import numpy as np

SPLIT_PARTS = ('lower', 'upper')


def upper_split_indices(num_images, fraction, seed):
    """Return ``(lower, upper)``: two sorted, disjoint index lists that cover ``range(num_images)``."""
    if not 0.0 < float(fraction) < 1.0:
        raise ValueError(f'upper_split.fraction must be in (0, 1), got {fraction}')
    if num_images < 2:
        raise ValueError(f'upper_split needs at least 2 images to hold one out, got {num_images}')
    num_upper = min(max(1, math.ceil(fraction * num_images)), num_images - 1)
    order = np.random.default_rng(int(seed)).permutation(num_images)
    return sorted(order[num_upper:].tolist()), sorted(order[:num_upper].tolist())


def select_split(source, split_opt, part, where):
    """Restrict an :class:`ImageSource` to one part of ``split_opt`` (``None`` keeps everything)."""
    if part not in SPLIT_PARTS:
        raise ValueError(f"{where}.split_part must be one of {SPLIT_PARTS}, got '{part}'")
    if not split_opt:
        if part == 'upper':
            raise ValueError(f'{where}: split_part is upper but no upper_split is configured')
        return source
    unknown = set(split_opt) - {'fraction', 'seed'}
    if unknown:
        raise KeyError(f"{where}.upper_split: unknown option(s) {', '.join(sorted(unknown))}. "
                       'Valid keys: fraction, seed.')
    lower, upper = upper_split_indices(len(source), split_opt['fraction'], split_opt.get('seed', 0))
    return source.subset(lower if part == 'lower' else upper)
