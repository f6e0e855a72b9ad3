"""Cross-pipeline benchmark: do trained models hold up on darkening they were never trained on?

    python -m benchmarks.generalisation --test-hr datasets/Set14 datasets/Set5 --scale 4 \
        --model shipped=weights/trico_light_x4.pth --model cascade=PATH \
        --real datasets/SCI --out docs/benchmarks/generalisation_x4

For each degradation family (default: the two held-out families, the ``linear_area`` pipeline a user
reported, and the project's own ``ultra_dark``), each HR test set is darkened and downsampled with
``make_coupled_pairs`` (seed ``--seed``), then restored by the classical baselines -- (a) bicubic +
global auto-exposure, (b) LIME-style enhancement + bicubic -- by every ``--model NAME=CHECKPOINT`` and,
with ``--regression-hr``, by baseline (c): bicubic + one global gain to the brightness that a ridge
regression on eight input statistics predicts, fitted on those HR training images darkened by the
training mix (``benchmarks/baselines/exposure_regression.py``; the smallest learned model).

Per family, test set and method (means over the images):
- PSNR and SSIM (RGB, ``scale`` border cropped), NIQE (no reference), ΔE (CIEDE2000);
- ``bright_err``: output minus ground-truth mean grey level (8-bit; > 0 = too bright) and its absolute
  value ``abs_bright_err``; ``bright_corr``: correlation over the images of output and ground-truth
  mean grey levels (a model that lights every image the same scores near 0 however right its average);
- ``PSNR_matched``: PSNR after one global linear-light gain matches the output's mean luminance to the
  ground truth's, so tone and structure errors are seen apart from the global brightness error.

Exposure fidelity: six photos of different brightness (bundled with scikit-image) darkened the same way
(exposure 0.08 in linear light, no extra curve, Poisson-Gaussian noise); ``slope`` is the least-squares
slope of the outputs' mean grey levels against the targets' (0: every photo lit the same; 1: the scene
brightness kept), ``mean_abs_error`` their mean absolute difference (tests/test_exposure_fidelity.py
holds the shipped weights to this check).

On real dark photos (``--real``, no ground truth; each is area-downsampled by the scale first, so the
output has the photo's size): NIQE, mean grey level, ``dark_lift`` (mean output grey of the pixels
that are the darkest 10 % of the input: night skies should stay near black) and ``cast`` (mean
chroma distance of the output's average colour from grey, in CIELAB units).

Writes ``results.json``, ``results.md``, ``grid.jpg`` (one image of each held-out family: input,
every method, ground truth) and, with ``--real``, ``night.jpg`` under ``--out``. Scores are cached in
``WORK/scores.json`` by method identity (a checkpoint's SHA-1, or the baselines' source code) and
data, so a rerun that adds a model only evaluates that model.
"""
import argparse
import dataclasses
import hashlib
import json
import os
import time
import warnings
from os import path as osp

import numpy as np

from benchmarks.common import MODEL_SPEC, ScoreCache, command_line, file_sha1, parse_model_spec, save_panels
from benchmarks.scoring import (
    SCORING_CODE,
    brightness_tracking,
    evaluate_pairs,
    evaluate_real,
    grey,
    read_pair,
    real_input,
    real_photos,
)

