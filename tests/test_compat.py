"""Each BasicSR 1.4.2 fix in trico_basicsr/utils/compat.py, and a test that fails without it."""
import os
import sys
import types

import pytest
import torch
import torch.distributed as dist
import torchvision
import yaml

from tests.helpers.runs import ROOT, TINY, free_port, load_params, max_abs_diff, run, train_in_process
from trico_basicsr.utils import compat

NO_CUDA = not torch.cuda.is_available()


@pytest.fixture
def single_rank_env(monkeypatch):
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(free_port()))
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


# 1 --------------------------------------------------------------------------------------------------
@pytest.mark.skipif(tuple(int(v) for v in torchvision.__version__.split('.')[:2]) < (0, 17),
                    reason='torchvision < 0.17 still has functional_tensor')
def test_basicsr_import_fails_without_the_functional_tensor_alias():
    proc = run([sys.executable, '-c', 'import basicsr'], check=False)
    assert proc.returncode != 0 and 'functional_tensor' in proc.stderr


def test_functional_tensor_alias_makes_basicsr_importable():
    code = ('from trico_basicsr.utils import compat\n'
            'compat._alias_functional_tensor()\n'
            'import basicsr.data.degradations as d\n'
            'print(d.rgb_to_grayscale.__module__)')
    proc = run([sys.executable, '-c', code])
    assert 'functional_tensor' in proc.stdout


# 2 --------------------------------------------------------------------------------------------------
@pytest.mark.skipif(not NO_CUDA, reason='the original only fails without CUDA')
def test_original_init_dist_fails_on_cpu(single_rank_env):
    with pytest.raises(Exception):
        compat._originals['init_dist']('pytorch')


def test_init_dist_uses_gloo_without_cuda(single_rank_env):
    compat.init_dist('pytorch')
    assert dist.is_initialized()
    assert dist.get_backend() == ('nccl' if not NO_CUDA else 'gloo')


def test_parse_options_passes_dist_params_to_init_dist(tmp_path, monkeypatch, single_rank_env):
    opt = yaml.safe_load(open(TINY))
    opt['dist_params'] = {'backend': 'gloo', 'timeout': None}
    opt_file = tmp_path / 'opt.yml'
    opt_file.write_text(yaml.safe_dump(opt))
    seen = {}
    monkeypatch.setattr(compat, '_options_dist_params', {})
    monkeypatch.setattr(dist, 'init_process_group', lambda backend, **kw: seen.update(backend=backend, **kw))
    monkeypatch.setattr(sys, 'argv', ['train.py', '-opt', str(opt_file), '--launcher', 'pytorch'])
    compat.parse_options(str(tmp_path), is_train=True)
    assert seen['backend'] == 'gloo' and 'timeout' in seen


def test_nccl_request_without_cuda_falls_back_to_gloo(single_rank_env):
    if not NO_CUDA:
        pytest.skip('needs a machine without CUDA')
    with pytest.warns(UserWarning, match='gloo'):
        compat.init_dist('pytorch', backend='nccl')
    assert dist.get_backend() == 'gloo'


# 3 --------------------------------------------------------------------------------------------------
def _fake_model():
    return types.SimpleNamespace(opt={'dist': True, 'num_gpu': 0}, device=torch.device('cpu'))


def test_model_to_device_wraps_cpu_nets_in_ddp(single_rank_env):
    compat.init_dist('pytorch')
    wrapped = compat.model_to_device(_fake_model(), torch.nn.Linear(2, 2))
    assert isinstance(wrapped, torch.nn.parallel.DistributedDataParallel)


@pytest.mark.skipif(not NO_CUDA, reason='the original only fails without CUDA')
def test_original_model_to_device_fails_on_cpu(single_rank_env):
    compat.init_dist('pytorch')
    with pytest.raises(Exception):
        compat._originals['model_to_device'](_fake_model(), torch.nn.Linear(2, 2))


