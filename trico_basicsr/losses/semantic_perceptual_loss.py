"""Perceptual loss on the features of a frozen semantic backbone (works offline with MobileNetV2)."""
import torch
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

    The target's features are kept for the next call: PGR evaluates the loss several times per
    iteration on the same batch (responses, finite-difference probes), so the frozen backbone runs on
    each target once. The cache holds the target tensor itself and its version counter, so a new
    batch, or a target changed in place, is never served stale features.
    """

    def __init__(self, loss_weight=1.0, layer_weights=None, backbone='mobilenet_v2', weights='torchvision',
                 reduction='mean'):
        super().__init__()
        self.layer_weights = dict(layer_weights or {'features.3': 1.0, 'features.6': 1.0})
        self.loss_weight, self.reduction = loss_weight, reduction
        self.backbone = SemanticBackbone(backbone, list(self.layer_weights), weights)
        self._target_cache = None  # (target tensor, its _version, its features)

    def target_features(self, target):
        """The backbone's features of ``target`` (no gradient), computed once per target tensor."""
        cached = self._target_cache
        if cached is not None and cached[0] is target and cached[1] == target._version:
            return cached[2]
        with torch.no_grad():
            feats = self.backbone(target)
        self._target_cache = (target, target._version, feats)
        return feats

    def forward(self, pred, target, weight=None):
        pred_feats = self.backbone(pred)
        target_feats = self.target_features(target)
        total = 0
        for w, fp, ft in zip(self.layer_weights.values(), pred_feats, target_feats):
            total = total + w * reduce_loss((fp - ft).abs(), self.reduction)
        return self.loss_weight * total
