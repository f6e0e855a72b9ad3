"""benchmarks.learned_darkening: what it reads from training logs and how it picks the equal wall-clock checkpoint."""
from benchmarks.learned_darkening import equal_wall_clock_iteration, log_records

LINE = ('2026-12-03 20:45:12,998 INFO: [ld_le..][epoch:  0, iter:   {it}, lr:(2.996e-04,)] [eta: 0:37:59, '
        'time (data): {t} (0.101)] l_sr: 2.6e-01 lambda_darkening_log_exposure: {e} lambda_sr_pixel: 1.0e+00\n')


def test_log_records_read_iteration_time_and_darkening_values(tmp_path):
    log = tmp_path / 'train_x.log'
    log.write_text(LINE.format(it='100', t='0.968', e='-2.9266e+00') + 'unrelated line\n'
                   + LINE.format(it='1,100', t='1.5', e='-2.5e+00'))
    records = log_records('x', [str(log)])
    assert [(it, t) for it, t, _ in records] == [(100, 0.968), (1100, 1.5)]
    assert records[1][2] == {'lambda_darkening_log_exposure': -2.5}


def test_equal_wall_clock_gives_the_cheaper_run_its_extra_iterations():
    saved = [500, 1000, 1500, 2000, 2500]
    assert equal_wall_clock_iteration(saved, 1500, 1.0, 1500 * 1.0) == 1500   # equal cost: equal iterations
    assert equal_wall_clock_iteration(saved, 1500, 1.0, 1500 * 1.2) == 2000   # learned 20 % dearer: 1,800 -> 2,000
    assert equal_wall_clock_iteration(saved, 1500, 1.0, 1500 * 9.0) == 2500   # never reached: the last one
