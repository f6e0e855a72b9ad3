"""Nothing lost, nothing silently wrong: resume with the weight average, crash-safe checkpoints, scripts
that refuse to destroy inputs, and clear errors for bad inputs and diverging runs.
docs/reliability.md lists every case tested here with its outcome."""
import logging
import os
import subprocess
import sys
from os import path as osp

import cv2
import numpy as np
import pytest
import torch
import yaml

from scripts import create_lmdb, enhance, make_coupled_pairs
from tests.helpers.runs import ROOT, TINY, load_params, max_abs_diff, run, train_in_process
from trico_basicsr.data.image_io import read_image
from trico_basicsr.utils import atomic, compat

EMA = ['train:ema_decay=0.9']
COMMON = ['train:pgr:phases:cooperative_start=2', 'train:pgr:phases:trilevel_start=3', 'val:val_freq=1000', *EMA]


def _models(root, name):
    return osp.join(root, 'experiments', name, 'models')


# ------------------------------------------------------------------------------------------ resume and EMA
def test_resumed_run_restores_the_weight_average(root):
    """Validation and inference use params_ema: a resumed run must continue the average, not restart it."""
    train_in_process(root, TINY, ['name=whole', 'train:total_iter=7', 'logger:save_checkpoint_freq=5', *COMMON])
    train_in_process(root, TINY, ['name=part', 'train:total_iter=5', 'logger:save_checkpoint_freq=5', *COMMON])
    state = osp.join(root, 'experiments', 'part', 'training_states', '5.state')
    train_in_process(root, TINY, ['name=part', 'train:total_iter=7', f'path:resume_state={state}', *COMMON])
    whole, part = (osp.join(_models(root, n), 'net_g_latest.pth') for n in ('whole', 'part'))
    assert max_abs_diff(load_params(whole), load_params(part)) == 0.0
    assert max_abs_diff(load_params(whole, 'params_ema'), load_params(part, 'params_ema')) == 0.0


