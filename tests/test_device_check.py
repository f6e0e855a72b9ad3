"""The prepared GPU check (scripts/device_speed_check.sh) runs end to end, here at CPU sizes."""
import json
import os
import subprocess
import sys

from tests.helpers.runs import ROOT


def test_device_speed_check_runs_all_its_benchmarks_at_cpu_sizes(tmp_path):
    env = dict(os.environ, DEVICE_CHECK_QUICK='1', OUT=str(tmp_path), PY=sys.executable, OMP_NUM_THREADS='2')
    done = subprocess.run(['bash', 'scripts/device_speed_check.sh'], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    speed = json.loads((tmp_path / 'training_speed_gpu.json').read_text())
    models = {row['model'] for row in speed['rows']}
    assert {'MSRResNet (BasicSR SRModel, stock)', 'TriCo float32', 'TriCo bf16 autocast'} <= models
    cost = json.loads((tmp_path / 'pgr_cost_gpu.json').read_text())
    rows = next(iter(cost['modes'].values()))['rows']
    assert any(name.startswith('PGR tri-level cycle average') for name in rows)
    assert 'non-finite' not in (tmp_path / 'pgr_cost.log').read_text()
    assert (tmp_path / 'profile_gpu.md').read_text().startswith('# Profile of a TriCo training step')


def run_device_training(out, **env_vars):
    """``scripts/device_train_weights.sh`` at CPU sizes, writing to ``out``; its experiments are removed after."""
    import glob
    import shutil
    env = dict(os.environ, DEVICE_CHECK_QUICK='1', OUT=str(out), PY=sys.executable, OMP_NUM_THREADS='2', **env_vars)
    try:
        return subprocess.run(['bash', 'scripts/device_train_weights.sh'], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
    finally:
        for folder in glob.glob(os.path.join(ROOT, 'experiments', 'device_quick_*')):
            shutil.rmtree(folder)


def test_device_training_runs_both_candidates_and_exports_their_best_and_last_checkpoints(tmp_path):
    import tarfile

    import numpy as np

    from trico_basicsr.utils.inference import TriCoEnhancer
    done = run_device_training(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with tarfile.open(tmp_path / 'logs.tar.gz') as logs:  # the tool returns at most 8 files: logs go as one
        logs.extractall(tmp_path / 'logs', filter='data')
    for name in ('device_quick_trico_bsd100_x4', 'device_quick_trico_bsd100_x4_fixed'):
        validation = json.loads((tmp_path / 'logs' / f'{name}_validation.json').read_text())
        assert validation['saved'] == [2, 4] and set(validation['psnr']) == {'2', '4'}
        # selection on the mean of both held-out validation sets, not on whichever was logged last
        assert all(len(by_set) == 2 for by_set in validation['psnr_by_set'].values())
        assert validation['ranked'][0] == validation['best'] and len(validation['ranked']) == 2
        best = tmp_path / f"{name}_{validation['best']}_best.pth"
        assert best.is_file() and (tmp_path / f'{name}_4_last.pth').is_file()
        enhanced = TriCoEnhancer(str(best), device='cpu').enhance(np.full((8, 8, 3), 0.05, np.float32))
        assert enhanced.shape == (32, 32, 3)
    fixed_log = (tmp_path / 'logs' / 'device_quick_trico_bsd100_x4_fixed.log').read_text()
    assert 'lambda_sr_pixel: 1.0000e+00' in fixed_log and 'l_upper' not in fixed_log  # the twin stays fixed


def test_device_training_stops_every_run_when_one_fails_early(tmp_path):
    broken = tmp_path / 'broken.yml'
    broken.write_text(f"_base_: {os.path.join(ROOT, 'options', 'trico_bsd100_x4_fixed.yml')}\nname: broken_probe\n"
                      'datasets:\n  train:\n    preset: [no_such_preset]\n')
    done = run_device_training(tmp_path / 'out', OPTS=f'options/trico_bsd100_x4.yml {broken}')
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    assert 'device_quick_broken_probe failed early' in done.stderr and "no_such_preset" in done.stdout
    assert not list((tmp_path / 'out').glob('*.pth'))  # nothing exported from a stopped comparison
