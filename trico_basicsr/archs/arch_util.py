"""Small helpers shared by the TriCo archs and by models that drive a net level by level."""
import torch.nn.functional as F
from torch import nn


def conv3x3(in_ch, out_ch, groups=1):
    return nn.Conv2d(in_ch, out_ch, 3, 1, 1, groups=groups)


def conv1x1(in_ch, out_ch):
    return nn.Conv2d(in_ch, out_ch, 1, 1, 0)


def resize_like(x, ref):
    """Bilinearly resize ``x`` (N, C, h, w) to the spatial size of ``ref``; no-op when sizes match."""
    if x.shape[-2:] == ref.shape[-2:]:
        return x
    return F.interpolate(x, size=ref.shape[-2:], mode='bilinear', align_corners=False)


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
