"""Real pairs from multi-exposure sequences: scene grouping, pairing, alignment check, scene split, the tool."""
import json
import subprocess
import sys
from os import path as osp

import cv2
import numpy as np
import pytest
from basicsr.data import build_dataset

from tests.helpers.runs import ROOT
from trico_basicsr.data.real_pairs import (
    check_alignment,
    describe_frame,
    downsample_dark,
    group_scenes,
    pair_scene,
    split_scenes,
)

EXPOSURES = (0.08, 0.15, 0.45, 0.65)  # two dark frames, one well exposed, one bright


def scene_image(seed, size=64):
    """A smooth random colour scene, float RGB HWC in [0, 1]."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0.05, 1.0, (8, 8, 3)).astype(np.float32)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def expose(img, gain):
    return np.clip(img * gain * 1.4, 0, 1) ** 0.8


def write_sequence(folder, scenes=4, shifted_frame=None):
    """Frames 1..N: ``scenes`` scenes of len(EXPOSURES) frames; ``shifted_frame`` is moved by 3 pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    number = 1
    for scene in range(scenes):
        base = scene_image(scene, 128)
        for gain in EXPOSURES:
            img = expose(base, gain)
            if number == shifted_frame:
                img = np.roll(img, 3, axis=1)
            cv2.imwrite(str(folder / f'{number}.jpg'), cv2.cvtColor(np.rint(img * 255).astype(np.uint8),
                                                                    cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 98])
            number += 1
    return folder


def frames_of(folder):
    from trico_basicsr.data.image_io import read_image
    names = sorted(p.name for p in folder.iterdir())
    return [describe_frame(n, read_image(str(folder / n))) for n in names]


def test_scenes_are_found_from_structure_not_brightness(tmp_path):
    scenes = group_scenes(frames_of(write_sequence(tmp_path / 'frames', scenes=3)))
    assert [[f.number for f in s] for s in scenes] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]


def test_a_gap_in_the_numbering_starts_a_new_scene(tmp_path):
    frames = frames_of(write_sequence(tmp_path / 'frames', scenes=1))
    frames[2].number, frames[3].number = 10, 11  # same content, but not consecutive
    assert [len(s) for s in group_scenes(frames)] == [2, 2]


def test_dark_frames_are_paired_with_the_best_exposed_frame(tmp_path):
    scene = group_scenes(frames_of(write_sequence(tmp_path / 'frames', scenes=1)))[0]
    pairs = pair_scene(scene, 0)
    assert [p.dark for p in pairs] == ['1.jpg', '2.jpg']
    assert {p.reference for p in pairs} == {'3.jpg'}
    assert all(p.dark_mean < 50 and 90 <= p.reference_mean <= 150 for p in pairs)


def test_a_scene_without_a_well_exposed_frame_gives_no_pairs(tmp_path):
    scene = group_scenes(frames_of(write_sequence(tmp_path / 'frames', scenes=1)))[0]
    assert pair_scene(scene, 0, reference_band=(200, 250)) == []


def test_alignment_check_measures_the_shift():
    base = scene_image(0, 128)
    correlation, shift = check_alignment(expose(base, 0.1), expose(base, 0.5))
    assert correlation > 0.97 and shift < 0.5
    _, moved = check_alignment(expose(np.roll(base, 5, axis=1), 0.1), expose(base, 0.5))
    assert 4 < moved < 6


def test_split_keeps_scenes_whole_and_is_seeded():
    splits = split_scenes(range(20), (0.6, 0.1, 0.1, 0.2), seed=3)
    assert sorted(splits) == list(range(20))
    counts = {name: list(splits.values()).count(name) for name in ('train', 'val', 'test', 'upper')}
    assert counts == {'train': 12, 'val': 2, 'test': 2, 'upper': 4}
    assert splits == split_scenes(range(20), (0.6, 0.1, 0.1, 0.2), seed=3)
    assert splits != split_scenes(range(20), (0.6, 0.1, 0.1, 0.2), seed=4)
    with pytest.raises(ValueError, match='sum to 1'):
        split_scenes(range(5), (0.5, 0.1, 0.1))


def test_binning_averages_in_linear_light():
    img = np.zeros((2, 2, 3), np.float32)
    img[0, 0] = 1.0  # one bright photosite of four
    assert downsample_dark(img, 2, 'area')[0, 0, 0] == pytest.approx(0.25)
    # a quarter of the light, re-encoded with the sRGB curve, is brighter than a quarter of the code value
    assert downsample_dark(img, 2, 'binning')[0, 0, 0] == pytest.approx(0.537, abs=0.002)
    with pytest.raises(ValueError, match='multiple of scale'):
        downsample_dark(np.zeros((3, 4, 3), np.float32), 2)


