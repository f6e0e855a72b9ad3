"""Colour error: CIEDE2000."""
import numpy as np
from basicsr.utils.registry import METRIC_REGISTRY
from skimage.color import deltaE_ciede2000, rgb2lab

from .metric_util import paired_hwc


@METRIC_REGISTRY.register()
def calculate_delta_e(img, img2, crop_border, input_order='HWC', bgr=True, **kwargs):
    """Mean CIEDE2000 colour difference (sRGB, D65) between two images; lower is better.

    Args:
        img, img2 (ndarray): Colour images in [0, 255], same shape.
        crop_border (int): Pixels cropped from each edge.
        input_order (str): 'HWC' or 'CHW'. Default: 'HWC'.
        bgr (bool): Channel order is BGR (BasicSR's ``tensor2img``). Default: True.
    """
    a, b = paired_hwc('calculate_delta_e', img, img2, crop_border, input_order)
    a, b = a / 255.0, b / 255.0
    if a.shape[2] != 3:
        raise ValueError('calculate_delta_e needs 3-channel colour images')
    if bgr:
        a, b = a[..., ::-1], b[..., ::-1]
    return float(np.mean(deltaE_ciede2000(rgb2lab(a), rgb2lab(b))))
