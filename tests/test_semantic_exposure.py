"""The semantic brightness estimate: its input is exposure-free, and its regression finds a latent scene factor."""
import numpy as np
import pytest

from trico_basicsr.baselines import semantic_exposure as se
from trico_basicsr.baselines.exposure_regression import luminance
from trico_basicsr.data.coupled_degradation import linear_to_srgb, srgb_to_linear


def _dim_scene(seed=0, size=48):
    rng = np.random.default_rng(seed)
    linear = rng.random((size, size, 3)).astype(np.float32) * 0.05
    return linear_to_srgb(linear).astype(np.float32)


def test_auto_exposed_reaches_mid_grey_whatever_the_exposure():
    dim = _dim_scene()
    dimmer = linear_to_srgb(srgb_to_linear(dim) * 0.25).astype(np.float32)
    for img in (dim, dimmer):
        assert float(luminance(se.auto_exposed(img)).mean()) == pytest.approx(se.MID_GREY, rel=0.03)
    np.testing.assert_allclose(se.auto_exposed(dim), se.auto_exposed(dimmer), atol=0.02)


def test_imagenet_features_describe_content_not_exposure():
    extractor = se.ImageNetFeatures()
    dim = _dim_scene(1)
    dimmer = linear_to_srgb(srgb_to_linear(dim) * 0.3).astype(np.float32)
    ramp = np.linspace(0.0, 0.05, 48, dtype=np.float32)  # another scene: a smooth dim gradient, no texture
    other = linear_to_srgb(np.stack([np.tile(ramp, (48, 1))] * 3, axis=2)).astype(np.float32)
    a, b = extractor(dim), extractor(dimmer)
    assert a.shape == (1280,) and np.isfinite(a).all()
    assert np.linalg.norm(a - b) < 0.2 * np.linalg.norm(a - extractor(other))


def test_the_regression_finds_a_scene_factor_the_statistics_lack():
    rng = np.random.default_rng(0)
    n, dims = 80, 50
    scene = rng.normal(size=n)  # how bright each scene is meant to be, seen only through the features
    direction = rng.normal(size=dims)
    features = np.outer(scene, direction) + 0.01 * rng.normal(size=(n, dims))
    statistics = np.column_stack([rng.normal(size=(n, 7)), np.ones(n)])
    targets = 0.8 * scene + 0.5 * statistics[:, 0] - 1.0
    fitted = se.fit_semantic_exposure(statistics, features, targets, components=2)
    assert fitted.r2 > 0.99
    np.testing.assert_allclose(fitted.predict_from(statistics[:5], features[:5]), targets[:5], atol=0.05)
    statistics_only = se.ridge_least_squares(statistics, targets, 1e-3)[1]
    assert statistics_only < 0.5


def test_too_many_components_are_refused():
    with pytest.raises(ValueError, match='components'):
        se.fit_semantic_exposure(np.ones((5, 8)), np.ones((5, 20)), np.zeros(5), components=5)
