"""Fair multi-seed benchmark: does learning the upper level (PGR) beat hand-set and tuned fixed training?

    python -m benchmarks.quality --train-hr datasets/BSD100 --test-hr datasets/Set14 datasets/Set5 \
        --options options/train/trico_light_x4_stage1.yml --iters 1500 --seeds 0 1 2 \
        --real datasets/SCI --out docs/benchmarks/quality_x4

Every learned method trains the same network (``--options``) on the same images -- the training
folder minus the options' ``upper_split`` held-out part -- with the same degradation mix, batch,
crops, iterations and seed:

- ``fixed_s<S>``: joint training with fixed loss weights, every term other than the two pixel terms
  scaled by ``S`` (``--grid``; ``S = 1`` is the hand-set weighting, ``S = 0`` is pixel loss only);
- ``pgr``: TriCo's tri-level training with the options' PGR settings (phases at 10 % and 20 % of the
  budget), the loss weights learned on the held-out images degraded by the options' upper family;
- ``pgr_training_family`` (ablation): the same, but the upper level judged on the training presets;
- ``pgr_mixture``: ``pgr`` whose upper level also learns the degradation mixture (one sample weight per
  preset of the training mix, ``train.pgr.sample_weights: {by: preset}``);
- ``pgr_accumulate``: ``pgr`` with two hypergradients averaged into each update of the weights
  (``train.pgr.hyper_accumulate: 2``);
- ``pgr_gauss_newton``: ``pgr`` with CollaBA's one-backward hypergradient in place of the unrolled
  response (``train.pgr.hypergradient: gauss_newton``); ``best_fixed_equal_time_gauss_newton`` is the
  grid winner trained for *its* wall-clock; ``pgr_gauss_newton_accumulate``: the same with ten of its
  cheap hypergradients averaged into each update (``hyper_accumulate: 10``, one every other iteration);
- ``pgr_exposure``: ``pgr`` whose upper level also learns per-difficulty weights (one sample weight per
  bin of the exposure the darkening kept, ``train.pgr.sample_weights: {by: exposure}``);
- ``cascade``: the illumination net trained alone for a quarter of the budget, then the SR net alone;
- ``best_fixed_equal_time``: the grid weighting with the best selection PSNR, trained for as many
  iterations as fit in the PGR run's wall-clock time (same seed);
- ``mixture_corners``: the hand-set weighting trained on one preset alone, for each of
  ``--corner-presets`` (default: the distinct presets of the options' mix) -- the corners of the
  degradation mixture, to measure how much that hyper-variable can be worth here; ``a+b`` adds an
  interior point (the two presets drawn equally often).

Derived rows, no extra training (the ceilings that tell which design choice cannot reach a goal):
``best_fixed_oracle`` is the grid weighting picked per seed on the *test* families (what a perfect
upper level over the loss weights could pick); ``best_corner_selected`` is the mixture point with the
best selection PSNR among the mixture points (corners and ``a+b`` points: what a perfect long-horizon
upper level over the mixture could pick from its own data) and ``best_corner_oracle`` the point best on
the test families.

The grid winner is chosen per seed on the **same held-out images the upper level learns from**,
degraded with the upper family (``selection``), so PGR and the grid search use the same extra data.
``--upper-images FOLDER`` takes that data from another collection instead (a few photos like the
target's, never a test set), degraded with ``--upper-family`` (which may then be the training mix's
``camera_mix``); the training images stay the same.
Scores: PSNR and SSIM (RGB, scale border cropped) on each never-trained degradation family (``--families``)
of each test set; with ``--real``, NIQE and ``dark_lift`` on the first ``--real-count`` real photos.

Resumable: each finished run leaves ``WORK/runs/<method>_s<seed>.json`` (iterations, seconds,
checkpoint) and is not trained again; scores are cached by checkpoint hash. ``summary.json`` (per
method: per-seed scores, iterations and training seconds; mean and std over seeds), ``results.md``
and ``lambda.png`` (PGR's loss weights over the iterations) are rewritten after every run.
"""
import argparse
import copy
import json
import os
import re
import subprocess
import sys
import time
import warnings
from os import path as osp

import numpy as np
import yaml

from benchmarks.common import ROOT, ScoreCache, command_line, file_sha1, write_report
from benchmarks.scoring import SCORING_CODE, evaluate_pairs, evaluate_real, real_photos

PIXEL_TERMS = ('pixel', 'coupling')  # kept at their weight by every grid point
# PGR variants compared against PGR: the train.pgr options each adds to the 'pgr' run's
VARIANT_OPTIONS = {
    'pgr_mixture': {'sample_weights': {'by': 'preset'}},
    'pgr_accumulate': {'hyper_accumulate': 2},
    'pgr_gauss_newton': {'hypergradient': 'gauss_newton'},
    'pgr_gauss_newton_accumulate': {'hypergradient': 'gauss_newton', 'hyper_accumulate': 10},
    'pgr_exposure': {'sample_weights': {'by': 'exposure'}},
}
PGR_VARIANTS = ('pgr', 'pgr_training_family', *VARIANT_OPTIONS)
LEARNED = PGR_VARIANTS + ('cascade', 'best_fixed_equal_time', 'best_fixed_equal_time_gauss_newton',
                          'mixture_corners')
