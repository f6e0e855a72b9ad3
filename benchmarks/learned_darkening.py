"""Does the upper level's learned darkening pay? The same recipe with the darkening learned and held fixed.

    python -m benchmarks.learned_darkening --pairs datasets/real_pairs/test --seeds 0 1 2 --iters 1500 \
        --out docs/benchmarks/learned_darkening_x4

Both methods run ``--options`` (default ``options/train/trico_light_x4_learned_darkening.yml``: stage 3 of
the shipped x4, its synthetic samples darkened in torch) from the same start, on the same images, with the
same seeds: ``learned`` lets the hypergradient move the darkening's parameters on the real upper pairs,
``fixed`` holds them at their starting values (``train.pgr.darkening.learn: false``); both learn the
loss weights. Runs are named ``<prefix>_<method>_s<seed>`` under ``experiments/`` and resumed, not
retrained, when their checkpoint exists. Reported on the real-pair test scenes: each method at ``--iters``
(equal iterations) and ``fixed`` also at its first saved checkpoint whose training time reaches
``learned``'s (equal wall-clock, time per iteration read from the logs). Writes ``summary.json`` (per
method and seed), ``summary.md`` and ``darkening.png`` (the learned parameters' trajectories).
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
from os import path as osp

import numpy as np

from benchmarks.common import ROOT, ScoreCache, command_line, file_sha1, write_report

METHODS = ('learned', 'fixed')
DEFAULT_OPTIONS = 'options/train/trico_light_x4_learned_darkening.yml'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--pairs', required=True, help='the real-pair test split (scripts/make_real_pairs.py)')
    parser.add_argument('--options', default=DEFAULT_OPTIONS)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=1500, help='iterations of each run (a multiple of 500)')
    parser.add_argument('--fixed-extra', type=int, default=500,
                        help="iterations the fixed runs train beyond --iters, for the equal wall-clock row")
    parser.add_argument('--prefix', default='ld', help='run names: <prefix>_<method>_s<seed>')
    parser.add_argument('--scale', type=int, default=4)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', required=True)
    return parser.parse_args(argv)


def run_name(args, method, seed):
    return f"{args.prefix}_{'learn' if method == 'learned' else method}_s{seed}"


def checkpoint(name, iteration):
    return osp.join(ROOT, 'experiments', name, 'models', f'net_g_{iteration}.pth')


def train(args, method, seed, iterations):
    """Train (or resume) one run to ``iterations`` with BasicSR's entry point."""
    name = run_name(args, method, seed)
    if osp.isfile(checkpoint(name, iterations)):
        return
    command = [sys.executable, osp.join(ROOT, 'trico_basicsr', 'train.py'), '-opt', args.options, '--auto_resume',
               '--force_yml', f'manual_seed={seed}', f'name={name}', f'train:total_iter={iterations}']
    if method == 'fixed':
        command.append('train:pgr:darkening:learn=false')
    env = {**os.environ, 'OMP_NUM_THREADS': str(args.threads)}
    print('training', name, flush=True)
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def training_log(name):
    logs = sorted(glob.glob(osp.join(ROOT, 'experiments', name, f'train_{name}_*.log')))
    if not logs:
        raise SystemExit(f'error: no training log of {name} under experiments/{name}')
    return logs


def log_records(name, logs=None):
    """``[(iteration, seconds per iteration, {log key: value})]`` from every log of the run, in order."""
    records = []
    for log in logs or training_log(name):
        for line in open(log, errors='replace'):
            found = re.search(r'iter:\s*([\d,]+),.*?time \(data\): ([0-9.]+)', line)
            if found:
                values = {k: float(v) for k, v in re.findall(r'(lambda_darkening_\w+): ([-+0-9.eE]+)', line)}
                records.append((int(found.group(1).replace(',', '')), float(found.group(2)), values))
    return records


def seconds_per_iteration(name, up_to):
    times = [t for it, t, _ in log_records(name) if it <= up_to]
    return float(np.mean(times)) if times else float('nan')


def equal_wall_clock_iteration(saved, iters, fixed_seconds_per_iteration, learned_seconds):
    """The first saved iteration (>= ``iters``) at which the fixed run has trained as long as the learned
    one did for ``iters`` iterations; the last saved one if none has."""
    later = [it for it in sorted(saved) if it >= iters]
    return next((it for it in later if it * fixed_seconds_per_iteration >= learned_seconds), later[-1])


def score(args, path, cache):
    """Mean real-pair test scores (PSNR, SSIM, gain-matched PSNR, brightness error, ΔE) and exposed-input
    scores, cached by the checkpoint's and the test split's content."""
    from benchmarks import real_photos

    def compute():
        table = {'model': real_photos.methods([f'model={path}@model,model'], args.scale)['model']}
        options = argparse.Namespace(pairs=args.pairs, scale=args.scale, night=None)
        return real_photos.evaluate(options, table)['model']

    pairs = sorted(glob.glob(osp.join(args.pairs, '**', '*.png'), recursive=True))
    return cache.get(f'{file_sha1(path)}:{file_sha1(*pairs)}:x{args.scale}', compute)


def mean_std(values):
    return {'mean': float(np.mean(values)), 'std': float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}


