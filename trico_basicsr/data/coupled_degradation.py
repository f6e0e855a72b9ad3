"""Coupled ultra-dark + low-resolution degradation, simulated in linear light.

Pipeline for a normal-light sRGB image ``hr`` (float32 RGB HWC in [0, 1]) and scale ``s``:

1. linearise: ``lin = srgb_to_linear(hr)``;
2. optics (optional): Gaussian blur of ``blur_sigma`` HR pixels;
3. sensor sampling: ``lin_lr = downsample(lin, s)`` with the drawn ``downsampler`` (BasicSR's
   MATLAB-compatible bicubic by default; area, bilinear, blur-then-decimate, Lanczos);
4. darkening: ``dark = exposure * lin_lr ** gamma`` (``gamma >= 1`` crushes shadows further); pixels
   brighter than ``highlight_threshold`` (light sources) keep their brightness; ``wb_gains`` tint it;
5. shot + read noise (Poisson-Gaussian): ``dark = Poisson(dark * photons) / photons + N(0, read_noise^2)``,
   ``photons`` being photo-electrons at sensor saturation (so variance grows with the signal), plus
   optional row (banding) noise. With ``noise_stage='hr'`` steps 4-5 run at sensor (HR) resolution
   *before* step 3, so downsampling bins the noise as a camera's binning does;
6. the camera's tone curve (``tone_curve``: sRGB, pure gamma 2.2, filmic, S-curve, ACES), clipped to
   [0, 1] and quantised to 8 bits as a camera would store it;
7. lossy compression (optional): JPEG at ``jpeg_quality``, or another codec of ``codecs`` (WebP at
   ``webp_quality``).

Night scenes (``lowkey_prob``): before any of this, the *target* itself can be turned into a low-key
scene -- linear light times a smooth ramp that falls to ``lowkey_level`` over part of the frame (an
unlit sky or background) -- so the model learns that a region much darker than the rest of the input
is dark content to keep dark, not missing light to lift (black night skies stay black).

The original presets (``clean``, ``dark``, ``ultra_dark``, ``extreme``) use bicubic, noise after
downsampling and the sRGB curve, and draw exactly as before, so their pairs are unchanged.
``camera_mix`` is the broad training mix; the ``heldout_*`` families are for validation and reporting
only and each uses a component the training mix never does (see :data:`HELDOUT_FAMILIES`). The
``upper_*`` families are for the upper level only (the data that tunes the hyper-variables): apart
from the training mix and from the reporting families (see :data:`UPPER_FAMILIES`).

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
        jpeg_prob: Probability of lossy compression, by a codec drawn from ``codecs``.
        codecs: Lossy codecs to draw from: 'jpeg' (at ``jpeg_quality``) and/or 'webp' (at ``webp_quality``).
        webp_quality: WebP quality (integers, OpenCV's 1-100 scale).
        gamma_prob: Probability of the extra tone exponent; otherwise gamma is 1 (exposure only).
        tone_curves: Camera tone curves to draw from (see :data:`TONE_CURVES`).
        downsamplers: Downsampling methods to draw from (see :func:`downsample`).
        noise_stages: 'lr' (noise after downsampling) and/or 'hr' (at sensor resolution, then binned).
        wb_shift: Largest white-balance error, as a log-gain of red and blue relative to green.
        highlight_prob: Probability that pixels above a linear-light threshold drawn from
            ``highlight_threshold`` keep their brightness (light sources and specular highlights).
        row_noise: Standard deviation of per-row (banding) read noise, linear units of full scale.
        lowkey_prob: Probability that the target becomes a night scene (see :func:`lowkey_scene`).
        lowkey_level: Linear-light level of its unlit part, relative to the daylight target, log-uniform.
    """
    exposure: tuple = (1.0, 1.0)
    gamma: tuple = (1.0, 1.0)
    photons: tuple = None
    read_noise: tuple = (0.0, 0.0)
    blur_sigma: tuple = (0.4, 1.2)
    blur_prob: float = 0.0
    jpeg_quality: tuple = (60, 95)
    jpeg_prob: float = 0.0
    codecs: tuple = ('jpeg',)
    webp_quality: tuple = (20, 80)
    gamma_prob: float = 1.0
    tone_curves: tuple = ('srgb',)
    downsamplers: tuple = ('bicubic',)
    noise_stages: tuple = ('lr',)
    wb_shift: float = 0.0
    highlight_prob: float = 0.0
    highlight_threshold: tuple = (0.6, 0.9)
    row_noise: tuple = (0.0, 0.0)
    lowkey_prob: float = 0.0
    lowkey_level: tuple = (0.02, 0.2)

    @property
    def extended(self):
        """True when the preset uses a component beyond the original presets' (then 7 more draws)."""
        base = PresetRanges()
        return any(getattr(self, name) != getattr(base, name) for name in EXTENDED_FIELDS)


