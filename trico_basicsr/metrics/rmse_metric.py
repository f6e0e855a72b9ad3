"""Root-mean-square error."""
import numpy as np
from basicsr.metrics.metric_util import reorder_image
from basicsr.utils.registry import METRIC_REGISTRY


@METRIC_REGISTRY.register()
def calculate_rmse(img, img2, crop_border, input_order='HWC', **kwargs):
    """RMSE in 8-bit grey levels (0-255) over all channels; lower is better.

    Args:
        img, img2 (ndarray): Images in [0, 255], same shape (BasicSR passes BGR uint8).
        crop_border (int): Pixels cropped from each edge before comparing.
        input_order (str): 'HWC' or 'CHW'. Default: 'HWC'.
    """
    if img.shape != img2.shape:
        raise ValueError(f'calculate_rmse: image shapes differ: {img.shape} vs {img2.shape}')
    a = reorder_image(img, input_order=input_order).astype(np.float64)
    b = reorder_image(img2, input_order=input_order).astype(np.float64)
    if crop_border:
        a, b = a[crop_border:-crop_border, crop_border:-crop_border], b[crop_border:-crop_border, crop_border:-crop_border]
    return float(np.sqrt(np.mean((a - b)**2)))