def plot_trajectories(args, path):
    """The learned darkening parameters against the iteration, one line per seed."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    series = {seed: log_records(run_name(args, 'learned', seed)) for seed in args.seeds}
    names = sorted({k for records in series.values() for _, _, v in records for k in v})
    if not names:
        return
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3), squeeze=False)
    for ax, key in zip(axes[0], names):
        for seed, records in series.items():
            points = [(it, v[key]) for it, _, v in records if key in v]
            ax.plot(*zip(*points), label=f'seed {seed}')
        ax.set_title(key.replace('lambda_darkening_', ''), fontsize=9)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def markdown(summary, args):
    rows = ['| method | iterations | s / it | PSNR | SSIM | gain-matched PSNR | brightness err % | exposed: change % |',
            '|---|---|---|---|---|---|---|---|']
    for key, entry in summary['aggregate'].items():
        rows.append(f"| {key} | {entry['iterations']} | {entry['seconds_per_iteration']['mean']:.2f} | "
                    + ' | '.join(f"{entry[m]['mean']:.2f} ± {entry[m]['std']:.2f}"
                                 for m in ('psnr', 'ssim', 'psnr_gain_matched', 'brightness_error_pct',
                                           'exposed_change_pct')) + ' |')
    gap = summary['learned_minus_fixed']
    return '\n'.join([
        '# Learned against fixed darkening (x4, real-pair test scenes)', '', f"`{summary['command']}`", '',
        f"Seeds {', '.join(map(str, args.seeds))}; mean ± std over seeds.", '', *rows, '',
        'Learned minus fixed, PSNR (dB), per seed: '
        + ', '.join(f'{d:+.2f}' for d in gap['equal_iterations']) + ' at equal iterations; '
        + ', '.join(f'{d:+.2f}' for d in gap['equal_wall_clock']) + ' at equal wall-clock.', '',
        'Final learned parameters (per seed): ' + '; '.join(
            ', '.join(f"{k.replace('lambda_darkening_', '')} {v:.2f}" for k, v in final.items())
            for final in summary['final_parameters'].values()), '',
        '![trajectories](darkening.png)', ''])


def main(argv=None):
    args = parse_args(argv)
    if args.iters % 500 or args.fixed_extra % 500:
        raise SystemExit('error: --iters and --fixed-extra must be multiples of 500 (the checkpoint interval)')
    for seed in args.seeds:
        train(args, 'learned', seed, args.iters)
        train(args, 'fixed', seed, args.iters + args.fixed_extra)
    per_run, gaps = [], {'equal_iterations': [], 'equal_wall_clock': []}
    cache = ScoreCache(osp.join(ROOT, 'experiments', f'{args.prefix}_scores.json'))
    for seed in args.seeds:
        learned_name, fixed_name = run_name(args, 'learned', seed), run_name(args, 'fixed', seed)
        learned_time = seconds_per_iteration(learned_name, args.iters) * args.iters
        fixed_rate = seconds_per_iteration(fixed_name, args.iters + args.fixed_extra)
        saved = sorted(int(re.search(r'net_g_(\d+)', p).group(1))
                       for p in glob.glob(osp.join(ROOT, 'experiments', fixed_name, 'models', 'net_g_*.pth'))
                       if re.search(r'net_g_(\d+)\.pth$', p))
        equal_time = equal_wall_clock_iteration(saved, args.iters, fixed_rate, learned_time)
        scored = {}
        for key, name, iteration in (('learned', learned_name, args.iters), ('fixed', fixed_name, args.iters),
                                     ('fixed, equal wall-clock', fixed_name, equal_time)):
            result = score(args, checkpoint(name, iteration), cache)
            scored[key] = result['pairs']['psnr']
            per_run.append({'method': key, 'seed': seed, 'iterations': iteration, 'checkpoint':
                            osp.relpath(checkpoint(name, iteration), ROOT),
                            'seconds_per_iteration': seconds_per_iteration(name, iteration), **result})
        gaps['equal_iterations'].append(scored['learned'] - scored['fixed'])
        gaps['equal_wall_clock'].append(scored['learned'] - scored['fixed, equal wall-clock'])
    aggregate = {}
    for key in ('learned', 'fixed', 'fixed, equal wall-clock'):
        runs = [r for r in per_run if r['method'] == key]
        aggregate[key] = {'iterations': '/'.join(sorted({str(r['iterations']) for r in runs})),
                          'seconds_per_iteration': mean_std([r['seconds_per_iteration'] for r in runs]),
                          **{m: mean_std([r['pairs'][m] for r in runs])
                             for m in ('psnr', 'ssim', 'psnr_gain_matched', 'brightness_error_pct')},
                          'exposed_change_pct': mean_std([r['exposed']['brightness_change_pct'] for r in runs])}
    final = {}
    for seed in args.seeds:
        records = [v for it, _, v in log_records(run_name(args, 'learned', seed)) if v and it <= args.iters]
        final[str(seed)] = records[-1] if records else {}
    summary = {'command': command_line(), 'runs': per_run, 'aggregate': aggregate, 'learned_minus_fixed': gaps,
               'final_parameters': final}
    os.makedirs(args.out, exist_ok=True)
    plot_trajectories(args, osp.join(args.out, 'darkening.png'))
    write_report(osp.join(args.out, 'summary'), summary, markdown(summary, args))
    print(json.dumps(gaps))


if __name__ == '__main__':
    main()
