"""scripts/mixture_gradient_alignment.py: the same crops for every preset, consistent figures, clear errors."""
import json
import sys

import pytest
import torch

from tests.helpers.runs import ROOT, TINY

sys.path.insert(0, f'{ROOT}/scripts')
import mixture_gradient_alignment as alignment  # noqa: E402


@pytest.fixture
def mixture_options(tmp_path):
    path = tmp_path / 'tiny_mixture.yml'
    path.write_text(f'_base_: {TINY}\nname: tiny_mixture\n'
                    'datasets:\n  train:\n    preset: [dark, camera_linear]\n'
                    'train:\n  pgr:\n    upper_data: {preset: upper_reinhard_linear}\n')
    return str(path)


@pytest.fixture
def tiny_checkpoint(tmp_path, mixture_options):
    from basicsr.archs import build_network

    from trico_basicsr.utils.options import read_options
    net = build_network(dict(read_options(mixture_options)['network_g']))
    path = tmp_path / 'tiny.pth'
    torch.save({'params': net.state_dict(), 'params_ema': net.state_dict()}, path)
    return str(path)


def test_every_preset_gets_the_same_crops(mixture_options, tmp_path):
    from trico_basicsr.utils.options import load_training_options
    opt = load_training_options(mixture_options, str(tmp_path))
    dark, linear = (list(alignment.preset_batches(opt, preset, 2)) for preset in ('dark', 'camera_linear'))
    for a, b in zip(dark, linear):
        assert torch.equal(a['gt'], b['gt'])  # same crops and flips ...
        assert not torch.equal(a['lq'], b['lq'])  # ... darkened differently
        assert set(a['preset']) == {'dark'} and set(b['preset']) == {'camera_linear'}
    reseeded = next(alignment.preset_batches(opt, 'dark', 1, seed=alignment.DEFAULT_SEED + 1))
    assert not torch.equal(reseeded['gt'], dark[0]['gt'])  # --seed draws other crops


def test_alignment_figures_are_consistent(mixture_options, tiny_checkpoint, tmp_path):
    out = tmp_path / 'out'
    alignment.main(['-opt', mixture_options, '--checkpoint', tiny_checkpoint, '--batches', '3', '--out', str(out)])
    results = json.loads((out / 'results.json').read_text())
    rows = results['presets']
    assert set(rows) == {'_upper', 'dark', 'camera_linear'}
    upper_norm = rows['_upper']['norm']
    for preset in ('dark', 'camera_linear'):
        r = rows[preset]
        assert -1 <= r['cosine'][0] <= 1 and -1 <= r['cosine_of_means'] <= 1
        # the mean over batches of <U, g_b> is <U, mean g>: inner product = cosine * both norms
        assert r['inner'][0] == pytest.approx(r['cosine_of_means'] * r['norm'] * upper_norm, rel=1e-6, abs=1e-12)
        assert r['inner'][1] >= 0 and r['norm'] > 0
    assert '| dark |' in (out / 'results.md').read_text()
    assert results['horizons'] is None  # not asked for


def test_horizons_train_each_preset_from_the_same_weights(mixture_options, tiny_checkpoint, tmp_path):
    from trico_basicsr.pgr.levels import LOWER, MIDDLE
    opt, model = alignment.build(mixture_options, tiny_checkpoint, str(tmp_path))
    levels = [LOWER, MIDDLE]
    before = {level: [p.detach().clone() for p in model.params[level]] for level in levels}
    upper = [{k: v for k, v in model.upper_stream.next_batch().items() if torch.is_tensor(v)} for _ in range(2)]
    start = alignment.upper_loss(model, upper)
    after = alignment.horizon_responses(model, opt, ['dark', 'camera_linear'], upper, [1, 2], levels)
    assert set(after) == {'dark', 'camera_linear'} and all(set(r) == {1, 2} for r in after.values())
    assert all(r[1] != start and r[2] != r[1] for r in after.values())  # the steps changed the weights
    assert after['dark'][1] != after['camera_linear'][1]  # same crops, different darkening
    for level in levels:  # and the measured weights are back afterwards
        assert all(torch.equal(a, b) for a, b in zip(before[level], model.params[level]))
    assert alignment.upper_loss(model, upper) == start


def test_horizon_table_in_the_report(mixture_options, tiny_checkpoint, tmp_path):
    out = tmp_path / 'out'
    alignment.main(['-opt', mixture_options, '--checkpoint', tiny_checkpoint, '--batches', '2',
                    '--horizons', '2', '1', '--out', str(out)])
    horizons = json.loads((out / 'results.json').read_text())['horizons']
    assert set(horizons['after']['dark']) == {'1', '2'}
    assert '| preset | K = 1 | K = 2 |' in (out / 'results.md').read_text()


def test_bad_input_is_refused_with_the_reason(mixture_options, tiny_checkpoint, tmp_path):
    with pytest.raises(SystemExit, match='at least 2'):
        alignment.main(['-opt', mixture_options, '--checkpoint', tiny_checkpoint, '--batches', '1',
                        '--out', str(tmp_path / 'o')])
    with pytest.raises(SystemExit, match='no such file'):
        alignment.main(['-opt', mixture_options, '--checkpoint', str(tmp_path / 'missing.pth'),
                        '--out', str(tmp_path / 'o')])
    with pytest.raises(SystemExit, match='positive number of steps'):
        alignment.main(['-opt', mixture_options, '--checkpoint', tiny_checkpoint, '--horizons', '0',
                        '--out', str(tmp_path / 'o')])
    with pytest.raises(SystemExit, match='upper_data has no preset'):
        alignment.main(['-opt', TINY, '--checkpoint', tiny_checkpoint, '--out', str(tmp_path / 'o')])
    assert not (tmp_path / 'o').exists()  # nothing half-written
