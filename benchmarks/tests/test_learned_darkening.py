"""benchmarks.learned_darkening: the runs it names and configures, what it reads from training logs, how it
picks the equal wall-clock checkpoint and the fixed setting."""
import pytest
import yaml

from benchmarks import learned_darkening as ld

LINE = ('2026-12-03 20:45:12,998 INFO: [ld_le..][epoch:  0, iter:   {it}, lr:(2.996e-04,)] [eta: 0:37:59, '
        'time (data): {t} (0.101)] l_sr: 2.6e-01 lambda_darkening_log_exposure: {e} lambda_sr_pixel: 1.0e+00 '
        'hyper_snr_sr_pixel: 3.0e+00 hyper_snr_darkening_log_exposure: 1.5e+00\n')


def args(*extra):
    return ld.parse_args(['--pairs', 'test', '--upper-pairs', 'upper', '--out', 'out', *extra])


def test_log_records_read_iteration_time_darkening_values_and_their_snr(tmp_path):
    log = tmp_path / 'train_x.log'
    log.write_text(LINE.format(it='100', t='0.968', e='-2.9266e+00') + 'unrelated line\n'
                   + LINE.format(it='1,100', t='1.5', e='-2.5e+00'))
    records = ld.log_records('x', [str(log)])
    assert [(it, t) for it, t, _ in records] == [(100, 0.968), (1100, 1.5)]
    assert records[1][2] == {'lambda_darkening_log_exposure': -2.5, 'hyper_snr_darkening_log_exposure': 1.5}


def test_equal_wall_clock_gives_the_cheaper_run_its_extra_iterations():
    saved = [500, 1000, 1500, 2000, 2500]
    assert ld.equal_wall_clock_iteration(saved, 1500, 1.0, 1500 * 1.0) == 1500   # equal cost: equal iterations
    assert ld.equal_wall_clock_iteration(saved, 1500, 1.0, 1500 * 1.2) == 2000   # learned 20 % dearer: 1,800 -> 2,000
    assert ld.equal_wall_clock_iteration(saved, 1500, 1.0, 1500 * 9.0) == 2500   # never reached: the last one


def test_each_method_is_the_same_options_with_its_own_overrides_and_run_name():
    a = args('--grid', 'log_exposure=-2.2,log_blur=-1', '--prefix', 'p')
    grid = ld.method_key(a.grid[0])
    assert grid == 'grid log_exposure=-2.2,log_blur=-1'
    assert [ld.run_name(a, m, 1) for m in ('learned', 'fixed', 'pixel', grid)] == \
        ['p_learn_s1', 'p_fixed_s1', 'p_pixel_s1', 'p_grid_log_exposure-2.2_log_blur-1_s1']
    assert ld.overrides('learned') == [] and ld.overrides('fixed') == ['train:pgr:darkening:learn=false']
    assert ld.overrides(grid) == ['train:pgr:darkening:learn=false', 'train:pgr:darkening:parameters:log_exposure=-2.2',
                                  'train:pgr:darkening:parameters:log_blur=-1']
    assert ld.iterations_of(a, 'pixel') == a.iters + a.plain_extra and ld.iterations_of(a, grid) == a.iters


@pytest.mark.parametrize('grid, message', [('log_exposure', 'NAME=VALUE'), ('log_exposure=dark', 'NAME=VALUE'),
                                           ('exposure=-2', 'unknown darkening parameter')])
def test_a_bad_grid_point_is_an_error_naming_the_option(grid, message, capsys):
    with pytest.raises(SystemExit):
        args('--grid', grid)
    assert message in capsys.readouterr().err


def test_iterations_off_the_checkpoint_interval_are_refused(capsys):
    with pytest.raises(SystemExit):
        args('--iters', '750')
    assert 'multiples of 500' in capsys.readouterr().err


def test_the_pixel_baseline_keeps_only_pixel_terms_and_no_upper_level(tmp_path, monkeypatch):
    monkeypatch.setattr(ld, 'ROOT', str(tmp_path))
    a = args('--prefix', 'p')
    a.options = ld.osp.join(ld.osp.dirname(ld.__file__), '..', ld.DEFAULT_OPTIONS)
    ld.write_plain_options(a, 'pixel')
    assert ld.plain_options_path(a, 'pixel') == ld.osp.join('experiments', 'p_pixel.yml')
    pgr = yaml.safe_load(open(tmp_path / ld.plain_options_path(a, 'pixel')))['train']['pgr']
    assert list(pgr['sr_terms']) == ['pixel'] and sorted(pgr['illum_terms']) == ['coupling', 'pixel']
    assert pgr['phases'] == {'cooperative_start': None, 'trilevel_start': None}
    assert pgr['darkening']['learn'] is False and pgr['darkening']['parameters']['log_exposure'] == -2.9


