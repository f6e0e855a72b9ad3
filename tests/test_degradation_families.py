"""The degradation families: the broad camera mix, the held-out families, and the original presets unchanged."""
import dataclasses

import numpy as np
import pytest
from basicsr.data import build_dataset

from tests.helpers.families import assert_refused_for_training
from tests.helpers.runs import ROOT
from trico_basicsr.data.coupled_degradation import (
    DOWNSAMPLERS,
    HELDOUT_FAMILIES,
    PRESETS,
    TONE_CURVES,
    DegradationParams,
    codec_roundtrip,
    degrade,
    downsample,
    get_preset,
    lowkey_scene,
    make_pair,
    sample_params,
    srgb_to_linear,
)
from trico_basicsr.utils.options import read_options

ORIGINAL = ('clean', 'dark', 'ultra_dark', 'extreme')


def _photo():
    from skimage import data as skdata
    return skdata.astronaut()[:128, :128].astype(np.float32) / 255


@pytest.mark.parametrize('name', ORIGINAL)
def test_original_presets_draw_exactly_as_before(name):
    """Eight uniform draws per sample and no extended component: their pairs are the ones made before."""
    preset = get_preset(name)
    assert not preset.extended
    rng, reference = np.random.default_rng(7), np.random.default_rng(7)
    params = sample_params(preset, rng)
    reference.random(8)
    assert rng.random() == reference.random()
    assert (params.tone_curve, params.downsampler, params.noise_stage) == ('srgb', 'bicubic', 'lr')


def test_camera_mix_draws_every_component():
    preset = get_preset('camera_mix')
    rng = np.random.default_rng(0)
    draws = [sample_params(preset, rng) for _ in range(400)]
    assert {d.tone_curve for d in draws} == set(preset.tone_curves)
    assert {d.downsampler for d in draws} == set(preset.downsamplers)
    assert {d.noise_stage for d in draws} == {'lr', 'hr'}
    assert 0.3 < np.mean([d.gamma == 1.0 for d in draws]) < 0.7  # half without an extra tone curve
    assert 0.2 < np.mean([d.highlight_threshold > 0 for d in draws]) < 0.4
    exposures = [d.exposure for d in draws]
    assert min(exposures) < 0.012 and max(exposures) > 0.25
    assert min(d.photons for d in draws) < 300
    assert any(d.wb_gains[0] != 1.0 for d in draws)


def test_camera_linear_is_camera_mix_without_the_extra_tone_curve():
    linear, mix = get_preset('camera_linear'), get_preset('camera_mix')
    assert dataclasses.replace(linear, gamma_prob=mix.gamma_prob) == mix
    rng = np.random.default_rng(0)
    draws = [sample_params(linear, rng) for _ in range(200)]
    assert all(d.gamma == 1.0 for d in draws)
    assert {d.tone_curve for d in draws} == set(mix.tone_curves)


def test_heldout_families_use_components_the_training_mix_never_does():
    mix = get_preset('camera_mix')
    aces, banding = get_preset('heldout_aces_lanczos'), get_preset('heldout_banding_jpeg')
    assert not set(aces.tone_curves) & set(mix.tone_curves) and not set(aces.downsamplers) & set(mix.downsamplers)
    assert mix.row_noise == (0.0, 0.0) and banding.row_noise[0] > 0
    assert banding.jpeg_quality[1] < mix.jpeg_quality[0]


@pytest.mark.parametrize('name', [n for n in PRESETS if n not in HELDOUT_FAMILIES])
def test_no_other_preset_compresses_with_heavy_jpeg(name):
    """Heavy JPEG is the banding family's own: every other preset's JPEG stays above its qualities."""
    preset, banding = get_preset(name), get_preset('heldout_banding_jpeg')
    if preset.jpeg_prob > 0 and 'jpeg' in preset.codecs:
        assert preset.jpeg_quality[0] > banding.jpeg_quality[1]


