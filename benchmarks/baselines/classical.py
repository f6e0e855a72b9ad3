"""Classical enhance-then-upscale baselines. Images are float32 RGB HWC in [0, 1]."""
import cv2
import numpy as np
from basicsr.utils.matlab_functions import imresize

from trico_basicsr.data.coupled_degradation import linear_to_srgb, srgb_to_linear


def bicubic_upscale(img, scale):
    """MATLAB-compatible bicubic upscaling (BasicSR's ``imresize``), clipped to [0, 1]."""
    return np.clip(imresize(np.ascontiguousarray(img, dtype=np.float32), scale), 0.0, 1.0)


def auto_exposure(img, target=0.45, iterations=30):
    """One global gain, in linear light, that brings the image's mean sRGB grey level to ``target``."""
    lin = srgb_to_linear(img)
    low, high = 0.0, 1.0 / max(float(lin.mean()), 1e-6) * 4.0
    for _ in range(iterations):  # the mean after the gain grows monotonically with the gain
        gain = 0.5 * (low + high)
        if linear_to_srgb(np.clip(lin * gain, 0, 1)).mean() < target:
            low = gain
        else:
            high = gain
    return linear_to_srgb(np.clip(lin * 0.5 * (low + high), 0, 1))


def bicubic_auto_exposure(lq, scale, target=0.45):
    """Baseline (a): global auto-exposure, then bicubic upscaling."""
    return bicubic_upscale(auto_exposure(lq, target), scale)


def guided_filter(guide, src, radius, eps):
    """He et al.'s guided filter with box means (grey guide and source, float32)."""
    def mean(x):
        return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)

    mean_g, mean_s = mean(guide), mean(src)
    a = (mean(guide * src) - mean_g * mean_s) / (mean(guide * guide) - mean_g**2 + eps)
    b = mean_s - a * mean_g
    return mean(a) * guide + mean(b)


def lime_enhance(lq, gamma=0.8, radius=7, eps=1e-3, denoise_strength=10):
    """LIME-style enhancement (Guo et al., TIP 2017), with a guided filter refining the illumination.

    Illumination ``T`` = refined channel maximum; enhanced ``R = x / T^gamma``; then LIME's
    illumination-aware denoising: ``R_d * T + R * (1 - T)`` with a non-local-means ``R_d``.
    """
    brightest = lq.max(axis=2).astype(np.float32)
    illum = np.clip(guided_filter(brightest, brightest, radius, eps), 1e-3, 1.0)
    enhanced = np.clip(lq / (illum[..., None]**gamma), 0.0, 1.0)
    as_bgr = cv2.cvtColor(np.rint(enhanced * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    denoised = cv2.cvtColor(cv2.fastNlMeansDenoisingColored(as_bgr, None, denoise_strength, denoise_strength, 5, 15),
                            cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    weight = illum[..., None]
    return np.clip(denoised * weight + enhanced * (1 - weight), 0.0, 1.0)


def lime_bicubic(lq, scale, **lime_options):
    """Baseline (b): LIME-style low-light enhancement, then bicubic upscaling."""
    return bicubic_upscale(lime_enhance(lq, **lime_options), scale)