EQUAL_TIME = {'best_fixed_equal_time': 'pgr', 'best_fixed_equal_time_gauss_newton': 'pgr_gauss_newton'}
EQUAL_TIME_BUDGETS = {'best_fixed_equal_time': "PGR's wall-clock",
                      'best_fixed_equal_time_gauss_newton': "Gauss-Newton PGR's wall-clock"}
REPORTED_SCORES = ('PSNR', 'SSIM')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--train-hr', required=True, help='folder of normal-light HR training images')
    parser.add_argument('--test-hr', nargs='+', required=True, help='folders of HR test images (one test set each)')
    parser.add_argument('--options', default=osp.join(ROOT, 'options', 'train', 'trico_light_x4_stage1.yml'),
                        help='the TriCo options every method shares (network, data, mix, PGR settings)')
    parser.add_argument('--scale', type=int, choices=(2, 4), default=4)
    parser.add_argument('--iters', type=int, default=1500, help='training iterations of each learned method')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--grid', type=float, nargs='+', default=[0.0, 0.5, 1.0, 2.0],
                        help='fixed weightings: scale of the non-pixel loss terms (0 = pixel loss only)')
    parser.add_argument('--methods', nargs='+', default=['fixed', 'pgr', 'best_fixed_equal_time'],
                        help="which to train: 'fixed' (the grid) and any of " + ', '.join(LEARNED))
    parser.add_argument('--corner-presets', nargs='+',
                        help="presets of the 'mixture_corners' runs (default: the distinct presets of the "
                        "options' training mix); any trainable preset, e.g. camera_linear, or an "
                        "interior point 'a+b' (a and b drawn equally often)")
    parser.add_argument('--families', nargs='+', default=['heldout_aces_lanczos', 'heldout_banding_jpeg'],
                        help='never-trained degradation families of the test sets')
    parser.add_argument('--upper-family', default='upper_reinhard_skip',
                        help="the upper level's family for 'pgr' and for the grid's selection set")
    parser.add_argument('--upper-images', help="HR images of the upper level's data and the selection set, "
                        "in place of the training folder's held-out part (another collection, e.g. a few "
                        "photos like the target's); never a --test-hr folder")
    parser.add_argument('--hyper-lr', type=float, help="learning rate of the upper level's optimiser in the PGR "
                        'methods (default: the options\' train.optim_hyper)')
    parser.add_argument('--gt-size', type=int, help='training crop size (default: the options)')
    parser.add_argument('--batch', type=int, help='batch size (default: the options)')
    parser.add_argument('--threads', type=int, default=1, help='torch threads of each training run')
    parser.add_argument('--real', help='folder of real dark photos (no ground truth)')
    parser.add_argument('--real-count', type=int, default=8)
    parser.add_argument('--data-seed', type=int, default=0, help='seed of the test and selection pairs')
    parser.add_argument('--out', required=True)
    parser.add_argument('--work', help='runs, checkpoints, pairs and logs (default: OUT/work)')
    parser.add_argument('--max-runs', type=int, help='stop after training this many runs (resume later)')
    args = parser.parse_args(argv)
    unknown = set(args.methods) - {'fixed', *LEARNED}
    if unknown:
        parser.error(f"--methods: unknown {sorted(unknown)}; choose from fixed, {', '.join(LEARNED)}")
    for method, reference in EQUAL_TIME.items():
        if method in args.methods and not {'fixed', reference} <= set(args.methods):
            parser.error(f'--methods {method} needs fixed and {reference}')
    if args.corner_presets:
        from trico_basicsr.data.coupled_degradation import get_preset
        for point in args.corner_presets:
            for name in point.split('+'):
                try:
                    get_preset(name, training=True)
                except ValueError as err:
                    parser.error(f'--corner-presets {point}: {err}')
    if args.upper_images and osp.realpath(args.upper_images) in {osp.realpath(t) for t in args.test_hr}:
        parser.error(f'--upper-images {args.upper_images} is also a --test-hr folder: the upper level and the '
                     'grid selection would see the test images')
    return args


# ------------------------------------------------------------------------------------------------ options
def base_options(options, train_hr, scale, gt_size=None, batch=None):
    """The shared options: the file ``options`` with the benchmark's data (the HR images ``train_hr``),
    ``scale``, crop size and batch (None: the file's), no validation and no starting checkpoint."""
    from trico_basicsr.utils.options import read_options
    opt = read_options(options)
    opt['scale'] = scale
    opt['network_g']['upscale'] = scale
    train = opt['datasets']['train']
    if not train.get('upper_split'):
        raise SystemExit(f'error: {options}: datasets.train needs an upper_split (the held-out images)')
    bundled = str(train_hr).startswith('skimage:')  # scikit-image's photos (tests, demos)
    train.update(dataroot_gt=train_hr if bundled else osp.abspath(train_hr),
                 name='skimage' if bundled else osp.basename(osp.normpath(train_hr)))
    train.pop('meta_info_file', None)
    for key, value in (('gt_size', gt_size), ('batch_size_per_gpu', batch)):
        if value:
            train[key] = value
    opt['datasets'] = {'train': train}  # no validation: the runs are scored afterwards, all alike
    opt.pop('val', None)
    opt['logger'].update(print_freq=50, save_checkpoint_freq=10**9, use_tb_logger=False)
    opt['path'].update(pretrain_network_g=None, resume_state=None)
    opt['num_gpu'] = 0
    return opt


