"""Coupled darkening written in torch and differentiable in its parameters (reparameterised synthesis).

The hypergradient of TriCo's upper level can only reach a parameter of the training data if the data is a
differentiable function of it. This module re-darkens normal-light targets as
:func:`trico_basicsr.data.coupled_degradation.degrade` does for the camera presets (linear light, optional
Gaussian blur, area downsampling, exposure, shot and read noise before and/or after binning, sRGB encoding,
8-bit quantisation), with every continuous choice a tensor: randomness enters only through ``draws``
(uniform and normal numbers drawn once per batch), so the same draws at other parameters give the same
images moved smoothly, and ``d image / d parameter`` exists.

Parameters (``PARAMETERS``; all in natural-log or logit units so that any real value is valid):

================= ========================================================= ==============================
name              meaning                                                   camera_mix equivalent
================= ========================================================= ==============================
log_exposure      centre of the log linear-light exposure                   ln 0.055 (0.01 .. 0.3)
exposure_spread   half-width of the per-image log exposure: ``softplus``     1.7 (log units)
log_photons       log electrons at full scale (shot noise); per-image +-1.15 ln 2000 (200 .. 20000)
log_read_noise    log read-noise std, linear units; per-image +-1           ln 0.0014 (0.0005 .. 0.004)
hr_noise          logit of the share of the noise variance added before       0 (an even split; camera_mix
                  binning (at sensor resolution)                            picks one stage per image)
log_blur          log Gaussian blur sigma, in HR pixels                      ln 0.5
================= ========================================================= ==============================

Not differentiable, and so not here: JPEG/WebP, the choice of tone curve and of downsampler. Shot noise is
the Gaussian approximation of Poisson noise (variance ``x / photons``), exact enough above a few electrons.
"""
import math

import torch
import torch.nn.functional as F

PARAMETERS = ('log_exposure', 'exposure_spread', 'log_photons', 'log_read_noise', 'hr_noise', 'log_blur')
DEFAULTS = {'log_exposure': math.log(0.055), 'exposure_spread': 1.7, 'log_photons': math.log(2000.0),
            'log_read_noise': math.log(0.0014), 'hr_noise': 0.0, 'log_blur': math.log(0.5)}
PHOTON_JITTER, READ_NOISE_JITTER = 1.15, 1.0  # per-image log half-widths around the learned centres
MIN_BLUR = 0.05  # HR pixels: below this the kernel is a delta and sigma has no gradient


def check_parameters(values, where='train.pgr.darkening.parameters'):
    """Raise ``ValueError`` naming ``where`` for an unknown parameter name or a non-finite value."""
    unknown = sorted(set(values) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"{where}: unknown darkening parameter(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(PARAMETERS)}")
    for name, value in values.items():
        if not math.isfinite(float(value)):
            raise ValueError(f'{where}.{name}: {value} is not a finite number')


def full_parameters(values):
    """``{name: tensor}`` for every parameter: ``values`` (tensors or numbers) over :data:`DEFAULTS`."""
    reference = next((v for v in values.values() if torch.is_tensor(v)), None)
    out = {}
    for name in PARAMETERS:
        value = values.get(name, DEFAULTS[name])
        out[name] = value if torch.is_tensor(value) else torch.tensor(float(value), dtype=torch.float32,
                                                                      device=None if reference is None
                                                                      else reference.device)
    return out


