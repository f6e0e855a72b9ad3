"""Does the upper level's learned darkening pay? Against fixed darkenings picked on the same real pairs.

    python -m benchmarks.learned_darkening --pairs datasets/real_pairs/test --upper-pairs datasets/real_pairs/upper \
        --seeds 0 1 2 --iters 1000 --jobs 2 --out docs/benchmarks/learned_darkening_x4

Every method trains ``--options`` (default ``options/train/trico_light_x4_learned_darkening.yml``: stage 3
of the shipped x4, its synthetic samples darkened in torch) from the same start, on the same images, with
the same seeds:

- ``learned``: the hypergradient on the real upper pairs moves the darkening's parameters φ (and the loss
  weights);
- ``fixed``: φ held at the options' starting values (the centre of the shipped ``camera_mix`` ranges), the
  loss weights learned as in ``learned``;
- ``grid NAME=VALUE[,NAME=VALUE]`` (``--grid``): φ held at a hand-set point, otherwise as ``fixed``. The grid
  and ``fixed`` are trained with the first seed and scored on the upper pairs; the best of them
  (``best fixed``) is trained with every seed: the fixed method picked on the same data the upper level
  learns from;
- ``weights xS`` (``--weights``): hand-set loss weights, every non-pixel term at S times its starting
  weight and held, plain joint training (no upper level), φ at the start; trained with the first seed and
  picked on the upper pairs together with the grid;
- ``pixel``: pixel loss only (``weights x0``), the sceptic's baseline. A plain iteration is cheaper, so
  ``pixel`` and a picked hand-set weighting train ``--plain-extra`` iterations further for the equal
  wall-clock row.

Runs are named ``<prefix>_<method>_s<seed>`` under ``experiments/`` and resumed, not retrained, when their
checkpoint exists. Each is scored as trained (the raw network, ``exposure: model``) on the real-pair test
scenes at ``--iters`` (equal iterations) and at its first saved checkpoint whose training time reaches
``learned``'s (equal wall-clock; time per iteration read from the logs). Writes ``summary.json`` (per
method and seed, and a ledger: how much φ moves the upper and test scores at all, whether the upper pairs
rank the grid as the test scenes do, and each learned parameter's hypergradient signal-to-noise ratio),
``summary.md`` and ``darkening.png`` (the learned parameters' trajectories).
"""
import argparse
import functools
import glob
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from os import path as osp

import numpy as np
import yaml

from benchmarks.common import ROOT, ScoreCache, command_line, file_sha1, write_report

DEFAULT_OPTIONS = 'options/train/trico_light_x4_learned_darkening.yml'
DEFAULT_GRID = ('log_exposure=-3.6', 'log_exposure=-2.2', 'log_exposure=-1.5')
DEFAULT_WEIGHTS = (0.3, 1.0, 3.0)
WEIGHTS = 'weights x'  # method names of the hand-set weightings: 'weights x0.3'
CHECKPOINT_INTERVAL = 500
METRICS = ('psnr', 'ssim', 'psnr_gain_matched', 'brightness_error_pct')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--pairs', required=True, help='the real-pair test split (scripts/make_real_pairs.py)')
    parser.add_argument('--upper-pairs', required=True,
                        help="the real pairs the upper level learns from (the options' upper_data): "
                             'they pick the grid point')
    parser.add_argument('--options', default=DEFAULT_OPTIONS)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=1000, help='iterations of each run (a multiple of 500)')
    parser.add_argument('--plain-extra', type=int, default=500,
                        help='iterations the plain runs (pixel loss, a picked hand-set weighting) train beyond '
                             '--iters, for the equal wall-clock row')
    parser.add_argument('--grid', nargs='*', default=list(DEFAULT_GRID), metavar='NAME=VALUE[,NAME=VALUE]',
                        help='hand-set darkening points (differentiable_darkening.PARAMETERS), beside the start')
    parser.add_argument('--weights', nargs='*', type=float, default=list(DEFAULT_WEIGHTS), metavar='S',
                        help='hand-set loss weights: every non-pixel term at S times its starting weight, held '
                             '(no upper level). Default: 0.3 1 3')
    parser.add_argument('--test-hr', nargs='*', default=[], metavar='FOLDER',
                        help='HR test sets darkened by --families (never trained on): a second report beside the pairs')
    parser.add_argument('--families', nargs='+', default=['heldout_aces_lanczos', 'heldout_banding_jpeg'],
                        help='darkening families for --test-hr (held out of every training mix)')
    parser.add_argument('--prefix', default='ld', help='run names: <prefix>_<method>_s<seed>')
    parser.add_argument('--scale', type=int, default=4)
    parser.add_argument('--threads', type=int, default=1, help='threads of each training run')
    parser.add_argument('--jobs', type=int, default=1, help='training runs at a time')
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    if args.iters % CHECKPOINT_INTERVAL or args.plain_extra % CHECKPOINT_INTERVAL:
        parser.error(f'--iters and --plain-extra must be multiples of {CHECKPOINT_INTERVAL} (the checkpoint interval)')
    if any(not scale > 0 for scale in args.weights):
        parser.error(f'--weights: every scale must be positive (0 is the pixel baseline, run anyway), '
                     f'got {args.weights}')
    try:
        args.grid = [parse_grid_point(point) for point in args.grid]
    except ValueError as error:
        parser.error(str(error))
    return args


