"""Coupled ultra-dark + low-resolution degradation, simulated in linear light.

Pipeline for a normal-light sRGB image ``hr`` (float32 RGB HWC in [0, 1]) and scale ``s``:

1. linearise: ``lin = srgb_to_linear(hr)``;
2. optics (optional): Gaussian blur of ``blur_sigma`` HR pixels;
3. sensor sampling: ``lin_lr = imresize(lin, 1/s)`` with BasicSR's MATLAB-compatible bicubic;
4. darkening: ``dark = exposure * lin_lr ** gamma`` (``gamma >= 1`` crushes shadows further);
5. shot + read noise (Poisson-Gaussian): ``dark = Poisson(dark * photons) / photons + N(0, read_noise^2)``,
   ``photons`` being photo-electrons at sensor saturation (so variance grows with the signal);
6. back to sRGB, clipped to [0, 1] and quantised to 8 bits as a camera would store it;
7. JPEG (optional) at ``jpeg_quality``.

Presets give ranges; :func:`sample_params` draws one parameter set from a generator, so every
random choice is reproducible and :class:`DegradationParams` records what each image got.
"""
import dataclasses
import math

import cv2
import numpy as np
from basicsr.utils.matlab_functions import imresize


@dataclasses.dataclass(frozen=True)
class PresetRanges:
    """Parameter ranges of a preset. Each is ``(low, high)``; draws are uniform unless noted.

    Attributes:
        exposure: Linear-light brightness factor, drawn log-uniformly.
        gamma: Tone exponent applied in linear light (1 = none).
        photons: Photo-electrons at sensor saturation, drawn log-uniformly; None = no noise.
        read_noise: Gaussian read-noise standard deviation, in linear units of full scale.
        blur_sigma: Gaussian blur sigma in HR pixels, applied with probability ``blur_prob``.
        jpeg_quality: JPEG quality (integers), applied with probability ``jpeg_prob``.
    """
    exposure: tuple = (1.0, 1.0)
    gamma: tuple = (1.0, 1.0)
    photons: tuple = None
    read_noise: tuple = (0.0, 0.0)
    blur_sigma: tuple = (0.4, 1.2)
    blur_prob: float = 0.0
    jpeg_quality: tuple = (60, 95)
    jpeg_prob: float = 0.0


PRESETS = {
    # Plain super-resolution: bicubic downsampling only.
    'clean': PresetRanges(),
    # Dim indoor light: ~3-7x darker, mild noise.
    'dark': PresetRanges(exposure=(0.15, 0.4), gamma=(1.0, 1.5), photons=(5000, 20000), read_noise=(0.0005, 0.001)),
    # The TriCo setting: ~10-40x darker mid-tones, crushed shadows, visible shot noise.
    'ultra_dark': PresetRanges(
        exposure=(0.03, 0.15), gamma=(1.5, 2.5), photons=(2000, 10000), read_noise=(0.0005, 0.002)),
    # Near-black captures with heavy noise.
    'extreme': PresetRanges(
        exposure=(0.01, 0.04), gamma=(2.0, 3.0), photons=(500, 2000), read_noise=(0.001, 0.004)),
}


@dataclasses.dataclass(frozen=True)
class DegradationParams:
    """One drawn parameter set (see :class:`PresetRanges`); 0 disables blur, noise or JPEG."""
    exposure: float
    gamma: float
    photons: float
    read_noise: float
    blur_sigma: float
    jpeg_quality: int

    def to_dict(self):
        return dataclasses.asdict(self)


def get_preset(name, overrides=None):
    """The named preset, with ``overrides`` (a dict of :class:`PresetRanges` fields) applied."""
    if name not in PRESETS:
        raise ValueError(f"preset '{name}' is unknown; choose one of {', '.join(PRESETS)}")
    preset = PRESETS[name]
    if overrides:
        valid = {field.name for field in dataclasses.fields(PresetRanges)}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise KeyError(f"degradation: unknown option(s) {', '.join(unknown)}. Valid keys: {', '.join(sorted(valid))}.")
        preset = dataclasses.replace(preset, **{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})
    return preset


def _between(u, bounds, log=False):
    """Map a uniform draw ``u`` in [0, 1) onto ``bounds``, linearly or log-uniformly."""
    low, high = (math.log(bounds[0]), math.log(bounds[1])) if log else bounds
    value = low + u * (high - low)
    return float(math.exp(value) if log else value)


