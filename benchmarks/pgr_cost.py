"""Seconds per iteration: plain joint training versus each PGR phase, measured in one process.

    python -m benchmarks.pgr_cost --out docs/benchmarks/pgr_cost

"Plain joint" is one fixed-weight step of the whole net: one forward, one backward of
``g + f_direct`` (every loss term, hand-set weights) and one Adam step. The PGR rows are
``TriLevelModel.optimize_parameters`` on the same batch: a warm-up iteration, a cooperative iteration
without and with the middle level's response, and a tri-level iteration with the hypergradient.
"cycle average" runs ``upper_interval`` consecutive tri-level iterations (responses every
``middle_interval``, one hypergradient) -- the figure the design targets at <= 1.3x plain; its ratio is
the median over repeats of (cycle / plain steps timed just before it), robust to a drifting machine.
Medians of ``--repeats`` measurements (cycles included), CUDA synchronised before and after each.
Writes ``OUT.json`` and ``OUT.md``.
"""
import argparse
import json
import os
import statistics
import tempfile
from os import path as osp

import torch

from benchmarks.common import ROOT, command_line, device_name, median_seconds


def build(options, overrides, root):
    from basicsr.models import build_model

    from trico_basicsr.utils.options import load_training_options
    return build_model(load_training_options(options, root, **overrides))


def fixed_batch(model, count):
    from basicsr.data import build_dataset
    from torch.utils.data import default_collate
    dataset = build_dataset(dict(model.opt['datasets']['train']))
    return default_collate([dataset[(i % len(dataset), (0, 0, 0, i))] for i in range(count)])


def timed(fn, repeats, warmup=True):
    return median_seconds(fn, repeats, warmup=1 if warmup else 0)


def paired(fn, reference, repeats, reference_steps=5):
    """``(median seconds of fn, median of fn's seconds / the median of reference_steps reference steps
    timed just before it)``: each ratio compares runs minutes apart at most, so a shared machine's
    drifting speed cancels out of it."""
    fn()  # warm-up
    seconds, ratios = [], []
    for _ in range(repeats):
        before = timed(reference, reference_steps)
        seconds.append(timed(fn, 1, warmup=False))
        ratios.append(seconds[-1] / before)
    return statistics.median(seconds), statistics.median(ratios)