def test_a_second_codec_takes_no_draw_of_its_own():
    """camera_mix with WebP as often as JPEG: each in its range; every other parameter as camera_mix draws it."""
    mixed = dataclasses.replace(get_preset('camera_mix'), jpeg_prob=0.6, codecs=('jpeg', 'webp'), webp_quality=(15, 60))
    jpeg_only = dataclasses.replace(mixed, codecs=('jpeg',))
    rng, reference = np.random.default_rng(3), np.random.default_rng(3)
    draws = [(sample_params(mixed, rng), sample_params(jpeg_only, reference)) for _ in range(600)]
    for a, b in draws:
        assert dataclasses.replace(a, codec='jpeg', jpeg_quality=0) == dataclasses.replace(b, jpeg_quality=0)
    compressed = [a for a, _ in draws if a.jpeg_quality]
    assert 0.5 < len(compressed) / len(draws) < 0.7
    webp = [a.jpeg_quality for a in compressed if a.codec == 'webp']
    jpeg = [a.jpeg_quality for a in compressed if a.codec == 'jpeg']
    assert 0.4 < len(webp) / len(compressed) < 0.6
    assert min(webp) >= 15 and max(webp) <= 60 and min(jpeg) >= 60


def test_webp_compresses_unlike_jpeg():
    img = _photo()
    webp, jpeg = codec_roundtrip(img, 30, 'webp'), codec_roundtrip(img, 30, 'jpeg')
    assert webp.shape == img.shape and webp.dtype == np.float32
    assert 0 < np.abs(webp - img).mean() < 0.05 and np.abs(webp - jpeg).mean() > 0.003
    with pytest.raises(ValueError, match='codec'):
        codec_roundtrip(img, 30, 'jpeg2000')


def test_an_unknown_codec_is_refused_naming_the_option():
    with pytest.raises(ValueError, match=r"degradation.codecs of preset 'camera_mix': unknown codec\(s\) heic"):
        get_preset('camera_mix', {'codecs': ['jpeg', 'heic']})


@pytest.mark.parametrize('family', HELDOUT_FAMILIES)
def test_heldout_families_are_refused_for_training(family, tmp_path):
    opt = assert_refused_for_training(family, 'held-out family')
    opt.update(phase='val', preset=family)
    assert build_dataset(opt)[0]['lq'].shape == (3, 128, 128)


@pytest.mark.parametrize('options', ['trico_light_x4_stage1.yml', 'trico_light_x2_stage1.yml',
                                     'trico_light_x4_stage2.yml', 'trico_light_x2_stage2.yml'])
def test_shipped_weights_train_on_the_mix_and_select_on_a_heldout_family(options):
    opt = read_options(f'{ROOT}/options/train/{options}')
    assert 'camera_mix' in opt['datasets']['train']['preset']
    if 'stage2' in options:  # the shipped fine-tunes: three quarters exposure-only darkening
        assert opt['datasets']['train']['preset'].count('camera_linear') / len(opt['datasets']['train']['preset']) > 0.6
    assert not set(opt['datasets']['train']['preset']) & set(HELDOUT_FAMILIES)
    assert opt['datasets']['val']['preset'] in HELDOUT_FAMILIES


@pytest.mark.parametrize('curve', sorted(TONE_CURVES))
def test_tone_curves_are_monotone_from_black_to_near_white(curve):
    lin = np.linspace(0, 1, 256, dtype=np.float32)
    encoded = TONE_CURVES[curve](lin)
    # filmic's shoulder (white point 11.2 at exposure bias 2) rolls full scale off to 0.73, like a camera look
    assert encoded[0] == pytest.approx(0.0, abs=1e-3) and encoded[-1] > 0.7
    assert np.all(np.diff(encoded) >= -1e-6)


@pytest.mark.parametrize('method', DOWNSAMPLERS)
def test_downsamplers_keep_the_size_and_the_mean(method):
    img = _photo()
    small = downsample(img, 4, method)
    assert small.shape == (32, 32, 3)
    assert abs(small.mean() - img.mean()) < 0.02


def _params(**changes):
    base = DegradationParams(exposure=0.05, gamma=1.0, photons=300.0, read_noise=0.001, blur_sigma=0.0, jpeg_quality=0)
    return dataclasses.replace(base, **changes)


def test_noise_before_downsampling_is_binned():
    hr = np.full((256, 256, 3), 0.6, np.float32)
    lr_noise = degrade(hr, 4, _params(downsampler='area'), np.random.default_rng(0))
    hr_noise = degrade(hr, 4, _params(downsampler='area', noise_stage='hr'), np.random.default_rng(0))
    assert hr_noise.std() < lr_noise.std() / 2  # area-binning 16 pixels divides the noise std by about 4


