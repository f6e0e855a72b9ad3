"""Root-mean-square error."""
import numpy as np
from basicsr.utils.registry import METRIC_REGISTRY

from .metric_util import paired_hwc


@METRIC_REGISTRY.register()
def calculate_rmse(img, img2, crop_border, input_order='HWC', **kwargs):
    """RMSE in 8-bit grey levels (0-255) over all channels; lower is better.

    Args:
        img, img2 (ndarray): Images in [0, 255], same shape (BasicSR passes BGR uint8).
        crop_border (int): Pixels cropped from each edge before comparing.
        input_order (str): 'HWC' or 'CHW'. Default: 'HWC'.
    """
    a, b = paired_hwc('calculate_rmse', img, img2, crop_border, input_order)
    return float(np.sqrt(np.mean((a - b)**2)))
