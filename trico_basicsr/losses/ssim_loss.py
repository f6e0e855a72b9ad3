"""Structural-similarity loss."""
import torch
import torch.nn.functional as F
from basicsr.losses.loss_util import reduce_loss
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn


def gaussian_kernel_1d(size, sigma):
    """A normalised 1-D Gaussian (size,); the 2-D window is its outer product with itself."""
    coords = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-coords**2 / (2 * sigma**2))
    return g / g.sum()


def separable_blur(t, kernel_1d):
    """Valid-window Gaussian blur of (N, C, H, W) by two 1-D passes: (N, C, H - k + 1, W - k + 1).

    The same result as one 2-D convolution with ``outer(kernel_1d, kernel_1d)`` (up to float rounding)
    at 2k instead of k^2 multiply-adds per pixel.
    """
    channels, k = t.shape[1], kernel_1d.numel()
    kernel = kernel_1d.to(t)
    t = F.conv2d(t, kernel.view(1, 1, k, 1).expand(channels, 1, k, 1), groups=channels)
    return F.conv2d(t, kernel.view(1, 1, 1, k).expand(channels, 1, 1, k), groups=channels)


def ssim_map(x, y, kernel_1d, c1=0.01**2, c2=0.03**2):
    """Per-pixel SSIM of images in [0, 1], (N, C, H, W) -> (N, C, H - k + 1, W - k + 1) (valid windows).

    ``kernel_1d`` (k,) is the Gaussian whose outer product is the window. The five local statistics
    are blurred in one call (the channels of x, y, x*x, y*y, x*y stacked), which costs one kernel
    launch instead of five on GPUs.
    """
    channels = x.shape[1]
    stats = separable_blur(torch.cat([x, y, x * x, y * y, x * y], dim=1), kernel_1d)
    mu_x, mu_y, xx, yy, xy = stats.split(channels, dim=1)
    var_x = xx - mu_x**2
    var_y = yy - mu_y**2
    cov = xy - mu_x * mu_y
    return ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))


@LOSS_REGISTRY.register()
class SSIMLoss(nn.Module):
    """``loss_weight * (1 - SSIM(pred, target))`` with an 11x11 Gaussian window (sigma 1.5).

    Args:
        loss_weight (float): Default: 1.0.
        reduction (str): 'none' | 'mean' | 'sum' over the SSIM map. Default: 'mean'.
        window_size (int): Gaussian window size in pixels. Default: 11.
        sigma (float): Gaussian sigma in pixels. Default: 1.5.

    ``forward(pred, target)``: (N, C, H, W) in [0, 1], H and W at least ``window_size``.
    """

    def __init__(self, loss_weight=1.0, reduction='mean', window_size=11, sigma=1.5):
        super().__init__()
        self.loss_weight, self.reduction = loss_weight, reduction
        self.register_buffer('kernel_1d', gaussian_kernel_1d(window_size, sigma), persistent=False)

    def forward(self, pred, target, weight=None):
        return self.loss_weight * reduce_loss(1 - ssim_map(pred, target, self.kernel_1d), self.reduction)
