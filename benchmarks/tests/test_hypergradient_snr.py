"""benchmarks.hypergradient_snr runs end to end on a short run."""
import json
import subprocess
import sys

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
