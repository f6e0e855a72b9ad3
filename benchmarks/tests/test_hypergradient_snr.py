"""benchmarks.hypergradient_snr runs end to end on a short run."""
import json
import subprocess
import sys

import pytest

from tests.helpers.runs import ROOT


def test_the_snr_benchmark_reports_every_hyper_variable(tmp_path):
    out = tmp_path / 'snr'
    done = subprocess.run([sys.executable, '-m', 'benchmarks.hypergradient_snr', '--iterations', '12', '--warmup',
                           '2', '--upper-interval', '2', '--settings', 'Adam unroll, upper data = upper_reinhard_skip',
                           '--out', str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    settings = json.loads(out.with_suffix('.json').read_text())['settings']
    result = settings['Adam unroll, upper data = upper_reinhard_skip']
    assert result['hypergradients'] == 6  # iterations 2, 4, ..., 12
    assert len(result['snr']) == 10 and all(v >= 0 for v in result['snr'].values())
    assert out.with_suffix('.md').read_text().startswith('# Hypergradient signal-to-noise ratio')


def test_the_report_keeps_the_darkening_parameters_out_of_the_loss_weight_range():
    from benchmarks.hypergradient_snr import HORIZONS, markdown
    results = {'options': 'o.yml', 'iterations': 40, 'warmup': 0, 'upper_interval': 20, 'seed': 0, 'window': 20,
               'settings': {name: {'seconds': 1.0, 'snr': {'sr_pixel': 3.0, 'darkening_log_exposure': 0.5},
                                   'lambda': {'sr_pixel': 1.2, 'sr_ssim': 0.8, 'darkening_log_exposure': -3.1}}
                            for name in HORIZONS}}
    report = markdown(results, 'cmd')
    assert '| one-step response | 3.00 | 1 of 2 | 0.800–1.200 | 1 |' in report
    assert '| 4 hypergradients per update | -3.100 |' in report
    assert HORIZONS['3 unrolled steps']['train:pgr:unroll_steps'] == 3


def test_the_default_run_keeps_to_the_demo_settings_and_a_horizon_is_chosen_by_name(capsys):
    """The horizons accumulate 4 hypergradients, which the demo's interval of 10 does not divide."""
    from benchmarks.hypergradient_snr import HORIZONS, SETTINGS, parse_args
    assert parse_args([]).settings == list(SETTINGS) and not set(HORIZONS) & set(SETTINGS)
    assert parse_args(['--settings', '3 unrolled steps']).settings == ['3 unrolled steps']
    with pytest.raises(SystemExit):
        parse_args(['--settings', '5 unrolled steps'])
    assert 'invalid choice' in capsys.readouterr().err
