"""The shipped models light each photo like its target, instead of pushing every photo to one brightness.

Six photos of different brightness (scikit-image's) are darkened the same way -- exposure 0.08 in linear
light, no extra tone curve, Poisson-Gaussian noise -- so a dark scene gives a darker input than a bright
one. A model that estimates the missing light keeps part of that difference: the slope of its output mean
grey levels against the targets' is clearly above zero. Global auto-exposure, which lights everything to
one level, has slope 0 and fails; so did the first shipped x4 weights (docs/benchmarks/generalisation_x4).
An input alone cannot tell a dim scene from a bright scene under less light, so a model trained on a wide
exposure range pulls towards typical brightness: a slope of 1 is not expected.

That is the networks' own estimate (``exposure='model'``). The default exposure anchor ('auto') shrinks it
halfway toward a standard exposure, which matches real photographers' targets better (docs/benchmarks.md),
so it keeps about half the slope: measured 0.14 (x4), 0.19 (x2), 0.13 (night), 0.05 (large).
"""
import functools
from os import path as osp

import pytest

from benchmarks.baselines import bicubic_auto_exposure
from benchmarks.scoring import brightness_tracking  # the check the benchmark reports
from tests.helpers.runs import ROOT
from trico_basicsr.utils.inference import TriCoEnhancer

MIN_SLOPE = 0.25  # least-squares slope of output vs target mean grey levels over the six photos
MAX_MEAN_ERROR = 25.0  # mean absolute difference of mean grey levels, 8-bit


@pytest.mark.parametrize('weights, scale', [('trico_light_x4.pth', 4), ('trico_light_x2.pth', 2),
                                            ('trico_light_night_x4.pth', 4), ('trico_x4_large.pth', 4)])
def test_shipped_weights_follow_the_scene_brightness(weights, scale):
    enhancer = TriCoEnhancer(osp.join(ROOT, 'weights', weights), device='cpu', exposure='model')
    result = brightness_tracking(enhancer.enhance, scale)
    assert result['slope'] >= MIN_SLOPE and result['mean_abs_error'] <= MAX_MEAN_ERROR, result


@pytest.mark.parametrize('weights, scale', [('trico_light_x4.pth', 4), ('trico_light_x2.pth', 2)])
def test_the_default_exposure_still_lights_a_dim_scene_dimmer(weights, scale):
    result = brightness_tracking(TriCoEnhancer(osp.join(ROOT, 'weights', weights), device='cpu').enhance, scale)
    assert result['slope'] >= MIN_SLOPE / 2 and result['mean_abs_error'] <= MAX_MEAN_ERROR, result


def test_the_check_catches_a_method_that_lights_everything_the_same():
    assert brightness_tracking(lambda lq: bicubic_auto_exposure(lq, 4), 4)['slope'] < MIN_SLOPE


# Do no harm: a photo that is already well exposed, only downsampled, should come out about as bright as it
# went in, without blown highlights. Measured with the default exposure anchor (mean linear luminance out /
# in): x4 1.01-1.07, x2 1.03-1.07, at most 0.4 % of pixels clipped. With the nets' own estimate
# (exposure='model') the x4 gave coffee 1.22 and astronaut 2.35 with 45 % clipped.
MAX_BRIGHTNESS_CHANGE = 0.10
MAX_CLIPPED = 0.02


