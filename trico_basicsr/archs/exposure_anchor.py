"""Exposure anchoring: how bright the middle level lights an image, decided by a photographer's rule.

A network's own guess of the missing light is learned from a few hundred scenes and errs both ways; on
real dark/normal pairs it misses the target's brightness more than a constant photographic aim does, and
it brightens photos that were well exposed to begin with. Anchoring keeps the network's local light map
(its shape) and replaces only its global level: one log-gain per image is added to the illumination so
that the brightened image's mean grey level is a chosen target.

The rule (:func:`target_grey`), with ``m`` the input's mean grey level (sRGB, [0, 1]):

- a dark input (``m <= DARK_GREY``) is lit to ``aim``, or with ``aim`` None to the geometric mean of the
  network's own level and :data:`DEFAULT_AIM` (a shrinkage of the network's guess toward a standard
  exposure, better than either alone on real pairs of scenes never trained on);
- an input that is already exposed (``m >= EXPOSED_GREY``) keeps its own level: the middle level then
  divides by (nearly) 1 and the photo comes out as bright as it went in;
- in between, the target moves linearly from the first to the second.

Illumination never exceeds 1 (the middle level only brightens), so the anchor cannot darken an input.
"""
import math

import torch
import torch.nn.functional as F

DEFAULT_AIM = 0.45  # mean sRGB grey level of a standard exposure (global auto-exposure aims here too)
DARK_GREY = 0.25  # at or below: lit to the aim
EXPOSED_GREY = 0.35  # at or above: left at its own level
MAX_ANCHOR_PIXELS = 1 << 18  # larger inputs are area-downsampled to about this many pixels for the anchor
_SEARCH_STEPS = 30  # bisection steps on the log-gain, from [-8, 8]: resolution 16 / 2^30
_LOG_GAIN_RANGE = 8.0


def exposure_setting(exposure):
    """``exposure`` checked and normalised: 'model', 'auto', or a mean grey level in (0, 1) as a float (a number
    or its text). Raises ValueError naming the choices otherwise."""
    if exposure in ('model', 'auto'):
        return exposure
    try:
        value = float(exposure)
    except (TypeError, ValueError):
        value = None
    if value is None or not 0.0 < value < 1.0:
        raise ValueError(f"exposure must be 'model', 'auto' or a mean grey level in (0, 1), got {exposure!r}")
    return value


def target_grey(input_grey, own_grey, aim=None):
    """The mean grey level the brightened image should have.

    Args:
        input_grey (Tensor): (N,) mean grey level of each input, in [0, 1].
        own_grey (Tensor): (N,) mean grey level of the network's own brightened image, in [0, 1].
        aim (float | None): Target of dark inputs; None shrinks the network's own level toward
            :data:`DEFAULT_AIM` (their geometric mean). Default: None.

    Returns:
        Tensor: (N,) target mean grey levels in [0, 1].
    """
    dark_target = torch.sqrt(own_grey.clamp_min(1e-6) * DEFAULT_AIM) if aim is None else torch.full_like(own_grey, aim)
    weight = ((EXPOSED_GREY - input_grey) / (EXPOSED_GREY - DARK_GREY)).clamp(0.0, 1.0)
    return input_grey + (dark_target - input_grey) * weight


def lit_mean_grey(x, log_illum, log_gain, min_illum):
    """Mean grey level (N,) of ``x / illum`` with ``log_gain`` (N,) added to ``log_illum``, as IllumNet lights."""
    illum = torch.exp((log_illum + log_gain[:, None, None, None]).clamp(max=0.0)).clamp(min_illum, 1.0)
    return (x / illum).clamp(0.0, 1.0).mean(dim=(1, 2, 3))


@torch.no_grad()
def anchor_log_gain(x, log_illum, target, min_illum):
    """The log-gain (N,) to add to ``log_illum`` so that the lit image's mean grey level is ``target``.

    The lit mean falls monotonically as the gain grows, so a bisection finds it; where the target is out
    of reach (an input already brighter than it, or darker than the largest gain allows) the gain ends at
    the nearest end of its range, which the illumination's clamps turn into "leave as is" or "brightest".

    Args:
        x (Tensor): (N, C, H, W) input in [0, 1].
        log_illum (Tensor): (N, 1 or C, H, W) the network's log illumination, before the clamp to [.., 0].
        target (Tensor): (N,) target mean grey levels.
        min_illum (float): The illumination's lower bound.
    """
    low = torch.full_like(target, -_LOG_GAIN_RANGE)
    high = torch.full_like(target, _LOG_GAIN_RANGE)
    for _ in range(_SEARCH_STEPS):
        middle = 0.5 * (low + high)
        too_bright = lit_mean_grey(x, log_illum, middle, min_illum) > target
        low = torch.where(too_bright, middle, low)
        high = torch.where(too_bright, high, middle)
    # lit >= x always, so a target at or below the input's own level means "light it by 1": the input exactly
    keep = target <= x.mean(dim=(1, 2, 3))
    return torch.where(keep, torch.full_like(target, _LOG_GAIN_RANGE), 0.5 * (low + high))


def anchor_view(x):
    """``x`` itself, or an area-downsampled copy of about :data:`MAX_ANCHOR_PIXELS` pixels for large inputs.

    The anchor is one number per image: a smaller copy measures it as well and bounds the cost, and tiles
    of an image share the value computed from the whole.
    """
    height, width = x.shape[-2:]
    factor = math.ceil(math.sqrt(height * width / MAX_ANCHOR_PIXELS))
    if factor <= 1:
        return x
    return F.avg_pool2d(x, factor, ceil_mode=True)
