"""Baseline (c): a ridge regression of the target's brightness on input statistics, then bicubic and one gain."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from benchmarks.baselines.exposure_regression import (
    FEATURES,
    ExposureRegression,
    fit_exposure_regression,
    luminance,
    regressed_exposure_bicubic,
    target_log_luminance,
)
from tests.helpers.photos import write_photos
from tests.helpers.runs import run
from trico_basicsr.data.coupled_degradation import linear_to_srgb, srgb_to_linear


def _scenes(count, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        img = cv2.GaussianBlur(rng.random((32, 32, 3)).astype(np.float32), (0, 0), 3)
        yield np.clip(img * rng.uniform(0.3, 1.5), 0, 1)


def _darken(gt, exposure):
    return linear_to_srgb(srgb_to_linear(gt) * exposure)


def test_regression_learns_a_fixed_exposure_and_predicts_the_target_brightness():
    pairs = [(_darken(gt, 0.05), gt) for gt in _scenes(40)]
    regression = fit_exposure_regression(pairs, ridge=1e-6)
    assert regression.samples == 40 and regression.r2 > 0.99
    for gt in _scenes(5, seed=1):  # scenes it was not fitted on
        assert regression.predict(_darken(gt, 0.05)) == pytest.approx(target_log_luminance(gt), abs=0.05)


def test_baseline_output_is_upscaled_and_lit_to_the_predicted_brightness():
    regression = fit_exposure_regression([(_darken(gt, 0.05), gt) for gt in _scenes(40)], ridge=1e-6)
    gt = next(_scenes(1, seed=2))
    lq = cv2.resize(_darken(gt, 0.05), (16, 16), interpolation=cv2.INTER_AREA)
    out = regressed_exposure_bicubic(lq, 2, regression)
    assert out.shape == (32, 32, 3) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    assert np.log(luminance(out).mean()) == pytest.approx(regression.predict(lq), abs=0.02)
    assert abs(np.log(luminance(out).mean()) - target_log_luminance(gt)) < 0.1


def test_bad_inputs_are_refused_and_json_round_trips():
    with pytest.raises(ValueError, match=f'at least {len(FEATURES)} pairs'):
        fit_exposure_regression([(np.zeros((4, 4, 3), np.float32), np.ones((8, 8, 3), np.float32))])
    regression = fit_exposure_regression([(_darken(gt, 0.1), gt) for gt in _scenes(12)], fitted_on='toy')
    assert ExposureRegression.from_json(regression.to_json()) == regression
    with pytest.raises(ValueError, match='needs 8 weights'):
        ExposureRegression.from_json(json.dumps({**json.loads(regression.to_json()), 'weights': [1.0, 2.0]}))


def test_benchmark_adds_the_baseline_and_refuses_a_held_out_family_in_its_fit(tmp_path):
    hr = write_photos(tmp_path / 'hr', names=('coffee', 'chelsea', 'astronaut'))
    base = [sys.executable, '-m', 'benchmarks.generalisation', '--test-hr', str(hr), '--scale', '4',
            '--families', 'heldout_aces_lanczos', '--skip-niqe', '--regression-hr', str(hr),
            '--out', str(tmp_path / 'out'), '--work', str(tmp_path / 'work')]
    run(base)
    results = json.loads((tmp_path / 'out' / 'results.json').read_text())
    scores = results['synthetic']['heldout_aces_lanczos / hr']
    assert set(scores) == {'bicubic + auto-exposure', 'LIME + bicubic', 'bicubic + regressed exposure'}
    assert scores['bicubic + regressed exposure']['PSNR'] > 5
    assert results['exposure_regression']['samples'] == 9 and len(results['exposure_regression']['weights']) == 8
    assert 'fitted on 9 pairs' in (tmp_path / 'out' / 'results.md').read_text()
    refused = subprocess.run(base + ['--regression-presets', 'heldout_banding_jpeg'], capture_output=True, text=True)
    assert refused.returncode != 0 and 'error: --regression-presets' in refused.stderr
    assert 'heldout_banding_jpeg' in refused.stderr and 'Traceback' not in refused.stderr