@pytest.mark.slow
def test_sigkill_while_writing_a_state_then_auto_resume_matches_an_uninterrupted_run(root):
    force = ['train:total_iter=7', 'logger:save_checkpoint_freq=2', *COMMON]
    train_in_process(root, TINY, ['name=whole', *force])
    killed = subprocess.run([sys.executable, 'tests/helpers/kill_during_save.py', root, TINY, '6', 'name=crash',
                             *force],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr[-3000:]
    states = osp.join(root, 'experiments', 'crash', 'training_states')
    left = os.listdir(states)
    assert '6.state' not in left and any(n.startswith('.6.state') and n.endswith('.partial') for n in left), left
    train_in_process(root, TINY, ['name=crash', *force], extra_args=['--auto_resume'])
    assert not [n for n in os.listdir(states) if n.endswith('.partial')]  # the half-written file was cleaned up
    whole, crash = (osp.join(_models(root, n), 'net_g_latest.pth') for n in ('whole', 'crash'))
    assert max_abs_diff(load_params(whole), load_params(crash)) == 0.0
    assert max_abs_diff(load_params(whole, 'params_ema'), load_params(crash, 'params_ema')) == 0.0


def _states(tmp_path, corrupt):
    states, models = tmp_path / 'training_states', tmp_path / 'models'
    states.mkdir()
    models.mkdir()
    for it in (4, 6):
        torch.save({'epoch': 0, 'iter': it, 'optimizers': [], 'schedulers': []}, states / f'{it}.state')
        torch.save({'params': {}}, models / f'net_g_{it}.pth')
    data = (states / '6.state').read_bytes()
    (states / '6.state').write_bytes(corrupt(data))
    return {'auto_resume': True, 'name': 'x', 'path': {'training_states': str(states), 'models': str(models),
                                                       'resume_state': None}}


@pytest.mark.parametrize('corrupt', [lambda d: d[:len(d) // 2], lambda d: b'', lambda d: b'garbage' * 10],
                         ids=['truncated', 'empty', 'garbage'])
def test_auto_resume_skips_an_unreadable_state_and_names_it(tmp_path, corrupt):
    opt = _states(tmp_path, corrupt)
    with pytest.warns(UserWarning, match='6.state'):
        state = compat.load_resume_state(opt)
    assert state['iter'] == 4 and opt['path']['resume_state'].endswith('4.state')


def test_auto_resume_skips_a_state_whose_network_checkpoint_is_missing(tmp_path):
    opt = _states(tmp_path, lambda d: d)
    os.remove(tmp_path / 'models' / 'net_g_6.pth')
    with pytest.warns(UserWarning, match='net_g_6.pth'):
        assert compat.load_resume_state(opt)['iter'] == 4


def test_an_explicit_corrupt_resume_state_is_an_error_naming_it(tmp_path):
    opt = _states(tmp_path, lambda d: d[:10])
    opt.update(auto_resume=False)
    opt['path']['resume_state'] = str(tmp_path / 'training_states' / '6.state')
    with pytest.raises(ValueError, match='6.state cannot be read'):
        compat.load_resume_state(opt)


def test_checkpoints_are_fsynced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic.os, 'fsync', lambda fd: (events.append('fsync'), real_fsync(fd))[1])
    monkeypatch.setattr(atomic.os, 'replace', lambda a, b: (events.append('replace'), real_replace(a, b))[1])
    atomic.atomic_torch_save({'x': torch.ones(3)}, str(tmp_path / 'a.pth'))
    assert events[:2] == ['fsync', 'replace'] and events.count('fsync') == 2  # the file, then its folder
    assert torch.load(tmp_path / 'a.pth')['x'].sum() == 3


# ------------------------------------------------------------------------------------------ training guards
def _nan_options(tmp_path):
    """The tiny options with a dataset whose inputs are NaN (exposure NaN): every update is non-finite."""
    with open(TINY) as f:
        opt = yaml.safe_load(f)
    opt['datasets']['train']['degradation'] = {'exposure': [float('nan'), float('nan')], 'photons': None}
    opt['train']['pgr']['max_consecutive_skips'] = 3
    opt['train']['ema_decay'] = 0.9
    path = tmp_path / 'nan.yml'
    path.write_text(yaml.safe_dump(opt))
    return str(path)


def test_a_run_whose_updates_are_all_non_finite_stops_with_the_last_good_weights(root, tmp_path):
    with pytest.raises(FloatingPointError, match='3 consecutive non-finite sr updates') as error:
        train_in_process(root, _nan_options(tmp_path), ['name=nan', 'train:total_iter=50'])
    saved = osp.join(_models(root, 'nan'), 'net_g_3.pth')
    assert saved in str(error.value)
    for key in ('params', 'params_ema'):
        assert all(torch.isfinite(v).all() for v in load_params(saved, key).values())


def test_upper_split_without_an_upper_level_warns(root):
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger('basicsr')  # BasicSR's logger does not propagate, so caplog cannot see it
    logger.addHandler(handler)
    try:
        train_in_process(root, TINY, ['name=nosplit', 'train:total_iter=1', 'train:pgr:phases:trilevel_start=100'])
    finally:
        logger.removeHandler(handler)
    assert any('upper_split holds 0.25 of the training images out' in m for m in messages)


# ------------------------------------------------------------------------------------------ enhance.py
@pytest.fixture
def photos(tmp_path):
    """Two dark photos, one of them also as a JPEG of the same name."""
    from skimage import data as skdata
    folder = tmp_path / 'photos'
    folder.mkdir()
    for name in ('coffee', 'chelsea'):
        img = cv2.resize(getattr(skdata, name)(), (48, 36), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f'{name}.png'), cv2.cvtColor((img * 0.1).astype(np.uint8), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / 'coffee.jpg'), cv2.imread(str(folder / 'coffee.png')))
    return folder


def _snapshot(folder):
    return {n: (folder / n).read_bytes() for n in sorted(os.listdir(folder))}


def _enhance(*args):
    return run([sys.executable, 'scripts/enhance.py', *map(str, args)], check=False)


@pytest.mark.parametrize('inside', [False, True], ids=['same folder', 'subfolder'])
def test_enhance_refuses_an_output_folder_in_the_input_folder(photos, inside):
    before = _snapshot(photos)
    proc = _enhance('-i', photos, '-o', photos / 'out' if inside else photos)
    assert proc.returncode == 2 and 'inside the input folder' in proc.stderr
    assert _snapshot(photos) == before


def test_enhance_with_a_suffix_writes_beside_the_inputs_and_keeps_them(photos):
    before = _snapshot(photos)
    proc = _enhance('-i', photos, '-o', photos, '--suffix', '_x4')
    assert proc.returncode == 0, proc.stderr
    after = _snapshot(photos)
    assert {n: after[n] for n in before} == before
    assert sorted(set(after) - set(before)) == ['chelsea_x4.png', 'coffee_jpg_x4.png', 'coffee_png_x4.png']
    assert read_image(str(photos / 'chelsea_x4.png')).shape == (144, 192, 3)  # enhanced once, not twice


def test_enhance_keeps_inputs_that_share_a_name_apart(photos, tmp_path):
    proc = _enhance('-i', photos, '-o', tmp_path / 'o')
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(tmp_path / 'o')) == ['chelsea.png', 'coffee_jpg.png', 'coffee_png.png']


