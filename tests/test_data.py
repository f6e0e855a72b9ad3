"""Coupled-degradation synthesis, pair/LMDB datasets, draw keys and the upper-level split."""
import filecmp
import json
import os
import sys
from os import path as osp

import cv2
import numpy as np
import pytest
import torch
from basicsr.data import build_dataset

from scripts import create_lmdb, make_coupled_pairs
from tests.helpers.runs import run
from trico_basicsr.data.coupled_degradation import (
    DegradationParams,
    add_sensor_noise,
    degrade,
    get_preset,
    make_pair,
    srgb_to_linear,
)
from trico_basicsr.data.draw_sampler import DrawKeySampler
from trico_basicsr.data.image_io import read_image
from trico_basicsr.data.upper_split import upper_split_indices
from trico_basicsr.data.upper_stream import UpperLevelStream

PHOTOS = ('astronaut', 'coffee', 'rocket', 'chelsea', 'immunohistochemistry')


@pytest.fixture(scope='module')
def hr_dir(tmp_path_factory):
    """Five natural photos (from scikit-image), cropped small, as PNG files."""
    from skimage import data as skdata
    folder = tmp_path_factory.mktemp('hr')
    for name in PHOTOS:
        img = getattr(skdata, name)()[:130, :170]  # deliberately not multiples of 4
        cv2.imwrite(str(folder / f'{name}.png'), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return str(folder)


@pytest.fixture(scope='module')
def pairs_x4(hr_dir, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('pairs') / 'x4')
    make_coupled_pairs.make_pairs(hr_dir, out, 4, 'ultra_dark', seed=5, progress=False)
    return out


def paired_opt(pairs, phase='val', backend='disk', **extra):
    suffix = '.lmdb' if backend == 'lmdb' else ''
    return {'name': 'pairs', 'type': 'CoupledPairedDataset', 'phase': phase, 'scale': 4,
            'dataroot_gt': osp.join(pairs, 'gt') + suffix, 'dataroot_lq': osp.join(pairs, 'lq_x4') + suffix,
            'io_backend': {'type': backend}, **extra}


# ---------------------------------------------------------------------------------------------- synthesis
def test_same_seed_gives_byte_identical_pairs(hr_dir, pairs_x4, tmp_path):
    again = str(tmp_path / 'again')
    make_coupled_pairs.make_pairs(hr_dir, again, 4, 'ultra_dark', seed=5, progress=False)
    cmp = filecmp.dircmp(pairs_x4, again)
    assert not cmp.diff_files and not cmp.left_only and not cmp.right_only
    for sub in ('gt', 'lq_x4'):
        names = sorted(os.listdir(osp.join(pairs_x4, sub)))
        _, mismatch, errors = filecmp.cmpfiles(osp.join(pairs_x4, sub), osp.join(again, sub), names, shallow=False)
        assert not mismatch and not errors


def test_other_seed_gives_other_pairs(hr_dir, pairs_x4, tmp_path):
    other = str(tmp_path / 'other')
    make_coupled_pairs.make_pairs(hr_dir, other, 4, 'ultra_dark', seed=6, progress=False)
    assert not filecmp.cmp(osp.join(pairs_x4, 'lq_x4', 'coffee.png'), osp.join(other, 'lq_x4', 'coffee.png'),
                           shallow=False)


def test_degradation_record_lists_every_image(pairs_x4):
    record = json.load(open(osp.join(pairs_x4, 'degradation.json')))
    assert sorted(record['images']) == sorted(PHOTOS)
    assert record['preset'] == 'ultra_dark' and record['seed'] == 5
    low, high = record['ranges']['exposure']
    assert all(low <= p['exposure'] <= high for p in record['images'].values())


@pytest.mark.parametrize('scale', [2, 4])
def test_lq_times_scale_equals_gt(hr_dir, tmp_path, scale):
    out = str(tmp_path / f'x{scale}')
    make_coupled_pairs.make_pairs(hr_dir, out, scale, 'dark', seed=0, progress=False)
    for name in PHOTOS:
        gt = read_image(osp.join(out, 'gt', f'{name}.png'))
        lq = read_image(osp.join(out, f'lq_x{scale}', f'{name}.png'))
        assert gt.shape[:2] == (130 // scale * scale, 170 // scale * scale)
        assert (lq.shape[0] * scale, lq.shape[1] * scale) == gt.shape[:2]


def test_ultra_dark_is_far_darker_than_ground_truth(pairs_x4):
    for name in PHOTOS:
        gt = read_image(osp.join(pairs_x4, 'gt', f'{name}.png'))
        lq = read_image(osp.join(pairs_x4, 'lq_x4', f'{name}.png'))
        assert lq.mean() < gt.mean() / 3, name


def test_noise_variance_grows_with_intensity_in_linear_light():
    rng = np.random.default_rng(0)
    levels = [0.01, 0.05, 0.2]
    variances = [add_sensor_noise(np.full((64, 64, 3), lv, np.float32), 2000.0, 0.001, rng).var() for lv in levels]
    assert variances[0] < variances[1] < variances[2]
    # Poisson-Gaussian: variance = level / photons + read_noise^2.
    assert variances[2] == pytest.approx(0.2 / 2000 + 0.001**2, rel=0.1)


def test_degraded_images_have_signal_dependent_noise_end_to_end():
    params = DegradationParams(exposure=0.1, gamma=1.0, photons=1000.0, read_noise=0.0005, blur_sigma=0.0,
                               jpeg_quality=0)
    variances = []
    for grey in (0.3, 0.9):
        hr = np.full((256, 256, 3), grey, np.float32)
        lq = degrade(hr, 4, params, np.random.default_rng(1))
        variances.append(srgb_to_linear(lq).var())
    assert variances[0] < variances[1]


def test_every_draw_comes_from_the_generator():
    hr = read_image_from_skimage('astronaut')
    a = make_pair(hr, 4, get_preset('extreme'), np.random.default_rng(3))
    b = make_pair(hr, 4, get_preset('extreme'), np.random.default_rng(3))
    assert a[3] == b[3] and np.array_equal(a[1], b[1])


def read_image_from_skimage(name):
    from skimage import data as skdata
    return getattr(skdata, name)()[:128, :128].astype(np.float32) / 255


def test_online_validation_equals_the_written_pairs(hr_dir, pairs_x4):
    dataset = build_dataset({'name': 'v', 'type': 'CoupledOnlineDataset', 'phase': 'val', 'scale': 4,
                             'dataroot_gt': hr_dir, 'preset': 'ultra_dark', 'seed': 5})
    sample = dataset[sorted(PHOTOS).index('coffee')]
    written = read_image(osp.join(pairs_x4, 'lq_x4', 'coffee.png'))
    assert np.array_equal(np.rint(sample['lq'].permute(1, 2, 0).numpy() * 255), np.rint(written * 255))


def test_unknown_preset_and_range_are_rejected():
    with pytest.raises(ValueError, match='ultra_dark'):
        get_preset('pitch_black')
    with pytest.raises(KeyError, match='exposure'):
        get_preset('dark', {'exposre': [0.1, 0.2]})


# ---------------------------------------------------------------------------------------------- datasets
def test_folder_and_lmdb_backends_give_identical_samples(pairs_x4, tmp_path):
    lmdb_pairs = str(tmp_path / 'lmdb_pairs')
    os.makedirs(lmdb_pairs)
    for sub in ('gt', 'lq_x4'):
        create_lmdb.folder_to_lmdb(osp.join(pairs_x4, sub), osp.join(lmdb_pairs, sub + '.lmdb'), progress=False)
    for phase, extra in (('val', {}), ('train', {'gt_size': 64})):
        disk = build_dataset(paired_opt(pairs_x4, phase, **extra))
        lmdb = build_dataset(paired_opt(lmdb_pairs, phase, backend='lmdb', **extra))
        assert len(disk) == len(lmdb) == len(PHOTOS)
        for index in range(len(disk)):
            key = (index, (0, 0, 1, index)) if phase == 'train' else index
            a, b = disk[key], lmdb[key]
            assert all(torch.equal(a[key], b[key]) for key in ('lq', 'gt', 'gt_lr'))


def test_paired_training_crops_are_scale_aligned(pairs_x4):
    dataset = build_dataset(paired_opt(pairs_x4, 'train', gt_size=64))
    sample = dataset[(1, (0, 0, 0, 7))]
    assert sample['gt'].shape == (3, 64, 64)
    assert sample['lq'].shape == sample['gt_lr'].shape == (3, 16, 16)
    again = dataset[(1, (0, 0, 0, 7))]
    assert torch.equal(sample['lq'], again['lq'])
    other = dataset[(1, (0, 0, 0, 8))]
    assert not torch.equal(sample['gt'], other['gt'])


def test_online_training_sample_shapes_and_draw_keys(hr_dir):
    dataset = build_dataset({'name': 't', 'type': 'CoupledOnlineDataset', 'phase': 'train', 'scale': 2,
                             'dataroot_gt': hr_dir, 'gt_size': 48, 'preset': 'extreme'})
    a, b = dataset[(0, (1, 0, 0, 3))], dataset[(0, (1, 0, 0, 3))]
    assert a['lq'].shape == (3, 24, 24) and a['gt'].shape == (3, 48, 48)
    assert torch.equal(a['lq'], b['lq']) and a['degradation'] == b['degradation']


def test_misspelt_dataset_option_lists_valid_keys(hr_dir):
    with pytest.raises(KeyError, match='gt_size'):
        build_dataset({'name': 't', 'type': 'CoupledOnlineDataset', 'phase': 'train', 'scale': 4,
                       'dataroot_gt': hr_dir, 'gt_sise': 64})


# ---------------------------------------------------------------------------------------------- bad input
def test_corrupt_image_error_names_the_file(hr_dir, tmp_path):
    folder = tmp_path / 'bad'
    folder.mkdir()
    (folder / 'broken.png').write_bytes(b'not a png at all')
    dataset = build_dataset({'name': 't', 'type': 'CoupledOnlineDataset', 'phase': 'val', 'scale': 4,
                             'dataroot_gt': str(folder)})
    with pytest.raises(ValueError, match='broken.png'):
        dataset[0]
    with pytest.raises(ValueError, match='broken.png'):
        make_coupled_pairs.make_pairs(str(folder), str(tmp_path / 'out'), 4, 'dark', 0, progress=False)
    assert not (tmp_path / 'out').exists() and not [p for p in os.listdir(tmp_path) if p.startswith('.out')]


def test_empty_folder_error_names_the_folder(tmp_path):
    with pytest.raises(ValueError, match=str(tmp_path)):
        build_dataset({'name': 't', 'type': 'CoupledOnlineDataset', 'phase': 'val', 'scale': 4,
                       'dataroot_gt': str(tmp_path)})


def test_missing_lmdb_key_error_names_the_key(pairs_x4, tmp_path):
    lmdb_path = str(tmp_path / 'gt.lmdb')
    create_lmdb.folder_to_lmdb(osp.join(pairs_x4, 'gt'), lmdb_path, progress=False)
    with open(osp.join(lmdb_path, 'meta_info.txt'), 'a') as f:
        f.write('ghost.png (8,8,3) 1\n')
    dataset = build_dataset({'name': 't', 'type': 'CoupledOnlineDataset', 'phase': 'val', 'scale': 4,
                             'dataroot_gt': lmdb_path, 'io_backend': {'type': 'lmdb'}})
    ghost = [i for i in range(len(dataset)) if dataset.source.key(i) == 'ghost'][0]
    with pytest.raises(KeyError, match='ghost'):
        dataset[ghost]


def test_size_mismatch_error_names_both_files(pairs_x4, tmp_path):
    bad = tmp_path / 'bad_pairs'
    os.makedirs(bad / 'gt')
    os.makedirs(bad / 'lq_x4')
    gt = cv2.imread(osp.join(pairs_x4, 'gt', 'coffee.png'))
    cv2.imwrite(str(bad / 'gt' / 'coffee.png'), gt)
    cv2.imwrite(str(bad / 'lq_x4' / 'coffee.png'), gt[:10, :10])
    dataset = build_dataset(paired_opt(str(bad)))
    with pytest.raises(ValueError, match=r'lq_x4/coffee.png.*gt/coffee.png'):
        dataset[0]


def test_gt_without_lq_is_reported(pairs_x4, tmp_path):
    bad = tmp_path / 'unpaired'
    os.makedirs(bad / 'gt')
    os.makedirs(bad / 'lq_x4')
    cv2.imwrite(str(bad / 'gt' / 'lonely.png'), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(bad / 'lq_x4' / 'other.png'), np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match='lonely.png'):
        build_dataset(paired_opt(str(bad)))


def test_grey_rgba_and_16_bit_pngs_are_converted(tmp_path):
    grey = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 4)
    cv2.imwrite(str(tmp_path / 'grey.png'), grey)
    rgba = np.dstack([np.full((8, 8), v, np.uint8) for v in (10, 20, 30, 40)])  # BGRA on disk
    cv2.imwrite(str(tmp_path / 'rgba.png'), rgba)
    deep = np.full((8, 8, 3), 65535, np.uint16)
    cv2.imwrite(str(tmp_path / 'deep.png'), deep)
    g, r, d = (read_image(str(tmp_path / f'{n}.png')) for n in ('grey', 'rgba', 'deep'))
    assert g.shape == r.shape == d.shape == (8, 8, 3)
    assert np.allclose(g[..., 0], grey / 255.0) and np.array_equal(g[..., 0], g[..., 2])
    assert np.allclose(r[0, 0], [30 / 255, 20 / 255, 10 / 255])  # RGB order, alpha dropped
    assert np.allclose(d, 1.0)


def test_interrupted_lmdb_write_leaves_nothing_complete_looking(pairs_x4, tmp_path):
    folder = tmp_path / 'imgs'
    folder.mkdir()
    cv2.imwrite(str(folder / 'a.png'), np.zeros((8, 8, 3), np.uint8))
    (folder / 'b.png').write_bytes(b'garbage')
    with pytest.raises(ValueError, match='b.png'):
        create_lmdb.folder_to_lmdb(str(folder), str(tmp_path / 'x.lmdb'), progress=False)
    assert sorted(os.listdir(tmp_path)) == ['imgs']


def test_scripts_run_from_the_command_line(hr_dir, tmp_path):
    out = str(tmp_path / 'cli')
    run([sys.executable, 'scripts/make_coupled_pairs.py', '--hr', hr_dir, '--out', out, '--scale', '2', '--preset',
         'extreme', '--seed', '1'])
    run([sys.executable, 'scripts/create_lmdb.py', '--pairs', out])
    assert sorted(os.listdir(out)) == ['degradation.json', 'gt', 'gt.lmdb', 'lq_x2', 'lq_x2.lmdb', 'meta_info.txt']
    again = run([sys.executable, 'scripts/make_coupled_pairs.py', '--hr', hr_dir, '--out', out, '--scale', '2'],
                check=False)
    assert again.returncode != 0 and 'already exists' in again.stderr


# ------------------------------------------------------------------------------------ upper split and draw keys
def test_upper_split_is_disjoint_and_complete():
    lower, upper = upper_split_indices(10, 0.25, seed=3)
    assert set(lower).isdisjoint(upper) and sorted(lower + upper) == list(range(10)) and len(upper) == 3
    assert upper_split_indices(10, 0.25, seed=3) == (lower, upper)


def test_split_datasets_hold_disjoint_images(hr_dir):
    opt = {'name': 't', 'type': 'CoupledOnlineDataset', 'phase': 'train', 'scale': 4, 'dataroot_gt': hr_dir,
           'gt_size': 32, 'upper_split': {'fraction': 0.4, 'seed': 1}}
    lower = build_dataset(opt)
    upper = build_dataset({**opt, 'split_part': 'upper'})
    lower_names, upper_names = set(lower.source.names), set(upper.source.names)
    assert lower_names.isdisjoint(upper_names) and len(upper_names) == 2
    assert lower_names | upper_names == {f'{n}.png' for n in PHOTOS}
    stream = UpperLevelStream(upper, batch_size_per_gpu=3, seed=0)
    for _ in range(4):
        assert {osp.basename(p) for p in stream.next_batch()['gt_path']} <= upper_names


def test_upper_stream_ranks_cover_the_single_rank_batch(hr_dir):
    dataset = build_dataset({'name': 't', 'type': 'CoupledOnlineDataset', 'phase': 'train', 'scale': 4,
                             'dataroot_gt': hr_dir, 'gt_size': 32})
    single = UpperLevelStream(dataset, 4, seed=2)
    ranks = [UpperLevelStream(dataset, 2, seed=2, rank=r, world_size=2) for r in (0, 1)]
    for batch in range(3):
        assert sorted(single.positions(batch)) == sorted(ranks[0].positions(batch) + ranks[1].positions(batch))


def test_draw_key_sampler_splits_ranks_and_resumes_mid_epoch(hr_dir):
    dataset = build_dataset({'name': 't', 'type': 'CoupledOnlineDataset', 'phase': 'train', 'scale': 4,
                             'dataroot_gt': hr_dir, 'gt_size': 32})
    single = list(DrawKeySampler(dataset, 1, 0, ratio=2, seed=9))
    both = [list(DrawKeySampler(dataset, 2, r, ratio=2, seed=9)) for r in (0, 1)]
    assert sorted(single) == sorted(both[0] + both[1])
    resumed = DrawKeySampler(dataset, 1, 0, ratio=2, seed=9)
    resumed.continue_epoch(0, 4)
    assert list(resumed) == single[4:] and len(resumed) == len(single) - 4
