"""Files from real cameras and from strangers: EXIF orientation, 16-bit / alpha / grey kept by enhance.py,
checkpoints never unpickled, NaN refused, bounded memory for tiled output. Rows of docs/reliability.md."""
import io
import os
import sys
import tracemalloc
from os import path as osp

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from tests.helpers.runs import ROOT, run
from trico_basicsr.data.image_io import apply_orientation, decode_image, read_image, read_image_layout
from trico_basicsr.utils.inference import TriCoEnhancer, load_weights_only

SHIPPED_X4 = osp.join(ROOT, 'weights', 'trico_light_x4.pth')


def _pattern(height=24, width=40):
    """An RGB uint8 image with 8-pixel flat blocks (so JPEG keeps it almost exactly) and no symmetry."""
    rows, columns = np.mgrid[0:height, 0:width] // 8
    return np.dstack([rows * 50 + 20, columns * 40 + 10, (rows * 7 + columns * 13) % 5 * 50]).astype(np.uint8)


def _jpeg_with_orientation(rgb, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format='JPEG', quality=100, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize('orientation', range(1, 9))
def test_reading_turns_each_exif_orientation_upright_as_pillow_does(orientation):
    data = _jpeg_with_orientation(_pattern(), orientation)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert('RGB'), np.float32) / 255
    got = decode_image(data, 'photo.jpg')
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 4 / 255  # two JPEG decoders; a wrong turn differs by ~200 levels


def test_orientation_six_is_a_quarter_turn_clockwise():
    img = np.arange(6).reshape(2, 3)
    assert apply_orientation(img, 6).tolist() == [[3, 0], [4, 1], [5, 2]]


def _enhance(*args):
    return run([sys.executable, 'scripts/enhance.py', *map(str, args)], check=False)


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / 'in'
    folder.mkdir()
    return folder


def test_enhance_turns_a_portrait_phone_photo_upright(folder, tmp_path):
    (folder / 'portrait.jpg').write_bytes(_jpeg_with_orientation((_pattern(36, 48) * 0.2).astype(np.uint8), 6))
    proc = _enhance('-i', folder, '-o', tmp_path / 'o')
    assert proc.returncode == 0, proc.stderr
    assert read_image(str(tmp_path / 'o' / 'portrait.png')).shape == (48 * 4, 36 * 4, 3)


def test_enhance_keeps_16_bit_alpha_and_grey(folder, tmp_path):
    dark = (_pattern(36, 48).astype(np.float32) / 255 * 0.1)
    cv2.imwrite(str(folder / 'deep.png'), (dark * 65535).astype(np.uint16)[:, :, ::-1])
    alpha = np.zeros((36, 48), np.uint8)
    alpha[:, 24:] = 255
    cv2.imwrite(str(folder / 'cut.png'), np.dstack([(dark * 255).astype(np.uint8)[:, :, ::-1], alpha]))
    cv2.imwrite(str(folder / 'grey.png'), (dark[:, :, 0] * 255).astype(np.uint8))
    proc = _enhance('-i', folder, '-o', tmp_path / 'o')
    assert proc.returncode == 0, proc.stderr
    deep = cv2.imread(str(tmp_path / 'o' / 'deep.png'), cv2.IMREAD_UNCHANGED)
    assert deep.dtype == np.uint16 and deep.shape == (144, 192, 3)
    assert len(np.unique(deep)) > 256  # more levels than 8 bits hold: processed in float, not via uint8
    cut = cv2.imread(str(tmp_path / 'o' / 'cut.png'), cv2.IMREAD_UNCHANGED)
    assert cut.shape == (144, 192, 4)
    assert cut[:, :90, 3].max() == 0 and cut[:, 102:, 3].min() == 255  # the mask, upscaled in place
    grey = cv2.imread(str(tmp_path / 'o' / 'grey.png'), cv2.IMREAD_UNCHANGED)
    assert grey.shape == (144, 192)
    proc = _enhance('-i', folder / 'grey.png', '-o', tmp_path / 'c', '--color')
    assert proc.returncode == 0, proc.stderr
    assert cv2.imread(str(tmp_path / 'c' / 'grey.png'), cv2.IMREAD_UNCHANGED).shape == (144, 192, 3)


def test_read_image_layout_reports_what_float_rgb_drops(folder):
    cv2.imwrite(str(folder / 'a.png'), np.full((4, 5, 4), 30000, np.uint16))
    rgb, layout = read_image_layout(str(folder / 'a.png'))
    assert rgb.shape == (4, 5, 3) and layout.bit_depth == 16 and not layout.grey
    assert layout.alpha.shape == (4, 5) and np.allclose(layout.alpha, 30000 / 65535)


# ------------------------------------------------------------------------------------------ output names
def _dark_png(path):
    cv2.imwrite(str(path), (_pattern(12, 16) * 0.1).astype(np.uint8))


def test_a_single_file_input_never_overwrites_a_photo_beside_it(folder):
    _dark_png(folder / 'a.png')
    cv2.imwrite(str(folder / 'a.jpg'), cv2.imread(str(folder / 'a.png')))
    before = (folder / 'a.png').read_bytes()
    proc = _enhance('-i', folder / 'a.jpg', '-o', folder)
    assert proc.returncode == 2 and 'inside the input folder' in proc.stderr
    assert (folder / 'a.png').read_bytes() == before