EXTENDED_FIELDS = ('gamma_prob', 'tone_curves', 'downsamplers', 'noise_stages', 'wb_shift', 'highlight_prob',
                   'highlight_threshold', 'row_noise')

# The broad training mix and the upper-level family; PRESETS derives variants of each.
_CAMERA_MIX = PresetRanges(
    exposure=(0.01, 0.3), gamma=(1.2, 2.5), gamma_prob=0.5, photons=(200, 20000), read_noise=(0.0005, 0.004),
    blur_prob=0.2, jpeg_quality=(60, 95), jpeg_prob=0.3, tone_curves=('srgb', 'gamma22', 'filmic', 'scurve'),
    downsamplers=('bicubic', 'area', 'bilinear', 'blur_decimate'), noise_stages=('lr', 'hr'), wb_shift=0.15,
    highlight_prob=0.3)
_UPPER_REINHARD_SKIP = PresetRanges(
    exposure=(0.015, 0.25), gamma=(1.2, 2.0), gamma_prob=0.5, photons=(300, 10000), read_noise=(0.0005, 0.003),
    tone_curves=('reinhard',), downsamplers=('nearest',), noise_stages=('lr', 'hr'), wb_shift=0.1)

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
    # The broad training mix: exposures 0.01-0.3 in linear light, half of them with no extra tone curve,
    # four camera curves, four downsamplers, noise before or after downsampling down to 200 electrons,
    # white-balance casts, light sources that stay bright, mild blur and JPEG.
    'camera_mix': _CAMERA_MIX,
    # camera_mix with exposure only, never an extra tone curve: underexposure as a camera makes it (light
    # scaled in linear light, then the camera's curve), which camera_mix draws only half of the time.
    'camera_linear': dataclasses.replace(_CAMERA_MIX, gamma_prob=0.0),
    # camera_mix with a second codec: WebP at quality 15-60 (messaging apps, web galleries) as often as its
    # JPEG 60-95, so the model meets heavy compression of another kind (never heavy JPEG: a held-out family has it).
    # camera_mix on night scenes: every target has an unlit part (sky, background) at 2-20 % of its
    # daylight level, which the model must keep dark (lowkey_scene).
    'camera_night': dataclasses.replace(_CAMERA_MIX, lowkey_prob=1.0),
    # Never in training. An ACES filmic camera curve and Lanczos resampling, neither of which the training
    # mix uses; exposure only (no extra tone curve), noise at sensor resolution, mild colour casts.
    'heldout_aces_lanczos': PresetRanges(
        exposure=(0.02, 0.2), photons=(300, 5000), read_noise=(0.001, 0.003), tone_curves=('aces',),
        downsamplers=('lanczos',), noise_stages=('hr',), wb_shift=0.1),
    # Never in training. Row (banding) read noise and heavy JPEG (quality 35-55, below the mix's 60-95),
    # on a linear-light exposure with area downsampling and the sRGB curve: a cheap phone at night.
    'heldout_banding_jpeg': PresetRanges(
        exposure=(0.02, 0.15), photons=(500, 5000), read_noise=(0.0005, 0.002), row_noise=(0.0005, 0.0015),
        jpeg_quality=(35, 55), jpeg_prob=1.0, tone_curves=('srgb',), downsamplers=('area',)),
    # Upper level only: a global Reinhard tone map (phone HDR pipelines) and line-skipping readout
    # ('nearest': every s-th pixel, no antialiasing), neither in camera_mix nor in a reporting family;
    # exposure only or with a mild extra curve, noise at either stage, colour casts.
    'upper_reinhard_skip': _UPPER_REINHARD_SKIP,
    # The pipeline a user reported (linear-light exposure ~0.04, no extra curve, Poisson-Gaussian noise,
    # area downsampling). Its components are all in camera_mix, so it is a check, not a held-out family.
    'linear_area': PresetRanges(
        exposure=(0.03, 0.06), photons=(1000, 5000), read_noise=(0.0005, 0.002), downsamplers=('area',)),
}

