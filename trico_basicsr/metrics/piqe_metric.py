"""PIQE: a training-free no-reference quality score (Venkatanath et al., NCC 2015), via ``pypiqe``."""
import numpy as np
from basicsr.metrics.metric_util import reorder_image
from basicsr.utils.registry import METRIC_REGISTRY


@METRIC_REGISTRY.register()
def calculate_piqe(img, crop_border, input_order='HWC', **kwargs):
    """PIQE score in [0, 100]; lower is better. Needs no model file, so it works offline.

    Args:
        img (ndarray): Image in [0, 255] (BGR colour or grey), at least 16x16 after cropping.
        crop_border (int): Pixels cropped from each edge.
        input_order (str): 'HWC' or 'CHW'. Default: 'HWC'.
    """
    from pypiqe import piqe
    im = reorder_image(img, input_order=input_order)
    if crop_border:
        im = im[crop_border:-crop_border, crop_border:-crop_border]
    score = piqe(np.ascontiguousarray(np.clip(np.rint(im), 0, 255).astype(np.uint8)))[0]
    return float(score)
