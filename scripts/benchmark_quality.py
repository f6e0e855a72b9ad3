"""Equal-budget quality benchmark: five ways to restore ultra-dark low-resolution photos.

    python scripts/benchmark_quality.py --train-hr datasets/BSD100 --test-hr datasets/Set14 datasets/Set5 \
        --scale 4 --preset ultra_dark --iters 3000 --out docs/benchmarks/quality_x4

Methods: (a) bicubic + global auto-exposure; (b) LIME-style enhancement + bicubic; (c) learned cascade:
the illumination net trained alone, then the SR net trained alone on its outputs; (d) TriCoNet trained
jointly with the fixed hand-set loss weights; (e) TriCoNet with PGR (tri-level). (c), (d) and (e) get
the same iteration budget and seed ((c) splits it: a quarter for the illumination stage); (d) is also
trained for the wall-clock time that (e) took ("d_equal_time"). Test pairs are synthesised with
``make_coupled_pairs`` (same preset, seed). Writes ``results.json``, ``results.md`` (every metric, per
method and test set) and ``grid.png`` (input, each method, ground truth) under ``--out``; checkpoints,
option files and logs go to ``--work`` (default ``--out/work``, not meant to be committed).
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import time
import warnings
from os import path as osp

import numpy as np
import yaml

ROOT = osp.abspath(osp.join(osp.dirname(__file__), osp.pardir))
sys.path.insert(0, osp.join(ROOT, 'scripts'))

METRICS = {  # name: (BasicSR metric type, full reference, higher is better)
    'PSNR': ('calculate_psnr', True, True), 'SSIM': ('calculate_ssim', True, True),
    'LPIPS': ('calculate_lpips', True, False), 'RMSE': ('calculate_rmse', True, False),
    'DeltaE': ('calculate_delta_e', True, False), 'LOE': ('calculate_loe', True, False),
    'NIQE': ('calculate_niqe', False, False), 'PIQE': ('calculate_piqe', False, False),
}
METHODS = {  # key: (table row, grid label)
    'a_bicubic_ae': ('(a) bicubic + auto-exposure', '(a) bicubic+AE'),
    'b_lime_bicubic': ('(b) LIME-style + bicubic', '(b) LIME+bicubic'),
    'c_cascade': ('(c) cascade: illum alone, then SR alone', '(c) cascade'),
    'd_joint_fixed': ('(d) TriCoNet joint, fixed weights', '(d) fixed weights'),
    'd_equal_time': ('(d) same, trained for (e)\'s wall-clock', '(d) equal time'),
    'e_trico_pgr': ('(e) TriCoNet + PGR (tri-level)', '(e) TriCo PGR'),
}
TRAINED = ('c_cascade', 'd_joint_fixed', 'd_equal_time', 'e_trico_pgr')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--train-hr', required=True, help='folder of normal-light HR training images')
    parser.add_argument('--test-hr', nargs='+', required=True, help='folders of HR test images (one test set each)')
    parser.add_argument('--scale', type=int, choices=(2, 4), default=4)
    parser.add_argument('--preset', default='ultra_dark')
    parser.add_argument('--iters', type=int, default=3000, help='training iterations of each learned method')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True)
    parser.add_argument('--work', help='checkpoints, options and logs (default: OUT/work)')
    parser.add_argument('--options', default=osp.join(ROOT, 'options', 'trico_demo_x4.yml'),
                        help='option file whose network and PGR settings the learned methods share')
    parser.add_argument('--skip-equal-time', action='store_true', help='do not train d_equal_time')
    parser.add_argument('--grid-images', type=int, default=3, help='test images shown in grid.png')
    parser.add_argument('--skip-training', action='store_true',
                        help='evaluate the checkpoints already in --work (training times from OUT/results.json)')
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------------------------ options
def base_options(args, work):
    from trico_basicsr.utils.options import read_options
    opt = read_options(args.options)
    opt['scale'] = args.scale
    opt['network_g']['upscale'] = args.scale
    opt['manual_seed'] = args.seed
    train = opt['datasets']['train']
    train.update(dataroot_gt=osp.abspath(args.train_hr), preset=args.preset, name='train_hr',
                 upper_split={'fraction': 0.2, 'seed': args.seed})
    train.pop('meta_info_file', None)
    first_test = osp.join(work, 'pairs', test_name(args.test_hr[0]))
    opt['datasets']['val'] = {'name': test_name(args.test_hr[0]), 'type': 'CoupledPairedDataset',
                              'dataroot_gt': osp.join(first_test, 'gt'),
                              'dataroot_lq': osp.join(first_test, f'lq_x{args.scale}')}
    opt['train']['total_iter'] = args.iters
    opt['train']['scheduler'] = {'type': 'CosineAnnealingRestartLR', 'periods': [args.iters], 'eta_min': 1e-5}
    opt['val'] = {'val_freq': 10**9, 'save_img': False,  # validated once, after training
                  'metrics': {'psnr': {'type': 'calculate_psnr', 'crop_border': args.scale}}}
    opt['logger'].update(print_freq=100, save_checkpoint_freq=10**9, use_tb_logger=False)
    return opt


def method_options(base, method, iters, work):
    """The options of one training run (cascade stages are 'c_cascade_illum' and 'c_cascade')."""
    opt = copy.deepcopy(base)
    opt['name'] = f'bench_{method}'
    pgr = opt['train']['pgr']
    never = {'cooperative_start': None, 'trilevel_start': None}
    if method == 'c_cascade_illum':
        pgr.update(train_levels=['illum'], phases=never)
        pgr['illum_terms'] = {k: v for k, v in pgr['illum_terms'].items() if v.get('type') != 'LowerObjective'}
        opt['train']['total_iter'] = iters // 4
        opt['train']['scheduler']['periods'] = [iters // 4]
    elif method == 'c_cascade':
        pgr.update(train_levels=['sr'], phases=never)
        opt['path']['pretrain_network_g'] = osp.join(work, 'experiments', 'bench_c_cascade_illum', 'models',
                                                     'net_g_latest.pth')
        opt['path']['param_key_g'] = 'params_ema'
        opt['train']['total_iter'] = iters - iters // 4
        opt['train']['scheduler']['periods'] = [iters - iters // 4]
    elif method in ('d_joint_fixed', 'd_equal_time'):
        pgr.update(train_levels=['sr', 'illum'], phases=never)
        opt['train']['total_iter'] = iters
        opt['train']['scheduler']['periods'] = [iters]
    elif method == 'e_trico_pgr':
        pgr['phases'] = {'cooperative_start': iters // 10, 'trilevel_start': iters // 5}
    else:
        raise ValueError(method)
    if method != 'e_trico_pgr':  # only PGR needs held-out images: the others train on all of them
        opt['datasets']['train'].pop('upper_split', None)
    return opt


def test_name(folder):
    return osp.basename(osp.normpath(folder))


# ------------------------------------------------------------------------------------------------ training
def train(opt, work):
    """Train with the plugin's entry point (experiments under ``work``); returns (checkpoint, seconds)."""
    options_file = osp.join(work, 'options', f"{opt['name']}.yml")
    os.makedirs(osp.dirname(options_file), exist_ok=True)
    with open(options_file, 'w') as f:
        yaml.safe_dump(opt, f, sort_keys=False)
    code = ('import sys; from trico_basicsr.train import main; '
            f'sys.argv = ["train.py", "-opt", {options_file!r}]; main({work!r})')
    log = osp.join(work, 'logs', f"{opt['name']}.log")
    os.makedirs(osp.dirname(log), exist_ok=True)
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.run([sys.executable, '-c', code], stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    seconds = time.time() - start
    if proc.returncode != 0:
        raise RuntimeError(f"training {opt['name']} failed; see {log}")
    return osp.join(work, 'experiments', opt['name'], 'models', 'net_g_latest.pth'), seconds


# ------------------------------------------------------------------------------------------------ evaluation
def to_bgr_uint8(img):
    return np.ascontiguousarray(np.clip(np.rint(img[..., ::-1] * 255), 0, 255).astype(np.uint8))


def evaluate(restore, pairs_dir, scale, grid_keys, grid):
    """Mean of every metric over a pair folder; ``restore`` maps an LQ image to an HR image."""
    from basicsr.metrics import calculate_metric

    from trico_basicsr.data.image_io import read_image
    names = sorted(os.listdir(osp.join(pairs_dir, 'gt')))
    sums = {name: [] for name in METRICS}
    for file_name in names:
        gt = read_image(osp.join(pairs_dir, 'gt', file_name))
        lq = read_image(osp.join(pairs_dir, f'lq_x{scale}', file_name))
        out = restore(lq)
        data = {'img': to_bgr_uint8(out), 'img2': to_bgr_uint8(gt)}
        for metric, (metric_type, full_reference, _) in METRICS.items():
            args = data if full_reference else {'img': data['img']}
            sums[metric].append(calculate_metric(args, {'type': metric_type, 'crop_border': scale}))
        key = osp.splitext(file_name)[0]
        if key in grid_keys:
            grid.setdefault(key, {'input': lq, 'gt': gt})
            grid[key]['out'] = grid[key].get('out', []) + [out]
    return {metric: float(np.mean(values)) for metric, values in sums.items()}


def learned_restorer(checkpoint):
    from trico_basicsr.utils.inference import TriCoEnhancer
    return TriCoEnhancer(checkpoint, device='cpu').enhance


def save_grid(grid, labels, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = list(grid.values())
    cols = 2 + len(labels)
    fig, axes = plt.subplots(len(rows), cols, figsize=(2.2 * cols, 2.2 * len(rows) + 0.4), squeeze=False)
    for r, row in enumerate(rows):
        factor = row['gt'].shape[0] // row['input'].shape[0]
        panels = [('dark input (nearest)', row['input'].repeat(factor, axis=0).repeat(factor, axis=1))]
        panels += list(zip(labels, row['out'])) + [('ground truth', row['gt'])]
        for c, (label, img) in enumerate(panels):
            axes[r][c].imshow(np.clip(img, 0, 1))
            axes[r][c].set_xticks([])
            axes[r][c].set_yticks([])
            if r == 0:
                axes[r][c].set_title(label, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def markdown(results, args):
    lines = [f'# Quality benchmark: x{args.scale}, preset `{args.preset}`, {args.iters} iterations, '
             f'seed {args.seed}', '',
             f'Trained on `{test_name(args.train_hr)}`; command: `{" ".join(results["command"])}`. '
             'Times are wall-clock seconds of each training run on a 2-core CPU (including start-up and one '
             'validation); (c) is its two stages together. RMSE in 8-bit levels, LOE in % of pixel pairs.', '']
    if results.get('reevaluated'):
        lines += [f"Checkpoints re-evaluated with this code (`--skip-training`, {results['reevaluated']}); "
                  'training iterations and times are those of the run above.', '']
    if results.get('pgr'):
        pgr = results['pgr']
        lines += [f"PGR settings of (e) (from `{pgr['options']}`): T_M = {pgr['middle_interval']}, "
                  f"T_U = {pgr['upper_interval']}, phases {pgr['phases']}, HVP `{pgr['hvp']}`.", '']
    for dataset, per_method in results['test'].items():
        lines += [f'## {dataset}', '',
                  '| method | ' + ' | '.join(f"{m} {'↑' if METRICS[m][2] else '↓'}" for m in METRICS) +
                  ' | train iters | train s |',
                  '|---|' + '---|' * (len(METRICS) + 2)]
        for method, scores in per_method.items():
            cells = ['n/a' if np.isnan(scores[m]) else f'{scores[m]:.4f}' if m in ('SSIM', 'LPIPS')
                     else f'{scores[m]:.2f}'
                     for m in METRICS]
            seconds, iters = results['train_seconds'].get(method), results['iterations'].get(method)
            lines.append(f'| {METHODS[method][0]} | ' + ' | '.join(cells) +
                         f" | {'' if iters is None else iters} | {'' if seconds is None else round(seconds)} |")
        lines.append('')
    if any(np.isnan(s['LPIPS']) for per in results['test'].values() for s in per.values()):
        lines += ['LPIPS is n/a: its AlexNet backbone weights are not available offline here '
                  '(see `trico_basicsr/metrics/lpips_metric.py`).', '']
    if results.get('final_weights'):
        lines += ['Loss-term weights learned by PGR (e), mean 1 per level: ' + ', '.join(
            f'{k} {v:.3f}' for k, v in results['final_weights'].items()), '']
    return '\n'.join(lines)


def train_all(args, base, work):
    """Train (c), (d), (e) and, unless skipped, (d) for (e)'s wall-clock; returns checkpoints and seconds."""
    checkpoints, seconds = {}, {}
    iterations = {'c_cascade': args.iters, 'd_joint_fixed': args.iters, 'e_trico_pgr': args.iters}
    for method in ('c_cascade_illum', 'c_cascade', 'd_joint_fixed', 'e_trico_pgr'):
        print(f'training {method} ...', flush=True)
        checkpoints[method], seconds[method] = train(method_options(base, method, args.iters, work), work)
    seconds['c_cascade'] += seconds.pop('c_cascade_illum')
    checkpoints.pop('c_cascade_illum')
    if not args.skip_equal_time:
        equal = max(1, round(args.iters * seconds['e_trico_pgr'] / seconds['d_joint_fixed']))
        print(f'training d_equal_time ({equal} iterations) ...', flush=True)
        checkpoints['d_equal_time'], seconds['d_equal_time'] = train(
            method_options(base, 'd_equal_time', equal, work), work)
        iterations['d_equal_time'] = equal
    return checkpoints, seconds, iterations


def main(argv=None):
    args = parse_args(argv)
    import make_coupled_pairs

    import trico_basicsr  # noqa: F401
    from trico_basicsr.baselines import bicubic_auto_exposure, lime_bicubic
    work = osp.abspath(args.work or osp.join(args.out, 'work'))
    os.makedirs(args.out, exist_ok=True)
    pairs = {}
    for folder in args.test_hr:
        pairs[test_name(folder)] = osp.join(work, 'pairs', test_name(folder))
        make_coupled_pairs.make_pairs(folder, pairs[test_name(folder)], args.scale, args.preset, args.seed,
                                      overwrite=True, progress=False)
    base = base_options(args, work)
    command = [osp.relpath(sys.argv[0], ROOT)] + sys.argv[1:]
    if args.skip_training:
        with open(osp.join(args.out, 'results.json')) as f:
            previous = json.load(f)
        seconds, iterations, command = previous['train_seconds'], previous['iterations'], previous['command']
        pgr = previous.get('pgr') or pgr_settings(args, base)
        checkpoints = {m: osp.join(work, 'experiments', f'bench_{m}', 'models', 'net_g_latest.pth') for m in TRAINED}
        checkpoints = {m: path for m, path in checkpoints.items() if osp.isfile(path)}
    else:
        checkpoints, seconds, iterations = train_all(args, base, work)
        pgr = pgr_settings(args, base)

    restorers = {'a_bicubic_ae': lambda lq: bicubic_auto_exposure(lq, args.scale),
                 'b_lime_bicubic': lambda lq: lime_bicubic(lq, args.scale)}
    for method in TRAINED:
        if method in checkpoints:
            restorers[method] = learned_restorer(checkpoints[method])
    results = {'command': command, 'iters': args.iters, 'iterations': iterations, 'train_seconds': seconds,
               'pgr': pgr, 'test': {}}
    if args.skip_training:
        results['reevaluated'] = time.strftime('%Y-%m-%d')
    grid = {}
    first = test_name(args.test_hr[0])
    grid_keys = sorted(os.listdir(osp.join(pairs[first], 'gt')))[:args.grid_images]
    grid_keys = {osp.splitext(k)[0] for k in grid_keys}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for dataset, pair_dir in pairs.items():
            results['test'][dataset] = {}
            for method, restore in restorers.items():
                print(f'evaluating {method} on {dataset} ...', flush=True)
                results['test'][dataset][method] = evaluate(restore, pair_dir, args.scale,
                                                            grid_keys if dataset == first else set(), grid)
    results['final_weights'] = final_pgr_weights(work)
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    with open(osp.join(args.out, 'results.md'), 'w') as f:
        f.write(markdown(results, args))
    save_grid(grid, [METHODS[m][1] for m in restorers], osp.join(args.out, 'grid.png'))
    print(markdown(results, args))


def pgr_settings(args, base):
    """The PGR settings method (e) trains with, recorded so a results table says how it was made."""
    pgr = method_options(base, 'e_trico_pgr', args.iters, '')['train']['pgr']
    return {'options': osp.relpath(args.options, ROOT), 'middle_interval': pgr['middle_interval'],
            'upper_interval': pgr['upper_interval'], 'phases': pgr['phases'], 'hvp': pgr.get('hvp')}


def final_pgr_weights(work):
    """The loss-term weights at the end of the PGR run, read from its log's last lambda line."""
    log = osp.join(work, 'logs', 'bench_e_trico_pgr.log')
    weights = {}
    for line in open(log):
        if 'lambda_' in line and 'iter:' in line:
            weights = {tok.split(':')[0][len('lambda_'):]: float(tok.split(':')[1])
                       for tok in line.replace(': ', ':').split() if tok.startswith('lambda_')}
    return weights


if __name__ == '__main__':
    main()
