"""Middle level: Retinex-style illumination estimation at low resolution."""
import math

import torch
import torch.nn.functional as F
from basicsr.archs.arch_util import ResidualBlockNoBN, default_init_weights, make_layer
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn

from .arch_util import conv3x3, resize_like
from .exposure_anchor import anchor_log_gain, anchor_view, exposure_setting, lit_mean_grey, target_grey


@ARCH_REGISTRY.register()
class IllumNet(nn.Module):
    """Estimate the illumination of a dark image and divide it out (Retinex: image = reflectance x light).

    ``illum = clamp(exp(a * log(prior + 1e-3) + r(x)), min_illum, 1)`` and ``lit = clamp(x / illum, 0, 1)``,
    where ``prior`` is LIME's initial estimate (per-pixel channel maximum, box-averaged over
    ``prior_kernel`` pixels), ``a`` a learned exponent (LIME's gamma) and ``r`` a small CNN with a
    coarse (1/4 resolution) context branch. ``r``'s last layer starts at zero, so an untrained net is
    LIME. Fully convolutional with a bounded receptive field, so tiled inference matches whole-image
    inference for tiles that start at multiples of ``tile_alignment`` pixels.

    With ``global_exposure`` the net also estimates how much light is missing from the whole image:
    :meth:`exposure_stats` summarises the input (quantiles of its log brightness and its log colour
    balance), and a small MLP turns them into a global log-gain per illumination channel plus a bias of
    the CNN's features. A local prior alone divides every region by its own brightness, which flattens
    local contrast and lights every image the same; the global term lets dim scenes stay dim. For tiled
    inference compute the statistics once on the whole image and pass them to every tile.

    Args:
        num_in_ch (int): Input channels. Default: 3.
        num_feat (int): Channels of the CNN. Default: 32.
        num_block (int): Residual blocks of the CNN. Default: 3.
        illum_channels (int): 1 (grey light) or 3 (per-channel light, corrects colour casts). Default: 3.
        min_illum (float): Lower bound of the illumination, i.e. the largest gain is 1/min_illum. Default: 0.01.
        prior_kernel (int): Box size of the LIME prior, in pixels (odd). Default: 5.
        prior_exponent (float): Initial value of ``a``. Default: 0.8.
        learn_prior_exponent (bool): Train ``a``; with False it stays at ``prior_exponent`` (a buffer, so
            checkpoints keep the same key). Default: True.
        global_exposure (bool): Add the global exposure estimate (see above). Default: False.
        exposure (str | float): How bright the lit image is overall. 'model': the net's own estimate (as
            trained); 'auto': anchored by the rule of :mod:`.exposure_anchor` (dark inputs: the net's level
            shrunk toward a standard exposure; well-exposed inputs: left as bright as they are); a number
            in (0, 1): the mean grey level dark inputs are lit to, under the same rule. Default: 'model'.

    ``forward(x, exposure_stats=None, exposure_gain=None)``: x (N, C, H, W) in [0, 1] -> ``(lit, illum)``,
    lit (N, C, H, W) in [0, 1] and illum (N, illum_channels, H, W) in [min_illum, 1]. ``exposure_stats``
    (N, ``NUM_STATS``) and ``exposure_gain`` (N,), from :meth:`whole_image_inputs` of the whole image,
    replace what would be computed from ``x`` (for tiles of an image).
    """

    STAT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
    NUM_STATS = len(STAT_QUANTILES) + 3
    MAX_STAT_PIXELS = 1 << 20  # larger inputs are subsampled on a regular grid for the quantiles

    coarse_stride = 4
    tile_alignment = coarse_stride  # tiles must start on the coarse branch's grid

    def __init__(self, num_in_ch=3, num_feat=32, num_block=3, illum_channels=3, min_illum=0.01, prior_kernel=5,
                 prior_exponent=0.8, global_exposure=False, learn_prior_exponent=True, exposure='model'):
        super().__init__()
        self.set_exposure(exposure)
        if illum_channels not in (1, num_in_ch):
            raise ValueError(f'illum_channels must be 1 or {num_in_ch}, got {illum_channels}')
        if prior_kernel % 2 != 1:
            raise ValueError(f'prior_kernel must be odd, got {prior_kernel}')
        self.min_illum, self.prior_kernel = min_illum, prior_kernel
        exponent = torch.tensor(float(prior_exponent))
        if learn_prior_exponent:
            self.prior_exponent = nn.Parameter(exponent)
        else:  # a fixed strength of the local prior, e.g. a weaker one than training would settle on
            self.register_buffer('prior_exponent', exponent)
        self.conv_first = conv3x3(num_in_ch + 1, num_feat)
        self.body = make_layer(ResidualBlockNoBN, num_block, num_feat=num_feat)
        self.context = nn.Sequential(conv3x3(num_feat, num_feat), nn.LeakyReLU(0.1, True), conv3x3(num_feat, num_feat))
        self.conv_last = conv3x3(num_feat, illum_channels)
        self.lrelu = nn.LeakyReLU(0.1, inplace=True)
        default_init_weights([self.conv_first, self.context], 0.1)
        nn.init.zeros_(self.conv_last.weight)
        nn.init.zeros_(self.conv_last.bias)
        self.global_exposure = None
        if global_exposure:
            hidden = 32
            self.global_exposure = nn.ModuleDict({
                'embed': nn.Sequential(nn.Linear(self.NUM_STATS, hidden), nn.LeakyReLU(0.1, True)),
                'feat_bias': nn.Linear(hidden, num_feat),
                'log_gain': nn.Linear(hidden, illum_channels)})
            for head in ('feat_bias', 'log_gain'):  # start as the purely local net
                nn.init.zeros_(self.global_exposure[head].weight)
                nn.init.zeros_(self.global_exposure[head].bias)

    def set_exposure(self, exposure):
        """Choose how bright the lit image is: 'model', 'auto' or a mean grey level (see the class doc)."""
        self.exposure = exposure_setting(exposure)

    @property
    def uses_global_statistics(self):
        """True when the output depends on the whole image (tiles then need :meth:`whole_image_inputs`)."""
        return self.global_exposure is not None or self.exposure != 'model'

    def whole_image_inputs(self, x):
        """What every tile of ``x`` needs from the whole image: ``{'exposure_stats', 'exposure_gain'}``."""
        inputs = {}
        if self.global_exposure is not None:
            inputs['exposure_stats'] = self.exposure_stats(x)
        if self.exposure != 'model':
            inputs['exposure_gain'] = self.anchor_gain(x, inputs.get('exposure_stats'))
        return inputs

    def anchor_gain(self, x, exposure_stats=None, log_illum=None):
        """The log-gain (N,) the exposure anchor adds to the log illumination of ``x``.

        Measured on :func:`anchor_view` of ``x`` (``x`` itself unless it is large); ``log_illum`` of ``x``
        saves recomputing it when ``x`` is its own view.
        """
        view = anchor_view(x)
        if self.global_exposure is not None and exposure_stats is None:
            exposure_stats = self.exposure_stats(x)
        with torch.no_grad():
            if log_illum is None or view is not x:
                log_illum = self.log_illumination(view, exposure_stats)
            log_illum = log_illum.float()
            view = view.float()
            own = lit_mean_grey(view, log_illum, torch.zeros(view.shape[0], device=view.device), self.min_illum)
            aim = None if self.exposure == 'auto' else self.exposure
            target = target_grey(view.mean(dim=(1, 2, 3)), own, aim)
            return anchor_log_gain(view, log_illum, target, self.min_illum)

    def exposure_stats(self, x):
        """Whole-image brightness statistics, (N, NUM_STATS): quantiles of ``log(max channel)`` and log colour balance.

        Units: natural log of [0, 1] intensities (offset by 1/255 so black stays finite).
        """
        n, _, h, w = x.shape
        step = max(1, int(math.ceil(math.sqrt(h * w / self.MAX_STAT_PIXELS))))
        sub = x[:, :, ::step, ::step].float()
        log_bright = torch.log(sub.amax(dim=1).flatten(1) + 1 / 255)
        quantiles = torch.quantile(log_bright, torch.tensor(self.STAT_QUANTILES, device=x.device), dim=1).t()
        log_means = torch.log(sub.mean(dim=(2, 3)) + 1 / 255)
        balance = log_means - log_means.mean(dim=1, keepdim=True)
        return torch.cat([quantiles, balance], dim=1).to(x.dtype)

    def prior(self, x):
        """LIME's initial illumination: box-averaged channel maximum, (N, 1, H, W)."""
        pad = self.prior_kernel // 2
        brightest = x.amax(dim=1, keepdim=True)
        return F.avg_pool2d(F.pad(brightest, (pad, pad, pad, pad), mode='replicate'), self.prior_kernel, stride=1)

    def log_illumination(self, x, exposure_stats=None):
        """The net's log illumination (N, illum_channels, H, W), before its clamp to at most 0 (light <= 1)."""
        log_prior = torch.log(self.prior(x) + 1e-3)
        feat = self.conv_first(torch.cat([x, log_prior], dim=1))
        global_log_gain = 0
        if self.global_exposure is not None:
            stats = self.exposure_stats(x) if exposure_stats is None else exposure_stats.to(x)
            embedding = self.global_exposure['embed'](stats)
            feat = feat + self.global_exposure['feat_bias'](embedding)[:, :, None, None]
            global_log_gain = self.global_exposure['log_gain'](embedding)[:, :, None, None]
        feat = self.body(self.lrelu(feat))
        coarse = F.avg_pool2d(feat, self.coarse_stride, ceil_mode=True)
        feat = feat + resize_like(self.context(coarse), feat)
        return self.prior_exponent * log_prior + self.conv_last(feat) + global_log_gain

    def forward(self, x, exposure_stats=None, exposure_gain=None):
        if self.global_exposure is not None and exposure_stats is None:
            exposure_stats = self.exposure_stats(x)  # once, for the net and the anchor
        log_illum = self.log_illumination(x, exposure_stats)
        if exposure_gain is None and self.exposure != 'model':
            exposure_gain = self.anchor_gain(x, exposure_stats, log_illum)
        if exposure_gain is not None:
            log_illum = log_illum + exposure_gain.to(log_illum)[:, None, None, None]
        # Clamp the log first: exp of a large log_illum overflows to inf, and the clamp's zero gradient
        # times inf is NaN in backward. Forward values are the same as clamping exp(log_illum) alone.
        illum = torch.exp(log_illum.clamp(max=0.0)).clamp(self.min_illum, 1.0)
        lit = (x / illum).clamp(0.0, 1.0)
        return lit, illum
