"""Which upper-level family ranks training recipes as the never-trained families do?

    python scripts/upper_family_agreement.py --train-hr datasets/BSD100 --bench docs/benchmarks/quality_x4 \
        --work WORK --families upper_reinhard_skip upper_reinhard_area upper_srgb_skip camera_mix
    python scripts/upper_family_agreement.py ... --families upper_reinhard_skip camera_mix \
        --images datasets/Set5 --test-sets Set14
    python scripts/upper_family_agreement.py ... --recipes corners   # the degradation mixture's corners

The upper level can only steer training towards what its data rewards. This takes the fixed-weight
grid that ``scripts/benchmark_quality.py`` trained (its run records in ``WORK/runs``, its test scores
in ``BENCH/summary.json``), scores every grid checkpoint on images degraded with each candidate family
-- the training folder's held-out images, or ``--images`` (another collection) -- and reports per seed
the Spearman correlation of those PSNRs with the mean test PSNR over the never-trained families (on
``--test-sets`` only, when given: never the ``--images`` collection), which grid point each family
would pick, and that pick's regret (test PSNR of the best grid point minus the pick's). A family
worth tuning on has a positive correlation and a small regret. ``--recipes corners`` ranks the
benchmark's mixture corners (``corner_<preset>``: one preset each) instead of the loss-weight grid,
or name the benchmark's methods to rank. Adds its table to
``BENCH/upper_family_agreement.json`` and ``.md`` (one table per images and test sets); scores are
cached in ``WORK/scores.json``.
"""
import argparse
import json
import sys
import time
from os import path as osp
from types import SimpleNamespace

import numpy as np

ROOT = osp.abspath(osp.join(osp.dirname(__file__), osp.pardir))
sys.path.insert(0, osp.join(ROOT, 'scripts'))
import benchmark_quality as bench  # noqa: E402  (its run records, selection pairs and scores)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--train-hr', required=True, help="the benchmark's training folder (its held-out part is used)")
    parser.add_argument('--bench', required=True,
                        help="benchmark_quality's --out (summary.json with the grid's scores)")
    parser.add_argument('--work', required=True, help="benchmark_quality's --work (run records, score cache)")
    parser.add_argument('--families', nargs='+', required=True, help='candidate upper families (any preset)')
    parser.add_argument('--images', help="HR images to degrade (default: the training folder's held-out part)")
    parser.add_argument('--test-sets', nargs='+', help="compare with these test sets' scores only (default: all)")
    parser.add_argument('--recipes', nargs='+', default=['grid'],
                        help="what to rank: 'grid' (the fixed loss weightings), 'corners' (the mixture corners) "
                        "or benchmark method names")
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args(argv)
    if args.images and args.test_sets and osp.basename(osp.normpath(args.images)) in args.test_sets:
        parser.error(f'--images {args.images} is one of --test-sets: it would be compared with itself')
    return args


def recipe_names(summary, recipes=('grid',)):
    """Benchmark methods to rank: ``grid`` and ``corners`` expand to the grid's and the mixture corners' runs."""
    names = []
    for recipe in recipes:
        if recipe == 'grid':
            names += [f"fixed_s{s:g}" for s in summary['config']['grid']]
        elif recipe == 'corners':
            names += sorted(m for m in summary['methods'] if m.startswith('corner_'))
        else:
            names.append(recipe)
    if len(set(names)) < 2:
        raise SystemExit(f'error: --recipes {" ".join(recipes)}: fewer than two trained recipes to rank ({names})')
    return list(dict.fromkeys(names))


def recipe_entries(summary, test_sets=None, recipes=('grid',)):
    """``{seed: {method: mean test PSNR}}`` for the seeds where every recipe (default: the grid) is scored."""
    names = recipe_names(summary, recipes)
    seeds = set.intersection(*(set(summary['methods'].get(name, {}).get('seeds', {})) for name in names))
    return {seed: {name: bench.mean_test_psnr(summary['methods'][name]['seeds'][seed], test_sets) for name in names}
            for seed in sorted(seeds)}


