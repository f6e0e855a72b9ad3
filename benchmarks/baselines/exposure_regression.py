"""Baseline (c): bicubic upscaling and one global gain whose target a ridge regression predicts.

Auto-exposure (baseline a) lights every image to the same grey level. This baseline instead learns, from
the training mix, how bright the target of a dark input is: a ridge regression from eight statistics of
the input's linear-light luminance (log mean, five log quantiles, the fraction of clipped pixels, a bias)
to the log of the target's mean linear luminance. It is the smallest learned model a sceptic would ask
the network to beat: eight weights, no spatial processing. Images are float32 RGB HWC in [0, 1].
"""
import dataclasses
import json

import numpy as np

from trico_basicsr.data.coupled_degradation import linear_to_srgb, srgb_to_linear

from .classical import bicubic_upscale

LUMINANCE = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709
QUANTILES = (0.01, 0.1, 0.5, 0.9, 0.99)
FEATURES = ('log mean', 'log q01', 'log q10', 'log q50', 'log q90', 'log q99', 'clipped fraction', 'bias')
_FLOOR = 1e-4  # keeps the logs finite on black images (linear luminance; 8-bit sRGB's first step is 3e-4)


def luminance(img):
    """Linear-light luminance (H, W) of an sRGB float image."""
    return srgb_to_linear(img) @ LUMINANCE


def exposure_features(lq):
    """The regression's inputs for a dark image: a float64 vector ordered as :data:`FEATURES`."""
    y = luminance(lq)
    quantiles = np.quantile(y, QUANTILES)
    clipped = float((lq.max(axis=2) >= 254.5 / 255).mean())
    return np.concatenate([[np.log(y.mean() + _FLOOR)], np.log(quantiles + _FLOOR), [clipped, 1.0]])


def target_log_luminance(gt):
    """What the regression predicts: the log of the target's mean linear luminance."""
    return float(np.log(luminance(gt).mean() + _FLOOR))


@dataclasses.dataclass(frozen=True)
class ExposureRegression:
    """A fitted regression: ``weights`` (one per :data:`FEATURES`), the ridge and what it was fitted on."""
    weights: tuple
    ridge: float
    fitted_on: str
    samples: int
    r2: float

    def predict(self, lq):
        """Predicted log mean linear luminance of ``lq``'s target."""
        return float(exposure_features(lq) @ np.asarray(self.weights))

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def from_json(cls, text):
        fields = json.loads(text)
        if len(fields.get('weights', ())) != len(FEATURES):
            raise ValueError(f'an exposure regression needs {len(FEATURES)} weights ({", ".join(FEATURES)}), '
                             f'got {len(fields.get("weights", ()))}')
        return cls(**{**fields, 'weights': tuple(fields['weights'])})


def fit_exposure_regression(pairs, ridge=1e-3, fitted_on=''):
    """Fit on ``pairs``, an iterable of ``(lq, gt)`` (dark input, normal-light target, any sizes).

    Returns:
        ExposureRegression: ridge-regularised least squares (the bias is regularised too; the ridge is
        small next to the features' scale, about 1 to 10).
    """
    features, targets = [], []
    for lq, gt in pairs:
        features.append(exposure_features(lq))
        targets.append(target_log_luminance(gt))
    if len(targets) < len(FEATURES):
        raise ValueError(f'fitting an exposure regression needs at least {len(FEATURES)} pairs, got {len(targets)}')
    weights, r2 = ridge_least_squares(features, targets, ridge)
    return ExposureRegression(tuple(float(w) for w in weights), ridge, fitted_on, len(targets), r2)


def ridge_least_squares(features, targets, ridge):
    """``(weights, r2)``: ridge-regularised least squares of ``targets`` (N,) on ``features`` (N, K), float64."""
    x, y = np.asarray(features, np.float64), np.asarray(targets, np.float64)
    weights = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y)
    return weights, 1.0 - float(((x @ weights - y) ** 2).mean() / max(float(y.var()), 1e-12))


def gain_to_mean_luminance(img, mean_luminance):
    """``img`` after one linear-light gain to the given mean linear luminance, clipped at 1 (float32 sRGB HWC).

    Clipping can leave the result below ``mean_luminance`` where the gain pushes highlights over.
    """
    lin = srgb_to_linear(img)
    gain = mean_luminance / max(float((lin @ LUMINANCE).mean()), 1e-6)
    return linear_to_srgb(np.clip(lin * gain, 0.0, 1.0)).astype(np.float32)


def regressed_exposure_bicubic(lq, scale, regression):
    """Baseline (c): bicubic upscaling, then one linear-light gain to the predicted mean luminance."""
    return gain_to_mean_luminance(bicubic_upscale(lq, scale), float(np.exp(regression.predict(lq))))
