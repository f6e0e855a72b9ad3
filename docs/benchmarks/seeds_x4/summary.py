"""The README's three-seed table: python docs/benchmarks/seeds_x4/summary.py > docs/benchmarks/seeds_x4/summary.md

Two tables: at 4,000 + 1,500, where seed 0 is the default's own run (linear_mix_x4, "linear 75 %, 1,500"),
and at 4,000 + 2,500, the shipped recipe, where seed 0 is the shipped checkpoint. Seeds 1 and 2 and the
fixed-prior runs are in this folder's results.json. PSNR in dB, Set14 / Set5; selection = mean of the two
Set5 held-out cells; std is the sample standard deviation over the three seeds.
"""
import json
import statistics
from os import path as osp

HERE = osp.dirname(osp.abspath(__file__))
FAMILIES = ('heldout_aces_lanczos', 'heldout_banding_jpeg', 'linear_area', 'ultra_dark')


def load(folder):
    with open(osp.join(HERE, '..', folder, 'results.json')) as f:
        return json.load(f)


def figures(results, method):
    """[4 Set14 cells, 4 Set5 cells, selection, Set14 mean], NIQE, (slope, error)."""
    psnr = {cell: scores[method]['PSNR'] for cell, scores in results['synthetic'].items()}
    set14 = [psnr[f'{f} / Set14'] for f in FAMILIES]
    set5 = [psnr[f'{f} / Set5'] for f in FAMILIES]
    selection = (set5[0] + set5[1]) / 2
    exposure = results['exposure_tracking'][method]
    return set14 + set5 + [selection, statistics.mean(set14)], results['real']['scores'][method]['NIQE'], \
        (exposure['slope'], exposure['mean_abs_error'])


def row(label, values, niqe='', exposure=''):
    cells = ' | '.join(f'{values[i]} / {values[i + 4]}' for i in range(4))
    return f'| {label} | {cells} | {values[8]} | {values[9]} | {niqe} | {exposure} |'


def print_table(title, seed_runs, other_runs=()):
    """One table: a row per run of ``seed_runs``, their mean ± std, then ``other_runs``."""
    print(f'| {title} | `heldout_aces_lanczos` | `heldout_banding_jpeg` | `linear_area` | `ultra_dark` '
          '| selection | Set14 mean | real: NIQE | exposure slope, error |')
    print('|---|---|---|---|---|---|---|---|---|')

    def print_run(label, results, method):
        values, niqe, (slope, error) = figures(results, method)
        print(row(label, [f'{v:.2f}' for v in values], f'{niqe:.2f}', f'{slope:.2f}, {error:.1f}'))
        return values

    per_seed = [print_run(*run) for run in seed_runs]
    print(row('three seeds, mean ± std',
              [f'{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}' for v in zip(*per_seed)]))
    for run in other_runs:
        print_run(*run)


def main():
    seeds = load('seeds_x4')
    print_table('x4, 4,000 + 1,500',
                [('seed 0', load('linear_mix_x4'), 'linear 75 %, 1,500'), ('seed 1', seeds, 'seed 1, 4000 + 1500'),
                 ('seed 2', seeds, 'seed 2, 4000 + 1500')],
                [('a = 0.35, fixed (seed 0)', seeds, 'prior 0.35, 4000 + 1500'),
                 ('a = 0.5, fixed (seed 0)', seeds, 'prior 0.5, 4000 + 1500')])
    print()
    print_table('x4, 4,000 + 2,500 (the shipped recipe)',
                [('seed 0 (shipped)', seeds, 'TriCo x4, shipped (seed 0, 4000 + 2500)'),
                 ('seed 1', seeds, 'seed 1, 4000 + 2500'), ('seed 2', seeds, 'seed 2, 4000 + 2500')])


if __name__ == '__main__':
    main()