def parse_grid_point(text):
    """``'log_exposure=-2.2,log_blur=-1'`` -> ``{'log_exposure': -2.2, 'log_blur': -1.0}``.

    Raises:
        ValueError: malformed, or a name not in ``differentiable_darkening.PARAMETERS``; the message names
            ``--grid``.
    """
    from trico_basicsr.data.differentiable_darkening import check_parameters
    point = {}
    for item in text.split(','):
        name, _, value = item.partition('=')
        try:
            point[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f'--grid {text!r}: expected NAME=VALUE[,NAME=VALUE]') from None
    check_parameters(point, '--grid')
    return point


# ------------------------------------------------------------------------------------------------ runs
def method_key(point):
    """The method name of a grid point: ``grid log_exposure=-2.2``."""
    return 'grid ' + ','.join(f'{k}={v:g}' for k, v in point.items())


def weights_key(scale):
    """The method name of a hand-set loss weighting: ``weights x0.3``."""
    return f'{WEIGHTS}{scale:g}'


def is_plain(method):
    """Methods trained without an upper level (cheaper per iteration): pixel loss only and hand-set weights."""
    return method == 'pixel' or method.startswith(WEIGHTS)


def darkening_settings(args):
    """The fixed darkenings: the start and the ``--grid`` points (loss weights learned)."""
    return ['fixed'] + [method_key(p) for p in args.grid]


def weightings(args):
    """The hand-set loss weightings of ``--weights`` (plain training, φ at the start)."""
    return [weights_key(s) for s in args.weights]


def fixed_methods(args):
    """The fixed methods the upper pairs pick from: the start, the darkening grid, the loss-weight grid."""
    return darkening_settings(args) + weightings(args)


def run_name(args, method, seed):
    """``<prefix>_learn_s0``, ``<prefix>_fixed_s0``, ``<prefix>_pixel_s0``, ``<prefix>_grid_log_exposure-2.2_s0``,
    ``<prefix>_weights0.3_s0``."""
    if method.startswith(WEIGHTS):
        return f'{args.prefix}_weights{method[len(WEIGHTS):]}_s{seed}'
    if method.startswith('grid '):
        return f"{args.prefix}_grid_{method[5:].replace('=', '').replace(',', '_')}_s{seed}"
    return f"{args.prefix}_{'learn' if method == 'learned' else method}_s{seed}"


def checkpoint(name, iteration):
    return osp.join(ROOT, 'experiments', name, 'models', f'net_g_{iteration}.pth')


