"""Where a TriCo training step spends its time: torch.profiler's top operators, per PGR iteration kind.

    python scripts/profile_training_step.py --out docs/benchmarks/profile_cpu          # 2 CPU cores
    python scripts/profile_training_step.py --options options/trico_x4.yml --batch 8 --gt-size 192 \\
        --out docs/benchmarks/profile_gpu                                             # on a GPU

Profiles ``TriLevelModel.optimize_parameters`` of ``--options`` (the online-darkening demo data is used
for the batch whatever the options' dataset, so nothing needs downloading) for a first-order (warm-up)
iteration and for a tri-level iteration with the hypergradient, and breaks the latter down by the
objective evaluations PGR makes (how many, on which variables, how long). Writes ``OUT.md``/``OUT.json``.
"""
import argparse
import collections
import tempfile
import time
from os import path as osp

import torch
from torch.profiler import ProfilerActivity, profile

import trico_basicsr  # noqa: F401  (before any basicsr import: applies the compat fixes)
from trico_basicsr.utils.reports import command_line, write_report
from trico_basicsr.utils.timing import device_name, synchronize

ROOT = osp.abspath(osp.join(osp.dirname(__file__), osp.pardir))


def build(options, batch, gt_size, root):
    from basicsr.models import build_model

    from trico_basicsr.utils.options import load_training_options, read_options
    network = read_options(options)['network_g']
    if 'semantic_weights' in network:
        network['semantic_weights'] = None  # random backbone weights: the same compute, no file needed
    demo = osp.join(ROOT, 'options', 'trico_demo_x4.yml')
    overrides = {'network_g': network, 'scale': network['upscale'], 'train:ema_decay': 0,
                 'datasets:train:gt_size': gt_size, 'datasets:train:batch_size_per_gpu': batch,
                 'train:pgr': read_options(options)['train']['pgr']}
    model = build_model(load_training_options(demo, root, **overrides))
    from basicsr.data import build_dataset
    from torch.utils.data import default_collate
    dataset = build_dataset(dict(model.opt['datasets']['train']))
    model.feed_data(default_collate([dataset[(i % len(dataset), (0, 0, 0, i))] for i in range(batch)]))
    return model


def top_operators(model, iteration, rows):
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    model.optimize_parameters(iteration)  # warm-up
    synchronize()
    with profile(activities=activities) as prof:
        model.optimize_parameters(iteration)
        synchronize()
    key = 'self_cuda_time_total' if torch.cuda.is_available() else 'self_cpu_time_total'
    events = sorted(prof.key_averages(), key=lambda e: getattr(e, key.replace('cuda', 'device'), 0) or
                    getattr(e, key, 0), reverse=True)
    total = sum(getattr(e, 'self_device_time_total' if torch.cuda.is_available() else 'self_cpu_time_total', 0)
                for e in events)
    out = []
    for event in events[:rows]:
        self_us = getattr(event, 'self_device_time_total' if torch.cuda.is_available() else 'self_cpu_time_total', 0)
        out.append({'operator': event.key, 'calls': event.count, 'self_ms': self_us / 1e3,
                    'share': self_us / total if total else 0.0})
    return out, total / 1e3


def evaluation_breakdown(model, iteration):
    """(objective, differentiated groups) -> [calls, seconds] during one ``optimize_parameters``."""
    import trico_basicsr.pgr.algorithm as algorithm
    import trico_basicsr.pgr.response as response
    original = response.value_and_gradients
    stats = collections.defaultdict(lambda: [0, 0.0])

    def timed(fn, variables, wrt):
        synchronize()
        start = time.perf_counter()
        result = original(fn, variables, wrt)
        synchronize()
        name = getattr(getattr(fn, 'func', fn), '__name__', type(fn).__name__)
        stats[f"{name} wrt {','.join(wrt)}"][0] += 1
        stats[f"{name} wrt {','.join(wrt)}"][1] += time.perf_counter() - start
        return result

    response.value_and_gradients = algorithm.value_and_gradients = timed
    try:
        synchronize()
        start = time.perf_counter()
        model.optimize_parameters(iteration)
        synchronize()
        total = time.perf_counter() - start
    finally:
        response.value_and_gradients = algorithm.value_and_gradients = original
    return total, {k: {'calls': c, 'seconds': s} for k, (c, s) in stats.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--options', default=osp.join(ROOT, 'options', 'trico_demo_x4.yml'))
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--gt-size', type=int, default=96)
    parser.add_argument('--rows', type=int, default=15)
    parser.add_argument('--out', default=osp.join(ROOT, 'docs', 'benchmarks', 'profile_cpu'))
    args = parser.parse_args(argv)
    model = build(args.options, args.batch, args.gt_size, tempfile.mkdtemp())
    cfg = model.pgr_cfg
    first_tri = (cfg.phases.trilevel_start // cfg.upper_interval + 1) * cfg.upper_interval
    device = device_name()
    results = {'device': device, 'torch': torch.__version__, 'options': osp.relpath(args.options, ROOT),
               'batch': args.batch, 'gt_size': args.gt_size, 'iterations': {}}
    for label, iteration in (('first-order (warm-up)', 1), ('tri-level with hypergradient', first_tri)):
        operators, total_ms = top_operators(model, iteration, args.rows)
        results['iterations'][label] = {'iteration': iteration, 'profiled_ms': total_ms, 'top': operators}
    seconds, breakdown = evaluation_breakdown(model, first_tri)
    results['hypergradient_iteration'] = {'seconds': seconds, 'evaluations': breakdown}

    command = command_line(ROOT)
    lines = ['# Profile of a TriCo training step', '', f'`{command}` -- {device}, torch {torch.__version__}, '
             f'network and PGR options of `{results["options"]}`, batch {args.batch}, {args.gt_size} px HR patches.',
             '']
    for label, data in results['iterations'].items():
        lines += [f"## {label} (iteration {data['iteration']}), {data['profiled_ms']:.1f} ms of operator self time",
                  '', '| operator | calls | self ms | share |', '|---|---|---|---|']
        lines += [f"| `{o['operator']}` | {o['calls']} | {o['self_ms']:.2f} | {o['share']:.1%} |" for o in data['top']]
        lines.append('')
    hyper = results['hypergradient_iteration']
    lines += [f"## Objective evaluations in the tri-level iteration ({hyper['seconds']:.3f} s in all)", '',
              'Each row is one kind of gradient evaluation PGR makes (objective and the variables it is differentiated '
              'by; `hyper` alone needs no backward through the networks).', '',
              '| evaluation | calls | seconds |', '|---|---|---|']
    lines += [f"| `{k}` | {v['calls']} | {v['seconds']:.3f} |" for k, v in hyper['evaluations'].items()]
    write_report(args.out, results, '\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
