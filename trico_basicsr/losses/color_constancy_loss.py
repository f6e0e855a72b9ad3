"""Grey-world colour-constancy prior (Zero-DCE)."""
from basicsr.losses.loss_util import reduce_loss
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn


@LOSS_REGISTRY.register()
class ColorConstancyLoss(nn.Module):
    """``loss_weight * sum_{p<q} (mean_p - mean_q)^2`` over the RGB channel means of each image.

    No reference needed: penalises colour casts of an enhanced image (Guo et al., Zero-DCE, CVPR 2020).

    Args:
        loss_weight (float): Default: 1.0.
        reduction (str): 'none' | 'mean' | 'sum' over images. Default: 'mean'.

    ``forward(pred)``: (N, 3, H, W) RGB.
    """

    def __init__(self, loss_weight=1.0, reduction='mean'):
        super().__init__()
        self.loss_weight, self.reduction = loss_weight, reduction

    def forward(self, pred, target=None, weight=None):
        r, g, b = pred.mean(dim=(2, 3)).unbind(dim=1)
        per_image = (r - g)**2 + (r - b)**2 + (g - b)**2
        return self.loss_weight * reduce_loss(per_image, self.reduction)