def iterations_of(args, method):
    return args.iters + (args.plain_extra if is_plain(method) else 0)


def plain_scale(method):
    """The non-pixel terms' weight factor of a plain method: 0 for ``pixel``, S for ``weights xS``."""
    return 0.0 if method == 'pixel' else float(method[len(WEIGHTS):])


def plain_options_path(args, method):
    """``experiments/<prefix>_pixel.yml``, ``experiments/<prefix>_weights0.3.yml``."""
    return osp.join('experiments', f"{run_name(args, method, 0)[:-len('_s0')]}.yml")


def write_plain_options(args, method):
    """The options file of a plain method: ``--options`` with every non-pixel term scaled by
    ``plain_scale(method)`` (0 drops it), no upper level and φ held (written under ``experiments/``; resolved,
    no ``_base_``)."""
    from benchmarks.quality import fixed_terms
    from trico_basicsr.utils.options import read_options
    opt = fixed_terms(read_options(osp.join(ROOT, args.options)), plain_scale(method))
    pgr = opt['train']['pgr']
    pgr.update(train_levels=['sr', 'illum'], phases={'cooperative_start': None, 'trilevel_start': None})
    pgr.setdefault('darkening', {})['learn'] = False
    path = osp.join(ROOT, plain_options_path(args, method))
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        yaml.safe_dump(opt, f, sort_keys=False)


def overrides(method):
    """``--force_yml`` entries that turn the options into ``method``."""
    if method == 'learned' or is_plain(method):  # plain methods hold φ in their own options file
        return []
    held = ['train:pgr:darkening:learn=false']
    if method.startswith('grid '):
        held += [f'train:pgr:darkening:parameters:{kv}' for kv in method[5:].split(',')]
    return held


def train(args, method, seed, iterations=None):
    """Train (or resume) one run to ``iterations`` (default: its method's) with the plugin's entry point."""
    name, iterations = run_name(args, method, seed), iterations or iterations_of(args, method)
    if osp.isfile(checkpoint(name, iterations)):
        return
    options = osp.join(ROOT, plain_options_path(args, method) if is_plain(method) else args.options)
    command = [sys.executable, osp.join(ROOT, 'trico_basicsr', 'train.py'), '-opt', options, '--auto_resume',
               '--force_yml', f'manual_seed={seed}', f'name={name}', f'train:total_iter={iterations}',
               *overrides(method)]
    env = {**os.environ, 'OMP_NUM_THREADS': str(args.threads)}
    print('training', name, flush=True)
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode:
        raise SystemExit(f'error: training {name} failed:\n{result.stderr[-3000:]}')


def train_all(args, runs):
    """Train ``[(method, seed)]`` or ``[(method, seed, iterations)]``, ``--jobs`` at a time."""
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(lambda run: train(args, *run), runs))


# ------------------------------------------------------------------------------------------------ logs
def training_log(name):
    logs = sorted(glob.glob(osp.join(ROOT, 'experiments', name, f'train_{name}_*.log')))
    if not logs:
        raise SystemExit(f'error: no training log of {name} under experiments/{name}')
    return logs


def log_records(name, logs=None):
    """``[(iteration, seconds per iteration, {log key: value})]`` from every log of the run, in order; the
    values are the darkening parameters (``lambda_darkening_*``) and their hypergradient signal-to-noise
    ratios (``hyper_snr_darkening_*``)."""
    records = []
    for log in logs or training_log(name):
        for line in open(log, errors='replace'):
            found = re.search(r'iter:\s*([\d,]+),.*?time \(data\): ([0-9.]+)', line)
            if found:
                values = {k: float(v) for k, v in
                          re.findall(r'((?:lambda|hyper_snr)_darkening_\w+): ([-+0-9.eE]+)', line)}
                records.append((int(found.group(1).replace(',', '')), float(found.group(2)), values))
    return records


def seconds_per_iteration(name, up_to):
    times = [t for it, t, _ in log_records(name) if it <= up_to]
    return float(np.mean(times)) if times else float('nan')


