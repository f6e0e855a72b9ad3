"""Lower level: the super-resolution network with IHEM modulation."""
import torch
import torch.nn.functional as F
from basicsr.archs.arch_util import ResidualBlockNoBN, Upsample, default_init_weights, make_layer
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn

from .arch_util import conv3x3
from .ihem_arch import IHEM
from .semantic_arch import SemanticBackbone


def _group_sizes(num_block, every):
    """Split ``num_block`` residual blocks into groups of ``every`` (the last may be shorter)."""
    if every <= 0:
        return [num_block]
    return [min(every, num_block - start) for start in range(0, num_block, every)]


@ARCH_REGISTRY.register()
class TriCoSRNet(nn.Module):
    """Residual SR trunk whose features are modulated by IHEM after every ``ihem_every`` blocks.

    Input is the middle level's output: the brightened LR image and its illumination map. A frozen
    semantic backbone (optional) sees the brightened image and feeds IHEM's semantic expert. The
    trunk ends in a pixel-shuffle upsampler; the output adds a bilinear upsampling of the input.

    Args:
        upscale (int): 2, 3 or 4. Default: 4.
        num_in_ch (int): Channels of the brightened image. Default: 3.
        num_out_ch (int): Output channels. Default: 3.
        num_feat (int): Trunk channels. Default: 64.
        num_block (int): Residual blocks. Default: 16.
        ihem_every (int): Blocks between IHEM modulations; 0 disables IHEM. Default: 4.
        illum_channels (int): Channels of the illumination map. Default: 3.
        semantic (str | None): torchvision backbone for IHEM's semantic expert, or None/'none'. Default: 'mobilenet_v2'.
        semantic_layer (str): Backbone node whose features are used. Default: 'features.6'.
        semantic_weights (str | None): See :class:`SemanticBackbone`. Default: 'torchvision'.

    ``forward(lit, illum)``: (N, num_in_ch, H, W) and (N, illum_channels, H, W) in [0, 1] ->
    (N, num_out_ch, upscale*H, upscale*W).
    """

    accepts_illumination = True

    def __init__(self, upscale=4, num_in_ch=3, num_out_ch=3, num_feat=64, num_block=16, ihem_every=4,
                 illum_channels=3, semantic='mobilenet_v2', semantic_layer='features.6',
                 semantic_weights='torchvision'):
        super().__init__()
        self.upscale = upscale
        use_semantic = semantic not in (None, 'none') and ihem_every > 0
        self.semantic = SemanticBackbone(semantic, semantic_layer, semantic_weights) if use_semantic else None
        semantic_channels = self.semantic.out_channels[0] if self.semantic is not None else 0
        self.tile_alignment = self.semantic.stride if self.semantic is not None else 1
        groups = _group_sizes(num_block, ihem_every)
        self.conv_first = conv3x3(num_in_ch + illum_channels, num_feat)
        self.body = nn.ModuleList(make_layer(ResidualBlockNoBN, n, num_feat=num_feat) for n in groups)
        self.ihems = nn.ModuleList(IHEM(num_feat, illum_channels, semantic_channels) for _ in groups) \
            if ihem_every > 0 else None
        self.conv_body = conv3x3(num_feat, num_feat)
        self.upsample = Upsample(upscale, num_feat)
        self.conv_hr = conv3x3(num_feat, num_feat)
        self.conv_last = conv3x3(num_feat, num_out_ch)
        self.lrelu = nn.LeakyReLU(0.1, inplace=True)
        default_init_weights([self.conv_first, self.conv_body, self.upsample, self.conv_hr, self.conv_last], 0.1)

    def forward(self, lit, illum):
        semantic = self.semantic(lit) if self.semantic is not None else None
        feat = self.conv_first(torch.cat([lit, illum], dim=1))
        x = feat
        for i, blocks in enumerate(self.body):
            x = blocks(x)
            if self.ihems is not None:
                x = self.ihems[i](x, illum, semantic)
        x = self.conv_body(x) + feat
        out = self.conv_last(self.lrelu(self.conv_hr(self.upsample(x))))
        return out + F.interpolate(lit, scale_factor=self.upscale, mode='bilinear', align_corners=False)