def make_pairs(frames, out, *extra):
    return subprocess.run([sys.executable, osp.join(ROOT, 'scripts', 'make_real_pairs.py'), '--frames', str(frames),
                           '--out', str(out), '--scale', '4', '2', *extra], capture_output=True, text=True)


def test_tool_refuses_a_misaligned_pair_and_splits_by_scene(tmp_path):
    frames = write_sequence(tmp_path / 'frames', scenes=10, shifted_frame=5)  # scene 1's darkest frame moved
    out = tmp_path / 'pairs'
    result = make_pairs(frames, out, '--split', '0.6', '0.2', '0.2')
    assert result.returncode == 0, result.stderr
    report = json.loads((out / 'report.json').read_text())
    assert report['scenes'] == 10 and report['pairs_found'] == 20 and report['pairs_kept'] == 19
    assert [r['dark'] for r in report['refused']] == ['5.jpg']
    assert report['refused'][0]['shift_px'] > 2 and report['refused'][0]['correlation'] < 0.95
    scenes_by_split = report['scenes_per_split']
    assert sum(map(len, scenes_by_split.values())) == 10
    for pair in report['pairs']:
        assert pair['scene'] in scenes_by_split[pair['split']]
    train = sorted(p.name for p in (out / 'train' / 'gt').iterdir())
    assert train == sorted(p['dark'].replace('.jpg', '.png') for p in report['pairs'] if p['split'] == 'train')
    gt = cv2.imread(str(out / 'train' / 'gt' / train[0]))
    assert gt.shape == (128, 128, 3)
    assert cv2.imread(str(out / 'train' / 'lq_x4' / train[0])).shape == (32, 32, 3)
    assert cv2.imread(str(out / 'train' / 'lq_x2' / train[0])).shape == (64, 64, 3)
    assert len(list((out / 'train' / 'exposed' / 'gt').iterdir())) == len(scenes_by_split['train'])
    assert not (tmp_path / 'pairs.partial').exists()


def test_tool_never_writes_into_an_existing_folder(tmp_path):
    frames = write_sequence(tmp_path / 'frames', scenes=2)
    (tmp_path / 'pairs').mkdir()
    result = make_pairs(frames, tmp_path / 'pairs')
    assert result.returncode != 0 and 'already exists' in result.stderr
    assert list((tmp_path / 'pairs').iterdir()) == []


def test_tool_output_trains_a_paired_dataset_and_mixes_with_synthetic_pairs(tmp_path):
    frames = write_sequence(tmp_path / 'frames', scenes=3)
    out = tmp_path / 'pairs'
    assert make_pairs(frames, out, '--split', '1', '0', '0').returncode == 0
    real = {'type': 'CoupledPairedDataset', 'dataroot_gt': str(out / 'train' / 'gt'),
            'dataroot_lq': str(out / 'train' / 'lq_x4'), 'probability': 3}
    synthetic = {'type': 'CoupledOnlineDataset', 'dataroot_gt': [str(out / 'train' / 'gt'),
                                                                 str(out / 'train' / 'exposed' / 'gt')],
                 'preset': 'ultra_dark', 'probability': 1}
    mix = build_dataset({'name': 'mix', 'type': 'CoupledMixDataset', 'phase': 'train', 'scale': 4, 'gt_size': 32,
                         'sources': {'real': real, 'synthetic': synthetic}})
    assert len(mix) == 6 + 9  # 6 real pairs; the synthetic source lists 6 + 3 photos from two folders
    samples = [mix[(i, (0, 0, 0, i))] for i in range(40)]
    assert all(s['lq'].shape == (3, 8, 8) and s['gt'].shape == (3, 32, 32) for s in samples)
    presets = [s['preset'] for s in samples]
    assert 20 <= presets.count('real') <= 38 and 'ultra_dark' in presets
    again = mix[(7, (0, 0, 0, 7))]
    assert np.array_equal(again['gt'].numpy(), samples[7]['gt'].numpy())  # a draw key fixes the sample


def test_mix_names_the_source_with_a_bad_probability(tmp_path):
    with pytest.raises(ValueError, match=r'sources\.real\.probability'):
        build_dataset({'name': 'mix', 'type': 'CoupledMixDataset', 'phase': 'train', 'scale': 4, 'gt_size': 32,
                       'sources': {'real': {'type': 'CoupledPairedDataset', 'dataroot_gt': 'x', 'dataroot_lq': 'y',
                                            'probability': 0}}})
