"""Any middle-level arch followed by any lower-level arch, as one net with ``.illum`` and ``.sr``."""
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn

from .arch_util import joint_tile_alignment, run_lower_level, split_illumination


@ARCH_REGISTRY.register()
class TwoLevelCascade(nn.Module):
    """Compose two registered archs: ``x -> illum(x) -> sr(.)``, e.g. IllumNet then BasicSR's RRDBNet.

    Args:
        illum (dict): Options of the middle-level arch (``type`` plus its arguments): ``IllumNet``, or any
            image-to-image arch of unit scale (e.g. ``RRDBNet`` with ``scale: 1``).
        sr (dict): Options of the lower-level arch (e.g. ``RRDBNet`` / ``MSRResNet`` with the upscale).
            It receives the illumination map too when it declares ``accepts_illumination``.

    ``forward(x, return_intermediates=False)`` as :class:`TriCoNet`; ``illum`` is None in the
    intermediates when the middle-level arch gives no illumination map.
    """

    def __init__(self, illum, sr):
        super().__init__()
        from basicsr.archs import build_network
        self.illum = build_network(dict(illum))
        self.sr = build_network(dict(sr))
        self.tile_alignment = joint_tile_alignment(self.illum, self.sr)

    @property
    def uses_global_statistics(self):
        """True when the middle level uses the whole image (an IllumNet with ``global_exposure`` or an anchor)."""
        return getattr(self.illum, 'uses_global_statistics', False)

    def exposure_stats(self, x):
        """The middle level's whole-image statistics, for tiles of ``x`` (see :class:`IllumNet`)."""
        return self.illum.exposure_stats(x)

    def whole_image_inputs(self, x):
        """What every tile of ``x`` needs from the whole image (keyword arguments of :meth:`forward`)."""
        return self.illum.whole_image_inputs(x) if self.uses_global_statistics else {}

    def forward(self, x, return_intermediates=False, **whole_image):
        middle = self.illum(x, **whole_image) if whole_image else self.illum(x)
        lit, illum = split_illumination(middle)
        out = run_lower_level(self.sr, lit, illum)
        return {'sr': out, 'lit': lit, 'illum': illum} if return_intermediates else out