def saved_iterations(name):
    return sorted(int(m.group(1)) for p in glob.glob(osp.join(ROOT, 'experiments', name, 'models', 'net_g_*.pth'))
                  for m in [re.search(r'net_g_(\d+)\.pth$', p)] if m)


def equal_wall_clock_iteration(saved, iters, seconds_per_it, budget_seconds):
    """The first saved iteration (>= ``iters``) at which a run at ``seconds_per_it`` has trained
    ``budget_seconds``; the last saved one if none has."""
    later = [it for it in sorted(saved) if it >= iters]
    return next((it for it in later if it * seconds_per_it >= budget_seconds), later[-1])


# ------------------------------------------------------------------------------------------------ scores
def score(args, path, pairs, cache):
    """Mean real-pair scores of the checkpoint ``path`` as trained (PSNR, SSIM, gain-matched PSNR,
    brightness error, ΔE; and exposed-input scores where ``pairs`` has them), cached by content."""
    from benchmarks import real_photos

    def compute():
        table = {'model': real_photos.methods([f'model={path}@model,model'], args.scale)['model']}
        options = argparse.Namespace(pairs=pairs, scale=args.scale, night=None)
        return real_photos.evaluate(options, table)['model']

    return cache.get(f'{file_sha1(path)}:{folder_sha1(pairs)}:x{args.scale}', compute)


@functools.lru_cache(maxsize=None)
def folder_sha1(folder):
    """The content identity of a folder of pairs (every PNG below it), read once per process: each pair set
    is scored for a dozen checkpoints."""
    return file_sha1(*sorted(glob.glob(osp.join(folder, '**', '*.png'), recursive=True)))


def synthetic_sets(args):
    """``{'<family> / <set>': folder}`` of the ``--test-hr`` sets darkened by ``--families`` (made once,
    seed 0, under ``experiments/<prefix>_families``)."""
    if not args.test_hr:
        return {}
    from benchmarks.generalisation import synthesise
    options = argparse.Namespace(families=args.families, test_hr=args.test_hr, scale=args.scale, seed=0)
    made = synthesise(options, osp.join(ROOT, 'experiments', f'{args.prefix}_families'))
    return {f'{family} / {name}': folder for (family, name), folder in made.items()}


def synthetic_scores(args, path, sets, cache):
    """``{'<family> / <set>': PSNR}`` of the checkpoint on each synthetic set, and their mean as ``'mean'``."""
    scores = {key: score(args, path, folder, cache)['pairs']['psnr'] for key, folder in sets.items()}
    return {**scores, 'mean': float(np.mean(list(scores.values())))} if scores else {}


def mean_std(values):
    return {'mean': float(np.mean(values)), 'std': float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}


def pick_fixed(args, cache):
    """Score ``fixed``, every grid point and every hand-set weighting (first seed, ``--iters``) on the upper
    pairs; return the best method's name and ``{method: {'upper': psnr, 'test': psnr}}``."""
    seed, table = args.seeds[0], {}
    for method in fixed_methods(args):
        path = checkpoint(run_name(args, method, seed), args.iters)
        table[method] = {'upper': score(args, path, args.upper_pairs, cache)['pairs']['psnr'],
                         'test': score(args, path, args.pairs, cache)['pairs']['psnr']}
    return max(table, key=lambda m: table[m]['upper']), table


def final_values(args, prefix):
    """Per seed, the learned run's last logged ``<prefix>*`` values up to ``--iters``."""
    final = {}
    for seed in args.seeds:
        records = [{k: v for k, v in values.items() if k.startswith(prefix)}
                   for it, _, values in log_records(run_name(args, 'learned', seed)) if it <= args.iters]
        records = [r for r in records if r]
        final[str(seed)] = {k[len(prefix):]: v for k, v in (records[-1] if records else {}).items()}
    return final


