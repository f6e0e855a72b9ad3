"""Edge loss: L1 distance between Sobel gradients."""
import torch
import torch.nn.functional as F
from basicsr.losses.loss_util import reduce_loss
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn

SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))


def sobel_gradients(img):
    """Horizontal and vertical Sobel responses, (N, C, H, W) -> (N, 2C, H, W) (replicate padding)."""
    channels = img.shape[1]
    kx = torch.tensor(SOBEL_X, dtype=img.dtype, device=img.device) / 8.0
    kernel = torch.stack([kx, kx.t()]).unsqueeze(1).repeat(channels, 1, 1, 1)
    return F.conv2d(F.pad(img, (1, 1, 1, 1), mode='replicate'), kernel, groups=channels)


@LOSS_REGISTRY.register()
class GradientLoss(nn.Module):
    """``loss_weight * |sobel(pred) - sobel(target)|``: sharp edges where the target has them.

    Args:
        loss_weight (float): Default: 1.0.
        reduction (str): 'none' | 'mean' | 'sum'. Default: 'mean'.

    ``forward(pred, target)``: (N, C, H, W).
    """

    def __init__(self, loss_weight=1.0, reduction='mean'):
        super().__init__()
        self.loss_weight, self.reduction = loss_weight, reduction

    def forward(self, pred, target, weight=None):
        diff = torch.abs(sobel_gradients(pred) - sobel_gradients(target))
        return self.loss_weight * reduce_loss(diff, self.reduction)