def with_budget(opt, iters):
    opt['train']['total_iter'] = iters
    scheduler = opt['train'].get('scheduler', {})
    if 'periods' in scheduler:  # a cosine schedule spans the whole budget
        scheduler['periods'] = [iters]
    return opt


def fixed_terms(opt, scale):
    """Scale every non-pixel term of both levels by ``scale`` (0 drops them); all levels train jointly."""
    from trico_basicsr.pgr.config import load_pgr_config, to_dict
    cfg = to_dict(load_pgr_config(opt['train'].get('pgr')))
    for level in ('sr_terms', 'illum_terms'):
        terms = {}
        for name, term in cfg[level].items():
            if name in PIXEL_TERMS:
                terms[name] = term
            elif scale > 0:
                terms[name] = {**term, 'loss_weight': term['loss_weight'] * scale}
        opt['train']['pgr'][level] = terms
    return opt


def method_options(base, method, iters, seed, args, work, grid_scale=None):
    """Options of one run; ``method`` is ``fixed`` (with ``grid_scale``), a PGR variant or a cascade stage.

    ``args`` (this benchmark's arguments) gives the PGR variants' upper data and learning rate; the other
    methods do not read it (None will do).
    """
    opt = with_budget(copy.deepcopy(base), iters)
    opt['manual_seed'] = seed
    pgr = opt['train'].setdefault('pgr', {})
    never = {'cooperative_start': None, 'trilevel_start': None}
    if method == 'fixed' or method in EQUAL_TIME:
        fixed_terms(opt, grid_scale)
        pgr.update(train_levels=['sr', 'illum'], phases=never)
    elif method in PGR_VARIANTS:
        pgr['phases'] = {'cooperative_start': iters // 10, 'trilevel_start': iters // 5}
        pgr['upper_data'] = {**pgr.get('upper_data', {}),
                             'preset': None if method == 'pgr_training_family' else args.upper_family}
        if args.upper_images:  # another collection, degraded with the upper family
            train = opt['datasets']['train']
            pgr['upper_data'] = {**pgr['upper_data'], 'source': 'dataset', 'preset': None, 'dataset': {
                'name': osp.basename(osp.normpath(args.upper_images)), 'type': 'CoupledOnlineDataset',
                'dataroot_gt': osp.abspath(args.upper_images),
                'preset': train['preset'] if method == 'pgr_training_family' else args.upper_family,
                **{k: train[k] for k in ('gt_size', 'use_hflip', 'use_rot') if k in train}}}
        if args.hyper_lr:
            opt['train']['optim_hyper'] = {**opt['train'].get('optim_hyper', {}), 'lr': args.hyper_lr}
        pgr.update(copy.deepcopy(VARIANT_OPTIONS.get(method, {})))
    elif method.startswith('corner_'):  # the hand-set weighting on one preset of the mixture alone
        fixed_terms(opt, 1.0)
        pgr.update(train_levels=['sr', 'illum'], phases=never)
        presets = method[len('corner_'):].split('+')  # 'a+b': a mixture point, a and b drawn equally often
        opt['datasets']['train']['preset'] = presets[0] if len(presets) == 1 else presets
    elif method == 'cascade_illum':
        pgr.update(train_levels=['illum'], phases=never)
        cfg_illum = fixed_terms(copy.deepcopy(opt), 1.0)['train']['pgr']['illum_terms']
        pgr['illum_terms'] = {k: v for k, v in cfg_illum.items() if v.get('type') != 'LowerObjective'}
        with_budget(opt, iters // 4)
    elif method == 'cascade':
        pgr.update(train_levels=['sr'], phases=never)
        opt['path'].update(pretrain_network_g=osp.join(work, 'experiments', f'cascade_illum_s{seed}', 'models',
                                                       'net_g_latest.pth'), param_key_g='params_ema')
        with_budget(opt, iters - iters // 4)
    else:
        raise ValueError(method)
    return opt


# ------------------------------------------------------------------------------------------------ training
def train(opt, work, threads=1):
    """Train with the plugin's entry point (experiments under ``work``); returns (checkpoint, seconds)."""
    options_file = osp.join(work, 'options', f"{opt['name']}.yml")
    os.makedirs(osp.dirname(options_file), exist_ok=True)
    with open(options_file, 'w') as f:
        yaml.safe_dump(opt, f, sort_keys=False)
    code = ('import sys; import torch; from trico_basicsr.train import main; '
            f'torch.set_num_threads({threads}); '
            f'sys.argv = ["train.py", "-opt", {options_file!r}]; main({work!r})')
    log = osp.join(work, 'logs', f"{opt['name']}.log")
    os.makedirs(osp.dirname(log), exist_ok=True)
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads)}
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.run([sys.executable, '-c', code], stdout=f, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    seconds = time.time() - start
    if proc.returncode != 0:
        raise RuntimeError(f"training {opt['name']} failed; see {log}")
    return osp.join(work, 'experiments', opt['name'], 'models', 'net_g_latest.pth'), seconds


class Runs:
    """Finished runs, one JSON record each under ``WORK/runs`` (written last: a record means done)."""

    def __init__(self, work, threads, max_runs=None):
        self.work, self.threads, self.max_runs, self.trained = work, threads, max_runs, 0
        os.makedirs(osp.join(work, 'runs'), exist_ok=True)

    def record_path(self, name):
        return osp.join(self.work, 'runs', f'{name}.json')

    def get(self, name):
        path = self.record_path(name)
        return json.load(open(path)) if osp.isfile(path) else None

    def run(self, name, opt, extra=None):
        """The record of run ``name``, training it first unless it is done (None once ``max_runs`` is hit)."""
        done = self.get(name)
        if done is not None and osp.isfile(done['checkpoint']):
            wanted = opt['train']['total_iter']
            if name.startswith('best_fixed_equal_time') or done['iterations'] == wanted:
                return done  # (the equal-time budget is derived from the records themselves)
            raise SystemExit(f"error: {self.record_path(name)} was trained for {done['iterations']} iterations, "
                             f'not {wanted}: use another --work for another budget')
        if self.max_runs is not None and self.trained >= self.max_runs:
            return None
        opt = {**opt, 'name': name}
        print(f"training {name} ({opt['train']['total_iter']} iterations) ...", flush=True)
        checkpoint, seconds = train(opt, self.work, self.threads)
        self.trained += 1
        record = {'checkpoint': checkpoint, 'seconds': seconds, 'iterations': opt['train']['total_iter'],
                  'date': time.strftime('%Y-%m-%d %H:%M'), **(extra or {})}
        from trico_basicsr.utils.atomic import atomic_write
        atomic_write(self.record_path(name), lambda f: f.write(json.dumps(record, indent=1).encode()))
        return record


# ------------------------------------------------------------------------------------------------ data
def selection_pairs(args, base, work):
    """Pairs of the held-out (upper-split) training images, or of ``--upper-images``, degraded with the upper family."""
    from trico_basicsr.data.image_source import ImageSource
    from trico_basicsr.data.pair_folder import make_pairs
    from trico_basicsr.data.upper_split import select_split
    if args.upper_images:
        out = osp.join(work, 'pairs', f'selection_{args.upper_family}_'
                                      f'{osp.basename(osp.normpath(args.upper_images))}_x{args.scale}')
        if not osp.isdir(out):
            make_pairs(osp.abspath(args.upper_images), out, args.scale, args.upper_family,
                                          args.data_seed, progress=False)
        return out
    out = osp.join(work, 'pairs', f'selection_{args.upper_family}_x{args.scale}')
    if osp.isdir(out):
        return out
    held_out = select_split(ImageSource(osp.abspath(args.train_hr), where='--train-hr'),
                            base['datasets']['train']['upper_split'], 'upper', '--train-hr')
    links = osp.join(work, 'pairs', 'selection_hr')
    os.makedirs(links, exist_ok=True)
    for index in range(len(held_out)):
        target = osp.join(links, osp.basename(held_out.path(index)))
        if not osp.lexists(target):
            os.symlink(osp.abspath(held_out.path(index)), target)
    make_pairs(links, out, args.scale, args.upper_family, args.data_seed, progress=False)
    return out


def test_pairs(args, work):
    """``{'<family> / <test set>': pair folder}`` for every never-trained family and test set."""
    from trico_basicsr.data.coupled_degradation import HELDOUT_FAMILIES
    from trico_basicsr.data.pair_folder import make_pairs
    pairs = {}
    for family in args.families:
        if family not in HELDOUT_FAMILIES:
            raise SystemExit(f'error: --families {family}: not a never-trained family ({", ".join(HELDOUT_FAMILIES)})')
        for folder in args.test_hr:
            name = osp.basename(osp.normpath(folder))
            pairs[f'{family} / {name}'] = osp.join(work, 'pairs', f'{family}_{name}_x{args.scale}')
            if not osp.isdir(pairs[f'{family} / {name}']):
                make_pairs(folder, pairs[f'{family} / {name}'], args.scale, family,
                                              args.data_seed, progress=False)
    return pairs


# ------------------------------------------------------------------------------------------------ scoring
class Scorer:
    """Scores of a checkpoint (cached by its SHA-1 and the data): selection PSNR, test sets, real photos."""

    def __init__(self, args, work, selection, tests):
        self.args, self.selection, self.tests = args, selection, tests
        self.cache = ScoreCache(osp.join(work, 'scores.json'))
        self.real = real_photos(args.real)[:args.real_count] if args.real else []

    def restorer(self, method):
        from benchmarks.baselines import bicubic_auto_exposure
        if method == 'bicubic_auto_exposure':
            return (lambda lq: bicubic_auto_exposure(lq, self.args.scale)), f'bicubic+AE @ {SCORING_CODE}'
        from trico_basicsr.utils.inference import TriCoEnhancer
        identity = f'checkpoint {file_sha1(method)} @ {SCORING_CODE}'
        return TriCoEnhancer(method, device='cpu', exposure='model', keep_black_level=False).enhance, identity

    def scores(self, method):
        """``{'selection_PSNR', 'test': {set: {PSNR, SSIM, ...}}, 'real': {...}}`` of a checkpoint or baseline."""
        scale = self.args.scale
        restore, identity = self.restorer(method)
        out = {'test': {}}
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            out['selection_PSNR'] = self.cache.get(
                f'selection {self.selection} x{scale} | {identity}',
                lambda: evaluate_pairs(restore, self.selection, scale, niqe=False))['PSNR']
            for name, folder in self.tests.items():
                out['test'][name] = self.cache.get(f'{name} x{scale} seed {self.args.data_seed} | {identity}',
                                                   lambda: evaluate_pairs(restore, folder, scale, niqe=False))
            if self.real:
                out['real'] = self.cache.get(f'real {self.args.real} ({len(self.real)}) x{scale} | {identity}',
                                             lambda: evaluate_real(restore, self.real, scale))
        return out


# ------------------------------------------------------------------------------------------------ summary
def grid_name(scale):
    return f'fixed_s{scale:g}'


def mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {'mean': float(np.mean(values)), 'std': float(np.std(values, ddof=1)) if len(values) > 1 else None,
            'n': len(values)}


def aggregate(per_seed):
    """Mean and std over seeds of every scalar in the per-seed entries."""
    seeds = list(per_seed.values())
    agg = {'iterations': mean_std([s['iterations'] for s in seeds]),
           'train_seconds': mean_std([s['train_seconds'] for s in seeds]),
           'selection_PSNR': mean_std([s['selection_PSNR'] for s in seeds]), 'test': {}}
    for test in seeds[0]['test']:
        agg['test'][test] = {k: mean_std([s['test'][test][k] for s in seeds if test in s['test']])
                             for k in seeds[0]['test'][test]}
        agg['test'][test] = {k: v for k, v in agg['test'][test].items() if v is not None}
    agg['test']['mean over families and sets'] = {
        k: mean_std([float(np.mean([s['test'][t][k] for t in s['test']])) for s in seeds]) for k in REPORTED_SCORES}
    if 'real' in seeds[0]:
        agg['real'] = {k: mean_std([s['real'][k] for s in seeds]) for k in seeds[0]['real']}
    return agg


def lambda_trajectory(log, prefix='lambda_'):
    """``{'iters': [...], '<level>_<term>': [...]}`` from a training log's lambda lines (or, with
    ``prefix='hyper_snr_'``, the hyper-variables' logged signal-to-noise ratios)."""
    trajectory = {'iters': []}
    for line in open(log):
        iteration = re.search(r'iter:\s*([\d,]+)', line)  # BasicSR writes 1,200
        # names may hold bin edges: lambda_samples_exposure_0.03-0.1
        weights = re.findall(rf'\b{prefix}([\w.\-]+):\s*([-+0-9.eE]+)', line)
        if iteration is None or not weights:
            continue
        trajectory['iters'].append(int(iteration.group(1).replace(',', '')))
        for name, value in weights:
            trajectory.setdefault(name, []).append(float(value))
    return trajectory


def plot_lambda(log, path, title):
    """PGR's loss weights over the iterations of one run (from its log) as a PNG."""
    from trico_basicsr.utils.plot import plot_hyper_trajectories
    trajectory = lambda_trajectory(log)
    names = [k for k in trajectory if k != 'iters']
    history = [(it, {n: trajectory[n][i] for n in names}) for i, it in enumerate(trajectory['iters'])]
    if history:
        plot_hyper_trajectories(history, path, title=title)
    return trajectory


def markdown(summary):
    cfg = summary['config']
    lines = [f"# Fair quality benchmark: x{cfg['scale']}, {cfg['iters']} iterations, seeds {cfg['seeds']}", '',
             f"`{summary['command']}`", '',
             f"Every learned method trains `{cfg['options']}`'s network on the same {cfg['train_images']} images "
             f"({cfg['train_hr']} minus the {cfg['held_out_images']} held out of training), batch "
             f"{cfg['batch']}, {cfg['gt_size']} px crops, one CPU thread each ({cfg['device']}). Scores: mean ± "
             'std over the seeds (population of seeds, ddof 1). Test sets are darkened with families never '
             f"trained on ({', '.join(cfg['families'])}); `selection` is PSNR on "
             f"{'the held-out images' if not cfg.get('upper_images') else cfg['upper_images']} "
             f"darkened with `{cfg['upper_family']}` -- the data PGR's upper level learns from and the "
             'data that picks the grid winner.', '']

    def cell(stat, digits=2):
        if stat is None:
            return ''
        std = '' if stat['std'] is None else f" ± {stat['std']:.{digits}f}"
        return f"{stat['mean']:.{digits}f}{std}"

    tests = list(next(iter(summary['methods'].values()))['aggregate']['test'])
    lines += ['| method | seeds | iters | train s | selection PSNR | ' + ' | '.join(f'{t} PSNR' for t in tests) + ' |',
              '|---|---|---|---|---|' + '---|' * len(tests)]
    for method, entry in summary['methods'].items():
        agg = entry['aggregate']
        lines.append(f"| {entry['label']} | {len(entry['seeds'])} | {cell(agg['iterations'], 0)} | "
                     f"{cell(agg['train_seconds'], 0)} | {cell(agg['selection_PSNR'])} | " +
                     ' | '.join(cell(agg['test'][t].get('PSNR')) for t in tests) + ' |')
    lines += ['', '| method | ' + ' | '.join(f'{t} SSIM' for t in tests) + ' |', '|---|' + '---|' * len(tests)]
    for method, entry in summary['methods'].items():
        agg = entry['aggregate']
        lines.append(f"| {entry['label']} | " + ' | '.join(cell(agg['test'][t].get('SSIM'), 4) for t in tests) + ' |')
    real = {m: e['aggregate'].get('real') for m, e in summary['methods'].items() if e['aggregate'].get('real')}
    if real:
        lines += ['', f"Real dark photos (first {cfg['real_count']} of `{cfg['real']}`, area-downsampled by the "
                  'scale): NIQE (lower is better) and dark_lift (mean output grey of the darkest tenth of the '
                  'input; night skies should stay near 0).', '', '| method | NIQE | dark_lift | mean grey |',
                  '|---|---|---|---|']
        for method, stats in real.items():
            lines.append(f"| {summary['methods'][method]['label']} | {cell(stats['NIQE'])} | "
                         f"{cell(stats['dark_lift'], 1)} | {cell(stats['mean_grey'], 1)} |")
    if summary.get('comparisons'):
        lines += ['', '## Differences (PSNR dB, mean over the families and test sets; per seed, then mean ± std)', '',
                  '| comparison | per-seed differences | mean ± std |', '|---|---|---|']
        for name, comp in summary['comparisons'].items():
            diffs = ', '.join(f'{d:+.2f}' for d in comp['per_seed'])
            lines.append(f"| {name} | {diffs} | {comp['mean']:+.2f} ± {comp['std']:.2f} |" if comp['std'] is not None
                         else f"| {name} | {diffs} | {comp['mean']:+.2f} |")
    if summary.get('selection_agreement'):
        lines += ['', 'Does the selection set rank the grid as the never-trained families do? Per seed, the '
                  'Spearman correlation over the grid of selection PSNR and test PSNR (mean over families and '
                  'sets); 1: the same order, -1: the reverse:', '',
                  ', '.join(f'seed {seed}: {rho:+.2f}' for seed, rho in summary['selection_agreement'].items())]
    if summary.get('final_lambda'):
        lines += ['', "PGR's learned loss weights at the end of each run (mean 1 per level):", '']
        for run, weights in summary['final_lambda'].items():
            lines.append(f'- `{run}`: ' + ', '.join(f'{k} {v:.2f}' for k, v in weights.items()))
    if summary.get('final_hyper_snr'):
        lines += ['', "Signal-to-noise ratio of each run's last logged hypergradients (|mean| / standard error over "
                  'the `snr_window`; about 1 or below: a random walk), over its loss weights:', '']
        for run, snr in summary['final_hyper_snr'].items():
            lines.append(f"- `{run}`: median {snr['median']:.2f}, {snr['above_2']} of {snr['count']} above 2")
    return '\n'.join(lines) + '\n'


LABELS = {'bicubic_auto_exposure': 'bicubic + auto-exposure',
          'best_fixed_selected': 'best fixed weighting (picked on the selection set)',
          'pgr': 'TriCo PGR (upper family)',
          'pgr_training_family': 'TriCo PGR (upper level on the training mix)',
          'pgr_mixture': 'TriCo PGR + learned degradation mixture',
          'pgr_accumulate': 'TriCo PGR, 2 hypergradients per update',
          'pgr_gauss_newton': 'TriCo PGR, Gauss-Newton hypergradient (CollaBA)',
          'pgr_gauss_newton_accumulate': 'TriCo PGR, Gauss-Newton, 10 hypergradients per update',
          'pgr_exposure': 'TriCo PGR + learned per-exposure weights',
          'best_fixed_oracle': 'best fixed weighting (picked on the test families: an oracle)',
          'best_corner_selected': 'best mixture point (picked on the selection set)',
          'best_corner_oracle': 'best mixture point (picked on the test families: an oracle)',
          'cascade': 'learned cascade', 'best_fixed_equal_time': "best fixed weighting, trained for PGR's time",
          'best_fixed_equal_time_gauss_newton': "best fixed weighting, trained for Gauss-Newton PGR's time"}


def label(method):
    if method.startswith('fixed_s'):
        scale = float(method[len('fixed_s'):])
        return 'fixed, pixel loss only' if scale == 0 else 'fixed, hand-set weights' if scale == 1 else \
            f'fixed, non-pixel terms x{scale:g}'
    if method.startswith('corner_'):
        presets = method[len('corner_'):].split('+')
        return f"fixed, hand-set weights, {presets[0]} only" if len(presets) == 1 else \
            f"fixed, hand-set weights, {' + '.join(presets)} (equal parts)"
    return LABELS[method]


def compare(per_method, first, second):
    """Per-seed PSNR differences ``first - second`` (mean over families and sets) over the seeds both have."""
    seeds = sorted(set(per_method.get(first, {})) & set(per_method.get(second, {})))
    if not seeds:
        return None
    diffs = [mean_test_psnr(per_method[first][s]) - mean_test_psnr(per_method[second][s]) for s in seeds]
    return {'seeds': seeds, 'per_seed': diffs, 'mean': float(np.mean(diffs)),
            'std': float(np.std(diffs, ddof=1)) if len(diffs) > 1 else None}


def selection_agreement(per_method, grid):
    """``{seed: Spearman rho}`` of the grid's selection PSNRs against its mean test PSNRs, per complete seed."""
    from scipy.stats import spearmanr
    out = {}
    names = [grid_name(s) for s in grid]
    for seed in sorted(set.intersection(*(set(per_method.get(n, {})) for n in names))) if len(names) > 2 else []:
        entries = [per_method[n][seed] for n in names]
        tests = [float(np.mean([v['PSNR'] for v in e['test'].values()])) for e in entries]
        out[str(seed)] = float(spearmanr([e['selection_PSNR'] for e in entries], tests)[0])
    return out


def corner_presets(args, base):
    """The presets of the ``mixture_corners`` runs: ``--corner-presets`` or the options' distinct mix presets."""
    if args.corner_presets:
        return list(dict.fromkeys(args.corner_presets))
    mix = base['datasets']['train']['preset']
    return list(dict.fromkeys([mix] if isinstance(mix, str) else mix))


def mean_test_psnr(entry, test_sets=None):
    """Mean PSNR over the ``'<family> / <set>'`` scores of ``entry``, on ``test_sets`` only when given."""
    return float(np.mean([scores['PSNR'] for name, scores in entry['test'].items()
                          if test_sets is None or name.split(' / ')[-1] in test_sets]))


def best_of(per_method, seed, names, key):
    """Of runs ``names``, the one best by ``key`` ('selection' or 'test') for ``seed`` (None until all are scored)."""
    scored = {name: per_method.get(name, {}).get(seed) for name in names}
    if not names or any(v is None for v in scored.values()):
        return None
    score = (lambda e: e['selection_PSNR']) if key == 'selection' else mean_test_psnr
    return max(scored, key=lambda name: score(scored[name]))


def best_grid(per_method, seed, grid):
    """The grid weighting with the best selection PSNR for ``seed`` (None until all are scored)."""
    return best_of(per_method, seed, [grid_name(s) for s in grid], 'selection')


def main(argv=None):
    args = parse_args(argv)
    import torch

    import trico_basicsr  # noqa: F401
    torch.set_num_threads(args.threads)
    work = osp.abspath(args.work or osp.join(args.out, 'work'))
    base = base_options(args.options, args.train_hr, args.scale, args.gt_size, args.batch)
    selection, tests = selection_pairs(args, base, work), test_pairs(args, work)
    scorer = Scorer(args, work, selection, tests)
    runs = Runs(work, args.threads, args.max_runs)
    per_method = {}  # method -> seed -> scores, iterations, seconds
    corners = [f'corner_{preset}' for preset in corner_presets(args, base)]  # the mixture points' runs

    def add(method, seed, record):
        if record is not None:
            entry = scorer.scores(record['checkpoint'])
            entry.update(iterations=record['iterations'], train_seconds=record['seconds'])
            if 'grid_scale' in record:
                entry['grid_scale'] = record['grid_scale']
            per_method.setdefault(method, {})[seed] = entry
            write_summary()

    def write_summary():
        methods = {}
        for method, per_seed in per_method.items():
            methods[method] = {'label': label(method), 'seeds': {str(s): v for s, v in sorted(per_seed.items())},
                               'aggregate': aggregate(per_seed)}
        derived = dict(per_method)
        grid = [grid_name(s) for s in args.grid]
        # picked per seed: the grid winner on the selection set (what the benchmark's tuned baseline
        # uses), and the ceilings: the grid winner on the test families, the best mixture point either way
        for name, names, key in (('best_fixed_selected', grid, 'selection'), ('best_fixed_oracle', grid, 'test'),
                                 ('best_corner_selected', corners, 'selection'),
                                 ('best_corner_oracle', corners, 'test')):
            chosen = {s: best_of(per_method, s, names, key) for s in args.seeds}
            chosen = {s: n for s, n in chosen.items() if n}
            if chosen:
                derived[name] = {s: per_method[n][s] for s, n in chosen.items()}
                methods[name] = {'label': label(name), 'chosen': {str(s): n for s, n in chosen.items()},
                                 'seeds': {str(s): v for s, v in sorted(derived[name].items())},
                                 'aggregate': aggregate(derived[name])}
        comparisons = {}
        pairs = [(first, other) for first in ('pgr', *VARIANT_OPTIONS)
                 for other in ['best_fixed_selected', 'best_fixed_equal_time', 'cascade'] +
                 [grid_name(s) for s in args.grid]]
        # the ledger of design choices: each ceiling against the wall-clock baseline PGR must beat,
        # PGR's overhead in dB, and what the one-step mixture leaves to a perfect long-horizon one
        against_time = "equal iterations against the baseline at PGR's wall-clock"
        ledger = {('best_fixed_oracle', 'best_fixed_equal_time'): against_time,
                  ('best_corner_selected', 'best_fixed_equal_time'): against_time,
                  ('best_corner_oracle', 'best_fixed_equal_time'): against_time,
                  ('best_fixed_equal_time', 'best_fixed_selected'): "what PGR's extra time buys fixed training",
                  ('best_corner_selected', 'pgr_mixture'): 'equal iterations',
                  ('best_corner_selected', 'best_fixed_selected'): 'equal iterations',
                  ('best_fixed_oracle', 'best_fixed_selected'): 'equal iterations',
                  ('best_corner_oracle', 'best_fixed_selected'): 'equal iterations'}
        # each mixture point against the same weighting on the options' mix: only the mixture differs
        ledger.update({(corner, grid_name(1.0)): 'equal iterations, the same weights' for corner in corners})
        pairs += [(variant, 'pgr') for variant in VARIANT_OPTIONS] + [('pgr', 'pgr_training_family'),
                  ('pgr_gauss_newton_accumulate', 'pgr_gauss_newton'),
                  ('pgr_gauss_newton', 'best_fixed_equal_time_gauss_newton')]
        for first, other in pairs + list(ledger):
            comp = compare(derived, first, other)
            if comp:
                budget = ledger.get((first, other)) or EQUAL_TIME_BUDGETS.get(other, 'equal iterations')
                comparisons[f'{label(first)} - {label(other)} ({budget})'] = comp
        agreement = selection_agreement(per_method, args.grid)
        final_lambda, final_snr = {}, {}
        for method in PGR_VARIANTS:
            for seed in per_method.get(method, {}):
                log = osp.join(work, 'logs', f'{method}_s{seed}.log')
                trajectory = lambda_trajectory(log)
                final_lambda[f'{method}_s{seed}'] = {k: v[-1] for k, v in trajectory.items() if k != 'iters'}
                snr = [v[-1] for k, v in lambda_trajectory(log, 'hyper_snr_').items()
                       if k != 'iters' and not k.startswith('samples')]
                if snr:
                    final_snr[f'{method}_s{seed}'] = {'median': float(np.median(snr)), 'count': len(snr),
                                                      'above_2': int(sum(v > 2 for v in snr))}
                if seed == min(per_method[method]):
                    plot_lambda(log, osp.join(args.out, f'lambda_{method}.png'),
                                f'{label(method)}: loss weights, seed {seed}')
        train_opt = base['datasets']['train']
        from trico_basicsr.data.image_source import ImageSource
        from trico_basicsr.data.upper_split import select_split
        total = len(ImageSource(osp.abspath(args.train_hr)))
        held_out = len(select_split(ImageSource(osp.abspath(args.train_hr)), train_opt['upper_split'], 'upper',
                                    '--train-hr'))
        summary = {'command': command_line(), 'date': time.strftime('%Y-%m-%d'),
                   'config': {'options': osp.relpath(args.options, ROOT), 'scale': args.scale, 'iters': args.iters,
                              'seeds': args.seeds, 'grid': args.grid, 'families': args.families,
                              'upper_family': args.upper_family, 'upper_images': args.upper_images,
                              'hyper_lr': args.hyper_lr, 'train_hr': args.train_hr,
                              'train_images': total - held_out, 'held_out_images': held_out,
                              'batch': train_opt['batch_size_per_gpu'], 'gt_size': train_opt['gt_size'],
                              'pgr': {k: base['train']['pgr'].get(k) for k in ('middle_interval', 'upper_interval',
                                                                                 'response_step', 'hvp')},
                              'device': f'CPU, {args.threads} thread(s) per run', 'real': args.real,
                              'real_count': args.real_count},
                   'methods': methods, 'comparisons': comparisons, 'selection_agreement': agreement,
                   'final_lambda': final_lambda, 'final_hyper_snr': final_snr}
        write_report(osp.join(args.out, 'summary'), summary, markdown(summary))
        os.replace(osp.join(args.out, 'summary.md'), osp.join(args.out, 'results.md'))

    def equal_time_run(method, reference, seed):
        """The seed's grid winner trained for as many iterations as fit in ``reference``'s training time."""
        chosen = best_grid(per_method, seed, args.grid)
        reference_record = runs.get(f'{reference}_s{seed}')
        if not (chosen and reference_record):
            return None
        fixed_record = runs.get(f'{chosen}_s{seed}')
        iters = max(1, round(args.iters * reference_record['seconds'] / fixed_record['seconds']))
        scale = fixed_record['grid_scale']
        return runs.run(f'{method}_s{seed}', method_options(base, method, iters, seed, args, work, grid_scale=scale),
                        {'grid_scale': scale, 'chosen': chosen})

    baseline = scorer.scores('bicubic_auto_exposure')
    for seed in args.seeds:
        per_method.setdefault('bicubic_auto_exposure', {})[seed] = {**baseline, 'iterations': None,
                                                                    'train_seconds': None}
    for seed in args.seeds:  # seed-major: a stopped benchmark has whole seeds, not one method everywhere
        if 'fixed' in args.methods:
            for scale in args.grid:
                name = f'{grid_name(scale)}_s{seed}'
                add(grid_name(scale), seed, runs.run(name, method_options(base, 'fixed', args.iters, seed, args, work,
                                                                          grid_scale=scale), {'grid_scale': scale}))
        if 'pgr' in args.methods:
            add('pgr', seed, runs.run(f'pgr_s{seed}', method_options(base, 'pgr', args.iters, seed, args, work)))
        if 'cascade' in args.methods:
            first = runs.run(f'cascade_illum_s{seed}',
                             method_options(base, 'cascade_illum', args.iters, seed, args, work))
            if first is not None:
                second = runs.run(f'cascade_s{seed}', method_options(base, 'cascade', args.iters, seed, args, work))
                if second is not None:
                    add('cascade', seed, {**second, 'seconds': first['seconds'] + second['seconds'],
                                          'iterations': args.iters})
        for method in PGR_VARIANTS[1:]:
            if method in args.methods:
                add(method, seed, runs.run(f'{method}_s{seed}', method_options(base, method, args.iters, seed, args,
                                                                                work)))
        if 'mixture_corners' in args.methods:
            for name in corners:
                add(name, seed, runs.run(f'{name}_s{seed}', method_options(base, name, args.iters, seed, args, work)))
        for method, reference in EQUAL_TIME.items():  # after the runs whose time they match
            if method in args.methods:
                add(method, seed, equal_time_run(method, reference, seed))
    write_summary()


if __name__ == '__main__':
    main()
