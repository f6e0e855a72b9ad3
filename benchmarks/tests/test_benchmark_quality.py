"""The fair quality benchmark: same images for every method, the grid, selection, summaries, resuming."""
import json
import sys
from os import path as osp

import cv2
import numpy as np
import pytest

from benchmarks import quality as bq
from tests.helpers.runs import TINY, run


def _folder(path, names, size):
    from skimage import data as skdata
    path.mkdir()
    for name in names:
        img = getattr(skdata, name)()
        img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
        cv2.imwrite(str(path / f'{name}.png'), cv2.cvtColor(cv2.resize(img, size, interpolation=cv2.INTER_AREA),
                                                            cv2.COLOR_RGB2BGR))
    return str(path)


@pytest.fixture
def base(tmp_path):
    train = _folder(tmp_path / 'train', ('astronaut', 'coffee', 'rocket', 'chelsea'), (64, 64))
    args = bq.parse_args(['--train-hr', train, '--test-hr', train, '--options', TINY, '--out', str(tmp_path / 'o')])
    return args, bq.base_options(args.options, args.train_hr, args.scale, args.gt_size, args.batch)


def test_every_method_trains_on_the_same_images_and_data(base, tmp_path):
    args, opt = base
    runs = {name: bq.method_options(opt, kind, 100, 1, args, str(tmp_path), grid_scale=scale)
            for name, kind, scale in [('pixel', 'fixed', 0.0), ('hand', 'fixed', 1.0), ('double', 'fixed', 2.0),
                                      ('pgr', 'pgr', None), ('mixture', 'pgr_mixture', None),
                                      ('same', 'pgr_training_family', None), ('cascade', 'cascade', None),
                                      ('accumulate', 'pgr_accumulate', None),
                                      ('gauss_newton', 'pgr_gauss_newton', None), ('exposure', 'pgr_exposure', None),
                                      ('gn_accumulate', 'pgr_gauss_newton_accumulate', None),
                                      ('gn_time', 'best_fixed_equal_time_gauss_newton', 1.0)]}
    for opt_run in runs.values():
        assert opt_run['datasets']['train'] == opt['datasets']['train']  # same images, split, mix, crops, batch
        assert 'val' not in opt_run['datasets'] and opt_run['manual_seed'] == 1
    pixel, hand, double = (runs[k]['train']['pgr'] for k in ('pixel', 'hand', 'double'))
    assert set(pixel['sr_terms']) == {'pixel'} and set(pixel['illum_terms']) == {'pixel', 'coupling'}
    assert double['sr_terms']['ssim']['loss_weight'] == pytest.approx(2 * hand['sr_terms']['ssim']['loss_weight'])
    assert double['sr_terms']['pixel'] == hand['sr_terms']['pixel']
    assert hand['phases'] == {'cooperative_start': None, 'trilevel_start': None}
    assert runs['pgr']['train']['pgr']['phases'] == {'cooperative_start': 10, 'trilevel_start': 20}
    assert runs['pgr']['train']['pgr']['upper_data']['preset'] == 'upper_reinhard_skip'
    assert runs['same']['train']['pgr']['upper_data']['preset'] is None
    assert runs['mixture']['train']['pgr']['sample_weights'] == {'by': 'preset'}
    assert runs['accumulate']['train']['pgr']['hyper_accumulate'] == 2
    assert runs['gauss_newton']['train']['pgr']['hypergradient'] == 'gauss_newton'
    assert 'hypergradient' not in runs['pgr']['train']['pgr']
    assert runs['gn_accumulate']['train']['pgr']['hypergradient'] == 'gauss_newton'
    assert runs['gn_accumulate']['train']['pgr']['hyper_accumulate'] == 10
    assert runs['exposure']['train']['pgr']['sample_weights'] == {'by': 'exposure'}
    assert runs['gn_time']['train']['pgr']['phases'] == hand['phases']
    assert runs['gn_time']['train']['pgr']['sr_terms'] == hand['sr_terms']
    with pytest.raises(SystemExit):  # its budget is derived from the Gauss-Newton runs
        bq.parse_args(['--train-hr', 'x', '--test-hr', 'y', '--out', 'o', '--methods', 'fixed',
                       'best_fixed_equal_time_gauss_newton'])
    assert runs['cascade']['train']['total_iter'] == 75


