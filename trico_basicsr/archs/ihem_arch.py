"""IHEM: the Integrated Hybrid Expert Modulator."""
import torch
from basicsr.archs.arch_util import default_init_weights
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn

from .arch_util import conv1x1, conv3x3, resize_like


@ARCH_REGISTRY.register()
class IHEM(nn.Module):
    """Modulate features with a per-pixel mixture of illumination, semantic and texture experts.

    Experts (each maps its input to ``hidden`` channels at the feature resolution):
        illumination -- a spatial transform of the illumination map ``L`` (the middle level's prior);
        semantic     -- features ``S`` of a frozen pretrained backbone, bilinearly resized;
        texture      -- a depthwise-separable transform of the features ``F`` themselves.
    A gating CNN on ``[F, L, S]`` gives per-pixel softmax weights over the experts; their mixture
    ``M`` yields a spatial feature transform ``F' = F * (1 + gamma(M)) + beta(M)``.

    Args:
        num_feat (int): Channels of the modulated features. Default: 64.
        illum_channels (int): Channels of the illumination map. Default: 3.
        semantic_channels (int): Channels of the semantic features; 0 removes the semantic expert
            (the ``semantic: none`` ablation). Default: 32.
        hidden (int | None): Channels of the experts' outputs; None = ``num_feat // 2``. Default: None.

    ``forward(feat, illum, semantic=None)``: feat (N, num_feat, H, W); illum (N, illum_channels, h, w)
    and semantic (N, semantic_channels, h', w') at any resolution (resized to H x W) -> (N, num_feat, H, W).
    """

    def __init__(self, num_feat=64, illum_channels=3, semantic_channels=32, hidden=None):
        super().__init__()
        hidden = hidden or max(num_feat // 2, 8)
        self.semantic_channels = semantic_channels
        self.illum_expert = nn.Sequential(conv3x3(illum_channels, hidden), nn.LeakyReLU(0.1, True),
                                          conv3x3(hidden, hidden))
        self.texture_expert = nn.Sequential(
            conv3x3(num_feat, num_feat, groups=num_feat), nn.LeakyReLU(0.1, True), conv1x1(num_feat, hidden))
        self.semantic_expert = nn.Sequential(
            conv1x1(semantic_channels, hidden), nn.LeakyReLU(0.1, True),
            conv3x3(hidden, hidden)) if semantic_channels else None
        self.num_experts = 3 if semantic_channels else 2
        self.gate = nn.Sequential(
            conv3x3(num_feat + illum_channels + semantic_channels, hidden), nn.LeakyReLU(0.1, True),
            conv1x1(hidden, self.num_experts))
        self.to_gamma = conv3x3(hidden, num_feat)
        self.to_beta = conv3x3(hidden, num_feat)
        # A small start keeps the trunk close to identity while every expert still gets gradient.
        default_init_weights([self.to_gamma, self.to_beta], 0.1)

    def gates(self, feat, illum, semantic=None):
        """Per-pixel expert weights (N, num_experts, H, W), summing to 1 over experts."""
        inputs = [feat, resize_like(illum, feat)] + ([resize_like(semantic, feat)] if self.semantic_expert else [])
        return torch.softmax(self.gate(torch.cat(inputs, dim=1)), dim=1)

    def forward(self, feat, illum, semantic=None):
        if self.semantic_expert is not None and semantic is None:
            raise ValueError('IHEM was built with semantic_channels > 0 but got no semantic features')
        experts = [self.illum_expert(resize_like(illum, feat)), self.texture_expert(feat)]
        if self.semantic_expert is not None:
            experts.append(self.semantic_expert(resize_like(semantic, feat)))
        gates = self.gates(feat, illum, semantic)
        mixture = sum(gates[:, i:i + 1] * expert for i, expert in enumerate(experts))
        return feat * (1 + self.to_gamma(mixture)) + self.to_beta(mixture)