def ledger(args, grid_table, best, learned_upper):
    """What limits the learned darkening: how far φ moves the scores at all, and whether the upper data
    ranks the settings as the test scenes do."""
    def spread(methods, on):
        values = [grid_table[m][on] for m in methods]
        return max(values) - min(values) if values else 0.0

    test = {m: e['test'] for m, e in grid_table.items()}
    return {
        'grid_seed': args.seeds[0], 'grid_scores': grid_table, 'picked_on_upper_data': best,
        'best_on_test': max(test, key=test.get),
        'test_range_over_fixed_settings': spread(grid_table, 'test'),
        'upper_range_over_fixed_settings': spread(grid_table, 'upper'),
        # what each kind of hyper-variable can move at all, held at hand-set values
        'test_range_over_darkening_settings': spread(darkening_settings(args), 'test'),
        'test_range_over_loss_weights': spread(weightings(args), 'test'),
        'learned_upper_psnr': learned_upper,
        'final_parameters': final_values(args, 'lambda_darkening_'),
        'final_hypergradient_snr': final_values(args, 'hyper_snr_darkening_'),
    }


def real_log_exposure(pairs, scale):
    """Percentiles 10, 50, 90 of the real pairs' own log exposure: ``ln(mean linear dark / mean linear
    target)`` per pair, both decoded with the sRGB curve (the darkening's ``log_exposure`` is in these units
    when its camera curve is sRGB): where φ's exposure would sit if it copied the real camera."""
    import cv2

    from trico_basicsr.data.coupled_degradation import srgb_to_linear
    from trico_basicsr.data.image_io import read_image
    ratios = []
    for target_path in sorted(glob.glob(osp.join(pairs, 'gt', '*.png'))):
        dark = read_image(osp.join(pairs, f'lq_x{scale}', osp.basename(target_path)))[..., :3]
        target = cv2.resize(read_image(target_path)[..., :3], dark.shape[1::-1], interpolation=cv2.INTER_AREA)
        ratios.append(np.log(srgb_to_linear(dark).mean() / srgb_to_linear(target).mean()))
    if not ratios:
        raise SystemExit(f'error: no pairs under {pairs}/gt')
    return dict(zip(('p10', 'median', 'p90'), map(float, np.percentile(ratios, [10, 50, 90]))))