DEFAULT_FAMILIES = ('heldout_aces_lanczos', 'heldout_banding_jpeg', 'linear_area', 'ultra_dark')
FULL_REFERENCE = ('PSNR', 'SSIM', 'PSNR_matched', 'DeltaE', 'bright_err', 'abs_bright_err')
# The synthetic mix of the shipped weights' stage 2 (options/train/trico_light_x4_stage2.yml).
REGRESSION_MIX = ('camera_linear', 'camera_linear', 'camera_linear', 'camera_linear', 'camera_mix', 'ultra_dark')
REGRESSION_BASELINE = 'bicubic + regressed exposure'
HIGHER_IS_BETTER = {'PSNR': True, 'SSIM': True, 'PSNR_matched': True, 'DeltaE': False, 'bright_err': None,
                    'abs_bright_err': False, 'bright_corr': True, 'NIQE': False, 'mean_grey': None,
                    'dark_lift': False, 'cast': False}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--test-hr', nargs='+', required=True, help='folders of HR test images (one test set each)')
    parser.add_argument('--families', nargs='+', default=list(DEFAULT_FAMILIES), help='degradation presets')
    parser.add_argument('--scale', type=int, choices=(2, 4), default=4)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--model', action='append', default=[], metavar=MODEL_SPEC,
                        help="a trained checkpoint to evaluate (repeatable); EXPOSURE: 'auto' (default), 'model' "
                             "or a mean grey level; BLACK_LEVEL: 'model' (default) or 'keep'")
    parser.add_argument('--model-self-ensemble', action='append', default=[], metavar=MODEL_SPEC,
                        help='a checkpoint to evaluate with the x8 geometric self-ensemble (repeatable)')
    parser.add_argument('--regression-hr', metavar='FOLDER',
                        help='add baseline (c), bicubic + regressed exposure, fitted on these HR training images')
    parser.add_argument('--regression-presets', nargs='+', default=list(REGRESSION_MIX), metavar='PRESET',
                        help='the training mix it is fitted on, one preset drawn per sample (default: the mix '
                             'of the shipped x4 and x2 weights)')
    parser.add_argument('--regression-draws', type=int, default=3, help='darkened copies of each image')
    parser.add_argument('--real', help='folder (searched recursively) of real dark photos, no ground truth')
    parser.add_argument('--skip-niqe', action='store_true', help='leave NIQE out of the synthetic sets (faster)')
    parser.add_argument('--out', required=True)
    parser.add_argument('--work', help='synthesised pairs (default: OUT/work, not meant to be committed)')
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------------------------ methods
def restorers(args, regression=None):
    """``({name: restore}, {name: identity})``: what each method is, for the score cache.

    ``regression`` (an :class:`ExposureRegression`, or None) adds baseline (c), bicubic + regressed exposure.
    """
    import benchmarks.baselines.classical as classical
    import benchmarks.baselines.exposure_regression as exposure_regression
    from benchmarks.baselines import bicubic_auto_exposure, lime_bicubic
    from benchmarks.baselines.exposure_regression import regressed_exposure_bicubic
    methods = {'bicubic + auto-exposure': lambda lq: bicubic_auto_exposure(lq, args.scale),
               'LIME + bicubic': lambda lq: lime_bicubic(lq, args.scale)}
    code = hashlib.sha1((file_sha1(classical.__file__) + SCORING_CODE).encode()).hexdigest()[:16]
    identities = {name: f'{name} @ {code}' for name in methods}
    if regression is not None:
        methods[REGRESSION_BASELINE] = lambda lq: regressed_exposure_bicubic(lq, args.scale, regression)
        fitted = regression.to_json() + file_sha1(exposure_regression.__file__)
        fitted = hashlib.sha1(fitted.encode()).hexdigest()[:16]
        identities[REGRESSION_BASELINE] = f'{REGRESSION_BASELINE} {fitted} @ {code}'
    specs = [(spec, False) for spec in args.model] + [(spec, True) for spec in args.model_self_ensemble]
    for spec, self_ensemble in specs:
        name, path, enhancer = load_model(spec, args.scale, self_ensemble)
        methods[name] = enhancer.enhance
        ensemble = ' x8 self-ensemble' if self_ensemble else ''
        exposure = enhancer.net.illum.exposure if hasattr(enhancer.net, 'illum') else '-'
        black = ' black level kept' if enhancer.keep_black_level else ''
        identities[name] = f'checkpoint {file_sha1(path)}{ensemble} exposure {exposure}{black} @ {SCORING_CODE}'
    return methods, identities


def load_model(spec, scale, self_ensemble=False):
    """``(name, path, TriCoEnhancer)`` for a ``--model`` spec (:data:`MODEL_SPEC`); a clear error if it is not one."""
    from trico_basicsr.utils.inference import TriCoEnhancer
    option = '--model-self-ensemble' if self_ensemble else '--model'
    name, path, finish = parse_model_spec(spec, option)
    enhancer = TriCoEnhancer(path, device='cpu', self_ensemble=self_ensemble, **finish)
    if enhancer.scale != scale:
        raise SystemExit(f'error: {option} {spec!r} is a x{enhancer.scale} model, not x{scale}')
    return name, path, enhancer