#: Families kept out of every training mix: model selection and reported generalisation use them.
HELDOUT_FAMILIES = ('heldout_aces_lanczos', 'heldout_banding_jpeg')
#: Families for the upper level's data only: never in the lower/middle levels' training mix, never reported.
UPPER_FAMILIES = ('upper_reinhard_skip',)


@dataclasses.dataclass(frozen=True)
class DegradationParams:
    """One drawn parameter set (see :class:`PresetRanges`); 0 disables blur, noise, highlights or JPEG."""
    exposure: float
    gamma: float
    photons: float
    read_noise: float
    blur_sigma: float
    jpeg_quality: int  # quality of the lossy codec, 0 = no compression
    tone_curve: str = 'srgb'
    downsampler: str = 'bicubic'
    noise_stage: str = 'lr'
    wb_gains: tuple = (1.0, 1.0, 1.0)
    highlight_threshold: float = 0.0
    row_noise: float = 0.0
    # (level, angle in radians, offset, width) of lowkey_scene; level 0 = daylight target. Fixed length,
    # so samples of a mixed batch collate.
    lowkey: tuple = (0.0, 0.0, 0.0, 0.0)
    codec: str = 'jpeg'

    def to_dict(self):
        return dataclasses.asdict(self)


def get_preset(name, overrides=None, training=False, role='lower'):
    """The named preset, with ``overrides`` (a dict of :class:`PresetRanges` fields) applied.

    ``training=True`` refuses the held-out families, so they cannot leak into a training mix, and, for
    the lower levels' data (``role='lower'``), the upper-level families, which only the upper level's
    data (``role='upper'``) may use.
    """
    trainable = [n for n in PRESETS if n not in HELDOUT_FAMILIES + UPPER_FAMILIES]
    if name in HELDOUT_FAMILIES and training:
        raise ValueError(f"preset '{name}' is a held-out family, kept for validation and reporting: "
                         f"train on {', '.join(trainable)}")
    if name in UPPER_FAMILIES and training and role != 'upper':
        raise ValueError(f"preset '{name}' is an upper-level family: it degrades only the data that tunes the "
                         f"hyper-variables (train.pgr.upper_data.preset); train on {', '.join(trainable)}")
    if name not in PRESETS:
        raise ValueError(f"preset '{name}' is unknown; choose one of {', '.join(PRESETS)}")
    preset = PRESETS[name]
    if overrides:
        valid = {field.name for field in dataclasses.fields(PresetRanges)}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise KeyError(f"degradation: unknown option(s) {', '.join(unknown)}. "
                           f"Valid keys: {', '.join(sorted(valid))}.")
        changes = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
        preset = dataclasses.replace(preset, **changes)
    unknown_codecs = sorted(set(preset.codecs) - set(CODECS))
    if unknown_codecs:
        raise ValueError(f"degradation.codecs of preset '{name}': unknown codec(s) {', '.join(unknown_codecs)}; "
                         f"choose from {', '.join(CODECS)}")
    return preset


def _between(u, bounds, log=False):
    """Map a uniform draw ``u`` in [0, 1) onto ``bounds``, linearly or log-uniformly."""
    low, high = (math.log(bounds[0]), math.log(bounds[1])) if log else bounds
    value = low + u * (high - low)
    return float(math.exp(value) if log else value)


def _pick(u, choices):
    return choices[min(int(u * len(choices)), len(choices) - 1)]


def _extended_params(preset, rng):
    """The draws of the components beyond the original presets (7 uniform draws, always all of them)."""
    u = rng.random(7)
    red, blue = (np.exp(preset.wb_shift * (2 * u[3:5] - 1))).tolist()
    return {'tone_curve': _pick(u[0], preset.tone_curves), 'downsampler': _pick(u[1], preset.downsamplers),
            'noise_stage': _pick(u[2], preset.noise_stages), 'wb_gains': (float(red), 1.0, float(blue)),
            'highlight_threshold': _between(u[5] / max(preset.highlight_prob, 1e-12), preset.highlight_threshold)
            if u[5] < preset.highlight_prob else 0.0,
            'row_noise': _between(u[6], preset.row_noise)}


