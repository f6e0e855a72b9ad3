"""The README's loss-term table (paired differences).

    python docs/benchmarks/loss_terms_x4/summary.py > docs/benchmarks/loss_terms_x4/summary.md

Each variant is the default's fine-tune (trico_demo_bsd100_x4_finetune_linear_b.yml) with its loss terms
changed, started from the same 4,000-iteration base and with the same seed as its control (the seeds_x4
runs), so each difference is paired: variant minus control, seed by seed. From this folder's results.json;
PSNR in dB, Set14 / Set5; selection = mean of the two Set5 held-out cells; NIQE and the darkest tenth's grey
on the real photos; exposure error in grey levels (the brightness check's limit is 25).
"""
import json
import statistics
from os import path as osp

HERE = osp.dirname(osp.abspath(__file__))
FAMILIES = ('heldout_aces_lanczos', 'heldout_banding_jpeg', 'linear_area', 'ultra_dark')
# (label, method prefix in results.json, seeds, checkpoints); seed 0's base is the 4,000-iteration
# checkpoint the shipped default was fine-tuned from (git show e1f3976:weights/trico_light_x4.pth)
VARIANTS = (('middle level without its no-reference terms', 'supervised lit', (0, 1, 2), (1000, 1500, 2500)),
            ('SR level on its pixel term alone', 'pixel only', (1, 2), (1000, 1500)))


def figures(results, method):
    """[4 Set14 cells, 4 Set5 cells, selection, Set14 mean, NIQE, darkest tenth, exposure error]."""
    psnr = {cell: scores[method]['PSNR'] for cell, scores in results['synthetic'].items()}
    set14 = [psnr[f'{f} / Set14'] for f in FAMILIES]
    set5 = [psnr[f'{f} / Set5'] for f in FAMILIES]
    real = results['real']['scores'][method]
    return set14 + set5 + [(set5[0] + set5[1]) / 2, statistics.mean(set14), real['NIQE'], real['dark_lift'],
                           results['exposure_tracking'][method]['mean_abs_error']]


def row(label, values, fmt):
    cells = ' | '.join(f'{fmt(values[i])} / {fmt(values[i + 4])}' for i in range(4))
    return f"| {label} | {cells} | {' | '.join(fmt(v) for v in values[8:])} |"


def main():
    with open(osp.join(HERE, 'results.json')) as f:
        results = json.load(f)
    print('| x4, paired with the control of the same seed and iterations | `heldout_aces_lanczos` | '
          '`heldout_banding_jpeg` | `linear_area` | `ultra_dark` | selection | Set14 mean | real: NIQE | '
          'darkest tenth | exposure error |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for label, prefix, seeds, iterations in VARIANTS:
        for iteration in iterations:
            diffs = []
            for seed in seeds:
                control = figures(results, f'seed {seed}, 4000 + {iteration}')
                variant = figures(results, f'{prefix}, seed {seed}, 4000 + {iteration}')
                print(row(f'{label}, seed {seed}, {iteration:,}', variant, lambda v: f'{v:.2f}'))
                diffs.append([v - c for v, c in zip(variant, control)])
            for seed, diff in zip(seeds, diffs):
                print(row(f'difference, seed {seed}, {iteration:,}', diff, lambda v: f'{v:+.2f}'))
            # mean ± sample standard deviation over the seeds of each paired difference
            spread = [(statistics.mean(d), statistics.stdev(d)) for d in zip(*diffs)]
            print(row(f'**difference, mean ± std of {len(seeds)} seeds**, {iteration:,}', spread,
                      lambda v: f'{v[0]:+.2f} ± {v[1]:.2f}'))


if __name__ == '__main__':
    main()