def regression_pairs(args):
    """``(lq, gt)`` pairs: ``--regression-hr`` darkened by the training mix, ``--regression-draws`` per image.

    Deterministic for a given ``--seed``; the held-out and upper families are refused (the fit is training).
    """
    from trico_basicsr.data.coupled_degradation import get_preset, make_pair
    from trico_basicsr.data.image_source import ImageSource
    try:
        presets = [get_preset(name, training=True) for name in args.regression_presets]
    except (KeyError, ValueError) as error:
        raise SystemExit(f'error: --regression-presets: {error}') from None
    source = ImageSource(args.regression_hr, where='--regression-hr')
    rng = np.random.default_rng(args.seed)
    for index in range(len(source)):
        hr = source.load(index)
        for _ in range(args.regression_draws):
            gt, lq, _, _ = make_pair(hr, args.scale, presets[rng.integers(len(presets))], rng)
            yield lq, gt


def fit_regression(args, pairs=None):
    """Baseline (c)'s regression, fitted on ``pairs`` (default: :func:`regression_pairs`, which they must be)."""
    from benchmarks.baselines.exposure_regression import fit_exposure_regression
    described = f"{args.regression_hr} x{args.regression_draws}, {' '.join(args.regression_presets)}, seed {args.seed}"
    return fit_exposure_regression(regression_pairs(args) if pairs is None else pairs, fitted_on=described)


def synthesise(args, work):
    from trico_basicsr.data.pair_folder import make_pairs
    pairs = {}
    for family in args.families:
        for folder in args.test_hr:
            name = osp.basename(osp.normpath(folder))
            pairs[(family, name)] = osp.join(work, f'{family}_{name}_x{args.scale}')
            if not osp.isdir(pairs[(family, name)]):
                make_pairs(folder, pairs[(family, name)], args.scale, family, args.seed, progress=False)
    return pairs


# ------------------------------------------------------------------------------------------------ reports
def fmt(metric, value):
    return 'n/a' if value is None or np.isnan(value) else f'{value:.4f}' if metric == 'SSIM' else f'{value:.2f}'


def table(rows, metrics):
    arrows = {True: ' ↑', False: ' ↓', None: ''}
    lines = ['| method | ' + ' | '.join(m + arrows[HIGHER_IS_BETTER[m]] for m in metrics) + ' |',
             '|---|' + '---|' * len(metrics)]
    lines += [f'| {method} | ' + ' | '.join(fmt(m, scores.get(m)) for m in metrics) + ' |'
              for method, scores in rows.items()]
    return lines


def markdown(results):
    lines = [f"# Cross-pipeline benchmark, x{results['scale']}", '',
             f"Command: `{' '.join(results['command'])}` ({results['date']}, {results['seconds']:.0f} s on "
             f"{results['device']}; {results['cached_scores']['from_cache']} of "
             f"{sum(results['cached_scores'].values())} method-by-set scores from the score cache of earlier "
             'runs, which this time does not include). Families and their parameters: '
             "`trico_basicsr/data/coupled_degradation.py`; "
             f"held out of every training mix: {', '.join(results['heldout'])}. Brightness errors in 8-bit grey "
             'levels (> 0: too bright); `PSNR_matched` after one global gain matches the mean luminance; '
             '`bright_corr`: correlation over the images of output and ground-truth mean grey.', '']
    if results.get('exposure_regression'):
        fit = results['exposure_regression']
        lines += [f"`{REGRESSION_BASELINE}`: bicubic, then one global gain to the mean luminance a ridge regression "
                  f"on eight input statistics predicts (`benchmarks/baselines/exposure_regression.py`), fitted on "
                  f"{fit['samples']} pairs ({fit['fitted_on']}); R² {fit['r2']:.2f} on them.", '']
    metrics = list(FULL_REFERENCE) + ['bright_corr'] + (['NIQE'] if results['niqe'] else [])
    for key, rows in results['synthetic'].items():
        lines += [f'## {key}', ''] + table(rows, metrics) + ['']
    if results.get('exposure_tracking'):
        lines += ['## Exposure fidelity (six photos of different brightness, darkened alike)', '',
                  '| method | slope of output vs target brightness ↑ | mean abs brightness error ↓ |', '|---|---|---|']
        lines += [f"| {m} | {r['slope']:.2f} | {r['mean_abs_error']:.1f} |"
                  for m, r in results['exposure_tracking'].items()]
        lines.append('')
    if results.get('real'):
        lines += [f"## Real dark photos ({results['real']['count']} from `{results['real']['folder']}`, "
                  f'area-downsampled x{results["scale"]} first)', '',
                  '`dark_lift`: mean output grey of the darkest 10 % of the input (night skies should stay near '
                  'black); `cast`: chroma of the mean colour (CIELAB).', '']
        lines += table(results['real']['scores'], ['NIQE', 'mean_grey', 'dark_lift', 'cast']) + ['']
    return '\n'.join(lines)