def test_upper_images_from_another_collection_feed_the_upper_level_and_the_selection(tmp_path):
    train = _folder(tmp_path / 'train', ('astronaut', 'coffee', 'rocket', 'chelsea'), (64, 64))
    upper = _folder(tmp_path / 'upper', ('camera', 'immunohistochemistry'), (64, 64))
    test = _folder(tmp_path / 'test', ('cat',), (64, 64))
    common = ['--train-hr', train, '--options', TINY, '--out', str(tmp_path / 'o'), '--upper-family', 'camera_mix']
    with pytest.raises(SystemExit):  # the test images may not tune the upper level
        bq.parse_args(common + ['--test-hr', test, upper, '--upper-images', upper])
    args = bq.parse_args(common + ['--test-hr', test, '--upper-images', upper])
    opt = bq.base_options(args.options, args.train_hr, args.scale, args.gt_size, args.batch)
    pgr = bq.method_options(opt, 'pgr', 100, 0, args, str(tmp_path))['train']['pgr']['upper_data']
    assert pgr['source'] == 'dataset' and pgr['dataset']['dataroot_gt'] == osp.abspath(upper)
    assert pgr['dataset']['preset'] == 'camera_mix' and pgr['dataset']['gt_size'] == opt['datasets']['train']['gt_size']
    same = bq.method_options(opt, 'pgr_training_family', 100, 0, args, str(tmp_path))['train']['pgr']['upper_data']
    assert same['dataset']['preset'] == opt['datasets']['train']['preset']
    assert bq.method_options(opt, 'pgr', 100, 0, args, str(tmp_path))['train']['optim_hyper'] == \
        opt['train']['optim_hyper']
    faster = bq.parse_args(common + ['--test-hr', test, '--hyper-lr', '0.1'])
    assert bq.method_options(opt, 'pgr', 100, 0, faster, str(tmp_path))['train']['optim_hyper']['lr'] == 0.1
    assert 'optim_hyper' not in bq.method_options(opt, 'fixed', 100, 0, faster, str(tmp_path), 1.0)['train'] or \
        bq.method_options(opt, 'fixed', 100, 0, faster, str(tmp_path), 1.0)['train']['optim_hyper'] == \
        opt['train']['optim_hyper']
    selection = bq.selection_pairs(args, opt, str(tmp_path / 'work'))
    assert sorted(__import__('os').listdir(osp.join(selection, 'gt'))) == ['camera.png', 'immunohistochemistry.png']


def test_grid_winner_is_picked_on_the_selection_set_and_differences_are_per_seed():
    per_method = {'fixed_s0': {0: {'selection_PSNR': 15.0}, 1: {'selection_PSNR': 16.5}},
                  'fixed_s1': {0: {'selection_PSNR': 15.5}, 1: {'selection_PSNR': 16.0}}}
    assert bq.best_grid(per_method, 0, [0.0, 1.0]) == 'fixed_s1'
    assert bq.best_grid(per_method, 1, [0.0, 1.0]) == 'fixed_s0'
    assert bq.best_grid(per_method, 2, [0.0, 1.0]) is None  # not all trained yet

    def entry(*psnr):
        return {'test': {f't{i}': {'PSNR': p, 'SSIM': 0.5} for i, p in enumerate(psnr)}, 'selection_PSNR': 1.0,
                'iterations': 10, 'train_seconds': 2.0}
    scores = {'a': {0: entry(20, 22), 1: entry(19, 19)}, 'b': {0: entry(20, 20), 1: entry(20, 20)}}
    comp = bq.compare(scores, 'a', 'b')
    assert comp['per_seed'] == [1.0, -1.0] and comp['mean'] == 0.0 and comp['std'] == pytest.approx(np.sqrt(2))
    agg = bq.aggregate(scores['a'])
    assert agg['test']['t0']['PSNR'] == {'mean': 19.5, 'std': pytest.approx(np.sqrt(0.5)), 'n': 2}
    assert agg['test']['mean over families and sets']['PSNR']['mean'] == 20.0