def test_light_sources_stay_bright():
    hr = np.full((64, 64, 3), 0.3, np.float32)
    hr[24:40, 24:40] = 1.0  # a lamp
    plain = degrade(hr, 4, _params(photons=0.0, read_noise=0.0), np.random.default_rng(0))
    lit = degrade(hr, 4, _params(photons=0.0, read_noise=0.0, highlight_threshold=0.8), np.random.default_rng(0))
    assert lit[7, 7].mean() > 0.95 and plain[7, 7].mean() < 0.4
    assert lit[0, 0].mean() == pytest.approx(plain[0, 0].mean())  # the rest of the scene is as dark


def test_white_balance_gains_tint_the_image():
    hr = np.full((64, 64, 3), 0.5, np.float32)
    tinted = degrade(hr, 4, _params(photons=0.0, read_noise=0.0, wb_gains=(1.15, 1.0, 0.85)), np.random.default_rng(0))
    assert tinted[..., 0].mean() > tinted[..., 1].mean() > tinted[..., 2].mean()


def test_row_noise_makes_bands():
    hr = np.full((256, 256, 3), 0.5, np.float32)
    lq = degrade(hr, 4, _params(photons=0.0, read_noise=0.0, row_noise=0.002), np.random.default_rng(0))
    assert lq.mean(axis=1).std() > 5 * lq.mean(axis=0).std()  # rows differ, columns do not


@pytest.mark.parametrize('name', sorted(PRESETS))
def test_every_preset_makes_a_valid_dark_pair(name):
    gt, lq, gt_lr, _ = make_pair(_photo(), 4, get_preset(name), np.random.default_rng(3))
    assert lq.shape == gt_lr.shape == (32, 32, 3) and lq.dtype == np.float32
    assert 0 <= lq.min() and lq.max() <= 1
    if name != 'clean':
        assert lq.mean() < gt.mean()


def test_a_night_scene_darkens_one_side_of_the_target_in_linear_light():
    hr = np.full((64, 64, 3), 0.7, np.float32)
    night = lowkey_scene(hr, (0.05, 0.0, 0.0, 0.2))  # ramp along x: the left side is unlit
    ratio = srgb_to_linear(night) / srgb_to_linear(hr)
    assert ratio[:, :8].max() == pytest.approx(0.05, abs=1e-3)  # unlit: 5 % of the daylight level
    assert ratio[:, -8:].min() == pytest.approx(1.0, abs=1e-3)  # lit side untouched
    assert np.all(np.diff(ratio[0, :, 0]) >= -1e-6)  # a monotone ramp in between
    assert lowkey_scene(hr, (0.0, 1.0, 0.1, 0.3)) is hr  # level 0: the daylight target


def test_camera_night_is_camera_mix_with_night_targets():
    """Its draws match camera_mix's (the 4 night draws come last), and every target gets an unlit part."""
    mix, night = get_preset('camera_mix'), get_preset('camera_night')
    assert dataclasses.replace(night, lowkey_prob=0.0) == mix
    for seed in range(20):
        drawn = sample_params(night, np.random.default_rng(seed))
        daylight = dataclasses.replace(drawn, lowkey=(0.0, 0.0, 0.0, 0.0))
        assert daylight == sample_params(mix, np.random.default_rng(seed))
        assert 0.02 <= drawn.lowkey[0] <= 0.2 and 0.1 <= drawn.lowkey[3] <= 0.6
    gt, _, gt_lr, params = make_pair(_photo(), 4, night, np.random.default_rng(1))
    assert gt.mean() < _photo().mean() - 0.02  # both targets are the night scene
    np.testing.assert_allclose(gt_lr, downsample(gt, 4))


def test_a_mix_with_and_without_night_scenes_collates(tmp_path):
    import torch
    opt = {'name': 'mixed', 'type': 'CoupledOnlineDataset', 'dataroot_gt': 'skimage:astronaut,coffee,chelsea,rocket',
           'preset': ['camera_mix', 'camera_night'], 'gt_size': 64, 'use_hflip': False, 'use_rot': False,
           'phase': 'train', 'scale': 4, 'io_backend': {'type': 'disk'}}
    batch = next(iter(torch.utils.data.DataLoader(build_dataset(opt), batch_size=4)))
    levels = batch['degradation']['lowkey'][0]
    assert levels.shape == (4,) and set(batch['preset']) <= {'camera_mix', 'camera_night'}
    for level, preset in zip(levels.tolist(), batch['preset']):
        assert (level > 0) == (preset == 'camera_night')
