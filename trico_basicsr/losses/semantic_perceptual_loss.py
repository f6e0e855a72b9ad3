"""Perceptual loss on the features of a frozen semantic backbone (works offline with MobileNetV2)."""
from basicsr.losses.loss_util import reduce_loss
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn

from trico_basicsr.archs.semantic_arch import SemanticBackbone


@LOSS_REGISTRY.register()
class SemanticPerceptualLoss(nn.Module):
    """``loss_weight * sum_l w_l |phi_l(pred) - phi_l(target)|`` with a frozen torchvision backbone.

    BasicSR's ``PerceptualLoss`` needs VGG weights that cannot be fetched offline; this loss uses the
    same frozen backbone as IHEM (MobileNetV2 ImageNet weights by default).

    Args:
        loss_weight (float): Default: 1.0.
        layer_weights (dict): Backbone node -> weight. Default: ``{'features.3': 1.0, 'features.6': 1.0}``.
        backbone (str): torchvision model name. Default: 'mobilenet_v2'.
        weights (str | None): See :class:`SemanticBackbone`. Default: 'torchvision'.
        reduction (str): 'mean' | 'sum' per layer. Default: 'mean'.

    ``forward(pred, target)``: (N, 3, H, W) RGB in [0, 1]; the target's features get no gradient.
    """

    def __init__(self, loss_weight=1.0, layer_weights=None, backbone='mobilenet_v2', weights='torchvision',
                 reduction='mean'):
        super().__init__()
        self.layer_weights = dict(layer_weights or {'features.3': 1.0, 'features.6': 1.0})
        self.loss_weight, self.reduction = loss_weight, reduction
        self.backbone = SemanticBackbone(backbone, list(self.layer_weights), weights)

    def forward(self, pred, target, weight=None):
        pred_feats = self.backbone(pred)
        target_feats = self.backbone(target.detach())
        total = 0
        for w, fp, ft in zip(self.layer_weights.values(), pred_feats, target_feats):
            total = total + w * reduce_loss((fp - ft).abs(), self.reduction)
        return self.loss_weight * total
