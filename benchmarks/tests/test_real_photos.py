"""benchmarks.real_photos: the figures mean what its docstring says, on a tiny split."""
import json

import cv2
import numpy as np
import pytest

from benchmarks import real_photos


def _photo(seed, size=(48, 64)):
    rows, columns = np.mgrid[0:size[0], 0:size[1]]
    rng = np.random.default_rng(seed)
    img = np.dstack([np.sin(rows / 5 + seed), np.cos(columns / 7), np.sin((rows + columns) / 9)]) * 0.3 + 0.45
    return np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1).astype(np.float32)


def test_scores_of_a_perfect_output_and_of_a_too_bright_one():
    gt = _photo(0)
    perfect = real_photos.pair_scores(gt, gt, 4)
    assert perfect['brightness_error_pct'] < 1e-6 and perfect['delta_e'] < 1e-6 and perfect['psnr'] == float('inf')
    bright = real_photos.exposed_scores(np.clip(gt * 2, 0, 1), gt, gt)
    assert bright['brightness_change_pct'] > 50 and bright['within_10pct'] == 0 and bright['clipped_pct'] > 0


def test_night_scores_look_at_the_darkest_tenth_of_the_input():
    lq = _photo(1, (48, 64))
    lq[:12] = 0.01  # a dark sky: a quarter of the frame
    black_sky = cv2.resize(lq, (256, 192), interpolation=cv2.INTER_NEAREST)  # NIQE needs 96 px blocks
    lifted = black_sky.copy()
    lifted[:48] = 0.5
    assert real_photos.night_scores(black_sky, lq, 4)['dark_tenth_level'] < 5
    assert real_photos.night_scores(lifted, lq, 4)['dark_tenth_level'] > 100


def test_a_split_is_scored_for_every_method(tmp_path):
    split = tmp_path / 'test'
    for sub in ('gt', 'lq_x4', 'exposed/gt', 'exposed/lq_x4'):
        (split / sub).mkdir(parents=True)
    for i in range(2):
        gt = _photo(i)
        lq = cv2.resize(gt, (16, 12), interpolation=cv2.INTER_AREA)
        for folder, img in (('gt', gt), ('lq_x4', lq * 0.1), ('exposed/gt', gt), ('exposed/lq_x4', lq)):
            cv2.imwrite(str(split / folder / f'{i}.png'), (img[:, :, ::-1] * 255).round().astype(np.uint8))
    real_photos.main(['--pairs', str(split), '--scale', '4', '--grid', '2', '--out', str(tmp_path / 'out')])
    results = json.loads((tmp_path / 'out' / 'results.json').read_text())['results']
    assert set(results) == {'bicubic + auto-exposure', 'LIME + bicubic'}
    for by_split in results.values():
        assert by_split['pairs']['images'] == 2 and by_split['exposed']['images'] == 2
        assert np.isfinite(by_split['pairs']['psnr'])
    assert '| bicubic + auto-exposure |' in (tmp_path / 'out' / 'results.md').read_text()
    grid = cv2.imread(str(tmp_path / 'out' / 'pairs.jpg'))
    assert grid is not None and grid.shape[1] > grid.shape[0]  # two rows of four panels
    night = tmp_path / 'night'
    night.mkdir()
    cv2.imwrite(str(night / 'n.png'), (_photo(5)[:, :, ::-1] * 20).round().astype(np.uint8))
    real_photos.main(['--pairs', str(split), '--night', str(night), '--scale', '4', '--grid', '1', '--grid-only',
                      '--out', str(tmp_path / 'g')])
    written = sorted(p.name for p in (tmp_path / 'g').iterdir())
    assert written == ['exposed.jpg', 'night.jpg', 'pairs.jpg']  # no scores computed


def test_a_model_of_another_scale_is_refused(tmp_path):
    with pytest.raises(SystemExit, match='x4 model, not x2'):
        real_photos.methods(['m=weights/trico_light_x4.pth'], 2)


def test_a_model_row_takes_its_exposure_from_the_spec():
    table = real_photos.methods(['own=weights/trico_light_x4.pth@model,model', 'anchored=weights/trico_light_x4.pth',
                                 'fixed=weights/trico_light_x4.pth@0.3'], 4)
    lq = cv2.resize(_photo(3), (16, 12), interpolation=cv2.INTER_AREA) * 0.1
    means = {name: float(table[name](lq).mean()) for name in ('own', 'anchored', 'fixed')}
    assert len({round(m, 3) for m in means.values()}) == 3, means
    with pytest.raises(SystemExit, match='EXPOSURE'):
        real_photos.methods(['bad=weights/trico_light_x4.pth@bright'], 4)
    with pytest.raises(SystemExit, match='BLACK_LEVEL'):
        real_photos.methods(['bad=weights/trico_light_x4.pth@auto,grey'], 4)
