"""The exposure-blend benchmark: its gains land on their targets, and a run writes every variant of every cell."""
import json
import sys
from os import path as osp

import numpy as np
import pytest

from tests.helpers.photos import write_photos
from tests.helpers.runs import ROOT, run

sys.path.insert(0, osp.join(ROOT, 'scripts'))
import benchmark_exposure_blend as be  # noqa: E402

import trico_basicsr  # noqa: E402,F401


def test_regain_gives_the_target_mean_luminance_and_keeps_the_chromaticity():
    rng = np.random.default_rng(0)
    img = (rng.random((32, 32, 3)) * 0.3).astype(np.float32)  # dim: no pixel clips at a gain of 2
    from trico_basicsr.baselines.exposure_regression import _FLOOR, luminance
    target = float(np.log(2 * luminance(img).mean() + _FLOOR))  # twice the light
    out = be.regain(img, target)
    assert be.log_mean_luminance(out) == pytest.approx(target, abs=1e-3)
    from trico_basicsr.data.coupled_degradation import srgb_to_linear
    np.testing.assert_allclose(srgb_to_linear(out), 2 * srgb_to_linear(img), rtol=1e-3, atol=1e-5)


def test_perturbed_oracles_are_off_by_exactly_their_error_both_ways():
    rng = np.random.default_rng(2)
    out = (rng.random((16, 16, 3)) * 0.2).astype(np.float32)
    gt = (rng.random((16, 16, 3)) * 0.3).astype(np.float32)  # dim: the gains of e^0.3 clip no pixel

    class Regression:
        def predict(self, lq):
            return 0.0
    images = be.variants(out, out, gt, Regression(), np.zeros(9), blends=(), oracle_errors=(0.1, 0.3))
    assert list(images) == ['as output', 'stacked', 'oracle', 'oracle ±0.1', 'oracle ±0.3']
    truth = be.log_mean_luminance(gt)
    for error in (0.1, 0.3):
        bright, dark = images[f'oracle ±{error:g}']
        assert be.log_mean_luminance(bright) == pytest.approx(truth + error, abs=1e-3)
        assert be.log_mean_luminance(dark) == pytest.approx(truth - error, abs=1e-3)


def test_ridge_least_squares_recovers_a_linear_relation():
    from trico_basicsr.baselines.exposure_regression import ridge_least_squares
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(size=(50, 3)), np.ones(50)])
    weights, r2 = ridge_least_squares(x, x @ np.array([0.5, -1.0, 2.0, 0.3]), be.RIDGE)
    np.testing.assert_allclose(weights, [0.5, -1.0, 2.0, 0.3], atol=1e-3)
    assert r2 == pytest.approx(1.0, abs=1e-6)
    _, r2_noise = ridge_least_squares(x, rng.normal(size=50), be.RIDGE)
    assert r2_noise < 0.3


def test_blend_weights_outside_zero_to_one_and_non_positive_oracle_errors_are_refused():
    base = ['--test-hr', 'x', '--model', 'a=b', '--regression-hr', 'y', '--out', 'z']
    with pytest.raises(SystemExit):
        be.parse_args(base + ['--blends', '0'])
    with pytest.raises(SystemExit):
        be.parse_args(base + ['--oracle-errors', '0.1', '-0.2'])
    assert be.parse_args(base + ['--oracle-errors']).oracle_errors == []


def test_benchmark_writes_every_variant_of_every_cell(tmp_path):
    hr = write_photos(tmp_path / 'hr')
    checkpoint = osp.join(ROOT, 'weights', 'trico_light_x4.pth')
    out = tmp_path / 'out'
    run([sys.executable, 'scripts/benchmark_exposure_blend.py', '--test-hr', str(hr), '--families',
         'heldout_banding_jpeg', 'ultra_dark', '--model', f'shipped={checkpoint}', '--regression-hr', str(hr),
         '--regression-draws', '5', '--blends', '0.5', '1', '--oracle-errors', '0.3', '--out', str(out)])
    results = json.loads((out / 'results.json').read_text())
    assert list(results['scores']) == ['heldout_banding_jpeg / hr', 'ultra_dark / hr']
    assert results['regression']['samples'] == 10
    assert np.isfinite(results['stacked']['shipped']['r2'])
    for cell in results['scores'].values():
        variants = cell['shipped']
        assert list(variants) == ['as output', 'blend 0.5', 'blend 1', 'stacked', 'semantic', 'oracle', 'oracle ±0.3']
        assert variants['oracle']['abs_bright_err'] <= variants['as output']['abs_bright_err'] + 0.5
        assert variants['oracle ±0.3']['abs_bright_err'] > variants['oracle']['abs_bright_err']
        # the perturbed oracle is off by 0.3 in log luminance (less only where the gain clips highlights)
        assert variants['oracle ±0.3']['rms_log_err'] == pytest.approx(0.3, abs=0.05)
        assert variants['oracle']['rms_log_err'] < 0.05 and variants['as output']['rms_log_err'] > 0
        assert len({round(v['PSNR'], 6) for v in variants.values()}) > 1  # the gains change the images
    assert results['semantic']['components'] == 4 and np.isfinite(results['semantic']['r2'])
    assert '## shipped' in (out / 'results.md').read_text()


def test_a_bad_model_spec_is_named_before_any_work(tmp_path):
    hr = write_photos(tmp_path / 'hr')
    result = run([sys.executable, 'scripts/benchmark_exposure_blend.py', '--test-hr', str(hr), '--model',
                  'shipped=missing.pth', '--regression-hr', str(hr), '--out', str(tmp_path / 'out')], check=False)
    assert result.returncode != 0 and "'shipped=missing.pth'" in result.stderr
    assert not (tmp_path / 'out').exists()
