"""The torch darkening: the numpy pipeline's images, gradients that match finite differences, noise as stated."""
import math

import numpy as np
import pytest
import torch

from trico_basicsr.data import differentiable_darkening as dd
from trico_basicsr.data.coupled_degradation import linear_to_srgb, srgb_to_linear

NOISELESS = {'log_photons': 40.0, 'log_read_noise': -40.0, 'log_blur': math.log(0.01)}


def _gt(n=2, size=16, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_noiseless_darkening_is_the_numpy_exposure_and_area_downsampling():
    gt, scale = _gt(), 4
    draws = dd.draw(2, (16, 16), scale, torch.Generator().manual_seed(1))
    params = {**NOISELESS, 'log_exposure': math.log(0.1), 'exposure_spread': 0.5}
    out = dd.darken(gt, params, draws, scale).numpy()
    for i in range(2):
        lin = srgb_to_linear(gt[i].permute(1, 2, 0).numpy())
        lr = lin.reshape(4, scale, 4, scale, 3).mean(axis=(1, 3))
        exposure = math.exp(math.log(0.1) + math.log1p(math.exp(0.5)) * float(draws['u_exposure'][i]))
        expected = np.rint(linear_to_srgb(lr * exposure) * 255) / 255
        assert np.abs(out[i].transpose(1, 2, 0) - expected).max() <= 1 / 255 + 1e-6


def test_the_same_draws_give_the_same_images_and_new_draws_other_noise():
    gt = _gt()
    draws = dd.draw(2, (16, 16), 2, torch.Generator().manual_seed(3))
    again = dd.darken(gt, {}, draws, 2)
    assert torch.equal(dd.darken(gt, {}, draws, 2), again)
    other = dd.darken(gt, {}, dd.draw(2, (16, 16), 2, torch.Generator().manual_seed(4)), 2)
    assert not torch.equal(other, again)


@pytest.mark.parametrize('name', dd.PARAMETERS)
def test_gradient_of_every_parameter_matches_central_differences(name, monkeypatch):
    monkeypatch.setattr(dd, 'quantise', lambda img: img)  # rounding is flat almost everywhere: no finite difference
    torch.manual_seed(0)
    gt = _gt(n=2, size=8).double()
    draws = {k: v.double() for k, v in dd.draw(2, (8, 8), 2, torch.Generator().manual_seed(5)).items()}
    weights = torch.rand(2, 3, 4, 4, dtype=torch.float64)
    base = {k: torch.tensor(v, dtype=torch.float64) for k, v in dd.DEFAULTS.items()}
    base['log_exposure'] = torch.tensor(math.log(0.2), dtype=torch.float64)
    base['log_photons'] = torch.tensor(math.log(50.0), dtype=torch.float64)  # noise strong enough to matter

    def loss(value):
        return (dd.darken(gt, {**base, name: value}, draws, 2) * weights).sum()

    value = base[name].clone().requires_grad_(True)
    analytic, = torch.autograd.grad(loss(value), value)
    h = 1e-5
    numeric = (loss(base[name] + h) - loss(base[name] - h)) / (2 * h)
    assert abs(float(analytic)) > 1e-6
    assert float(analytic) == pytest.approx(float(numeric), rel=1e-4, abs=1e-8)


def test_noise_before_binning_is_averaged_down_by_the_scale():
    gt = torch.full((64, 3, 16, 16), 0.5)
    draws = dd.draw(64, (16, 16), 4, torch.Generator().manual_seed(6))
    draws['u_photons'].zero_(), draws['u_read'].zero_(), draws['u_exposure'].zero_()
    params = {'log_exposure': 0.0, 'exposure_spread': -30.0, 'log_photons': 40.0, 'log_read_noise': math.log(0.02),
              'log_blur': math.log(0.01)}
    spreads = {}
    for share, logit in (('after', -30.0), ('before', 30.0)):
        out = dd.darken(gt, {**params, 'hr_noise': logit}, draws, 4)
        spreads[share] = float(dd.srgb_to_linear(out).std())
    assert spreads['after'] == pytest.approx(0.02, rel=0.1)
    assert spreads['before'] == pytest.approx(0.02 / 4, rel=0.15)  # mean of 16 pixels: std / 4


def test_more_exposure_gives_brighter_inputs_and_a_positive_gradient():
    gt = _gt()
    draws = dd.draw(2, (16, 16), 2, torch.Generator().manual_seed(7))
    log_exposure = torch.tensor(math.log(0.05), requires_grad=True)
    mean = dd.darken(gt, {'log_exposure': log_exposure}, draws, 2).mean()
    grad, = torch.autograd.grad(mean, log_exposure)
    brighter = dd.darken(gt, {'log_exposure': math.log(0.1)}, draws, 2).mean()
    assert grad > 0 and brighter > mean


def test_bad_parameters_are_refused_by_name():
    with pytest.raises(ValueError, match='unknown darkening parameter.*gamma'):
        dd.check_parameters({'gamma': 1.0})
    with pytest.raises(ValueError, match='log_blur: nan'):
        dd.check_parameters({'log_blur': float('nan')})
    with pytest.raises(ValueError, match='not a multiple of scale 4'):
        dd.draw(1, (10, 16), 4)