def network_overrides(args):
    """Option changes that put ``--network``'s net and PGR settings on ``--options``' data."""
    from trico_basicsr.utils.options import read_options
    overrides = {}
    if args.network:
        other = read_options(args.network)
        network = other['network_g']
        if 'semantic_weights' in network:
            network['semantic_weights'] = None  # random backbone weights: the same compute, no file needed
        overrides.update({'network_g': network, 'scale': network['upscale'], 'train:pgr': other['train']['pgr']})
    if args.gt_size:
        overrides['datasets:train:gt_size'] = args.gt_size
    if args.batch:
        overrides['datasets:train:batch_size_per_gpu'] = args.batch
    return overrides


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--options', default=osp.join(ROOT, 'options', 'train', 'trico_demo_x4.yml'),
                        help='options whose data, PGR settings and (without --network) network are used')
    parser.add_argument('--network', help="another options file whose network_g and train.pgr are timed on "
                        "--options' data (e.g. options/train/trico_x4.yml, whose LMDBs need not exist)")
    parser.add_argument('--gt-size', type=int, help="HR patch size (default: --options')")
    parser.add_argument('--batch', type=int, help="batch size (default: --options')")
    parser.add_argument('--hvp', choices=('finite_difference', 'double_backward'), nargs='+',
                        default=['finite_difference', 'double_backward'])
    parser.add_argument('--intervals', nargs='+', default=['options'],
                        help="'options' or MIDDLE,UPPER pairs (e.g. 20,40): the amortisation settings to measure")
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--out', default=osp.join(ROOT, 'docs', 'benchmarks', 'pgr_cost'))
    args = parser.parse_args(argv)
    import trico_basicsr  # noqa: F401
    from trico_basicsr.pgr.objectives import evaluate
    root = tempfile.mkdtemp()
    results = {'options': osp.relpath(args.options, ROOT), 'network': args.network and osp.relpath(args.network, ROOT),
               'threads': torch.get_num_threads(), 'device': device_name(),
               'torch': torch.__version__, 'modes': {}}
    settings = []
    for mode in args.hvp:
        for intervals in args.intervals:
            overrides = {**network_overrides(args), 'train:pgr:hvp': mode, 'train:ema_decay': 0}
            if intervals != 'options':
                middle, upper = (int(v) for v in intervals.split(','))
                overrides.update({'train:pgr:middle_interval': middle, 'train:pgr:upper_interval': upper})
            settings.append((mode, overrides))
    for mode, overrides in settings:
        model = build(args.options, overrides, root)
        cfg = model.pgr_cfg
        coop, tri = cfg.phases.cooperative_start, cfg.phases.trilevel_start
        t_m, t_u = cfg.middle_interval, cfg.upper_interval
        model.feed_data(fixed_batch(model, model.opt['datasets']['train']['batch_size_per_gpu']))
        everything = [p for level in ('sr', 'illum') for p in model.params[level]]
        joint_optimizer = torch.optim.Adam(everything, lr=1e-4)

        def plain_joint():
            values = evaluate(model.nets, model.terms, model.params, model._batch())
            total = values['g'] + values.get('f_direct', 0)
            joint_optimizer.zero_grad(set_to_none=True)
            total.backward()
            joint_optimizer.step()

        def pgr_at(iteration):
            return lambda: model.optimize_parameters(iteration)

        first_coop = (coop // t_m + 1) * t_m
        first_tri = (tri // t_u + 1) * t_u
        rows = {
            'plain joint (fixed weights)': timed(plain_joint, args.repeats),
            'PGR warm-up': timed(pgr_at(max(coop - 1, 1)), args.repeats),
            'PGR cooperative, first-order middle': timed(pgr_at(first_coop + 1), args.repeats),
            'PGR cooperative, with lower response': timed(pgr_at(first_coop), args.repeats),
            'PGR tri-level, with hypergradient': timed(pgr_at(first_tri), args.repeats),
        }

        def cycle():
            for it in range(first_tri + 1, first_tri + t_u + 1):
                model.optimize_parameters(it)

        cycle_name = f'PGR tri-level cycle average ({t_u} iterations)'
        rows[cycle_name], cycle_ratio = paired(cycle, plain_joint, args.repeats)
        rows[cycle_name] /= t_u
        plain = rows['plain joint (fixed weights)']
        ratios = {name: s / plain for name, s in rows.items()}
        ratios[cycle_name] = cycle_ratio / t_u
        results['modes'][f'{mode}, T_M={t_m}, T_U={t_u}'] = {'hvp': mode,
            'middle_interval': t_m, 'upper_interval': t_u,
            'rows': {name: {'seconds': s, 'ratio_to_plain': ratios[name]} for name, s in rows.items()}}
        print(mode, {k: round(v / plain, 2) for k, v in rows.items()}, flush=True)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out + '.json', 'w') as f:
        json.dump(results, f, indent=1)
    network = f" with the network and PGR options of `{results['network']}`" if results['network'] else ''
    lines = ['# PGR cost per iteration', '',
             f'`{command_line()}` -- options '
             f"`{results['options']}`{network}, {results['device']}, torch {results['torch']}, "
             f'median of {args.repeats}.', '']
    for mode, data in results['modes'].items():
        lines += [f"## hvp: {data['hvp']}, middle_interval {data['middle_interval']}, "
                  f"upper_interval {data['upper_interval']}",
                  '', '| iteration | seconds | x plain joint |', '|---|---|---|']
        lines += [f"| {name} | {r['seconds']:.3f} | {r['ratio_to_plain']:.2f} |" for name, r in data['rows'].items()]
        lines.append('')
    with open(args.out + '.md', 'w') as f:
        f.write('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
