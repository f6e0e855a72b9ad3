"""The black-level benchmark: its statistics see a lifted black, and a run scores both levels of a TriCoNet."""
import json
import sys
from os import path as osp

import numpy as np
import pytest

from tests.helpers.photos import write_photos
from tests.helpers.runs import ROOT, run

sys.path.insert(0, osp.join(ROOT, 'scripts'))
import benchmark_black_level as bl  # noqa: E402


def test_a_lifted_black_reads_higher_than_its_target_and_brightness_is_signed():
    rng = np.random.default_rng(0)
    target = rng.random((32, 32, 3)).astype(np.float32)
    lifted = 0.2 + 0.8 * target  # black raised to grey 51, white kept
    mask = target.mean(axis=2) <= np.quantile(target.mean(axis=2), 0.1)
    stats = bl.level_statistics(lifted, target, mask)
    assert stats['black'] > stats['black_gt'] + 45
    assert stats['dark'] > stats['dark_gt'] + 30
    assert stats['bright_err'] > 0 > bl.level_statistics(0.5 * target, target, mask)['bright_err']


def test_darkest_tenth_mask_is_upsampled_by_the_scale():
    lq = np.tile(np.linspace(0, 1, 20, dtype=np.float32)[None, :, None], (10, 1, 3))
    low, high = bl.darkest_tenth(lq, 4)
    assert low.shape == (10, 20) and high.shape == (40, 80)
    assert low[:, :2].all() and not low[:, 3:].any()
    assert high.sum() == low.sum() * 16


def test_bad_arguments_get_clear_errors(tmp_path):
    with pytest.raises(SystemExit, match='not a folder'):
        bl.main(['--hr', str(tmp_path / 'missing'), '--presets', 'ultra_dark', '--model', 'x=y', '--out',
                 str(tmp_path / 'out')])
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(SystemExit, match=f'--hr {empty}: no images found'):  # this script's option, named
        bl.main(['--hr', str(empty), '--presets', 'ultra_dark', '--model',
                 f"shipped={osp.join(ROOT, 'weights', 'trico_light_x4.pth')}", '--out', str(tmp_path / 'out')])
    folder = write_photos(tmp_path / 'hr', names=('coffee',))
    with pytest.raises(SystemExit, match="--presets 'nope'"):
        bl.main(['--hr', str(folder), '--presets', 'nope', '--model',
                 f"shipped={osp.join(ROOT, 'weights', 'trico_light_x4.pth')}", '--out', str(tmp_path / 'out')])


def test_pairs_give_the_middle_levels_target_from_the_same_draw(tmp_path):
    from trico_basicsr.data.coupled_degradation import downsample
    folder = write_photos(tmp_path / 'hr', names=('coffee', 'chelsea'))
    drawn = bl.pairs(str(folder), 'heldout_banding_jpeg', 4, seed=0, images=2)
    assert len(drawn) == 2
    for lq, gt_lr, gt in drawn:
        assert gt_lr.shape == lq.shape and gt.shape[:2] == (4 * lq.shape[0], 4 * lq.shape[1])
        np.testing.assert_array_equal(gt_lr, downsample(gt, 4))


def test_benchmark_scores_lit_and_sr_for_every_cell(tmp_path):
    hr = write_photos(tmp_path / 'hr')
    out = tmp_path / 'out'
    checkpoint = osp.join(ROOT, 'weights', 'trico_light_x4.pth')
    run([sys.executable, 'scripts/benchmark_black_level.py', '--hr', str(hr), '--images', '2', '--presets',
         'camera_linear', 'heldout_aces_lanczos', '--model', f'shipped={checkpoint}', '--out', str(out)])
    results = json.loads((out / 'results.json').read_text())
    assert list(results['cells']) == ['camera_linear / hr', 'heldout_aces_lanczos / hr']
    for cell in results['cells'].values():
        assert set(cell) == {bl.AUTO_EXPOSURE, 'shipped'}
        assert set(cell['shipped']) == {'lit', 'sr'} and set(cell[bl.AUTO_EXPOSURE]) == {'sr'}
        for stats in (cell['shipped']['lit'], cell['shipped']['sr']):
            assert set(stats) == set(bl.STATISTICS)
            assert 0 <= stats['black'] <= 255 and 0 <= stats['dark'] <= 255
    assert '| shipped | lit |' in (out / 'results.md').read_text()