def prepare(args):
    """Refuse unknown ``--families``, import the plugin and set torch's CPU threads (``OMP_NUM_THREADS``, else 2).

    Returns the torch module.
    """
    import torch

    import trico_basicsr  # noqa: F401
    from trico_basicsr.data.coupled_degradation import PRESETS
    unknown = [f for f in args.families if f not in PRESETS]
    if unknown:
        raise SystemExit(f"error: --families: unknown {unknown}; choose from {', '.join(PRESETS)}")
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 2)))
    return torch


def main(argv=None):
    args = parse_args(argv)
    torch = prepare(args)
    from trico_basicsr.data.coupled_degradation import HELDOUT_FAMILIES
    start = time.time()
    work = osp.abspath(args.work or osp.join(args.out, 'work'))
    os.makedirs(args.out, exist_ok=True)
    regression = fit_regression(args) if args.regression_hr else None
    methods, identities = restorers(args, regression)
    pairs = synthesise(args, work)
    cache = ScoreCache(osp.join(work, 'scores.json'))
    results = {'command': command_line().split(), 'scale': args.scale, 'seed': args.seed,
               'heldout': list(HELDOUT_FAMILIES), 'niqe': not args.skip_niqe, 'synthetic': {},
               'models': dict(spec.partition('=')[::2] for spec in args.model),
               'models_self_ensemble': dict(spec.partition('=')[::2] for spec in args.model_self_ensemble),
               'device': 'CPU, %d threads' % torch.get_num_threads(), 'date': time.strftime('%Y-%m-%d')}
    if regression is not None:
        results['exposure_regression'] = dataclasses.asdict(regression)
    grid_rows = []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for (family, test_set), pair_dir in pairs.items():
            key = f'{family} / {test_set}'
            first = sorted(os.listdir(osp.join(pair_dir, 'gt')))[0]
            show = family in HELDOUT_FAMILIES and test_set == osp.basename(osp.normpath(args.test_hr[0]))
            results['synthetic'][key] = {}
            row = {'_name': family}
            if show:
                row['input'], row['ground truth'] = read_pair(pair_dir, args.scale, first)
            for method, restore in methods.items():
                print(f'{key}: {method}', flush=True)
                data = f'{key} x{args.scale} seed {args.seed} niqe {not args.skip_niqe}'
                results['synthetic'][key][method] = cache.get(
                    f'{data} | {identities[method]}',
                    lambda: evaluate_pairs(restore, pair_dir, args.scale, not args.skip_niqe))
                if show:
                    row[method] = restore(row['input'])
            if show:
                grid_rows.append(row)
        results['exposure_tracking'] = {method: brightness_tracking(restore, args.scale)
                                        for method, restore in methods.items()}
        if args.real:
            files = real_photos(args.real)
            scores = {}
            for method, restore in methods.items():
                print(f'real photos: {method}', flush=True)
                scores[method] = cache.get(f'real {args.real} ({len(files)}) x{args.scale} | {identities[method]}',
                                           lambda: evaluate_real(restore, files, args.scale))
            results['real'] = {'folder': args.real, 'count': len(files), 'scores': scores}
            darkest = sorted(files, key=lambda p: grey(real_input(p, args.scale)))[:3]  # night scenes
            night = []
            for path in darkest:
                lq = real_input(path, args.scale)
                night.append({'input': lq, **{method: restore(lq) for method, restore in methods.items()}})
            save_panels(night, ['input'] + list(methods), osp.join(args.out, 'night.jpg'))
    results['seconds'] = time.time() - start
    results['cached_scores'] = {'from_cache': cache.hits, 'computed': cache.misses}
    if grid_rows:
        save_panels(grid_rows, ['input'] + list(methods) + ['ground truth'], osp.join(args.out, 'grid.jpg'))
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    with open(osp.join(args.out, 'results.md'), 'w') as f:
        f.write(markdown(results))
    print(markdown(results))



if __name__ == '__main__':
    main()