def test_enhance_names_a_corrupt_checkpoint(photos, tmp_path):
    bad = tmp_path / 'broken.pth'
    bad.write_bytes(open(osp.join(ROOT, 'weights', 'trico_light_x4.pth'), 'rb').read()[:5000])
    proc = _enhance('-i', photos, '-o', tmp_path / 'o', '--model', bad)
    assert proc.returncode == 2 and f'cannot load checkpoint {bad}' in proc.stderr and 'Traceback' not in proc.stderr


def test_enhance_names_an_output_it_cannot_write(photos, tmp_path):
    out = tmp_path / 'o'
    (out / 'chelsea.png').mkdir(parents=True)  # a folder where the output file should go
    proc = _enhance('-i', photos / 'chelsea.png', '-o', out)
    assert proc.returncode == 1 and 'chelsea.png' in proc.stdout + proc.stderr and 'Traceback' not in proc.stderr


@pytest.mark.parametrize('error', [MemoryError(), RuntimeError('CUDA out of memory. Tried to allocate 2.00 GiB')])
def test_enhance_reports_out_of_memory_per_file_with_a_hint(photos, tmp_path, monkeypatch, capsys, error):
    from trico_basicsr.utils.inference import TriCoEnhancer

    def fail(self, img, bit_depth=None):
        raise error
    monkeypatch.setattr(TriCoEnhancer, 'enhance', fail)
    with pytest.raises(SystemExit) as exit_info:
        enhance.main(['-i', str(photos / 'chelsea.png'), '-o', str(tmp_path / 'o')])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert 'chelsea.png' in err and 'out of memory: try --tile' in err


# ------------------------------------------------------------------------------------------ pair synthesis
def _hr_folder(tmp_path, names=('a.png', 'b.png'), size=(20, 24)):
    folder = tmp_path / 'hr'
    folder.mkdir()
    for i, name in enumerate(names):
        cv2.imwrite(str(folder / name), np.full((*size, 3), 40 * (i + 1), np.uint8))
    return folder


def test_make_pairs_rejects_inputs_sharing_a_name(tmp_path):
    hr = _hr_folder(tmp_path, ('a.png', 'a.jpg', 'b.png'))
    with pytest.raises(ValueError, match=r'a\.jpg and a\.png .* share the key'):
        make_coupled_pairs.make_pairs(str(hr), str(tmp_path / 'out'), 4, 'ultra_dark', 0, progress=False)
    assert not osp.exists(tmp_path / 'out')


def test_make_pairs_names_an_image_smaller_than_the_scale(tmp_path):
    hr = _hr_folder(tmp_path, size=(20, 24))
    cv2.imwrite(str(hr / 'tiny.png'), np.zeros((3, 9, 3), np.uint8))
    with pytest.raises(ValueError, match=r'tiny\.png: 3x9 pixels is smaller than the scale 4'):
        make_coupled_pairs.make_pairs(str(hr), str(tmp_path / 'out'), 4, 'ultra_dark', 0, progress=False)


