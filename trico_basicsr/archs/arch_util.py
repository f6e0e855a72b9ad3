"""Small helpers shared by the TriCo archs and by models that drive a net level by level."""
import math

import torch.nn.functional as F
from torch import nn


def conv3x3(in_ch, out_ch, groups=1):
    return nn.Conv2d(in_ch, out_ch, 3, 1, 1, groups=groups)


def conv1x1(in_ch, out_ch):
    return nn.Conv2d(in_ch, out_ch, 1, 1, 0)


def resize_like(x, ref):
    """Bilinearly resize ``x`` (N, C, h, w) to the spatial size of ``ref``; no-op when sizes match.

    When ``x`` is a stride-``f`` map of ``ref``'s grid (``h = ceil(H / f)`` for a power of two ``f``, as
    strided convolutions and ``ceil_mode`` pooling give), it is upsampled by exactly ``f`` and cropped:
    every output pixel then samples the same position whatever the image size, so a tile of an image
    (starting at a multiple of ``f``) gets the values the whole image gets. Resizing to ``ref``'s size
    instead would stretch the grid by ``ceil(H / f) * f / H`` and shift features across the image.
    """
    if x.shape[-2:] == ref.shape[-2:]:
        return x
    height, width = ref.shape[-2:]
    factor = stride_between(x.shape[-2:], (height, width))
    if factor is None:
        return F.interpolate(x, size=(height, width), mode='bilinear', align_corners=False)
    return F.interpolate(x, scale_factor=factor, mode='bilinear', align_corners=False)[..., :height, :width]


def stride_between(coarse_hw, fine_hw, max_stride=64):
    """The smallest power of two ``f`` with ``coarse = ceil(fine / f)`` in both dimensions, or None."""
    factor = 2
    while factor <= max_stride:
        if all(-(-fine // factor) == coarse for coarse, fine in zip(coarse_hw, fine_hw)):
            return factor
        factor *= 2
    return None


def joint_tile_alignment(*nets):
    """Pixels a tile's origin must be a multiple of for ``nets`` chained (their ``tile_alignment``, default 1)."""
    return math.lcm(*(getattr(net, 'tile_alignment', 1) for net in nets))


def arch_arguments(arch_type):
    """The ``__init__`` parameters of the registered arch ``arch_type`` (its option schema, in BasicSR)."""
    import inspect

    from basicsr.utils.registry import ARCH_REGISTRY
    return inspect.signature(ARCH_REGISTRY.get(arch_type).__init__).parameters


def split_illumination(result):
    """Normalise a middle-level output to ``(lit, illum)``.

    ``IllumNet`` returns ``(lit, illum)``; any other image-to-image arch returns just the brightened
    image, for which no illumination map exists (``illum`` is None).
    """
    if isinstance(result, (tuple, list)):
        return result[0], result[1]
    return result, None


def run_lower_level(sr_net, lit, illum):
    """Call a lower-level (SR) net with the illumination map when it accepts one."""
    if getattr(sr_net, 'accepts_illumination', False):
        return sr_net(lit, illum)
    return sr_net(lit)
