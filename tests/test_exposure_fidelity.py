"""The shipped models light each photo like its target, instead of pushing every photo to one brightness.

Six photos of different brightness (scikit-image's, 192 px) are darkened the same way -- exposure 0.08 in
linear light, no extra tone curve, Poisson-Gaussian noise -- so a dark scene gives a darker input than a
bright one. A model that estimates the missing light keeps that order: its output mean grey levels follow
the targets'. Global auto-exposure, which lights everything to one level, fails the same check.
"""
from os import path as osp

import cv2
import numpy as np
import pytest

from tests.helpers.runs import ROOT
from trico_basicsr.baselines import bicubic_auto_exposure
from trico_basicsr.data.coupled_degradation import DegradationParams, degrade
from trico_basicsr.utils.inference import TriCoEnhancer

PHOTOS = ('astronaut', 'chelsea', 'coffee', 'rocket', 'immunohistochemistry', 'camera')
DARKENING = DegradationParams(exposure=0.08, gamma=1.0, photons=3000.0, read_noise=0.001, blur_sigma=0.0,
                              jpeg_quality=0)
MIN_SLOPE = 0.25  # least-squares slope of output vs target mean grey levels over the six photos
MAX_MEAN_ERROR = 25.0  # mean absolute difference of mean grey levels, 8-bit


def _photo(name, scale):
    from skimage import data as skdata
    img = getattr(skdata, name)()
    img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
    size = 48 * scale
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def brightness_tracking(restore, scale):
    """(slope, mean absolute error) of output vs target mean grey levels over the six photos."""
    outputs, targets = [], []
    for i, name in enumerate(PHOTOS):
        gt = _photo(name, scale)
        out = restore(degrade(gt, scale, DARKENING, np.random.default_rng(i)))
        outputs.append(out.mean() * 255)
        targets.append(gt.mean() * 255)
    return float(np.polyfit(targets, outputs, 1)[0]), float(np.abs(np.subtract(outputs, targets)).mean())


@pytest.mark.parametrize('scale', [4, 2])
def test_shipped_weights_follow_the_scene_brightness(scale):
    enhancer = TriCoEnhancer(osp.join(ROOT, 'weights', f'trico_demo_x{scale}.pth'), device='cpu')
    slope, error = brightness_tracking(enhancer.enhance, scale)
    assert slope >= MIN_SLOPE and error <= MAX_MEAN_ERROR, (slope, error)


def test_the_check_catches_a_method_that_lights_everything_the_same():
    slope, error = brightness_tracking(lambda lq: bicubic_auto_exposure(lq, 4), 4)
    assert slope < MIN_SLOPE