def agreement(selection, tests):
    """Spearman rho, the pick and its regret, for one seed: ``selection`` and ``tests`` map method -> PSNR."""
    from scipy.stats import spearmanr
    names = sorted(tests)
    pick = max(names, key=selection.get)
    return {'spearman': float(spearmanr([selection[n] for n in names], [tests[n] for n in names])[0]),
            'pick': pick, 'regret_dB': float(max(tests.values()) - tests[pick]),
            'selection_PSNR': {n: selection[n] for n in names}}


def markdown(result):
    lines = ['# Which upper family predicts the never-trained families?', '',
             f"Grid: `{result['bench']}` ({result['grid_config']}). Per seed: Spearman correlation, over the "
             'fixed-weight grid (or the recipes a table names, e.g. the mixture corners), of PSNR on the images '
             'degraded with the family against the mean test PSNR on the never-trained families; the recipe the '
             "family picks; its regret (best recipe's test PSNR minus the pick's)."]
    for key, table in result['tables'].items():
        seeds = table['seeds']
        lines += ['', f'## {key}', '', f"`{table['command']}` ({table['date']})", '',
                  '| family | ' + ' | '.join(f'seed {s}' for s in seeds) + ' | mean rho | mean regret (dB) |',
                  '|---|' + '---|' * (len(seeds) + 2)]
        for family, per_seed in table['families'].items():
            cells = [f"{v['spearman']:+.2f} ({v['pick']}, {v['regret_dB']:.2f})" for v in per_seed.values()]
            rho = np.mean([v['spearman'] for v in per_seed.values()])
            regret = np.mean([v['regret_dB'] for v in per_seed.values()])
            lines.append(f'| `{family}` | ' + ' | '.join(cells) + f' | {rho:+.2f} | {regret:.2f} |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    import torch

    import trico_basicsr  # noqa: F401
    from trico_basicsr.utils.options import read_options
    from trico_basicsr.utils.reports import command_line, write_report
    torch.set_num_threads(args.threads)
    with open(osp.join(args.bench, 'summary.json')) as f:
        summary = json.load(f)
    config = summary['config']
    tests = recipe_entries(summary, args.test_sets, args.recipes)
    if not tests:
        raise SystemExit(f'error: {args.bench}/summary.json has no seed with every recipe of --recipes scored')
    base = read_options(osp.join(ROOT, config['options']))
    images = args.images or f"{config['train_hr']} (held-out part)"
    key = f"images: {images}; test sets: {', '.join(args.test_sets) if args.test_sets else 'all'}"
    if args.recipes != ['grid']:
        key += f"; recipes: {', '.join(args.recipes)}"
    table = {'command': command_line(ROOT), 'date': time.strftime('%Y-%m-%d'), 'seeds': list(tests), 'families': {}}
    for family in args.families:
        opts = SimpleNamespace(upper_family=family, train_hr=args.train_hr, upper_images=args.images,
                               scale=config['scale'], data_seed=0, real=None, real_count=0)
        selection = bench.selection_pairs(opts, base, args.work)
        scorer = bench.Scorer(opts, args.work, selection, {})
        per_seed = {}
        for seed, seed_tests in tests.items():
            picked = {}
            for name in seed_tests:
                record_path = osp.join(args.work, 'runs', f'{name}_s{seed}.json')
                if not osp.isfile(record_path):
                    raise SystemExit(f'error: {record_path}: no run record (is --work the benchmark\'s work folder?)')
                with open(record_path) as f:
                    picked[name] = scorer.scores(json.load(f)['checkpoint'])['selection_PSNR']
            per_seed[seed] = agreement(picked, seed_tests)
        table['families'][family] = per_seed
        print(key, family, {s: round(v['spearman'], 2) for s, v in per_seed.items()}, flush=True)
    path = osp.join(args.bench, 'upper_family_agreement')
    result = {'bench': args.bench, 'grid_config': f"x{config['scale']}, {config['iters']} iterations, "
                                                  f"grid {config['grid']}", 'tables': {}}
    if osp.isfile(path + '.json'):
        with open(path + '.json') as f:
            result['tables'] = json.load(f).get('tables', {})
    result['tables'][key] = table
    write_report(path, result, markdown(result))


if __name__ == '__main__':
    main()
