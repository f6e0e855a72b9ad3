"""LPIPS with the real ``lpips`` network code; backbone weights come from a local file, never a download.

The ``lpips`` wheel ships its learned linear layers but fetches the ImageNet backbone (AlexNet, VGG16 or
SqueezeNet) through torchvision at run time. Here the backbone is read from ``backbone_weights`` (a
torchvision state dict), else ``$TRICO_LPIPS_BACKBONE``, else torch's hub cache. Without a file the
metric is *unavailable*: :func:`calculate_lpips` warns once and returns NaN -- never a made-up number.
"""
import functools
import os
import warnings

import numpy as np
import torch
from basicsr.utils.registry import METRIC_REGISTRY

from trico_basicsr.archs.semantic_arch import resolve_weights

from .metric_util import paired_hwc

TORCHVISION_NAMES = {'alex': 'alexnet', 'vgg': 'vgg16', 'squeeze': 'squeezenet1_1'}


class LPIPSUnavailable(RuntimeError):
    """The backbone weights LPIPS needs are not on this machine."""


def backbone_file(net='alex', backbone_weights=None):
    """The local torchvision weights file for the LPIPS backbone ``net``; raises LPIPSUnavailable."""
    if net not in TORCHVISION_NAMES:
        raise ValueError(f"LPIPS net '{net}' is unknown; choose one of {', '.join(TORCHVISION_NAMES)}")
    path = backbone_weights or os.environ.get('TRICO_LPIPS_BACKBONE')
    help_text = (f'Give a torchvision {TORCHVISION_NAMES[net]} state dict with the metric option '
                 '`backbone_weights: PATH` or $TRICO_LPIPS_BACKBONE.')
    try:
        return resolve_weights(TORCHVISION_NAMES[net], path or 'torchvision', help_text)
    except FileNotFoundError as error:
        raise LPIPSUnavailable(f'LPIPS({net}) is unavailable: {error}') from None


@functools.lru_cache(maxsize=4)
def lpips_model(net='alex', backbone_weights=None):
    """The LPIPS network (eval mode, CPU) with its backbone loaded from the resolved local file."""
    import lpips
    import torchvision
    path = backbone_file(net, backbone_weights)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # lpips uses torchvision's deprecated `pretrained=` argument
        model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)
    reference = torchvision.models.get_model(TORCHVISION_NAMES[net], weights=None)
    reference.load_state_dict(torch.load(path, map_location='cpu'))
    features = dict(reference.features.named_parameters())
    with torch.no_grad():
        for name, param in model.net.named_parameters():  # 'slice<k>.<index>.<weight|bias>'
            _, index, kind = name.split('.', 2)
            param.copy_(features[f'{index}.{kind}'])
    return model.eval()


def _to_lpips_tensor(img, bgr):
    img = img[..., ::-1] if bgr else img
    return torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32)).permute(2, 0, 1)[None] / 127.5 - 1


_warned = set()


@METRIC_REGISTRY.register()
def calculate_lpips(img, img2, crop_border, input_order='HWC', net='alex', backbone_weights=None, bgr=True, **kwargs):
    """LPIPS distance (v0.1 linear layers); lower is better. NaN, with one warning, when unavailable.

    Args:
        img, img2 (ndarray): Colour images in [0, 255], same shape.
        crop_border (int): Pixels cropped from each edge.
        input_order (str): 'HWC' or 'CHW'. Default: 'HWC'.
        net (str): 'alex', 'vgg' or 'squeeze'. Default: 'alex'.
        backbone_weights (str | None): torchvision state dict of the backbone. Default: None (see module).
        bgr (bool): Channel order is BGR (BasicSR's ``tensor2img``). Default: True.
    """
    try:
        model = lpips_model(net, backbone_weights)
    except LPIPSUnavailable as error:
        if str(error) not in _warned:
            _warned.add(str(error))
            warnings.warn(str(error))
        return float('nan')
    a, b = paired_hwc('calculate_lpips', img, img2, crop_border, input_order, dtype=np.float32)
    with torch.no_grad():
        return float(model(_to_lpips_tensor(a, bgr), _to_lpips_tensor(b, bgr)).item())