@pytest.mark.parametrize('names, outputs', [
    (('a.png', 'a.PNG'), ['a_png.png', 'a_png_2.png']),
    (('a.jpg', 'a.png', 'a_png.png'), ['a_jpg.png', 'a_png.png', 'a_png_2.png']),
    (('B.png', 'b.jpg'), ['B_png.png', 'b_jpg.png']),
], ids=['case', 'stem collision', 'case of stems'])
def test_inputs_whose_names_clash_get_one_output_each(folder, tmp_path, names, outputs):
    for name in names:
        _dark_png(folder / name)
    proc = _enhance('-i', folder, '-o', tmp_path / 'o')
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(tmp_path / 'o')) == sorted(outputs)
    assert f'{len(names)} of {len(names)} images written' in proc.stdout


# ------------------------------------------------------------------------------------------ NaN
def test_nan_weights_are_refused_naming_the_checkpoint(folder, tmp_path):
    checkpoint = torch.load(SHIPPED_X4, weights_only=True)
    name = next(iter(checkpoint['params_ema']))
    checkpoint['params_ema'][name].fill_(float('nan'))
    bad = tmp_path / 'diverged.pth'
    torch.save(checkpoint, bad)
    _dark_png(folder / 'a.png')
    proc = _enhance('-i', folder, '-o', tmp_path / 'o', '--model', bad)
    assert proc.returncode == 2 and str(bad) in proc.stderr and 'NaN' in proc.stderr
    assert not (tmp_path / 'o' / 'a.png').exists()


def test_nan_output_is_an_error_naming_file_and_checkpoint_and_writes_nothing(folder, tmp_path, monkeypatch, capsys):
    from scripts import enhance
    _dark_png(folder / 'a.png')
    from trico_basicsr.utils import inference

    class Diverged(torch.nn.Module):
        def forward(self, x):
            return torch.full((1, 3, x.shape[2] * 4, x.shape[3] * 4), float('nan'))
    monkeypatch.setattr(inference, 'load_checkpoint_network', lambda *a, **k: (Diverged(), 4))
    with pytest.raises(SystemExit) as exit_info:
        enhance.main(['-i', str(folder / 'a.png'), '-o', str(tmp_path / 'o')])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and 'a.png' in err and 'trico_light_x4.pth' in err and 'NaN' in err
    assert not (tmp_path / 'o' / 'a.png').exists()


# ------------------------------------------------------------------------------------------ memory
def test_tiled_8_bit_output_holds_the_output_plus_tiles_not_a_float_copy():
    enhancer = TriCoEnhancer(SHIPPED_X4, tile=32, device='cpu', keep_black_level=True)  # its extra pass too
    img = np.random.default_rng(0).uniform(0, 0.1, (96, 128, 3)).astype(np.float32)
    output_bytes = 96 * 4 * 128 * 4 * 3
    tracemalloc.start()
    try:
        out = enhancer.enhance(img, bit_depth=8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.dtype == np.uint8 and out.shape == (384, 512, 3)
    tile_float_bytes = (32 * 4) ** 2 * 3 * 4
    assert peak < output_bytes + 3 * tile_float_bytes  # a float32 copy of the output alone is 4x its uint8 size
    whole = TriCoEnhancer(SHIPPED_X4, tile=0, device='cpu', keep_black_level=True).enhance(img, bit_depth=8)
    # the black level is mapped after the tiles were rounded to 8 bits (its statistics need every tile), so
    # values may differ by a few levels more than rounding alone; measured: at most 4 on real night photos
    assert np.abs(out.astype(int) - whole).max() <= 4


# ------------------------------------------------------------------------------------------ pickles
class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def _crafted(tmp_path):
    path, marker = tmp_path / 'crafted.pth', tmp_path / 'ran'
    torch.save({'params_ema': {}, 'payload': _RunsCode(marker)}, path)
    return path, marker


def test_the_crafted_pickle_would_run_code_if_unpickled(tmp_path):
    path, marker = _crafted(tmp_path)
    torch.load(path, weights_only=False)  # the attack this file guards against, run here on purpose
    assert marker.exists()


def test_load_weights_only_refuses_code_naming_the_file(tmp_path):
    path, marker = _crafted(tmp_path)
    with pytest.raises(ValueError, match='crafted.pth is refused'):
        load_weights_only(str(path))
    assert not marker.exists()


@pytest.mark.parametrize('tool', [
    ['scripts/average_checkpoints.py', '--model', '{ckpt}', '--model', '{ckpt}', '--out', '{tmp}/soup.pth'],
    ['scripts/export_checkpoints.py', '--experiment', '{tmp}/run', '--log', '{tmp}/train.log', '--out', '{tmp}/export'],
    ['scripts/set_prior_exponent.py', '--model', '{ckpt}', '--exponent', '0.5', '--out', '{tmp}/set.pth'],
    ['scripts/enhance.py', '-i', '{tmp}/in', '-o', '{tmp}/o', '--model', '{ckpt}'],
], ids=['average', 'export', 'set_prior_exponent', 'enhance'])
def test_checkpoint_tools_refuse_a_pickle_that_runs_code(tmp_path, tool):
    path, marker = _crafted(tmp_path)
    (tmp_path / 'run' / 'models').mkdir(parents=True)
    os.link(path, tmp_path / 'run' / 'models' / 'net_g_10.pth')
    (tmp_path / 'train.log').write_text('')
    (tmp_path / 'in').mkdir()
    _dark_png(tmp_path / 'in' / 'a.png')
    args = [a.format(ckpt=path, tmp=tmp_path) for a in tool]
    proc = run([sys.executable, *args], check=False)
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    assert ('crafted.pth' in proc.stderr or 'net_g_10.pth' in proc.stderr) and 'refused' in proc.stderr
    assert not marker.exists()