def test_make_pairs_overwrite_refuses_a_folder_it_did_not_write(tmp_path):
    hr = _hr_folder(tmp_path)
    precious = tmp_path / 'precious'
    precious.mkdir()
    (precious / 'thesis.tex').write_text('years of work')
    proc = run([sys.executable, 'scripts/make_coupled_pairs.py', '--hr', str(hr), '--out', str(precious),
                '--scale', '4', '--overwrite'], check=False)
    assert proc.returncode != 0 and 'not written by this script' in proc.stderr
    assert (precious / 'thesis.tex').read_text() == 'years of work'
    make_coupled_pairs.make_pairs(str(hr), str(tmp_path / 'pairs'), 4, 'ultra_dark', 0, progress=False)
    make_coupled_pairs.make_pairs(str(hr), str(tmp_path / 'pairs'), 4, 'dark', 0, overwrite=True, progress=False)


# ------------------------------------------------------------------------------------------ LMDB
def test_lmdb_pairs_failing_on_lq_leave_no_database(tmp_path):
    hr = _hr_folder(tmp_path)
    pairs = tmp_path / 'pairs'
    make_coupled_pairs.make_pairs(str(hr), str(pairs), 4, 'ultra_dark', 0, progress=False)
    (pairs / 'lq_x4' / 'b.png').write_bytes(b'not a png')
    with pytest.raises(ValueError, match=r'b\.png'):
        create_lmdb.write_all(create_lmdb.pair_folders(str(pairs)), progress=False)
    assert not [n for n in os.listdir(pairs) if n.endswith('.lmdb')]


def test_lmdb_removes_and_names_partial_databases_of_killed_runs(tmp_path, capsys):
    hr = _hr_folder(tmp_path)
    dead = subprocess.Popen(['true'])
    dead.wait()
    stale = tmp_path / f'db.partial-{dead.pid}.lmdb'
    stale.mkdir()
    (stale / 'data.mdb').write_bytes(b'x' * 100)
    create_lmdb.folder_to_lmdb(str(hr), str(tmp_path / 'db.lmdb'), progress=False)
    assert not stale.exists() and str(stale) in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path / 'db.lmdb')) == ['data.mdb', 'lock.mdb', 'meta_info.txt']


def test_lmdb_refuses_a_file_name_basicsr_would_read_as_another_key(tmp_path):
    hr = _hr_folder(tmp_path, ('photo.v2.png', 'b.png'))
    with pytest.raises(ValueError, match=r'photo\.v2\.png.*no dot'):
        create_lmdb.folder_to_lmdb(str(hr), str(tmp_path / 'db.lmdb'), progress=False)
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.lmdb')]


def test_lmdb_stores_photos_upright(tmp_path):
    from PIL import Image
    folder = tmp_path / 'hr'
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # a portrait phone photo: stored landscape, shown rotated
    Image.fromarray(np.zeros((8, 12, 3), np.uint8)).save(folder / 'p.jpg', exif=exif.tobytes())
    create_lmdb.folder_to_lmdb(str(folder), str(tmp_path / 'db.lmdb'), progress=False)
    from trico_basicsr.data.image_source import ImageSource
    assert ImageSource(str(tmp_path / 'db.lmdb'), io_backend='lmdb').load(0).shape == (12, 8, 3)