def test_mixture_corners_train_the_hand_set_weighting_on_one_preset_each(base, tmp_path):
    args, opt = base
    assert bq.corner_presets(args, opt) == [opt['datasets']['train']['preset']] == ['ultra_dark']
    mixed = {**opt, 'datasets': {'train': {**opt['datasets']['train'], 'preset': ['camera_mix', 'dark', 'camera_mix']}}}
    assert bq.corner_presets(args, mixed) == ['camera_mix', 'dark']  # distinct, in the mix's order
    corner = bq.method_options(opt, 'corner_camera_linear', 100, 2, args, str(tmp_path))
    hand = bq.method_options(opt, 'fixed', 100, 2, args, str(tmp_path), grid_scale=1.0)
    assert corner['datasets']['train']['preset'] == 'camera_linear'
    assert {k: v for k, v in corner['datasets']['train'].items() if k != 'preset'} == \
        {k: v for k, v in hand['datasets']['train'].items() if k != 'preset'}  # same images, crops, batch
    assert corner['train']['pgr'] == hand['train']['pgr'] and corner['manual_seed'] == 2
    assert bq.label('corner_camera_linear') == 'fixed, hand-set weights, camera_linear only'
    point = bq.method_options(opt, 'corner_ultra_dark+camera_mix', 100, 2, args, str(tmp_path))
    assert point['datasets']['train']['preset'] == ['ultra_dark', 'camera_mix']
    assert bq.label('corner_ultra_dark+camera_mix') == 'fixed, hand-set weights, ultra_dark + camera_mix (equal parts)'
    chosen = bq.parse_args(['--train-hr', 'x', '--test-hr', 'y', '--out', 'o', '--corner-presets', 'dark', 'dark',
                            'camera_linear'])
    assert bq.corner_presets(chosen, opt) == ['dark', 'camera_linear']
    # a reporting family may never be trained on, alone or in a mixture point
    for bad in ('heldout_aces_lanczos', 'no_such_preset', 'dark+heldout_banding_jpeg'):
        with pytest.raises(SystemExit):
            bq.parse_args(['--train-hr', 'x', '--test-hr', 'y', '--out', 'o', '--corner-presets', bad])


def test_ceilings_pick_per_seed_on_the_selection_set_or_on_the_test_families():
    def entry(selection, *psnr):
        return {'test': {f't{i}': {'PSNR': p} for i, p in enumerate(psnr)}, 'selection_PSNR': selection}
    per_method = {'corner_a': {0: entry(15.0, 20, 20), 1: entry(14.0, 18, 18)},
                  'corner_b': {0: entry(14.0, 21, 21), 1: entry(15.0, 17, 19)}}
    names = ['corner_a', 'corner_b']
    assert [bq.best_of(per_method, s, names, 'selection') for s in (0, 1)] == ['corner_a', 'corner_b']
    assert [bq.best_of(per_method, s, names, 'test') for s in (0, 1)] == ['corner_b', 'corner_a']
    assert bq.best_of(per_method, 2, names, 'test') is None  # not all trained yet
    assert bq.best_of(per_method, 0, [], 'test') is None


def test_lambda_trajectory_is_read_from_the_training_log(tmp_path):
    log = tmp_path / 'run.log'
    log.write_text('x INFO: [pgr..][epoch:  0, iter:      50, lr:(1e-3,)] l_sr: 1.0e-01 lambda_sr_pixel: 1.2 '
                   'lambda_samples_dark: 0.8 lambda_samples_exposure_0.03-0.1: 1.1\nunrelated line\n'
                   'x INFO: [pgr..][epoch:  0, iter:   1,100, lr:(1e-3,)] lambda_sr_pixel: 1.3 '
                   'lambda_samples_dark: 0.7 lambda_samples_exposure_0.03-0.1: 1.2\n')
    assert bq.lambda_trajectory(str(log)) == {'iters': [50, 1100], 'sr_pixel': [1.2, 1.3], 'samples_dark': [0.8, 0.7],
                                              'samples_exposure_0.03-0.1': [1.1, 1.2]}
    log.write_text('x INFO: [pgr..][epoch:  0, iter:     300, lr:(1e-3,)] lambda_sr_pixel: 1.2 hyper_snr_sr_pixel: 0.5 '
                   'hyper_snr_sr_ssim: 2.5\n')
    assert bq.lambda_trajectory(str(log)) == {'iters': [300], 'sr_pixel': [1.2]}
    assert bq.lambda_trajectory(str(log), 'hyper_snr_') == {'iters': [300], 'sr_pixel': [0.5], 'sr_ssim': [2.5]}