def test_a_hand_set_weighting_scales_every_non_pixel_term_and_trains_plain(tmp_path, monkeypatch):
    from benchmarks.quality import PIXEL_TERMS
    from trico_basicsr.pgr.config import load_pgr_config, to_dict
    from trico_basicsr.utils.options import read_options
    monkeypatch.setattr(ld, 'ROOT', str(tmp_path))
    a = args('--prefix', 'p', '--weights', '3')
    a.options = ld.osp.join(ld.osp.dirname(ld.__file__), '..', ld.DEFAULT_OPTIONS)
    method = ld.weights_key(3.0)
    assert method == 'weights x3' and ld.run_name(a, method, 2) == 'p_weights3_s2'
    assert ld.is_plain(method) and ld.overrides(method) == []
    assert ld.iterations_of(a, method) == a.iters + a.plain_extra
    ld.write_plain_options(a, method)
    pgr = yaml.safe_load(open(tmp_path / ld.plain_options_path(a, method)))['train']['pgr']
    start = to_dict(load_pgr_config(read_options(a.options)['train']['pgr']))
    scaled = 0
    for level in ('sr_terms', 'illum_terms'):
        assert sorted(pgr[level]) == sorted(start[level])
        for name, term in pgr[level].items():
            factor = 1.0 if name in PIXEL_TERMS else 3.0  # the pixel and coupling terms anchor the scale
            scaled += factor == 3.0
            assert term['loss_weight'] == pytest.approx(factor * start[level][name]['loss_weight'])
    assert scaled >= 4
    assert pgr['phases'] == {'cooperative_start': None, 'trilevel_start': None}
    assert pgr['darkening']['learn'] is False


@pytest.mark.parametrize('scale', ['0', '-1'])
def test_a_weighting_that_is_not_positive_is_refused_naming_the_option(scale, capsys):
    with pytest.raises(SystemExit):
        args('--weights', scale)
    assert '--weights' in capsys.readouterr().err


def test_the_fixed_setting_is_picked_on_the_upper_pairs_not_the_test_scenes(monkeypatch):
    a = args('--grid', 'log_exposure=-2.2', '--weights', '0.5')
    upper = {'fixed': 20.0, 'grid log_exposure=-2.2': 21.0, 'weights x0.5': 20.5}
    test = {'fixed': 23.0, 'grid log_exposure=-2.2': 22.0, 'weights x0.5': 22.5}

    def fake_score(_, path, pairs, cache):
        method = ('fixed' if '_fixed_' in path else 'weights x0.5' if '_weights0.5_' in path
                  else 'grid log_exposure=-2.2')
        return {'pairs': {'psnr': (upper if pairs == 'upper' else test)[method]}}

    monkeypatch.setattr(ld, 'score', fake_score)
    best, table = ld.pick_fixed(a, cache=None)
    assert best == 'grid log_exposure=-2.2'
    assert table['fixed'] == {'upper': 20.0, 'test': 23.0} and table['weights x0.5'] == {'upper': 20.5, 'test': 22.5}
    upper['weights x0.5'] = 21.5  # the loss-weight grid competes in the same pick
    assert ld.pick_fixed(a, cache=None)[0] == 'weights x0.5'


def run_flow(tmp_path, monkeypatch, upper_favourite):
    """``main`` on stand-in runs (``upper_favourite`` scores 1 dB better on the upper pairs than on the test
    scenes); returns the training calls and the summary."""
    trained = []
    monkeypatch.setattr(ld, 'ROOT', str(tmp_path))
    monkeypatch.setattr(ld, 'write_plain_options', lambda a, method: None)
    monkeypatch.setattr(ld, 'train_all', lambda a, runs: trained.append(list(runs)))
    psnr = {'learn': 22.0, 'fixed': 21.5, 'grid': 21.0, 'pixel': 21.2, 'weights2': 21.1, 'weights4': 21.4}

    def fake_score(_, path, pairs, cache):
        method = ld.osp.basename(ld.osp.dirname(ld.osp.dirname(path))).split('_')[1]
        late = path.endswith('net_g_1500.pth')
        value = psnr[method] + (0.3 if late else 0) + (1.0 if pairs == 'upper' and method == upper_favourite else 0)
        return {'pairs': {m: value for m in ld.METRICS}, 'exposed': {'brightness_change_pct': 1.0}}

    monkeypatch.setattr(ld, 'score', fake_score)
    monkeypatch.setattr(ld, 'synthetic_sets', lambda a: {'family / set': 'synthetic'})
    monkeypatch.setattr(ld, 'real_log_exposure', lambda pairs, scale: {'p10': -3.0, 'median': -2.0, 'p90': -1.0})
    plain = ('_pixel_', '_weights')
    monkeypatch.setattr(ld, 'seconds_per_iteration',
                        lambda name, up_to: 0.5 if any(p in name for p in plain) else 0.75)
    monkeypatch.setattr(ld, 'saved_iterations',
                        lambda name: [500, 1000, 1500] if any(p in name for p in plain) else [500, 1000])
    monkeypatch.setattr(ld, 'log_records', lambda name: [(100, 0.75, {'lambda_darkening_log_exposure': -2.5,
                                                                      'hyper_snr_darkening_log_exposure': 2.0})])
    options = ld.osp.abspath(ld.osp.join(ld.osp.dirname(ld.__file__), '..', ld.DEFAULT_OPTIONS))
    ld.main(['--pairs', 'test', '--upper-pairs', 'upper', '--seeds', '0', '1', '--grid', 'log_exposure=-2.2',
             '--weights', '2', '4', '--options', options, '--out', str(tmp_path / 'out')])
    return trained, ld.json.load(open(tmp_path / 'out' / 'summary.json'))


