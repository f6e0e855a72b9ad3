"""Random crops and flips driven by an explicit NumPy generator (reproducible per draw key).

BasicSR's ``paired_random_crop`` / ``augment`` draw from the global ``random`` module, whose state
differs between data workers, ranks and restarts; these helpers take the generator instead.
Images are HWC arrays.
"""
import numpy as np


def random_crop(rng, img, size, name):
    """A ``size`` x ``size`` crop of ``img`` at a random place; ``name`` is used in errors."""
    h, w = img.shape[:2]
    if h < size or w < size:
        raise ValueError(f'{name}: image is {h}x{w}, smaller than the crop size {size} (gt_size)')
    top = int(rng.integers(0, h - size + 1))
    left = int(rng.integers(0, w - size + 1))
    return img[top:top + size, left:left + size]


def check_pair_size(gt, lq, scale, gt_name, lq_name):
    """Raise ``ValueError`` unless ``gt`` is exactly ``scale`` times ``lq`` in both dimensions."""
    (h_gt, w_gt), (h_lq, w_lq) = gt.shape[:2], lq.shape[:2]
    if (h_gt, w_gt) != (h_lq * scale, w_lq * scale):
        raise ValueError(f'{lq_name} is {h_lq}x{w_lq} but its ground truth {gt_name} is {h_gt}x{w_gt}, '
                         f'not {scale}x that size (LQ x scale must equal GT)')


def random_crop_pair(rng, gt, lq, gt_size, scale, gt_name):
    """Aligned random crops: ``gt_size`` on ``gt`` and ``gt_size // scale`` on ``lq``."""
    if gt_size % scale:
        raise ValueError(f'gt_size {gt_size} is not a multiple of scale {scale}')
    lq_size = gt_size // scale
    h_lq, w_lq = lq.shape[:2]
    if h_lq < lq_size or w_lq < lq_size:
        raise ValueError(f'{gt_name}: pair is {h_lq}x{w_lq} at LQ size, smaller than the LQ crop {lq_size}')
    top = int(rng.integers(0, h_lq - lq_size + 1))
    left = int(rng.integers(0, w_lq - lq_size + 1))
    lq = lq[top:top + lq_size, left:left + lq_size]
    gt = gt[top * scale:(top + lq_size) * scale, left * scale:(left + lq_size) * scale]
    return gt, lq


def random_flip_rotate(rng, imgs, hflip=True, rotation=True):
    """Apply the same random horizontal flip / vertical flip / transpose to every image in ``imgs``.

    Draws three numbers whatever the flags, so toggling a flag does not shift later draws.
    """
    draws = rng.random(3)
    do_hflip = hflip and draws[0] < 0.5
    do_vflip, do_transpose = rotation and draws[1] < 0.5, rotation and draws[2] < 0.5
    out = []
    for img in imgs:
        if do_hflip:
            img = img[:, ::-1]
        if do_vflip:
            img = img[::-1, :]
        if do_transpose:
            img = img.transpose(1, 0, 2)
        out.append(np.ascontiguousarray(img))
    return out