def test_lmdb_data_with_an_upper_split_trains_without_workers(root, tmp_path):
    """Two sources of one LMDB in one process (the upper split and the rest) share one environment."""
    from skimage import data as skdata
    hr = tmp_path / 'hr'
    hr.mkdir()
    for name in ('astronaut', 'coffee', 'rocket', 'chelsea'):
        img = cv2.resize(getattr(skdata, name)(), (64, 48), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(hr / f'{name}.png'), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    create_lmdb.folder_to_lmdb(str(hr), str(tmp_path / 'hr.lmdb'), progress=False)
    opt = tmp_path / 'lmdb.yml'
    opt.write_text(f'_base_: {TINY}\ndatasets:\n  train:\n    dataroot_gt: {tmp_path}/hr.lmdb\n'
                   '    io_backend: {type: lmdb}\n')
    model = train_in_process(root, str(opt), ['name=lmdb_split', *COMMON])
    assert model is not None and osp.isfile(osp.join(_models(root, 'lmdb_split'), 'net_g_latest.pth'))


def test_auto_resume_skips_a_truncated_network_checkpoint_and_names_it(tmp_path):
    opt = _states(tmp_path, lambda d: d)
    network = tmp_path / 'models' / 'net_g_6.pth'
    network.write_bytes(network.read_bytes()[:40])
    with pytest.warns(UserWarning, match='net_g_6.pth cannot be read'):
        assert compat.load_resume_state(opt)['iter'] == 4


# ------------------------------------------------------------------------------------------ option files
def _train_cli(opt_file, *force):
    args = [sys.executable, 'trico_basicsr/train.py', '-opt', str(opt_file)]
    return run(args + (['--force_yml', *force] if force else []), check=False, timeout=300)


def _tiny_with(tmp_path, text):
    """The tiny recipe as a base, with ``text`` appended in a child file."""
    child = tmp_path / 'child.yml'
    child.write_text(f'_base_: {TINY}\n{text}')
    return child


@pytest.mark.parametrize('where', ['file', 'base'])
@pytest.mark.parametrize('cli', ['trico_basicsr/train.py', 'trico_basicsr/test.py'])
def test_option_files_with_python_tags_are_refused_and_nothing_runs(tmp_path, where, cli):
    marker = tmp_path / 'ran'
    evil = f"name: !!python/object/apply:os.system ['touch {marker}']\n"
    if where == 'file':
        opt = tmp_path / 'evil.yml'
        opt.write_text(open(TINY).read().replace('name: tiny_trico_x4\n', evil))
    else:
        base = tmp_path / 'evil_base.yml'
        base.write_text(evil)
        opt = tmp_path / 'child.yml'
        opt.write_text(f'_base_: [{TINY}, {base}]\n')
    proc = run([sys.executable, cli, '-opt', str(opt)], check=False, timeout=300)
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    assert 'refused' in proc.stderr and ('evil.yml' in proc.stderr or 'evil_base.yml' in proc.stderr)
    assert not marker.exists()


@pytest.mark.parametrize('force, message', [
    ('train:ema_decay=1.5', 'train.ema_decay must be a number in'),
    ('manual_sed=1', "unknown option 'manual_sed' (did you mean 'manual_seed'?)"),
    ('path:resume_stat=x.state', "unknown option 'resume_stat' (did you mean 'resume_state'?)"),
    ('train:optim_sr:lr=1e-3', 'train.optim_sr.lr must be a positive number'),
    ('datasets:train:gt_size=0', 'datasets.train.gt_size must be a positive integer'),
    ('network_g:upscale=2', 'network_g.upscale is 2 but scale is 4'),
], ids=['ema_decay', 'manual_seed', 'resume_state', 'string lr', 'gt_size', 'upscale'])
def test_options_basicsr_would_accept_silently_are_errors_naming_them(force, message):
    proc = _train_cli(TINY, force)
    assert proc.returncode != 0 and message in proc.stderr and 'tiny_trico_x4.yml' in proc.stderr, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr


def test_a_validation_image_smaller_than_the_scale_is_an_error_naming_it(tmp_path):
    from trico_basicsr.data.coupled_online_dataset import CoupledOnlineDataset
    folder = tmp_path / 'val'
    folder.mkdir()
    cv2.imwrite(str(folder / 'speck.png'), np.full((3, 3, 3), 100, np.uint8))
    dataset = CoupledOnlineDataset({'name': 'v', 'phase': 'val', 'scale': 4, 'dataroot_gt': str(folder),
                                    'preset': 'ultra_dark'})
    with pytest.raises(ValueError, match=r'speck\.png.*3x3 pixels is smaller than the scale 4'):
        dataset[0]
