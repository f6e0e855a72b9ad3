"""Lightness-order error (LOE, Wang et al., "Naturalness preserved enhancement", TIP 2013)."""
import cv2
import numpy as np
from basicsr.utils.registry import METRIC_REGISTRY

from .metric_util import paired_hwc


@METRIC_REGISTRY.register()
def calculate_loe(img, img2, crop_border, input_order='HWC', size=50, **kwargs):
    """Share of pixel pairs whose lightness order differs between ``img`` and the reference ``img2``.

    Lightness is the per-pixel channel maximum. As in the original, both images are first resized
    (area) so that their shorter side is ``size`` pixels, and every pixel is compared with every
    other. Reported as a percentage of pairs (0 = order fully preserved); lower is better.

    Args:
        img (ndarray): Enhanced image in [0, 255].
        img2 (ndarray): Reference image (ground truth) in [0, 255], same shape.
        crop_border (int): Pixels cropped from each edge.
        input_order (str): 'HWC' or 'CHW'. Default: 'HWC'.
        size (int): Shorter side after resizing (50 in the original). Default: 50.
    """
    lightness = []
    for im in paired_hwc('calculate_loe', img, img2, crop_border, input_order, dtype=np.float32):
        h, w = im.shape[:2]
        factor = size / min(h, w)
        small = cv2.resize(im, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
        lightness.append((small.max(axis=2) if small.ndim == 3 else small).ravel())
    enhanced, reference = lightness
    order_enhanced = enhanced[:, None] >= enhanced[None, :]
    order_reference = reference[:, None] >= reference[None, :]
    return float(np.mean(order_enhanced != order_reference) * 100.0)