def draw(num_images, hr_size, scale, generator=None, device='cpu'):
    """The random numbers of one batch: ``{'u_exposure', 'u_photons', 'u_read'}`` (N, 1, 1, 1) uniform in
    [-1, 1], ``'hr_noise'`` (N, 3, H, W) and ``'lr_noise'`` (N, 3, H/scale, W/scale) standard normal."""
    h, w = hr_size
    if h % scale or w % scale:
        raise ValueError(f'HR size {h}x{w} is not a multiple of scale {scale}')

    def uniform():
        return torch.rand(num_images, 1, 1, 1, generator=generator) * 2 - 1

    draws = {'u_exposure': uniform(), 'u_photons': uniform(), 'u_read': uniform(),
             'hr_noise': torch.randn(num_images, 3, h, w, generator=generator),
             'lr_noise': torch.randn(num_images, 3, h // scale, w // scale, generator=generator)}
    return {key: value.to(device) for key, value in draws.items()}


def srgb_to_linear(img):
    """sRGB in [0, 1] -> linear light (IEC 61966-2-1); the power is taken of clamped values so that the
    branch ``torch.where`` discards has no infinite gradient (which would turn into NaN)."""
    img = img.clamp(0.0, 1.0)
    return torch.where(img <= 0.04045, img / 12.92, ((img.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(lin):
    """Linear light in [0, 1] -> sRGB (IEC 61966-2-1), with the same care for the discarded branch."""
    lin = lin.clamp(0.0, 1.0)
    return torch.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin.clamp(min=0.0031308) ** (1 / 2.4) - 0.055)


def gaussian_blur(img, sigma, radius):
    """Separable Gaussian blur of (N, C, H, W) with a tensor ``sigma`` (pixels) and a fixed ``radius``,
    reflect-padded; differentiable in ``sigma``."""
    offsets = torch.arange(-radius, radius + 1, dtype=img.dtype, device=img.device)
    kernel = torch.exp(-0.5 * (offsets / sigma.clamp(min=MIN_BLUR)) ** 2)
    kernel = kernel / kernel.sum()
    channels = img.shape[1]
    padded = F.pad(img, (radius, radius, radius, radius), mode='reflect')
    out = F.conv2d(padded, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def quantise(img):
    """8-bit levels forward, identity backward (a straight-through estimator: rounding has no gradient)."""
    return img + (torch.round(img * 255.0) / 255.0 - img).detach()


def darken(gt, parameters, draws, scale):
    """Dark low-resolution inputs for normal-light targets.

    Args:
        gt (Tensor): (N, 3, H, W) sRGB in [0, 1], H and W multiples of ``scale``.
        parameters (dict[str, Tensor | float]): Any of :data:`PARAMETERS` (scalars); the rest take
            :data:`DEFAULTS`.
        draws (dict[str, Tensor]): :func:`draw` for this batch (same N, H, W and scale).
        scale (int): Downsampling factor.

    Returns:
        Tensor: (N, 3, H/scale, W/scale) sRGB in [0, 1] on 8-bit levels, differentiable in ``parameters``
        (through a straight-through quantiser).
    """
    p = full_parameters(parameters)
    lin = srgb_to_linear(gt)
    blur_sigma = torch.exp(p['log_blur'])
    lin = gaussian_blur(lin, blur_sigma, radius=max(2, 2 * scale))
    log_exposure = p['log_exposure'] + F.softplus(p['exposure_spread']) * draws['u_exposure']
    photons = torch.exp(p['log_photons'] + PHOTON_JITTER * draws['u_photons'])
    read_noise = torch.exp(p['log_read_noise'] + READ_NOISE_JITTER * draws['u_read'])
    hr_share = torch.sigmoid(p['hr_noise'])
    exposure = torch.exp(log_exposure)
    # Noise before binning: at sensor resolution, then averaged over scale x scale pixels by the downsampling
    # (its std falls by the scale); noise after binning: at the output resolution. The shares split the variance.
    dark_hr = lin * exposure
    hr_std = torch.sqrt(dark_hr.clamp(min=0) / photons + read_noise ** 2)
    noisy_hr = dark_hr + torch.sqrt(hr_share) * hr_std * draws['hr_noise']
    dark_lr = F.avg_pool2d(noisy_hr, scale)
    lr_std = torch.sqrt(F.avg_pool2d(dark_hr, scale).clamp(min=0) / photons + read_noise ** 2)
    noisy_lr = dark_lr + torch.sqrt(1 - hr_share) * lr_std * draws['lr_noise']
    return quantise(linear_to_srgb(noisy_lr))


class Resynthesis:
    """A batch's inputs as a function of the darkening parameters, for the objectives of PGR.

    Samples with ``mask`` True (those the dataset darkened itself) are darkened again from ``gt`` with the
    given values and this batch's fixed ``draws``; the others (real pairs) keep their ``lq``.

    Args:
        gt (Tensor): (N, 3, H, W) targets in [0, 1]. lq (Tensor): (N, 3, H/scale, W/scale) dataset inputs.
        mask (Tensor): (N,) bool. names (list[str]): The order of the values :meth:`__call__` receives.
        scale (int): Downsampling factor. generator (torch.Generator | None): Source of the draws.
        fixed (dict[str, float] | None): Values used when :meth:`__call__` receives None (parameters
            that are not learned).
    """

    def __init__(self, gt, lq, mask, names, scale, generator=None, fixed=None):
        self.gt, self.lq, self.names, self.scale = gt, lq, list(names), scale
        self.fixed = dict(fixed or {})
        self.mask = mask.to(device=lq.device, dtype=torch.bool).view(-1, 1, 1, 1)
        self.draws = draw(gt.shape[0], gt.shape[-2:], scale, generator, gt.device)

    def __call__(self, values):
        """``values`` (len(names),), or None for the fixed values -> the batch's inputs (N, 3, H/scale, W/scale)."""
        parameters = self.fixed if values is None else dict(zip(self.names, values))
        darkened = darken(self.gt, parameters, self.draws, self.scale).to(self.lq.dtype)
        return torch.where(self.mask, darkened, self.lq)