# 4 --------------------------------------------------------------------------------------------------
def _state_opt(tmp_path, auto_resume):
    states = tmp_path / 'experiments' / 'x' / 'training_states'
    states.mkdir(parents=True)
    torch.save({'epoch': 1, 'iter': 7, 'optimizers': [], 'schedulers': []}, states / '7.state')
    torch.save({'epoch': 0, 'iter': 3, 'optimizers': [], 'schedulers': []}, states / '3.state')
    return {'auto_resume': auto_resume, 'name': 'x',
            'path': {'training_states': str(states), 'models': str(tmp_path / 'models'),
                     'resume_state': None if auto_resume else str(states / '7.state')}}


def test_load_resume_state_on_cpu_from_another_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT if os.path.isdir(ROOT) else '/')
    opt = _state_opt(tmp_path, auto_resume=True)
    state = compat.load_resume_state(opt)
    assert state['iter'] == 7 and opt['path']['resume_state'].endswith('7.state')


@pytest.mark.skipif(not NO_CUDA, reason='the original only fails without CUDA')
def test_original_load_resume_state_fails_on_cpu(tmp_path):
    with pytest.raises(Exception):
        compat._originals['load_resume_state'](_state_opt(tmp_path, auto_resume=False))


def test_missing_resume_state_names_the_file(tmp_path):
    opt = _state_opt(tmp_path, auto_resume=False)
    opt['path']['resume_state'] = str(tmp_path / 'nope.state')
    with pytest.raises(FileNotFoundError, match='nope.state'):
        compat.load_resume_state(opt)


# 5 --------------------------------------------------------------------------------------------------
def _interrupted_and_whole(root, name_suffix):
    """Train 7 iterations straight, and 5 + a resume to 7 (epochs are 2 iterations: 5 is mid-epoch)."""
    common = ['train:pgr:phases:cooperative_start=2', 'train:pgr:phases:trilevel_start=3',
              'logger:save_checkpoint_freq=5', 'val:val_freq=1000']
    whole = f'whole_{name_suffix}'
    part = f'part_{name_suffix}'
    train_in_process(root, TINY, [f'name={whole}', 'train:total_iter=7', *common])
    train_in_process(root, TINY, [f'name={part}', 'train:total_iter=5', *common])
    state = os.path.join(root, 'experiments', part, 'training_states', '5.state')
    train_in_process(root, TINY, [f'name={part}', 'train:total_iter=7', f'path:resume_state={state}', *common])
    models = os.path.join(root, 'experiments', '{}', 'models', 'net_g_latest.pth')
    return load_params(models.format(whole)), load_params(models.format(part))


@pytest.mark.slow
def test_resumed_run_equals_uninterrupted_run(root):
    whole, resumed = _interrupted_and_whole(root, 'fixed')
    assert max_abs_diff(whole, resumed) == 0.0


@pytest.mark.slow
def test_resumed_run_differs_without_the_exact_resume_fix(root):
    compat.undo('exact_resume')
    try:
        whole, resumed = _interrupted_and_whole(root, 'unfixed')
    finally:
        compat.redo('exact_resume')
    assert max_abs_diff(whole, resumed) > 1e-6


# 6 --------------------------------------------------------------------------------------------------
def _states_after_five_iterations(root, name):
    # The tiny set has 6 samples: one batch of 4 per epoch (BasicSR counts two).
    train_in_process(root, TINY, [f'name={name}', 'train:total_iter=5', 'logger:save_checkpoint_freq=5',
                                  'train:pgr:phases:cooperative_start=100', 'train:pgr:phases:trilevel_start=100'])
    return os.listdir(os.path.join(root, 'experiments', name, 'training_states'))


def test_training_reaches_total_iter_when_the_last_batch_is_dropped(root):
    assert _states_after_five_iterations(root, 'counted') == ['5.state']


def test_training_stops_early_without_the_epoch_count_fix(root):
    compat.undo('epoch_count')
    try:
        assert _states_after_five_iterations(root, 'miscounted') == []
    finally:
        compat.redo('epoch_count')


def test_dataset_smaller_than_one_batch_is_an_error(root):
    with pytest.raises(ValueError, match='cannot fill one batch'):
        train_in_process(root, TINY, ['name=too_small', 'datasets:train:batch_size_per_gpu=8'])
