"""The README's table for the recipe without the middle level's no-reference terms from the start (paired differences).

    python docs/benchmarks/supervised_base_x4/summary.py > docs/benchmarks/supervised_base_x4/summary.md

The variant trains the 4,000-iteration base without the two terms too
(options/trico_demo_bsd100_x4_supervised_illum.yml), then the shipped fine-tune
(trico_demo_bsd100_x4_finetune_linear_b_supervised_illum.yml) from it. Its pair, seed by seed: the shipped
recipe, whose base trains with the terms (the loss_terms_x4 runs, same seeds, same fine-tune). From this
folder's results.json; PSNR in dB, Set14 / Set5; selection = mean of the two Set5 held-out cells; NIQE and
the darkest tenth's grey on the real photos; exposure error in grey levels (the brightness check's limit is 25).
"""
import importlib.util
import json
import statistics
from os import path as osp

HERE = osp.dirname(osp.abspath(__file__))


def _loss_terms_summary():
    """docs/benchmarks/loss_terms_x4/summary.py as a module: its figures() and row() read this folder's runs too."""
    spec = importlib.util.spec_from_file_location('loss_terms_summary',
                                                  osp.join(HERE, osp.pardir, 'loss_terms_x4', 'summary.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_LOSS_TERMS = _loss_terms_summary()
figures, row = _LOSS_TERMS.figures, _LOSS_TERMS.row
SEEDS = (0, 1, 2)
# (label, variant's method name, its pair's), each with {seed} and {iterations}
STAGES = (('base run', 'base without the terms, seed {seed}, 4000', 'base, seed {seed}, 4000', (4000,)),
          ('base + fine-tune', 'without the terms from the start, seed {seed}, 4000 + {iterations}',
           'shipped recipe, seed {seed}, 4000 + {iterations}', (1500, 2000, 2500)))


def main():
    with open(osp.join(HERE, 'results.json')) as f:
        results = json.load(f)
    print('| x4, paired by seed and iterations | `heldout_aces_lanczos` | `heldout_banding_jpeg` | `linear_area` | '
          '`ultra_dark` | selection | Set14 mean | real: NIQE | darkest tenth | exposure error |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for label, variant_name, pair_name, iterations in STAGES:
        for iteration in iterations:
            diffs = []
            for seed in SEEDS:
                variant = figures(results, variant_name.format(seed=seed, iterations=iteration))
                pair = figures(results, pair_name.format(seed=seed, iterations=iteration))
                print(row(f'{label} with the terms, seed {seed}, {iteration:,}', pair, lambda v: f'{v:.2f}'))
                print(row(f'{label} without them, seed {seed}, {iteration:,}', variant, lambda v: f'{v:.2f}'))
                diffs.append([v - p for v, p in zip(variant, pair)])
            for seed, diff in zip(SEEDS, diffs):
                print(row(f'difference, seed {seed}, {iteration:,}', diff, lambda v: f'{v:+.2f}'))
            # mean ± sample standard deviation over the seeds of each paired difference
            spread = [(statistics.mean(d), statistics.stdev(d)) for d in zip(*diffs)]
            print(row(f'**{label}: difference, mean ± std of {len(SEEDS)} seeds**, {iteration:,}', spread,
                      lambda v: f'{v[0]:+.2f} ± {v[1]:.2f}'))


if __name__ == '__main__':
    main()
