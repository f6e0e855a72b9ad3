"""What the full-reference metrics share: shape checks, channel ordering and border cropping."""
import numpy as np
from basicsr.metrics.metric_util import reorder_image


def paired_hwc(metric, img, img2, crop_border, input_order='HWC', dtype=np.float64):
    """Both images as HWC arrays of ``dtype`` (values unchanged), ``crop_border`` pixels cropped from each edge.

    Raises:
        ValueError: The shapes differ (named after ``metric``).
    """
    if img.shape != img2.shape:
        raise ValueError(f'{metric}: image shapes differ: {img.shape} vs {img2.shape}')
    a, b = (reorder_image(im, input_order=input_order).astype(dtype) for im in (img, img2))
    if crop_border:
        a, b = (im[crop_border:-crop_border, crop_border:-crop_border] for im in (a, b))
    return a, b
