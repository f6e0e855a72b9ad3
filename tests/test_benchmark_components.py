"""The component benchmark: each variant removes one component and nothing else, and the run writes its tables."""
import json
import sys
from os import path as osp

import cv2
import numpy as np
import pytest

from tests.helpers.photos import write_photos
from tests.helpers.runs import ROOT, run

sys.path.insert(0, osp.join(ROOT, 'scripts'))
import benchmark_components as bc  # noqa: E402

import trico_basicsr  # noqa: E402,F401
from trico_basicsr.data.coupled_degradation import codec_roundtrip  # noqa: E402


@pytest.fixture
def hr_folder(tmp_path):
    return write_photos(tmp_path / 'hr')


def test_without_jpeg_differs_from_the_family_by_the_jpeg_round_trip_alone(hr_folder):
    from trico_basicsr.data.coupled_base import stable_image_seed
    from trico_basicsr.data.coupled_degradation import sample_params
    from trico_basicsr.data.draw_sampler import rng_from_key
    presets = bc.variants('heldout_banding_jpeg', ['jpeg'])
    full = bc.synthesise(str(hr_folder), presets['full family'], 4, seed=0)
    plain = bc.synthesise(str(hr_folder), presets['without jpeg'], 4, seed=0)
    for key, (lq_full, gt_full, _), (lq_plain, gt_plain, _) in zip(('chelsea', 'coffee'), full, plain):
        quality = sample_params(presets['full family'], rng_from_key((0, stable_image_seed(key)))).jpeg_quality
        assert 35 <= quality <= 55
        np.testing.assert_array_equal(gt_full, gt_plain)
        np.testing.assert_array_equal(lq_full, codec_roundtrip(lq_plain, quality))  # same noise, same draws


def test_components_that_are_unknown_or_absent_from_the_family_are_refused():
    with pytest.raises(SystemExit, match='unknown; choose from'):
        bc.variants('heldout_banding_jpeg', ['jpeg', 'lens_flare'])
    with pytest.raises(SystemExit, match='has no blur to remove'):
        bc.variants('heldout_banding_jpeg', ['blur'])
    with pytest.raises(SystemExit, match="--family 'nope' is unknown"):
        bc.variants('nope', ['jpeg'])


def test_tone_matching_undoes_a_global_curve_and_never_scores_below_brightness_matching():
    rng = np.random.default_rng(0)
    gt = cv2.GaussianBlur(rng.random((64, 64, 3)).astype(np.float32), (0, 0), 2)
    gt = (gt - gt.min()) / (gt.max() - gt.min())
    curved = gt ** 2.2 * np.array([0.7, 1.0, 0.9], np.float32)  # a wrong tone curve and a colour cast
    scores = bc.scores(curved, gt, scale=4)
    assert scores['PSNR_tone'] > 35 > scores['PSNR_matched'] + 5


def test_benchmark_writes_one_row_per_variant(tmp_path, hr_folder):
    checkpoint = osp.join(ROOT, 'weights', 'trico_light_x4.pth')
    out = tmp_path / 'out'
    run([sys.executable, 'scripts/benchmark_components.py', '--family', 'heldout_banding_jpeg', '--test-hr',
         str(hr_folder), '--scale', '4', '--without', 'jpeg', 'row_noise', '--model', f'shipped={checkpoint}',
         '--out', str(out)])
    results = json.loads((out / 'results.json').read_text())
    assert list(results['scores']) == ['full family', 'without jpeg', 'without row_noise']
    for variant in results['scores'].values():
        cell = variant['hr']
        assert set(cell) == {bc.AUTO_EXPOSURE, 'shipped'}
        for method in cell.values():
            assert method['PSNR_tone'] >= method['PSNR'] and np.isfinite(method['PSNR']) and method['PSNR'] > 5
    assert results['scores']['without jpeg']['hr']['shipped'] != results['scores']['full family']['hr']['shipped']
    assert '| without row_noise |' in (out / 'results.md').read_text()
