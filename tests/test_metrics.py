"""The eight evaluation metrics, registered in BasicSR's METRIC_REGISTRY."""
import math
import warnings

import numpy as np
import pytest
import torch
import torchvision
from basicsr.metrics import calculate_metric

from trico_basicsr.metrics import lpips_metric

FULL_REFERENCE = ['calculate_psnr', 'calculate_ssim', 'calculate_rmse', 'calculate_delta_e', 'calculate_loe']


@pytest.fixture(scope='module')
def photo():
    from skimage import data as skdata
    return np.ascontiguousarray(skdata.astronaut()[100:292, 100:292, ::-1])  # BGR uint8, as BasicSR passes it


def metric(name, img, img2=None, **options):
    data = {'img': img} if img2 is None else {'img': img, 'img2': img2}
    return calculate_metric(data, {'type': name, 'crop_border': 4, **options})


@pytest.mark.parametrize('name', FULL_REFERENCE)
def test_identical_images_score_perfectly(photo, name):
    perfect = {'calculate_psnr': math.inf, 'calculate_ssim': 1.0}.get(name, 0.0)
    assert metric(name, photo, photo.copy()) == pytest.approx(perfect)


def test_rmse_of_a_known_shift(photo):
    shifted = np.clip(photo.astype(int) + 10, 0, 255).astype(np.uint8)
    expected = np.sqrt(np.mean((shifted[4:-4, 4:-4].astype(float) - photo[4:-4, 4:-4]) ** 2))
    assert metric('calculate_rmse', shifted, photo) == pytest.approx(expected)
    assert 9.0 < expected <= 10.0


def test_rmse_agrees_with_basicsr_psnr(photo):
    noisy = np.clip(photo + np.random.default_rng(0).normal(0, 8, photo.shape), 0, 255).astype(np.uint8)
    rmse = metric('calculate_rmse', noisy, photo)
    assert metric('calculate_psnr', noisy, photo) == pytest.approx(20 * math.log10(255 / rmse), rel=1e-9)


def test_delta_e_of_a_pure_lightness_change_is_small_and_grows_with_a_colour_cast(photo):
    brighter = np.clip(photo.astype(int) + 6, 0, 255).astype(np.uint8)
    cast = photo.copy()
    cast[..., 2] = np.clip(cast[..., 2].astype(int) + 40, 0, 255)  # more red (BGR)
    assert 0 < metric('calculate_delta_e', brighter, photo) < metric('calculate_delta_e', cast, photo)


def test_loe_ignores_monotone_brightening_and_counts_order_flips(photo):
    gamma = (255 * (photo / 255.0) ** 0.5).astype(np.uint8)
    assert metric('calculate_loe', gamma, photo) < 2  # only 8-bit rounding ties
    flipped = 255 - photo
    assert metric('calculate_loe', flipped, photo) > 40


def test_ssim_is_basicsrs(photo):
    from basicsr.metrics.psnr_ssim import calculate_ssim
    blurred = (photo * 0.8).astype(np.uint8)
    assert metric('calculate_ssim', blurred, photo) == calculate_ssim(blurred, photo, crop_border=4)


@pytest.mark.parametrize('name', ['calculate_niqe', 'calculate_piqe'])
def test_no_reference_metrics_prefer_the_clean_photo(name):
    from skimage import data as skdata
    photo = np.ascontiguousarray(skdata.astronaut()[..., ::-1])  # NIQE needs several 96x96 blocks
    noisy = np.clip(photo + np.random.default_rng(1).normal(0, 25, photo.shape), 0, 255).astype(np.uint8)
    clean, degraded = metric(name, photo), metric(name, noisy)
    assert np.isfinite(clean) and clean < degraded


def test_lpips_without_backbone_weights_is_unavailable_not_a_number(photo, monkeypatch, tmp_path):
    monkeypatch.delenv('TRICO_LPIPS_BACKBONE', raising=False)
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    lpips_metric.lpips_model.cache_clear()
    lpips_metric._warned.clear()
    with pytest.warns(UserWarning, match='unavailable'):
        value = metric('calculate_lpips', photo, photo)
    assert math.isnan(value)


def test_lpips_runs_the_real_network_with_weights_from_a_local_file(photo, tmp_path):
    backbone = torchvision.models.alexnet(weights=None)
    torch.nn.init.constant_(backbone.features[0].bias, 0.25)
    path = tmp_path / 'alexnet.pth'
    torch.save(backbone.state_dict(), path)
    lpips_metric.lpips_model.cache_clear()
    model = lpips_metric.lpips_model('alex', str(path))
    assert torch.all(model.net.slice1[0].bias == 0.25)  # the file's weights, not a random init
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        same = metric('calculate_lpips', photo, photo.copy(), backbone_weights=str(path))
        noisy = np.clip(photo + np.random.default_rng(2).normal(0, 30, photo.shape), 0, 255).astype(np.uint8)
        different = metric('calculate_lpips', noisy, photo, backbone_weights=str(path))
    assert same == pytest.approx(0.0, abs=1e-6) and different > 0.01


def test_shape_mismatch_is_an_error(photo):
    with pytest.raises(ValueError, match='shapes differ'):
        metric('calculate_rmse', photo, photo[:-1])