def sample_params(preset, rng):
    """Draw a :class:`DegradationParams` from ``preset`` with generator ``rng``.

    Always consumes the same 8 uniform draws, so enabling blur or JPEG does not shift the noise.
    """
    u = rng.random(8)
    jpeg_low, jpeg_high = preset.jpeg_quality
    return DegradationParams(
        exposure=_between(u[0], preset.exposure, log=True),
        gamma=_between(u[1], preset.gamma),
        photons=_between(u[2], preset.photons, log=True) if preset.photons else 0.0,
        read_noise=_between(u[3], preset.read_noise),
        blur_sigma=_between(u[4], preset.blur_sigma) if u[5] < preset.blur_prob else 0.0,
        jpeg_quality=int(jpeg_low + min(int(u[6] * (jpeg_high - jpeg_low + 1)), jpeg_high - jpeg_low))
        if u[7] < preset.jpeg_prob else 0,
    )


def srgb_to_linear(img):
    """sRGB-encoded values in [0, 1] -> linear light (IEC 61966-2-1)."""
    img = np.clip(img, 0.0, 1.0)
    return np.where(img <= 0.04045, img / 12.92, ((img + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(lin):
    """Linear light in [0, 1] -> sRGB-encoded values (IEC 61966-2-1)."""
    lin = np.clip(lin, 0.0, 1.0)
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055).astype(np.float32)


def downsample(img, scale):
    """MATLAB-compatible bicubic downsampling by an integer ``scale`` (BasicSR's ``imresize``)."""
    if scale == 1:
        return img.astype(np.float32)
    return np.clip(imresize(np.ascontiguousarray(img, dtype=np.float32), 1.0 / scale), 0.0, 1.0)


def mod_crop(img, scale):
    """Crop the bottom/right so both sides are multiples of ``scale``."""
    h, w = img.shape[:2]
    return img[:h - h % scale, :w - w % scale]


def add_sensor_noise(lin, photons, read_noise, rng):
    """Poisson shot noise (``photons`` electrons at full scale) plus Gaussian read noise, in linear light."""
    if photons > 0:
        lin = rng.poisson(np.clip(lin, 0.0, None) * photons).astype(np.float32) / np.float32(photons)
    if read_noise > 0:
        lin = lin + rng.normal(0.0, read_noise, size=lin.shape).astype(np.float32)
    return np.clip(lin, 0.0, 1.0)


def jpeg_roundtrip(img, quality):
    """Encode and decode an RGB float image as JPEG at ``quality`` (OpenCV, deterministic)."""
    bgr = cv2.cvtColor(np.clip(np.rint(img * 255), 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode('.jpg', bgr, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    if not ok:
        raise RuntimeError('JPEG encoding failed')
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def degrade(hr, scale, params, rng):
    """Make the dark low-resolution input for ``hr``.

    Args:
        hr (ndarray): Normal-light image, float32 RGB HWC in [0, 1]; both sides multiples of ``scale``.
        scale (int): Downsampling factor (1, 2 or 4).
        params (DegradationParams): Drawn parameters.
        rng (np.random.Generator): Source of the noise.

    Returns:
        ndarray: float32 RGB HWC in [0, 1] of size (H/scale, W/scale), quantised to 8-bit levels.
    """
    h, w = hr.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f'HR size {h}x{w} is not a multiple of scale {scale} (mod-crop it first)')
    lin = srgb_to_linear(hr)
    if params.blur_sigma > 0:
        lin = cv2.GaussianBlur(lin, (0, 0), params.blur_sigma, borderType=cv2.BORDER_REFLECT)
    lin = downsample(lin, scale)
    lin = params.exposure * lin ** params.gamma
    lin = add_sensor_noise(lin, params.photons, params.read_noise, rng)
    lq = np.rint(linear_to_srgb(lin) * 255.0) / 255.0
    if params.jpeg_quality:
        lq = jpeg_roundtrip(lq, params.jpeg_quality)
    return lq.astype(np.float32)


def make_pair(hr, scale, preset, rng):
    """Draw parameters and degrade: returns ``(gt, lq, gt_lr, params)``.

    ``gt`` is ``hr`` mod-cropped to the scale; ``gt_lr`` is its normally lit bicubic downsampling
    (the illumination level's target); ``lq`` is the dark low-resolution input.
    """
    gt = mod_crop(hr, scale)
    params = sample_params(preset, rng)
    lq = degrade(gt, scale, params, rng)
    return gt, lq, downsample(gt, scale), params