def _lowkey_params(preset, rng):
    """The night-scene draws (4 uniform draws, only for a preset with ``lowkey_prob > 0``)."""
    u = rng.random(4)
    if u[0] >= preset.lowkey_prob:
        return (0.0, 0.0, 0.0, 0.0)
    # u[0] / p is uniform on [0, 1) again given u[0] < p, so it doubles as the level's draw
    return (_between(u[0] / preset.lowkey_prob, preset.lowkey_level, log=True), float(2 * math.pi * u[1]),
            float(0.6 * u[2] - 0.3), float(0.1 + 0.5 * u[3]))


def _compression_params(preset, u_quality, u_apply):
    """The codec and its quality from two uniform draws (no draw of their own, so codecs shift no noise).

    Compression applies when ``u_apply < jpeg_prob``; ``u_apply / jpeg_prob`` is then uniform on [0, 1)
    again and picks the codec, so a preset with the default ``codecs=('jpeg',)`` draws as it always did.
    """
    if u_apply >= preset.jpeg_prob:
        return {'jpeg_quality': 0}
    codec = _pick(u_apply / preset.jpeg_prob, preset.codecs)
    low, high = preset.webp_quality if codec == 'webp' else preset.jpeg_quality
    return {'jpeg_quality': int(low + min(int(u_quality * (high - low + 1)), high - low)), 'codec': codec}


def sample_params(preset, rng):
    """Draw a :class:`DegradationParams` from ``preset`` with generator ``rng``.

    Always consumes the same 8 uniform draws (15 for an extended preset, 4 more with night scenes),
    so enabling blur or JPEG does not shift the noise, and the original presets draw exactly what
    they always drew.
    """
    u = rng.random(8)
    compression = _compression_params(preset, u[6], u[7])
    extended = _extended_params(preset, rng) if preset.extended else {}
    if preset.lowkey_prob > 0:
        extended['lowkey'] = _lowkey_params(preset, rng)
    gamma = _between(u[1], preset.gamma)
    if preset.gamma_prob < 1.0 and u[1] >= preset.gamma_prob:
        gamma = 1.0
    elif preset.gamma_prob < 1.0:
        gamma = _between(u[1] / preset.gamma_prob, preset.gamma)
    return DegradationParams(
        exposure=_between(u[0], preset.exposure, log=True),
        gamma=gamma,
        photons=_between(u[2], preset.photons, log=True) if preset.photons else 0.0,
        read_noise=_between(u[3], preset.read_noise),
        blur_sigma=_between(u[4], preset.blur_sigma) if u[5] < preset.blur_prob else 0.0,
        **compression,
        **extended,
    )


