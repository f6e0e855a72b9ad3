"""The cross-pipeline benchmark runs end to end on tiny data and reuses its score cache."""
import json
import sys
from os import path as osp

import numpy as np

from tests.helpers.photos import write_photos
from tests.helpers.runs import ROOT, run


def test_benchmark_writes_tables_and_reuses_cached_scores(tmp_path):
    hr = write_photos(tmp_path / 'hr')
    checkpoint = osp.join(ROOT, 'weights', 'trico_light_x4.pth')
    command = [sys.executable, '-m', 'benchmarks.generalisation', '--test-hr', str(hr), '--scale', '4',
               '--families', 'heldout_aces_lanczos', '--skip-niqe', '--model', f'shipped={checkpoint}',
               '--out', str(tmp_path / 'out'), '--work', str(tmp_path / 'work')]
    run(command)
    first = json.loads((tmp_path / 'out' / 'results.json').read_text())
    scores = first['synthetic']['heldout_aces_lanczos / hr']
    assert set(scores) == {'bicubic + auto-exposure', 'LIME + bicubic', 'shipped'}
    assert all(np.isfinite(s['PSNR']) and s['PSNR'] > 5 for s in scores.values())
    assert first['cached_scores'] == {'from_cache': 0, 'computed': 3}
    assert (tmp_path / 'out' / 'grid.jpg').is_file() and '| shipped |' in (tmp_path / 'out' / 'results.md').read_text()
    run(command)
    second = json.loads((tmp_path / 'out' / 'results.json').read_text())
    assert second['cached_scores'] == {'from_cache': 3, 'computed': 0}
    assert second['synthetic'] == first['synthetic']
    run(command + ['--model-self-ensemble', f'shipped x8={checkpoint}'])
    third = json.loads((tmp_path / 'out' / 'results.json').read_text())
    assert third['cached_scores'] == {'from_cache': 3, 'computed': 1}  # the same checkpoint, another method
    ensembled = third['synthetic']['heldout_aces_lanczos / hr']
    assert ensembled['shipped x8']['PSNR'] != ensembled['shipped']['PSNR']
    assert third['models_self_ensemble'] == {'shipped x8': checkpoint}
