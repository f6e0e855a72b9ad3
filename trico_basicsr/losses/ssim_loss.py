"""Structural-similarity loss."""
import torch
import torch.nn.functional as F
from basicsr.losses.loss_util import reduce_loss
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn


def gaussian_window(size, sigma):
    """A normalised 2-D Gaussian window (size, size)."""
    coords = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-coords**2 / (2 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)


def ssim_map(x, y, window, c1=0.01**2, c2=0.03**2):
    """Per-pixel SSIM of images in [0, 1], (N, C, H, W) -> (N, C, H - k + 1, W - k + 1) (valid windows)."""
    channels = x.shape[1]
    kernel = window.to(x).expand(channels, 1, *window.shape)

    def blur(t):
        return F.conv2d(t, kernel, groups=channels)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
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
        self.register_buffer('window', gaussian_window(window_size, sigma), persistent=False)

    def forward(self, pred, target, weight=None):
        return self.loss_weight * reduce_loss(1 - ssim_map(pred, target, self.window), self.reduction)
