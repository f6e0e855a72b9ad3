"""BasicSR-native use: dist scripts, BasicSR's test command, TriCo parts in other models."""
import glob
import os
import re
import sys

import pytest
import torch

from tests.helpers.runs import ROOT, free_port, run, train_in_process

MSRRESNET = os.path.join(ROOT, 'options', 'train', 'pgr_msrresnet_x4.yml')


@pytest.mark.slow
def test_dist_train_script_runs_two_cpu_processes(experiment_name):
    proc = run(['bash', 'scripts/dist_train.sh', '2', 'options/train/trico_demo_x4.yml', '--force_yml',
                'train:total_iter=2', 'val:val_freq=2', f'name={experiment_name}',
                'datasets:train:batch_size_per_gpu=2'],
               env={'PYTHON': sys.executable, 'PORT': free_port()})
    assert 'World size (gpu number): 2' in proc.stdout + proc.stderr
    assert os.path.isfile(os.path.join(ROOT, 'experiments', experiment_name, 'models', 'net_g_latest.pth'))


def test_dist_scripts_explain_their_usage():
    for script in ('scripts/dist_train.sh', 'scripts/dist_test.sh'):
        proc = run(['bash', script], check=False)
        assert proc.returncode == 2 and 'usage' in proc.stderr


@pytest.mark.slow
def test_basicsr_test_command_with_the_shipped_weights(experiment_name):
    run([sys.executable, 'basicsr/test.py', '-opt', 'options/test/test_trico_light_x4.yml', '--force_yml',
         f'name={experiment_name}'])
    results = os.path.join(ROOT, 'results', experiment_name)
    log = open(glob.glob(os.path.join(results, 'test_*.log'))[0]).read()
    psnr = float(re.search(r'# psnr: ([0-9.]+)', log).group(1))
    assert psnr > 15  # the demo weights restore the synthetic dark photos (bicubic+AE scores about 14 dB)
    assert len(glob.glob(os.path.join(results, 'visualization', '*', '*.png'))) == 3


def test_learned_loss_weights_for_basicsr_msrresnet(root):
    model = train_in_process(root, MSRRESNET, [
        'name=msr', 'train:total_iter=8', 'train:pgr:phases:trilevel_start=2', 'train:pgr:upper_interval=2',
        'val:val_freq=1000', 'logger:print_freq=4', 'logger:use_tb_logger=false', 'datasets:train:gt_size=48'])
    assert type(model.net_g).__name__ == 'MSRResNet' and set(model.params) == {'sr', 'hyper'}
    weights = {k: v for k, v in model.log_dict.items() if k.startswith('lambda_')}
    assert sorted(weights) == sorted(f'lambda_sr_{t}' for t in ('pixel', 'mse', 'ssim', 'edge', 'perceptual'))
    assert max(abs(w - 1.0) for w in weights.values()) > 1e-3  # lambda moved from the hand-set weights


def _readme_snippet(title):
    text = open(os.path.join(ROOT, 'README.md')).read()
    section = text.split(f'## {title}', 1)[1].split('\n## ', 1)[0]
    return re.findall(r'```python\n(.*?)```', section, re.S)


def test_ihem_inside_another_arch_as_in_the_readme():
    snippets = [s for s in _readme_snippet('Use TriCo parts in your BasicSR project') if 'IHEM' in s]
    assert snippets, 'README has no IHEM snippet in "Use TriCo parts in your BasicSR project"'
    namespace = {}
    exec(compile(snippets[0], 'README.md', 'exec'), namespace)  # the snippet asserts its own output shape
    net = namespace['net']
    assert any(type(m).__name__ == 'IHEM' for m in net.modules())
    out = net(torch.rand(1, 3, 10, 12), illum=torch.rand(1, 1, 10, 12))
    out.mean().backward()
    assert net.ihem.gate[0].weight.grad.abs().sum() > 0