def srgb_to_linear(img):
    """sRGB-encoded values in [0, 1] -> linear light (IEC 61966-2-1)."""
    img = np.clip(img, 0.0, 1.0)
    return np.where(img <= 0.04045, img / 12.92, ((img + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(lin):
    """Linear light in [0, 1] -> sRGB-encoded values (IEC 61966-2-1)."""
    lin = np.clip(lin, 0.0, 1.0)
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055).astype(np.float32)


def _hable(x):
    """John Hable's filmic curve (Uncharted 2), linear light -> display light, unnormalised."""
    a, b, c, d, e, f = 0.15, 0.50, 0.10, 0.20, 0.02, 0.30
    return (x * (a * x + c * b) + d * e) / (x * (a * x + b) + d * f) - e / f


def _aces(x):
    """Narkowicz's fit of the ACES filmic curve, linear light -> display light in [0, 1]."""
    return np.clip(x * (2.51 * x + 0.03) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0)


def _reinhard(x, white):
    """Reinhard's global operator with a white point: ``white`` maps to 1."""
    return np.clip(x * (1 + x / white**2) / (1 + x), 0.0, 1.0)


def _smoothstep(x):
    return x * x * (3 - 2 * x)


#: Camera tone curves: linear light in [0, 1] -> encoded values in [0, 1].
TONE_CURVES = {
    'srgb': linear_to_srgb,
    'gamma22': lambda lin: np.clip(lin, 0.0, 1.0) ** (1 / 2.2),
    # filmic shoulder (exposure bias 2, white point 11.2), then sRGB encoding
    'filmic': lambda lin: linear_to_srgb(_hable(2.0 * np.clip(lin, 0.0, 1.0)) / _hable(11.2)),
    # sRGB with a contrast S-curve on top, as camera "vivid" styles do
    'scurve': lambda lin: 0.6 * linear_to_srgb(lin) + 0.4 * _smoothstep(linear_to_srgb(lin)),
    # held out of training: ACES filmic (exposure bias 0.8), then sRGB encoding
    'aces': lambda lin: linear_to_srgb(_aces(0.8 * np.clip(lin, 0.0, 1.0))),
    # upper level only: global Reinhard (x (1 + x / 16) / (1 + x), white point 4) of 4x the light, then sRGB
    'reinhard': lambda lin: linear_to_srgb(_reinhard(4.0 * np.clip(lin, 0.0, 1.0), white=4.0)),
}

_CV2_RESAMPLERS = {'area': cv2.INTER_AREA, 'bilinear': cv2.INTER_LINEAR, 'lanczos': cv2.INTER_LANCZOS4}
DOWNSAMPLERS = ('bicubic', 'area', 'bilinear', 'blur_decimate', 'lanczos', 'nearest')


def downsample(img, scale, method='bicubic'):
    """Downsample float32 HWC ``img`` by an integer ``scale``, clipped to [0, 1].

    ``bicubic``: MATLAB-compatible, antialiased (BasicSR's ``imresize``); ``area``: box average (what
    binning does); ``bilinear`` and ``lanczos``: OpenCV's, not antialiased (aliasing, as cheap scalers
    give); ``blur_decimate``: Gaussian blur of sigma ``0.5 * scale``, then every ``scale``-th pixel;
    ``nearest``: every ``scale``-th pixel with no filtering (line-skipping readout: full aliasing).
    """
    if scale == 1:
        return img.astype(np.float32)
    img = np.ascontiguousarray(img, dtype=np.float32)
    if method == 'bicubic':
        return np.clip(imresize(img, 1.0 / scale), 0.0, 1.0)
    h, w = img.shape[0] // scale, img.shape[1] // scale
    if method == 'nearest':
        return np.ascontiguousarray(np.clip(img[scale // 2::scale, scale // 2::scale][:h, :w], 0.0, 1.0))
    if method == 'blur_decimate':
        blurred = cv2.GaussianBlur(img, (0, 0), 0.5 * scale, borderType=cv2.BORDER_REFLECT)
        return np.clip(blurred[scale // 2::scale, scale // 2::scale][:h, :w], 0.0, 1.0)
    if method not in _CV2_RESAMPLERS:
        raise ValueError(f"downsampler '{method}' is unknown; choose one of {', '.join(DOWNSAMPLERS)}")
    return np.clip(cv2.resize(img, (w, h), interpolation=_CV2_RESAMPLERS[method]), 0.0, 1.0)


def mod_crop(img, scale, name=None):
    """Crop the bottom/right so both sides are multiples of ``scale``.

    Raises:
        ValueError: A side is shorter than ``scale`` (nothing would be left); the message names ``name``.
    """
    h, w = img.shape[:2]
    if h < scale or w < scale:
        raise ValueError(f"{name or 'image'}: {h}x{w} pixels is smaller than the scale {scale}: no low-resolution "
                         'pixel can be made from it')
    return img[:h - h % scale, :w - w % scale]


def add_sensor_noise(lin, photons, read_noise, rng, row_noise=0.0):
    """Poisson shot noise (``photons`` electrons at full scale) plus Gaussian read noise, in linear light.

    ``row_noise`` adds one Gaussian offset per row and channel (banding of cheap sensors).
    """
    if photons > 0:
        lin = rng.poisson(np.clip(lin, 0.0, None) * photons).astype(np.float32) / np.float32(photons)
    if read_noise > 0:
        lin = lin + rng.normal(0.0, read_noise, size=lin.shape).astype(np.float32)
    if row_noise > 0:
        lin = lin + rng.normal(0.0, row_noise, size=(lin.shape[0], 1, lin.shape[2])).astype(np.float32)
    return np.clip(lin, 0.0, 1.0)


def darken(lin, params):
    """Exposure and extra tone exponent in linear light; light sources above the threshold keep their level.

    ``highlight_threshold`` t > 0: a pixel whose brightest channel exceeds t blends towards its original
    brightness (fully at 1), so lamps and specular highlights stay bright and clip as in night photos.
    """
    dark = params.exposure * lin ** params.gamma
    if params.highlight_threshold > 0:
        t = params.highlight_threshold
        keep = np.clip((lin.max(axis=2, keepdims=True) - t) / (1.0 - t), 0.0, 1.0)
        dark = dark * (1 - keep) + lin * keep
    if tuple(params.wb_gains) != (1.0, 1.0, 1.0):
        dark = dark * np.asarray(params.wb_gains, np.float32)
    return np.clip(dark, 0.0, 1.0).astype(np.float32)


def lowkey_scene(hr, lowkey):
    """Turn a daylight target into a night scene: part of the frame falls smoothly to a low light level.

    Args:
        hr (ndarray): float32 RGB HWC sRGB image in [0, 1].
        lowkey (tuple): ``(level, angle, offset, width)``: linear light is multiplied by a ramp from 1
            down to ``level`` along direction ``angle`` (radians; image coordinates in [-0.5, 0.5]),
            centred ``offset`` from the middle and ``width`` wide (smoothstep). ``level == 0`` returns
            ``hr`` unchanged.

    Returns:
        ndarray: float32 RGB HWC sRGB image in [0, 1], the same size.
    """
    level, angle, offset, width = lowkey
    if level <= 0:
        return hr
    h, w = hr.shape[:2]
    ys = (np.arange(h, dtype=np.float32) + 0.5) / h - 0.5
    xs = (np.arange(w, dtype=np.float32) + 0.5) / w - 0.5
    along = math.cos(angle) * xs[None, :] + math.sin(angle) * ys[:, None]
    lit = _smoothstep(np.clip((along - offset) / width + 0.5, 0.0, 1.0))
    gain = (level + (1.0 - level) * lit)[..., None].astype(np.float32)
    return linear_to_srgb(srgb_to_linear(hr) * gain)


#: Lossy codecs: name -> (file extension, OpenCV's quality flag).
CODECS = {'jpeg': ('.jpg', cv2.IMWRITE_JPEG_QUALITY), 'webp': ('.webp', cv2.IMWRITE_WEBP_QUALITY)}


def codec_roundtrip(img, quality, codec='jpeg'):
    """Encode and decode an RGB float image with ``codec`` (JPEG or WebP) at ``quality`` (OpenCV, deterministic)."""
    if codec not in CODECS:
        raise ValueError(f"codec '{codec}' is unknown; choose one of {', '.join(CODECS)}")
    extension, quality_flag = CODECS[codec]
    bgr = cv2.cvtColor(np.clip(np.rint(img * 255), 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(extension, bgr, [int(quality_flag), int(quality)])
    if not ok:
        raise RuntimeError(f'{codec} encoding failed')
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
    if params.noise_stage == 'hr':  # noise at sensor resolution, then binned by the downsampling
        lin = add_sensor_noise(darken(lin, params), params.photons, params.read_noise, rng, params.row_noise)
        lin = downsample(lin, scale, params.downsampler)
    else:
        lin = darken(downsample(lin, scale, params.downsampler), params)
        lin = add_sensor_noise(lin, params.photons, params.read_noise, rng, params.row_noise)
    lq = np.rint(TONE_CURVES[params.tone_curve](lin) * 255.0) / 255.0
    if params.jpeg_quality:
        lq = codec_roundtrip(lq, params.jpeg_quality, params.codec)
    return lq.astype(np.float32)


def make_pair(hr, scale, preset, rng):
    """Draw parameters and degrade: returns ``(gt, lq, gt_lr, params)``.

    ``gt`` is ``hr`` mod-cropped to the scale; ``gt_lr`` is its normally lit bicubic downsampling
    (the illumination level's target); ``lq`` is the dark low-resolution input.
    """
    params = sample_params(preset, rng)
    gt = lowkey_scene(mod_crop(hr, scale), params.lowkey)
    # (gt_lr stays bicubic: it is the illumination level's target, not a camera's output)
    lq = degrade(gt, scale, params, rng)
    return gt, lq, downsample(gt, scale), params