def test_benchmark_runs_end_to_end_and_resumes_without_retraining(tmp_path):
    train = _folder(tmp_path / 'train', ('astronaut', 'coffee', 'rocket', 'chelsea'), (64, 64))
    test = _folder(tmp_path / 'test', ('camera',), (48, 48))
    command = [sys.executable, '-m', 'benchmarks.quality', '--train-hr', train, '--test-hr', test,
               '--options', TINY, '--iters', '3', '--gt-size', '32', '--seeds', '0', '--grid', '0', '1',
               '--methods', 'fixed', 'pgr', 'best_fixed_equal_time', 'pgr_gauss_newton',
               'best_fixed_equal_time_gauss_newton', 'mixture_corners', '--corner-presets', 'dark', 'clean',
               '--families', 'heldout_banding_jpeg', '--out', str(tmp_path / 'out'), '--work', str(tmp_path / 'work')]
    run(command + ['--max-runs', '2'])  # stops after the grid: resumable
    partial = json.loads((tmp_path / 'out' / 'summary.json').read_text())
    assert set(partial['methods']) == {'bicubic_auto_exposure', 'fixed_s0', 'fixed_s1', 'best_fixed_selected',
                                       'best_fixed_oracle'}
    assert partial['config']['train_images'] == 3 and partial['config']['held_out_images'] == 1
    run(command)
    summary = json.loads((tmp_path / 'out' / 'summary.json').read_text())
    methods = summary['methods']
    assert {'pgr', 'best_fixed_equal_time', 'pgr_gauss_newton', 'best_fixed_equal_time_gauss_newton'} <= set(methods)
    assert "Gauss-Newton PGR's wall-clock" in ' '.join(summary['comparisons'])
    assert {'corner_dark', 'corner_clean', 'best_corner_selected', 'best_corner_oracle'} <= set(methods)
    assert methods['best_corner_selected']['chosen']['0'] in ('corner_dark', 'corner_clean')
    assert any(name.startswith('best mixture point (picked on the selection set) - best fixed weighting, trained')
               for name in summary['comparisons'])
    assert methods['fixed_s0']['seeds']['0']['train_seconds'] == partial['methods']['fixed_s0']['seeds']['0'][
        'train_seconds']  # not trained again
    seed = methods['pgr']['seeds']['0']
    assert seed['iterations'] == 3 and seed['train_seconds'] > 0
    assert np.isfinite(seed['test']['heldout_banding_jpeg / test']['PSNR'])
    assert any(name.startswith('TriCo PGR (upper family) - best fixed') for name in summary['comparisons'])
    assert (tmp_path / 'out' / 'results.md').is_file()
    other_budget = [a if a != '3' else '5' for a in command]  # --iters 5 on the records of --iters 3
    refused = run(other_budget, check=False)
    assert refused.returncode != 0 and 'use another --work' in refused.stderr


def test_cascade_script_trains_both_stages_on_the_options_data(tmp_path):
    run([sys.executable, '-m', 'benchmarks.cascade', '--options', TINY, '--iters', '4', '--seed', '3',
         '--work', str(tmp_path)])
    import torch
    import yaml
    for stage, iters in (('bench_c_cascade_illum', 1), ('bench_c_cascade', 3)):
        assert (tmp_path / 'experiments' / stage / 'models' / 'net_g_latest.pth').is_file()
        log = (tmp_path / 'logs' / f'{stage}.log').read_text()
        assert f'total_iter: {iters}' in log
        options = yaml.safe_load((tmp_path / 'options' / f'{stage}.yml').read_text())
        assert options['manual_seed'] == 3  # --seed, not the options' own
    first = torch.load(tmp_path / 'experiments' / 'bench_c_cascade_illum' / 'models' / 'net_g_latest.pth')
    second = torch.load(tmp_path / 'experiments' / 'bench_c_cascade' / 'models' / 'net_g_latest.pth')
    illum = [k for k in first['params'] if k.startswith('illum.')]
    loaded = first.get('params_ema', first['params'])  # the weight average when the options keep one
    assert illum and all(torch.equal(loaded[k], second['params'][k]) for k in illum)  # stage 1, frozen


def test_selection_agreement_is_the_rank_correlation_over_the_grid():
    def entry(selection, test):
        return {'selection_PSNR': selection, 'test': {'a': {'PSNR': test}}}
    per_method = {'fixed_s0': {0: entry(1, 3), 1: entry(1, 1)}, 'fixed_s1': {0: entry(2, 2), 1: entry(2, 2)},
                  'fixed_s2': {0: entry(3, 1), 1: entry(3, 3)}}
    assert bq.selection_agreement(per_method, [0, 1, 2]) == {'0': pytest.approx(-1.0), '1': pytest.approx(1.0)}