# ------------------------------------------------------------------------------------------------ report
def plot_trajectories(args, path, start, real_exposure=None):
    """The learned darkening parameters against the iteration, one line per seed, the start dashed; on
    ``log_exposure`` the upper pairs' own exposure (median, band from percentile 10 to 90)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    series = {seed: log_records(run_name(args, 'learned', seed)) for seed in args.seeds}
    names = sorted({k for records in series.values() for _, _, v in records for k in v
                    if k.startswith('lambda_darkening_')})
    if not names:
        return
    fig, axes = plt.subplots(1, len(names), figsize=(3.0 * len(names), 2.8), squeeze=False)
    for ax, key in zip(axes[0], names):
        short = key[len('lambda_darkening_'):]
        for seed, records in series.items():
            points = [(it, v[key]) for it, _, v in records if key in v and it <= args.iters]
            if points:
                ax.plot(*zip(*points), label=f'seed {seed}')
        if short in start:
            ax.axhline(start[short], color='grey', linestyle='--', linewidth=0.8)
        if short == 'log_exposure' and real_exposure:
            ax.axhspan(real_exposure['p10'], real_exposure['p90'], color='orange', alpha=0.15)
            ax.axhline(real_exposure['median'], color='orange', linewidth=0.8, label='real pairs')
        ax.set_title(short, fontsize=9)
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
                                 for m in (*METRICS, 'exposed_change_pct')) + ' |')
    synthetic = [key for key, entry in summary['aggregate'].items() if 'synthetic' in entry]
    if synthetic:
        columns = list(summary['aggregate'][synthetic[0]]['synthetic'])
        rows += ['', 'Never-trained darkening families (PSNR, dB):', '',
                 '| method | ' + ' | '.join(columns) + ' |', '|---|' + '---|' * len(columns)]
        rows += [f'| {key} | ' + ' | '.join(f"{summary['aggregate'][key]['synthetic'][c]['mean']:.2f} ± "
                                            f"{summary['aggregate'][key]['synthetic'][c]['std']:.2f}" for c in columns)
                 + ' |' for key in synthetic]
    book = summary['ledger']
    grid_rows = ['| fixed setting | upper pairs PSNR | test PSNR |', '|---|---|---|'] + [
        f"| {m} | {e['upper']:.2f} | {e['test']:.2f} |" for m, e in book['grid_scores'].items()]
    gaps = summary['learned_minus']

    def per_seed(values):
        return ', '.join(f'{d:+.2f}' for d in values) + f' (mean {np.mean(values):+.2f})'

    return '\n'.join([
        f'# Learned against fixed darkening (x{args.scale}, real-pair test scenes)', '', f"`{summary['command']}`", '',
        f"Seeds {', '.join(map(str, args.seeds))}; mean ± std over seeds; every network as trained (its own "
        'exposure).', '', *rows, '',
        f"Learned minus best fixed ({book['picked_on_upper_data']}, picked on the upper pairs), PSNR (dB), "
        f"per seed: {per_seed(gaps['best_fixed_equal_iterations'])} at equal iterations; "
        f"{per_seed(gaps['best_fixed_equal_wall_clock'])} at equal wall-clock. Learned minus the start held fixed, "
        f"equal iterations: {per_seed(gaps['start_equal_iterations'])}. Learned minus pixel loss only at equal "
        f"wall-clock: {per_seed(gaps['pixel_equal_wall_clock'])}.", '',
        f"Fixed settings, seed {book['grid_seed']} (the pick's data and the report's):", '', *grid_rows, '',
        f"Over these settings the test PSNR moves by {book['test_range_over_fixed_settings']:.2f} dB (φ alone: "
        f"{book['test_range_over_darkening_settings']:.2f}, the hand-set loss weights alone: "
        f"{book['test_range_over_loss_weights']:.2f}) and the "
        f"upper-pair PSNR by {book['upper_range_over_fixed_settings']:.2f} dB; the upper pairs pick "
        f"{book['picked_on_upper_data']}, the test scenes favour {book['best_on_test']}. Learned, seed "
        f"{book['grid_seed']}, on the upper pairs: {book['learned_upper_psnr']:.2f} dB. The upper pairs' own log "
        'exposure (sRGB-decoded dark over target): median {median:.2f}, percentiles 10-90 {p10:.2f} to {p90:.2f} '
        "(the start: {start:.2f}).".format(start=summary['start_parameters'].get('log_exposure', float('nan')),
                                         **book['upper_pairs_log_exposure']), '',
        'Final learned parameters and their hypergradient SNR over the last window (per seed): ' + '; '.join(
            ', '.join(f"{k} {v:.2f} (SNR {book['final_hypergradient_snr'][seed].get(k, float('nan')):.1f})"
                      for k, v in final.items()) for seed, final in book['final_parameters'].items()), '',
        '![trajectories](darkening.png)', ''])


def aggregate(per_run):
    out = {}
    for key in dict.fromkeys(r['method'] for r in per_run):
        runs = [r for r in per_run if r['method'] == key]
        out[key] = {'iterations': '/'.join(sorted({str(r['iterations']) for r in runs})),
                    'seconds_per_iteration': mean_std([r['seconds_per_iteration'] for r in runs]),
                    **{m: mean_std([r['pairs'][m] for r in runs]) for m in METRICS},
                    'exposed_change_pct': mean_std([r['exposed']['brightness_change_pct'] for r in runs])}
        if all(r['synthetic'] for r in runs):
            out[key]['synthetic'] = {k: mean_std([r['synthetic'][k] for r in runs]) for k in runs[0]['synthetic']}
    return out


def main(argv=None):
    args = parse_args(argv)
    first = args.seeds[0]
    for method in ['pixel'] + weightings(args):
        write_plain_options(args, method)
    # the grids first, so that the pick (on the upper pairs) can send its other seeds to train beside the baseline's;
    # the hand-set weightings only to --iters, where the pick is made (the pick trains on for its wall-clock row)
    train_all(args, [(m, s) for s in args.seeds for m in ('learned', 'fixed')]
              + [(m, first, args.iters) for m in fixed_methods(args)[1:]] + [('pixel', first)])
    cache = ScoreCache(osp.join(ROOT, 'experiments', f'{args.prefix}_scores.json'))
    best, grid_table = pick_fixed(args, cache)
    sets = synthetic_sets(args)
    train_all(args, [(best, s) for s in args.seeds[int(not is_plain(best)):]] + [('pixel', s) for s in args.seeds[1:]])

    per_run, gaps = [], {'best_fixed_equal_iterations': [], 'best_fixed_equal_wall_clock': [],
                         'start_equal_iterations': [], 'pixel_equal_wall_clock': []}
    compared = [('learned', 'learned'), (f'best fixed: {best}', best)]
    if best != 'fixed':  # the start is trained with every seed anyway: show it beside the pick
        compared.append(('fixed at the start', 'fixed'))
    compared.append(('pixel loss only', 'pixel'))
    for seed in args.seeds:
        budget = seconds_per_iteration(run_name(args, 'learned', seed), args.iters) * args.iters
        scored = {}
        for label, method in compared:
            name = run_name(args, method, seed)
            rate = seconds_per_iteration(name, iterations_of(args, method))
            equal_time = equal_wall_clock_iteration(saved_iterations(name), args.iters, rate, budget)
            # a method as dear as learned reaches learned's wall-clock at the same iteration: one row for both
            points = [(label, args.iters)] + ([(f'{label}, equal wall-clock', equal_time)]
                                              if method != 'learned' and equal_time != args.iters else [])
            for key, iteration in points:
                result = {**score(args, checkpoint(name, iteration), args.pairs, cache),
                          'synthetic': synthetic_scores(args, checkpoint(name, iteration), sets, cache)}
                if iteration == args.iters:
                    scored[f'eq_iter:{method}'] = result['pairs']['psnr']
                if iteration == equal_time:
                    scored[f'eq_time:{method}'] = result['pairs']['psnr']
                per_run.append({'method': key, 'seed': seed, 'iterations': iteration,
                                'checkpoint': osp.relpath(checkpoint(name, iteration), ROOT),
                                'seconds_per_iteration': rate, **result})
        learned = scored['eq_iter:learned']
        gaps['best_fixed_equal_iterations'].append(learned - scored[f'eq_iter:{best}'])
        gaps['best_fixed_equal_wall_clock'].append(learned - scored[f'eq_time:{best}'])
        gaps['start_equal_iterations'].append(learned - scored['eq_iter:fixed'])
        gaps['pixel_equal_wall_clock'].append(learned - scored['eq_time:pixel'])
    learned_upper = score(args, checkpoint(run_name(args, 'learned', first), args.iters), args.upper_pairs,
                          cache)['pairs']['psnr']
    from trico_basicsr.utils.options import read_options
    start = read_options(osp.join(ROOT, args.options))['train']['pgr']['darkening']['parameters']
    book = ledger(args, grid_table, best, learned_upper)
    book['upper_pairs_log_exposure'] = real_log_exposure(args.upper_pairs, args.scale)
    summary = {'command': command_line(), 'runs': per_run, 'aggregate': aggregate(per_run),
               'learned_minus': gaps, 'ledger': book, 'start_parameters': start}
    os.makedirs(args.out, exist_ok=True)
    plot_trajectories(args, osp.join(args.out, 'darkening.png'), start, book['upper_pairs_log_exposure'])
    write_report(osp.join(args.out, 'summary'), summary, markdown(summary, args))
    print(json.dumps(gaps))


if __name__ == '__main__':
    main()