@pytest.mark.parametrize('weights, scale', [('trico_light_x4.pth', 4), ('trico_light_x2.pth', 2)])
@pytest.mark.parametrize('photo', ['coffee', 'chelsea', 'immunohistochemistry', 'astronaut'])
def test_shipped_weights_leave_a_well_exposed_photo_as_bright(photo, weights, scale):
    import cv2
    import numpy as np
    from skimage import data as skdata

    from benchmarks.baselines.exposure_regression import luminance
    img = getattr(skdata, photo)().astype(np.float32) / 255
    lq = cv2.resize(img, (img.shape[1] // scale, img.shape[0] // scale), interpolation=cv2.INTER_AREA)
    out = TriCoEnhancer(osp.join(ROOT, 'weights', weights), device='cpu').enhance(lq)
    change = float(luminance(out).mean() / luminance(lq).mean()) - 1
    clipped = float((out.max(axis=2) >= 254.5 / 255).mean())
    assert abs(change) <= MAX_BRIGHTNESS_CHANGE and clipped <= MAX_CLIPPED, (change, clipped)


# Night scenes: the top half of a bundled photo falls to 3 % of its light (trico_basicsr's lowkey_scene), then
# the whole scene is darkened as above. Over the darkest tenth of the input (the unlit sky), measured: the
# target 4-13 grey levels; bicubic + auto-exposure 18-33, with a strong colour cast of amplified noise
# (chroma 16-29); the shipped x4 by default 40-54, grey (chroma 7-20): its SR level lifts the shadows; with
# the black-level step (keep_black_level, --black-level keep) 6-17, chroma 1-7.
NIGHT_PHOTOS = ('rocket', 'coffee', 'chelsea')


def night_input(photo):
    """The night version of scikit-image's ``photo``, darkened and area-downsampled x4 (RGB float HWC)."""
    import math

    import numpy as np
    from skimage import data as skdata

    from trico_basicsr.data.coupled_degradation import DegradationParams, degrade, lowkey_scene
    img = getattr(skdata, photo)()[..., :3].astype(np.float32) / 255
    hr = np.ascontiguousarray(img[:img.shape[0] // 4 * 4, :img.shape[1] // 4 * 4])
    target = lowkey_scene(hr, (0.03, math.pi / 2, 0.0, 0.3))
    darkening = DegradationParams(exposure=0.1, gamma=1.0, photons=3000.0, read_noise=0.001, blur_sigma=0.0,
                                  jpeg_quality=0)
    return degrade(target, 4, darkening, np.random.default_rng(0))


@functools.lru_cache(maxsize=None)
def shipped_x4(keep_black_level=False):
    """The shipped x4, loaded once per setting for the night tests."""
    return TriCoEnhancer(osp.join(ROOT, 'weights', 'trico_light_x4.pth'), device='cpu',
                         keep_black_level=keep_black_level)


def night_shadows(photo, keep_black_level=False):
    """Darkest-tenth scores (benchmarks.real_photos) of the shipped x4 and of bicubic + auto-exposure."""
    from benchmarks.real_photos import dark_tenth_scores
    lq = night_input(photo)
    shipped = shipped_x4(keep_black_level).enhance(lq)
    return dark_tenth_scores(shipped, lq), dark_tenth_scores(bicubic_auto_exposure(lq, 4), lq)


@pytest.mark.parametrize('keep_black_level', [False, True])
@pytest.mark.parametrize('photo', NIGHT_PHOTOS)
def test_shipped_x4_keeps_night_shadows_grey(photo, keep_black_level):
    shipped, auto_exposure = night_shadows(photo, keep_black_level)
    assert shipped['dark_tenth_chroma'] <= auto_exposure['dark_tenth_chroma'], (shipped, auto_exposure)


@pytest.mark.parametrize('photo', NIGHT_PHOTOS)
def test_the_black_level_step_keeps_night_shadows_as_dark_as_auto_exposure(photo):
    shipped, auto_exposure = night_shadows(photo, keep_black_level=True)
    assert shipped['dark_tenth_level'] <= auto_exposure['dark_tenth_level'], (shipped, auto_exposure)


@pytest.mark.xfail(strict=True, reason='known failure: by default night shadows are lifted to 40-54 grey levels '
                                       '(auto-exposure: 18-33); --black-level keep fixes it')
@pytest.mark.parametrize('photo', NIGHT_PHOTOS)
def test_shipped_x4_keeps_night_shadows_as_dark_as_auto_exposure_by_default(photo):
    shipped, auto_exposure = night_shadows(photo)
    assert shipped['dark_tenth_level'] <= auto_exposure['dark_tenth_level'], (shipped, auto_exposure)
