"""TriCoNet: the whole network TriCo trains (illumination level -> SR level)."""
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn

from .arch_util import joint_tile_alignment
from .illum_arch import IllumNet
from .trico_sr_arch import TriCoSRNet


@ARCH_REGISTRY.register()
class TriCoNet(nn.Module):
    """Dark low-resolution image in, normally lit high-resolution image out.

    ``.illum`` (:class:`IllumNet`, the middle level) brightens the input at low resolution and
    estimates its illumination map; ``.sr`` (:class:`TriCoSRNet`, the lower level) super-resolves the
    brightened image, modulated by IHEM with the illumination map and frozen semantic features.
    ``TriLevelModel`` gives each level its own parameters, optimizer and losses.

    Args:
        upscale (int): 2, 3 or 4. Default: 4.
        illum_feat (int): IllumNet channels. Default: 32.
        illum_block (int): IllumNet residual blocks. Default: 3.
        illum_channels (int): 1 or 3 illumination channels. Default: 3.
        min_illum (float): Smallest illumination (largest gain 1/min_illum). Default: 0.01.
        num_feat (int): SR trunk channels. Default: 64.
        num_block (int): SR residual blocks. Default: 16.
        ihem_every (int): SR blocks between IHEM modulations; 0 disables IHEM. Default: 4.
        semantic (str | None): Frozen torchvision backbone for IHEM, or 'none'. Default: 'mobilenet_v2'.
        semantic_layer (str): Backbone feature node. Default: 'features.6'.
        semantic_weights (str | None): 'torchvision', a file path, or None. Default: 'torchvision'.
        global_exposure (bool): IllumNet also estimates the missing light from whole-image statistics
            (see :class:`IllumNet`). Default: False.
        prior_exponent (float): Initial exponent ``a`` of IllumNet's local prior. Default: 0.8.
        learn_prior_exponent (bool): Train ``a``, or keep it fixed. Default: True.
        exposure (str | float): 'model', 'auto' or a mean grey level: how bright the middle level lights
            the image (see :class:`IllumNet`). Default: 'model'.

    ``forward(x, return_intermediates=False, exposure_stats=None, exposure_gain=None)``: x (N, 3, H, W) RGB
    in [0, 1] -> (N, 3, sH, sW); with ``return_intermediates`` a dict ``{'sr', 'lit', 'illum'}`` (lit and
    illum at H x W). ``exposure_stats``, ``exposure_gain``: :meth:`whole_image_inputs` of the whole image,
    for tiles of it.
    """

    def __init__(self, upscale=4, illum_feat=32, illum_block=3, illum_channels=3, min_illum=0.01, num_feat=64,
                 num_block=16, ihem_every=4, semantic='mobilenet_v2', semantic_layer='features.6',
                 semantic_weights='torchvision', global_exposure=False, prior_exponent=0.8,
                 learn_prior_exponent=True, exposure='model'):
        super().__init__()
        self.upscale = upscale
        self.illum = IllumNet(3, illum_feat, illum_block, illum_channels, min_illum, global_exposure=global_exposure,
                              prior_exponent=prior_exponent, learn_prior_exponent=learn_prior_exponent,
                              exposure=exposure)
        self.sr = TriCoSRNet(upscale, 3, 3, num_feat, num_block, ihem_every, illum_channels, semantic, semantic_layer,
                             semantic_weights)
        # tiles of an input must start where both levels' coarse grids line up (see TriCoEnhancer)
        self.tile_alignment = joint_tile_alignment(self.illum, self.sr)

    @property
    def uses_global_statistics(self):
        """True when the output depends on the whole image (tiles then need :meth:`whole_image_inputs`)."""
        return self.illum.uses_global_statistics

    def whole_image_inputs(self, x):
        """What every tile of ``x`` needs from the whole image (keyword arguments of :meth:`forward`)."""
        return self.illum.whole_image_inputs(x)

    def exposure_stats(self, x):
        """Whole-image statistics the illumination level uses, (N, IllumNet.NUM_STATS)."""
        return self.illum.exposure_stats(x)

    def forward(self, x, return_intermediates=False, exposure_stats=None, exposure_gain=None):
        lit, illum = self.illum(x, exposure_stats, exposure_gain)
        out = self.sr(lit, illum)
        return {'sr': out, 'lit': lit, 'illum': illum} if return_intermediates else out
