"""Black level: the SR level should not lift the shadows the middle level left dark.

The trained SR level adds a small offset to the darkest pixels, so unlit night skies come out grey
(measured on real night photos: the darkest tenth of the input at 49 grey levels after the SR level,
against 43 for a global auto-exposure). One global map of the output's luminance puts the mean luminance
of the input's darkest tenth back where the middle level lit it, and keeps the image's mean luminance:
``Y' = a (Y - b)``, each pixel's linear RGB scaled by ``Y' / Y`` so its chromaticity is kept (grey stays
grey; the colour noise of a lifted shadow fades with it). Nothing changes where the SR level did not lift.

Images are float RGB NCHW tensors in [0, 1] (sRGB) unless a function says otherwise; luminance is Rec. 709
in linear light.
"""
import dataclasses

import numpy as np
import torch

from trico_basicsr.data.differentiable_darkening import linear_to_srgb, srgb_to_linear

DARK_QUANTILE = 0.1  # "the darkest tenth" of the input's pixels
# Real photos need a = 1.01-1.3. A flat image (its darkest tenth near its mean) would ask for a steep stretch
# that amplifies noise and rounding; the correction is then partial.
MAX_STRETCH = 1.5
LUMINANCE = torch.tensor([0.2126, 0.7152, 0.0722])


def luminance(x):
    """Linear-light luminance (N, 1, H, W) of sRGB ``x`` (N, 3, H, W) in [0, 1]."""
    linear = srgb_to_linear(x.float())
    return (linear * LUMINANCE.to(x.device)[None, :, None, None]).sum(dim=1, keepdim=True)


@dataclasses.dataclass
class BlackLevelReference:
    """What the middle level made of the whole input: the luminance below which an input pixel is among its
    darkest tenth, and the mean linear luminance the middle level gave those pixels."""
    threshold: float
    lit_dark_level: float

    @classmethod
    def measure(cls, lq, lit):
        """From the input ``lq`` and the middle level's output ``lit``, both (1, 3, h, w) in [0, 1]."""
        y = luminance(lq).flatten()
        threshold = float(torch.quantile(y, DARK_QUANTILE))
        dark = y <= threshold
        return cls(threshold, float(luminance(lit).flatten()[dark].mean()))


class BlackLevelMap:
    """Accumulates the output's statistics (tile by tile if need be), then maps the output.

    Args:
        reference (BlackLevelReference): From the whole input.
        scale (int): Output pixels per input pixel along each side.
    """

    def __init__(self, reference, scale):
        self.reference, self.scale = reference, int(scale)
        self.dark_sum = self.dark_count = self.total_sum = self.total_count = 0.0

    def add(self, lq, out):
        """Add an output region ``out`` (1, 3, s*h, s*w) and the input region ``lq`` (1, 3, h, w) it came from."""
        dark = (luminance(lq) <= self.reference.threshold).float()
        dark = dark.repeat_interleave(self.scale, dim=2).repeat_interleave(self.scale, dim=3)
        y = luminance(out)
        self.dark_sum += float((y * dark).sum())
        self.dark_count += float(dark.sum())
        self.total_sum += float(y.sum())
        self.total_count += float(y.numel())

    def coefficients(self):
        """``(a, b)`` of ``Y' = a (Y - b)``, or None where the output's shadows are not lifted."""
        if not self.dark_count or not self.total_count:
            return None
        dark_out, mean = self.dark_sum / self.dark_count, self.total_sum / self.total_count
        goal = self.reference.lit_dark_level
        if dark_out <= goal or mean <= dark_out:
            return None
        a = min((mean - goal) / (mean - dark_out), MAX_STRETCH)
        return a, mean - mean / a

    def apply(self, out, band_pixels=1 << 16):
        """Map an output: a float tensor (N, 3, H, W) in [0, 1], returned mapped; or a quantised HWC array
        (uint8 / uint16), mapped in place a band of rows of about ``band_pixels`` pixels at a time (its float
        copies, a few, are what the mapping adds to the memory)."""
        coefficients = self.coefficients()
        if coefficients is None:
            return out
        if torch.is_tensor(out):
            return _map(out, *coefficients)
        from trico_basicsr.data.image_io import quantise
        bits = 16 if out.dtype == np.uint16 else 8
        top = float(np.iinfo(out.dtype).max)
        rows = max(1, band_pixels // out.shape[1])
        for start in range(0, out.shape[0], rows):
            band = torch.from_numpy(out[start:start + rows].astype(np.float32) / top).permute(2, 0, 1)[None]
            out[start:start + rows] = quantise(_map(band, *coefficients)[0].permute(1, 2, 0).numpy(), bits)
        return out


def _map(x, a, b):
    """``x`` (N, 3, H, W) with its luminance mapped to ``a (Y - b)`` and its chromaticity kept."""
    y = luminance(x)
    ratio = (a * (y - b)).clamp_min(0) / y.clamp_min(1e-6)
    return linear_to_srgb(srgb_to_linear(x.float()) * ratio).to(x.dtype)
