"""How noisy is the hypergradient? Its signal-to-noise ratio per hyper-variable under each PGR setting.

    python -m benchmarks.hypergradient_snr --out docs/benchmarks/hypergradient_snr

Trains the demo configuration (``options/train/trico_demo_x4.yml``) for ``--iterations`` on the same batches
and seeds under each setting -- the unrolled step (``response_step``: ``sgd`` at 0.01, or the levels'
own Adam step) and the upper level's data (the training presets, or the ``upper_reinhard_skip``
family) -- with the hypergradient every ``--upper-interval`` iterations. Reports, over the last
``snr_window`` hypergradients, each hyper-variable's SNR (|mean| / standard error: above 2 its sign is
reliable, near 1 it is noise), and how far lambda moved. Writes ``OUT.json`` and ``OUT.md``.
"""
import argparse
import tempfile
import time
from os import path as osp

import torch

import trico_basicsr  # noqa: F401  (before any basicsr import: applies the compat fixes)
from benchmarks.common import ROOT, command_line, write_report

SETTINGS = {
    'sgd unroll, upper data = training presets': {'train:pgr:response_step': 'sgd',
                                                  'train:pgr:upper_data:preset': None},
    'Adam unroll, upper data = training presets': {'train:pgr:response_step': 'optimizer',
                                                   'train:pgr:upper_data:preset': None},
    'sgd unroll, upper data = upper_reinhard_skip': {'train:pgr:response_step': 'sgd',
                                                     'train:pgr:upper_data:preset': 'upper_reinhard_skip'},
    'Adam unroll, upper data = upper_reinhard_skip': {'train:pgr:response_step': 'optimizer',
                                                      'train:pgr:upper_data:preset': 'upper_reinhard_skip'},
}
#: The upper level's horizon (docs/pgr.md, "Accumulated hypergradients" and step 3's K unrolled steps), chosen by
#: name with ``--options options/train/trico_light_x4_learned_darkening.yml --upper-interval 20`` (a multiple of
#: 4); not in the default run, whose demo interval (10) the 4-way accumulation does not divide.
HORIZONS = {
    'one-step response': {'train:pgr:unroll_steps': 1, 'train:pgr:hyper_accumulate': 1},
    '3 unrolled steps': {'train:pgr:unroll_steps': 3, 'train:pgr:hyper_accumulate': 1},
    '4 hypergradients per update': {'train:pgr:unroll_steps': 1, 'train:pgr:hyper_accumulate': 4},
}
ALL_SETTINGS = {**SETTINGS, **HORIZONS}


def train(changes, args, root):
    """Train one setting; return its final SNRs, lambda and seconds."""
    from basicsr.data import build_dataset
    from basicsr.models import build_model
    from torch.utils.data import default_collate

    from trico_basicsr.utils.options import load_training_options
    overrides = {'train:ema_decay': 0, 'train:pgr:phases:cooperative_start': args.warmup,
                 'train:pgr:phases:trilevel_start': args.warmup, 'train:pgr:upper_interval': args.upper_interval,
                 'train:pgr:middle_interval': args.upper_interval, 'manual_seed': args.seed, **changes}
    torch.manual_seed(args.seed)
    model = build_model(load_training_options(args.options, root, **overrides))
    dataset = build_dataset(dict(model.opt['datasets']['train']))
    batch_size = model.opt['datasets']['train']['batch_size_per_gpu']
    start = time.perf_counter()
    for iteration in range(1, args.iterations + 1):
        keys = [((iteration * batch_size + i) % len(dataset), (args.seed, 0, iteration, i)) for i in range(batch_size)]
        model.feed_data(default_collate([dataset[key] for key in keys]))
        model.optimize_parameters(iteration)
    seconds = time.perf_counter() - start
    ratios = model.hyper_snr.ratios()
    names = list(model.hyper.named_weights())
    return {'seconds': seconds, 'hypergradients': len(model.hyper_snr.samples),
            'snr': dict(zip(names, ratios.tolist())), 'lambda': model.hyper.named_weights()}


def markdown(results, command):
    lines = ['# Hypergradient signal-to-noise ratio', '',
             f"`{command}` -- `{results['options']}`, {results['iterations']} iterations (tri-level from "
             f"{results['warmup']}), hypergradient every {results['upper_interval']}, SNR over the last "
             f"{results['window']} hypergradients, seed {results['seed']}, CPU.", '',
             'SNR = |mean| / standard error of each component of dF/dlambda over the window: above 2 its sign is '
             'reliable; around 1 Adam turns noise into full-size lambda steps.', '',
             '| setting | median SNR | components with SNR > 2 | loss-weight range | seconds |',
             '|---|---|---|---|---|']
    for name, r in results['settings'].items():
        snr = sorted(r['snr'].values())
        strong = sum(v > 2 for v in snr)
        weights = [w for k, w in r['lambda'].items() if not k.startswith('darkening_')]  # loss weights only
        lines.append(f"| {name} | {snr[len(snr) // 2]:.2f} | {strong} of {len(snr)} | "
                     f"{min(weights):.3f}–{max(weights):.3f} | {r['seconds']:.0f} |")
    lines += ['', 'Per component:', '', '| setting | ' + ' | '.join(next(iter(results['settings'].values()))['snr']) +
              ' |', '|---|' + '---|' * len(next(iter(results['settings'].values()))['snr'])]
    for name, r in results['settings'].items():
        lines.append(f'| {name} | ' + ' | '.join(f'{v:.2f}' for v in r['snr'].values()) + ' |')
    darkening = [k for k in next(iter(results['settings'].values()))['lambda'] if k.startswith('darkening_')]
    if darkening:  # the learned degradation's parameters: where each setting left them
        lines += ['', 'Darkening parameters at the end:', '', '| setting | ' + ' | '.join(darkening) + ' |',
                  '|---|' + '---|' * len(darkening)]
        lines += [f'| {name} | ' + ' | '.join(f"{r['lambda'][k]:.3f}" for k in darkening) + ' |'
                  for name, r in results['settings'].items()]
    return '\n'.join(lines) + '\n'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--options', default=osp.join(ROOT, 'options', 'train', 'trico_demo_x4.yml'))
    parser.add_argument('--iterations', type=int, default=400)
    parser.add_argument('--warmup', type=int, default=100)
    parser.add_argument('--upper-interval', type=int, default=10)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--settings', nargs='*', default=list(SETTINGS), choices=list(ALL_SETTINGS),
                        metavar='NAME', help=f"from: {'; '.join(ALL_SETTINGS)}. Default: the first four")
    parser.add_argument('--out', default=osp.join(ROOT, 'docs', 'benchmarks', 'hypergradient_snr'))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    root = tempfile.mkdtemp()
    results = {'options': osp.relpath(args.options, ROOT), 'iterations': args.iterations, 'warmup': args.warmup,
               'upper_interval': args.upper_interval, 'seed': args.seed, 'settings': {}}
    for name in args.settings:
        results['settings'][name] = train(ALL_SETTINGS[name], args, root)
        print(name, results['settings'][name], flush=True)
    from trico_basicsr.pgr.config import DEFAULTS
    results['window'] = DEFAULTS.snr_window
    write_report(args.out, results, markdown(results, command_line()))


if __name__ == '__main__':
    main()
