"""The README's three-seed table: python docs/benchmarks/seeds_x4/summary.py > docs/benchmarks/seeds_x4/summary.md

Seed 0 is the default's own run at 4,000 + 1,500 (linear_mix_x4, "linear 75 %, 1,500"); seeds 1 and 2 and
the fixed-prior runs are in this folder's results.json. PSNR in dB, Set14 / Set5; selection = mean of the two
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


def main():
    seeds = load('seeds_x4')
    seed_runs = [('seed 0', load('linear_mix_x4'), 'linear 75 %, 1,500'), ('seed 1', seeds, 'seed 1, 4000 + 1500'),
                 ('seed 2', seeds, 'seed 2, 4000 + 1500')]
    prior_runs = [('a = 0.35, fixed (seed 0)', seeds, 'prior 0.35, 4000 + 1500'),
                  ('a = 0.5, fixed (seed 0)', seeds, 'prior 0.5, 4000 + 1500')]
    print('| x4, 4,000 + 1,500 | `heldout_aces_lanczos` | `heldout_banding_jpeg` | `linear_area` | `ultra_dark` '
          '| selection | Set14 mean | real: NIQE | exposure slope, error |')
    print('|---|---|---|---|---|---|---|---|---|')

    def print_run(label, results, method):
        values, niqe, (slope, error) = figures(results, method)
        print(row(label, [f'{v:.2f}' for v in values], f'{niqe:.2f}', f'{slope:.2f}, {error:.1f}'))
        return values

    per_seed = [print_run(*run) for run in seed_runs]
    print(row('three seeds, mean ± std',
              [f'{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}' for v in zip(*per_seed)]))
    for run in prior_runs:
        print_run(*run)

if __name__ == '__main__':
    main()