def test_the_report_compares_learned_with_the_picked_setting_and_the_pixel_baseline(tmp_path, monkeypatch):
    """The whole flow on stand-in runs: what is trained, what is scored and the gaps the summary states."""
    trained, summary = run_flow(tmp_path, monkeypatch, upper_favourite='grid')
    # the grids train to --iters at the first seed, where the pick is made
    assert trained[0][-4:] == [('grid log_exposure=-2.2', 0, 1000), ('weights x2', 0, 1000),
                               ('weights x4', 0, 1000), ('pixel', 0)]
    assert trained[1] == [('grid log_exposure=-2.2', 1), ('pixel', 1)]  # the pick, with its other seeds
    assert summary['ledger']['picked_on_upper_data'] == 'grid log_exposure=-2.2'
    assert summary['ledger']['best_on_test'] == 'fixed'
    assert summary['ledger']['test_range_over_darkening_settings'] == pytest.approx(0.5)   # fixed 21.5, grid 21.0
    assert summary['ledger']['test_range_over_loss_weights'] == pytest.approx(0.3)        # x2 21.1, x4 21.4
    assert summary['ledger']['test_range_over_fixed_settings'] == pytest.approx(0.5)
    assert summary['learned_minus']['best_fixed_equal_iterations'] == pytest.approx([1.0, 1.0])
    # the pixel runs are a third cheaper: 1,000 learned iterations buy them 1,500
    assert summary['learned_minus']['pixel_equal_wall_clock'] == pytest.approx([0.5, 0.5])
    assert summary['aggregate']['pixel loss only, equal wall-clock']['iterations'] == '1500'
    # the start is shown beside the pick; as dear as learned, the pick needs no separate wall-clock row
    assert summary['learned_minus']['start_equal_iterations'] == pytest.approx([0.5, 0.5])
    assert list(summary['aggregate']) == ['learned', 'best fixed: grid log_exposure=-2.2', 'fixed at the start',
                                          'pixel loss only', 'pixel loss only, equal wall-clock']
    assert summary['aggregate']['learned']['synthetic']['family / set']['mean'] == pytest.approx(22.0)
    report = open(tmp_path / 'out' / 'summary.md').read()
    assert 'log_exposure -2.50 (SNR 2.0)' in report and '| family / set | mean |' in report


def test_a_picked_hand_set_weighting_trains_on_for_its_equal_wall_clock_row(tmp_path, monkeypatch):
    trained, summary = run_flow(tmp_path, monkeypatch, upper_favourite='weights2')
    assert summary['ledger']['picked_on_upper_data'] == 'weights x2'
    # every seed, the first included, to --iters + --plain-extra
    assert trained[1] == [('weights x2', 0), ('weights x2', 1), ('pixel', 1)]
    assert summary['aggregate']['best fixed: weights x2, equal wall-clock']['iterations'] == '1500'
    assert summary['learned_minus']['best_fixed_equal_wall_clock'] == pytest.approx([0.6, 0.6])  # 22.0 - 21.4


def test_the_real_pairs_exposure_is_their_linear_light_ratio(tmp_path):
    """Dark frames made from their targets at exposure e^-2 in linear light read back as log exposure -2."""
    import cv2
    import numpy as np

    from trico_basicsr.data.coupled_degradation import linear_to_srgb, srgb_to_linear
    rng = np.random.default_rng(0)
    (tmp_path / 'gt').mkdir()
    (tmp_path / 'lq_x4').mkdir()
    for i, exposure in enumerate((-1.0, -2.0, -3.0)):
        target = cv2.resize(rng.uniform(0.2, 0.9, (8, 8, 3)), (64, 64), interpolation=cv2.INTER_CUBIC).clip(0, 1)
        dark = linear_to_srgb(srgb_to_linear(cv2.resize(target, (16, 16), interpolation=cv2.INTER_AREA))
                              * np.exp(exposure))
        for folder, img in (('gt', target), ('lq_x4', dark)):
            cv2.imwrite(str(tmp_path / folder / f'{i}.png'), np.round(img[..., ::-1] * 65535).astype(np.uint16))
    found = ld.real_log_exposure(str(tmp_path), 4)
    assert found['median'] == pytest.approx(-2.0, abs=0.02)
    assert found['p10'] < -2.5 and found['p90'] > -1.5
