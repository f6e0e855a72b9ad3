"""Inference: the enhance CLI, tiling, checkpoints and the classical baselines."""
import os
import sys
from os import path as osp

import cv2
import numpy as np
import pytest
import torch
from basicsr.archs import build_network

from tests.helpers.runs import ROOT, run
from trico_basicsr.data.image_io import read_image
from trico_basicsr.utils.inference import TriCoEnhancer, load_checkpoint_network

NET = {'type': 'TriCoNet', 'upscale': 4, 'illum_feat': 8, 'illum_block': 1, 'num_feat': 8, 'num_block': 2,
       'ihem_every': 1, 'semantic': 'mobilenet_v2', 'semantic_layer': 'features.6', 'semantic_weights': 'torchvision'}
# Measured with the shipped weights (benchmarks/inference.py): at the default tile_pad of 48 input
# pixels, tiles differ from whole-image inference by about 0.02 grey levels (8 bit); 24 gives up to 9.
TILE_TOLERANCE = 1.0 / 255
SHIPPED_X4 = osp.join(ROOT, 'weights', 'trico_light_x4.pth')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A TriLevelModel-style checkpoint (params + network options + scale) of a small TriCoNet."""
    torch.manual_seed(0)
    net = build_network(dict(NET))
    with torch.no_grad():  # a non-trivial illumination map, as after training
        net.illum.conv_last.weight.normal_(0, 0.05)
    path = str(tmp_path_factory.mktemp('ckpt') / 'net_g_latest.pth')
    torch.save({'params': net.state_dict(), 'network_g': dict(NET), 'scale': 4}, path)
    return path


@pytest.fixture(scope='module')
def dark_folder(tmp_path_factory):
    from skimage import data as skdata
    folder = tmp_path_factory.mktemp('dark')
    for name, size in (('coffee', (37, 53)), ('chelsea', (40, 61))):
        img = cv2.resize(getattr(skdata, name)(), size[::-1], interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f'{name}.png'), cv2.cvtColor((img * 0.08).astype(np.uint8), cv2.COLOR_RGB2BGR))
    return str(folder)


def test_checkpoint_builds_without_backbone_file(checkpoint, monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    import trico_basicsr.archs.semantic_arch as semantic
    monkeypatch.setattr(semantic, '_candidate_files', lambda filename: iter(()))
    net, scale = load_checkpoint_network(checkpoint)
    assert scale == 4 and not net.training


def test_tiled_inference_matches_whole_image(checkpoint):
    img = np.random.default_rng(0).random((70, 90, 3)).astype(np.float32) * 0.1
    whole = TriCoEnhancer(checkpoint).enhance(img)
    tiled = TriCoEnhancer(checkpoint, tile=32, tile_pad=24).enhance(img)
    assert tiled.shape == whole.shape == (280, 360, 3)
    assert np.abs(tiled - whole).max() < TILE_TOLERANCE


def test_self_ensemble_output_does_not_depend_on_orientation(checkpoint):
    """Averaging over the 8 symmetries, each mapped back, makes the result orientation-equivariant."""
    img = np.random.default_rng(1).random((24, 36, 3)).astype(np.float32) * 0.1
    plain, ensemble = TriCoEnhancer(checkpoint), TriCoEnhancer(checkpoint, self_ensemble=True)
    rotated = np.ascontiguousarray(np.rot90(img))
    assert np.abs(np.rot90(plain.enhance(img)) - plain.enhance(rotated)).max() > 1e-3  # the net alone is not
    out = ensemble.enhance(img)
    assert out.shape == (96, 144, 3) and 0 <= out.min() and out.max() <= 1
    assert np.abs(np.rot90(out) - ensemble.enhance(rotated)).max() < 1e-5
    assert np.abs(out[:, ::-1] - ensemble.enhance(np.ascontiguousarray(img[:, ::-1]))).max() < 1e-5
    assert np.abs(out - plain.enhance(img)).max() > 1e-3


def test_self_ensemble_tiles_like_the_whole_image(checkpoint):
    img = np.random.default_rng(2).random((70, 90, 3)).astype(np.float32) * 0.1
    whole = TriCoEnhancer(checkpoint, self_ensemble=True).enhance(img)
    tiled = TriCoEnhancer(checkpoint, tile=32, tile_pad=24, self_ensemble=True).enhance(img)
    assert np.abs(tiled - whole).max() < TILE_TOLERANCE


def test_shipped_weights_tile_without_seams_for_any_tile_size(dark_folder):
    """Tiles whose padded origin is off the backbone's stride-8 grid (tile 37) still match: the
    enhancer aligns them; unaligned, this image differed by 28 grey levels (a real photo by up to 90)."""
    img = read_image(osp.join(dark_folder, 'chelsea.png'))  # 40 x 61, float RGB
    img = np.ascontiguousarray(np.tile(img, (2, 2, 1))[:75, :117])
    whole = TriCoEnhancer(SHIPPED_X4).enhance(img)
    tiled = TriCoEnhancer(SHIPPED_X4, tile=37).enhance(img)
    assert np.abs(tiled - whole).max() < TILE_TOLERANCE


def test_cli_writes_png_four_times_the_input_and_skips_bad_files(checkpoint, dark_folder, tmp_path):
    folder = tmp_path / 'inputs'
    folder.mkdir()
    for name in os.listdir(dark_folder):
        (folder / name).write_bytes(open(osp.join(dark_folder, name), 'rb').read())
    (folder / 'corrupt.jpg').write_bytes(b'\x00' * 100)
    out = tmp_path / 'out'
    proc = run([sys.executable, 'scripts/enhance.py', '-i', str(folder), '-o', str(out), '--model', checkpoint,
                '--scale', '4', '--tile', '24', '--tile-pad', '8'], check=False)
    assert proc.returncode == 1 and 'corrupt.jpg' in proc.stdout + proc.stderr
    assert sorted(os.listdir(out)) == ['chelsea.png', 'coffee.png']
    for name in ('chelsea', 'coffee'):
        lq, sr = read_image(osp.join(dark_folder, f'{name}.png')), read_image(str(out / f'{name}.png'))
        assert sr.shape == (lq.shape[0] * 4, lq.shape[1] * 4, 3)


def test_cli_self_ensemble_writes_the_ensembled_output(checkpoint, dark_folder, tmp_path):
    proc = run([sys.executable, 'scripts/enhance.py', '-i', osp.join(dark_folder, 'coffee.png'), '-o', str(tmp_path),
                '--model', checkpoint, '--self-ensemble'], check=False)
    assert proc.returncode == 0, proc.stderr
    expected = TriCoEnhancer(checkpoint, self_ensemble=True).enhance(read_image(osp.join(dark_folder, 'coffee.png')))
    assert np.abs(read_image(str(tmp_path / 'coffee.png')) - expected).max() <= 0.51 / 255  # 8-bit rounding


def test_cli_rejects_a_scale_the_model_does_not_have(checkpoint, dark_folder, tmp_path):
    proc = run([sys.executable, 'scripts/enhance.py', '-i', dark_folder, '-o', str(tmp_path), '--model', checkpoint,
                '--scale', '2'], check=False)
    assert proc.returncode != 0 and 'x4 model' in proc.stderr


def test_cli_without_model_uses_the_shipped_demo_weights(dark_folder, tmp_path):
    if not osp.isfile(osp.join(ROOT, 'weights', 'trico_light_x4.pth')):
        pytest.fail('weights/trico_light_x4.pth is missing: the demo weights must ship with the project')
    run([sys.executable, 'scripts/enhance.py', '-i', dark_folder, '-o', str(tmp_path / 'o'), '--scale', '4'])
    assert sorted(os.listdir(tmp_path / 'o')) == ['chelsea.png', 'coffee.png']




@pytest.mark.parametrize('exposure', ['model', '0.3'])
def test_cli_exposure_gives_what_the_enhancer_gives(checkpoint, dark_folder, tmp_path, exposure):
    proc = run([sys.executable, 'scripts/enhance.py', '-i', osp.join(dark_folder, 'coffee.png'), '-o', str(tmp_path),
                '--model', checkpoint, '--exposure', exposure], check=False)
    assert proc.returncode == 0, proc.stderr
    value = exposure if exposure == 'model' else float(exposure)
    expected = TriCoEnhancer(checkpoint, exposure=value).enhance(read_image(osp.join(dark_folder, 'coffee.png')))
    other = TriCoEnhancer(checkpoint, exposure=0.6).enhance(read_image(osp.join(dark_folder, 'coffee.png')))
    written = read_image(str(tmp_path / 'coffee.png'))
    assert np.abs(written - expected).max() <= 0.51 / 255 and np.abs(written - other).max() > 5 / 255


@pytest.mark.parametrize('bad', ['bright', '1.5', '0'])
def test_cli_refuses_a_bad_exposure_naming_the_option(checkpoint, dark_folder, tmp_path, bad):
    proc = run([sys.executable, 'scripts/enhance.py', '-i', dark_folder, '-o', str(tmp_path / 'o'), '--model',
                checkpoint, '--exposure', bad], check=False)
    assert proc.returncode == 2 and '--exposure' in proc.stderr and not osp.exists(tmp_path / 'o')


def test_cli_black_level_keep_restores_the_middle_levels_shadows(dark_folder, tmp_path):
    photo = osp.join(dark_folder, 'coffee.png')
    run([sys.executable, 'scripts/enhance.py', '-i', photo, '-o', str(tmp_path), '--model', SHIPPED_X4,
         '--black-level', 'keep'])
    expected = TriCoEnhancer(SHIPPED_X4, keep_black_level=True).enhance(read_image(photo))
    default = TriCoEnhancer(SHIPPED_X4).enhance(read_image(photo))
    written = read_image(str(tmp_path / 'coffee.png'))
    assert np.abs(written - expected).max() <= 0.51 / 255 and np.abs(written - default).max() > 2 / 255
