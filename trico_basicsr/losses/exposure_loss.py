"""Exposure-control prior (Zero-DCE)."""
import torch.nn.functional as F
from basicsr.losses.loss_util import reduce_loss
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn


@LOSS_REGISTRY.register()
class ExposureControlLoss(nn.Module):
    """``loss_weight * |avgpool_p(grey(pred)) - level|``: local brightness near a well-exposed level.

    Args:
        loss_weight (float): Default: 1.0.
        level (float): Target mean intensity in [0, 1]. Default: 0.5.
        patch_size (int): Side of the averaging patches, in pixels. Default: 8.
        reduction (str): 'none' | 'mean' | 'sum' over patches. Default: 'mean'.

    ``forward(pred)``: (N, C, H, W) in [0, 1]; patches are clipped at the borders (ceil mode).
    """

    def __init__(self, loss_weight=1.0, level=0.5, patch_size=8, reduction='mean'):
        super().__init__()
        self.loss_weight, self.level, self.patch_size, self.reduction = loss_weight, level, patch_size, reduction

    def forward(self, pred, target=None, weight=None):
        local_mean = F.avg_pool2d(pred.mean(dim=1, keepdim=True), self.patch_size, ceil_mode=True)
        return self.loss_weight * reduce_loss((local_mean - self.level).abs(), self.reduction)
