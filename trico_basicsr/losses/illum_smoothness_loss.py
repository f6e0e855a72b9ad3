"""Structure-aware smoothness of an illumination map (RetinexNet)."""
import torch
from basicsr.losses.loss_util import reduce_loss
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn


def _dx(t):
    return t[..., :, 1:] - t[..., :, :-1]


def _dy(t):
    return t[..., 1:, :] - t[..., :-1, :]


@LOSS_REGISTRY.register()
class IlluminationSmoothnessLoss(nn.Module):
    """``loss_weight * (|dx L| exp(-a|dx G|) + |dy L| exp(-a|dy G|))``: light varies smoothly except at edges.

    Args:
        loss_weight (float): Default: 1.0.
        edge_sensitivity (float): ``a``; larger lets the light change more at guide edges. Default: 10.0.
        reduction (str): 'none' | 'mean' | 'sum'. Default: 'mean'.

    ``forward(illum, guide)``: illum (N, 1 or 3, H, W); guide (N, 3, H, W), e.g. the normal-light LR
    target (its grey level gives the edges).
    """

    def __init__(self, loss_weight=1.0, edge_sensitivity=10.0, reduction='mean'):
        super().__init__()
        self.loss_weight, self.edge_sensitivity, self.reduction = loss_weight, edge_sensitivity, reduction

    def forward(self, illum, guide, weight=None):
        grey = guide.mean(dim=1, keepdim=True)
        x_term = _dx(illum).abs() * torch.exp(-self.edge_sensitivity * _dx(grey).abs())
        y_term = _dy(illum).abs() * torch.exp(-self.edge_sensitivity * _dy(grey).abs())
        return self.loss_weight * (reduce_loss(x_term, self.reduction) + reduce_loss(y_term, self.reduction))
