"""Would a second, global exposure estimate help a model? Re-gain its outputs towards a regression's brightness.

    python scripts/benchmark_exposure_blend.py --test-hr datasets/Set14 datasets/Set5 --scale 4 \
        --model shipped=weights/trico_light_x4.pth --regression-hr datasets/BSD100 \
        --out docs/benchmarks/exposure_blend_x4 --work work/generalisation_x4

A model sets its output's brightness itself. Baseline (c) of the cross-pipeline benchmark predicts the
target's mean luminance from eight statistics of the input (a ridge regression fitted on the training
mix, ``trico_basicsr/baselines/exposure_regression.py``), and its errors are not the network's: on the
held-out banding family its brightness follows the target's more closely than the network's does. This
benchmark asks whether the two estimates together light the output better than the network alone.

Each ``--model``'s output on each family and test set (the cross-pipeline benchmark's pairs, same seed) is
scored as it is and after one global linear-light gain (Rec. 709 luminance) to:
- ``blend W`` (each ``--blends`` W): ``exp((1 - W) * log(own mean luminance) + W * log(regression's))``;
  ``blend 1`` is the regression's brightness with the network's structure and colour;
- ``stacked``: what a second ridge regression predicts from the eight statistics *and* the model's own
  log mean luminance, fitted on the regression's training pairs with the model run on them: a calibration
  learned from training data only, so the one variant fit to ship;
- ``semantic`` (unless ``--semantic-components 0``): what a ridge regression on baseline (c)'s statistics and
  the first principal components of MobileNetV2's ImageNet features of the input predicts
  (``trico_basicsr/baselines/semantic_exposure.py``), fitted on the same training pairs: does a prior learned
  from millions of scenes say how bright this one was meant to be?
- ``oracle``: the ground truth's mean luminance (``PSNR_matched`` of the cross-pipeline benchmark), the
  most one global gain can give;
- ``oracle ±S`` (each ``--oracle-errors`` S): the ground truth's log mean luminance off by exactly S, once too
  bright (+S) and once too dark (-S), the two scores averaged: how close to the truth a brightness estimate
  has to be for a given PSNR. S is in natural-log units of linear luminance (0.1 is about 10 %).

Each variant also gets its root-mean-square log-luminance error against the ground truth (``rms_log_err``,
same units; for ``as output``, the model's own), to set against the ``oracle ±S`` columns.

Per cell and variant: PSNR (RGB, ``scale`` border cropped) and the absolute brightness error (8-bit grey
levels), means over the images. Writes ``results.json`` and ``results.md`` under ``--out`` (each whole,
through a temporary file); the pairs are cached under ``--work`` as the cross-pipeline benchmark's are.
"""
import argparse
import json
import os
import sys
import time
import warnings
from os import path as osp

import numpy as np

ROOT = osp.abspath(osp.join(osp.dirname(__file__), osp.pardir))
sys.path.insert(0, osp.join(ROOT, 'scripts'))

import benchmark_generalisation as bg  # noqa: E402
from benchmark_components import write_whole  # noqa: E402

RIDGE = 1e-3  # as baseline (c)'s fit
METRICS = ('PSNR', 'abs_bright_err', 'sq_log_err')  # the last becomes rms_log_err over the images
OWN = 'as output'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--test-hr', nargs='+', required=True, help='folders of HR test images')
    parser.add_argument('--families', nargs='+', default=list(bg.DEFAULT_FAMILIES), help='degradation families')
    parser.add_argument('--scale', type=int, default=4)
    parser.add_argument('--model', action='append', required=True, help='NAME=CHECKPOINT (repeatable)')
    parser.add_argument('--regression-hr', required=True, metavar='FOLDER',
                        help='HR training images the regressions are fitted on, darkened by --regression-presets')
    parser.add_argument('--regression-presets', nargs='+', default=list(bg.REGRESSION_MIX), metavar='PRESET')
    parser.add_argument('--regression-draws', type=int, default=3, help='darkened copies of each image')
    parser.add_argument('--blends', nargs='+', type=float, default=[0.25, 0.5, 0.75, 1.0], metavar='W',
                        help="weights of the regression's log luminance, each in (0, 1]")
    parser.add_argument('--oracle-errors', nargs='*', type=float, default=[0.1, 0.2, 0.3, 0.4], metavar='S',
                        help="log-luminance errors of the perturbed oracles, each > 0 (none: no such column)")
    parser.add_argument('--semantic-components', type=int, default=4, metavar='K',
                        help='principal components of the ImageNet features in the semantic variant (0: none)')
    parser.add_argument('--seed', type=int, default=0, help='degradation seed (test pairs and the fit)')
    parser.add_argument('--out', required=True, help='folder for results.json and results.md')
    parser.add_argument('--work', help='pair cache (default: OUT/work); the cross-pipeline benchmark\'s is reused')
    args = parser.parse_args(argv)
    bad = [w for w in args.blends if not 0 < w <= 1]
    if bad:
        parser.error(f'--blends: each weight must be in (0, 1], got {bad}')
    bad = [s for s in args.oracle_errors if not s > 0]
    if bad:
        parser.error(f'--oracle-errors: each error must be > 0, got {bad}')
    if args.semantic_components < 0:
        parser.error(f'--semantic-components: must be >= 0, got {args.semantic_components}')
    return args


def log_mean_luminance(img):
    """Log of the mean linear-light luminance of an sRGB float image (HWC, [0, 1])."""
    from trico_basicsr.baselines.exposure_regression import _FLOOR, luminance
    return float(np.log(luminance(img).mean() + _FLOOR))


def regain(img, target_log_luminance):
    """``img`` after one linear-light gain that gives it the log mean luminance ``target_log_luminance``.

    The inverse of :func:`log_mean_luminance` (its floor included). Clipping at 1 can leave the result below
    the target where the gain pushes highlights over.
    """
    from trico_basicsr.baselines.exposure_regression import _FLOOR, gain_to_mean_luminance
    return gain_to_mean_luminance(img, max(float(np.exp(target_log_luminance)) - _FLOOR, 0.0))


def training_pairs(args):
    """Baseline (c)'s regression and its training inputs: ``(regression, [lq], [target log luminance])``."""
    from trico_basicsr.baselines.exposure_regression import target_log_luminance
    inputs, targets = [], []

    def kept():
        for lq, gt in bg.regression_pairs(args):
            inputs.append(lq)
            targets.append(target_log_luminance(gt))
            yield lq, gt
    return bg.fit_regression(args, kept()), inputs, targets


def fit_semantic(inputs, targets, components):
    """The semantic variant's estimate, fitted on the training inputs: ``(lq -> log luminance, r2)``, or None."""
    if not components:
        return None
    from trico_basicsr.baselines.semantic_exposure import ImageNetFeatures, fit_semantic_exposure, semantic_inputs
    extractor = ImageNetFeatures()
    statistics, features = zip(*(semantic_inputs(lq, extractor) for lq in inputs))
    regression = fit_semantic_exposure(statistics, features, targets, components)

    def predict(lq):
        return float(regression.predict_from(*semantic_inputs(lq, extractor))[0])
    return predict, regression.r2


def stack_features(lq, out):
    """The stacked regression's inputs: baseline (c)'s eight statistics and the model's log mean luminance."""
    from trico_basicsr.baselines.exposure_regression import exposure_features
    return np.append(exposure_features(lq), log_mean_luminance(out))


def fit_stack(restore, inputs, targets):
    """The stacked calibration of one model on the training pairs: ``(weights, r2, own_r2)``.

    ``own_r2``: R² of the model's own log mean luminance alone, through a fitted line (scale and offset).
    """
    from trico_basicsr.baselines.exposure_regression import ridge_least_squares
    features = np.asarray([stack_features(lq, restore(lq)) for lq in inputs])
    weights, r2 = ridge_least_squares(features, targets, RIDGE)
    own_r2 = ridge_least_squares(np.column_stack([features[:, -1], np.ones(len(features))]), targets, RIDGE)[1]
    return weights, r2, own_r2


def variants(out, lq, gt, regression, stack_weights, blends, oracle_errors=(), semantic=None):
    """``{variant: [image, ...]}`` for one output (see the module docstring).

    Each variant is one image, except ``oracle ±S``: the too-bright and the too-dark one, whose scores are averaged.
    """
    own, predicted = log_mean_luminance(out), regression.predict(lq)
    images = {OWN: [out]}
    for weight in blends:
        images[f'blend {weight:g}'] = [regain(out, (1 - weight) * own + weight * predicted)]
    images['stacked'] = [regain(out, float(stack_features(lq, out) @ stack_weights))]
    if semantic is not None:
        images['semantic'] = [regain(out, semantic(lq))]
    images['oracle'] = [bg.brightness_matched(out, gt)]
    truth = log_mean_luminance(gt)
    for error in oracle_errors:
        images[f'oracle ±{error:g}'] = [regain(out, truth + error), regain(out, truth - error)]
    return images


def image_scores(img, gt, scale):
    """PSNR, absolute brightness error and squared log-luminance error of one image (see ``METRICS``)."""
    scores = bg.full_reference_scores(img, gt, scale, niqe=False)
    return [scores['PSNR'], scores['abs_bright_err'], (log_mean_luminance(img) - log_mean_luminance(gt)) ** 2]


def score_cell(restore, pair_dir, scale, regression, stack_weights, blends, oracle_errors=(), semantic=None):
    """``{variant: {'PSNR', 'abs_bright_err': means over the images, 'rms_log_err'}}`` for one pair folder."""
    per_variant = {}
    for file_name in sorted(os.listdir(osp.join(pair_dir, 'gt'))):
        lq, gt = bg.read_pair(pair_dir, scale, file_name)
        images = variants(restore(lq), lq, gt, regression, stack_weights, blends, oracle_errors, semantic)
        for name, imgs in images.items():
            per_variant.setdefault(name, []).append(np.mean([image_scores(img, gt, scale) for img in imgs], axis=0))
    scores = {}
    for name, rows in per_variant.items():
        psnr, bright, sq_log = np.mean(rows, axis=0).tolist()
        scores[name] = {'PSNR': psnr, 'abs_bright_err': bright, 'rms_log_err': float(np.sqrt(sq_log))}
    return scores


def markdown(results):
    lines = ['# Exposure blends', '',
             f"Command: `{' '.join(results['command'])}` ({results['date']}, {results['seconds']:.0f} s on "
             f"{results['device']}). Each cell: PSNR (dB) and, in brackets, the mean absolute brightness error "
             '(8-bit grey levels), means over the images. `blend W`: one global gain to the geometric blend of '
             "the model's mean luminance (weight 1 - W) and baseline (c)'s prediction (weight W); `stacked`: to "
             "a ridge regression on baseline (c)'s statistics and the model's own luminance, fitted on the "
             'training pairs; `oracle`: to the ground truth\'s (`PSNR_matched`); `oracle ±S`: to the ground '
             "truth's log mean luminance plus and minus S (natural log of linear luminance; 0.1 is about 10 %), "
             'the two averaged; `semantic`: to a ridge regression on baseline (c)\'s statistics and principal '
             "components of the input's ImageNet features, fitted on the training pairs. The second table of "
             'each model: the root-mean-square error of each variant\'s log mean luminance, in those units.', '',
             f"Baseline (c)'s regression: fitted on {results['regression']['fitted_on']}, "
             f"R² {results['regression']['r2']:.2f} (log mean luminance)."]
    if results.get('semantic'):
        lines.append(f"The semantic regression ({results['semantic']['components']} components): R² "
                     f"{results['semantic']['r2']:.2f} on the same pairs.")
    for model, fit in results['stacked'].items():
        lines.append(f"- {model}: the model's own log mean luminance (through a fitted line) has R² "
                     f"{fit['own_r2']:.2f} on those pairs, the stacked regression {fit['r2']:.2f}.")
    for model in results['stacked']:
        cells = results['scores']
        names = list(next(iter(cells.values()))[model])
        header = ['| family / test set | ' + ' | '.join(names) + ' |', '|---' * (len(names) + 1) + '|']
        lines += ['', f'## {model}', '', 'PSNR (dB) and mean absolute brightness error (grey levels):', ''] + header
        for cell, by_model in cells.items():
            row = by_model[model]
            lines.append(f'| {cell} | ' + ' | '.join(f"{row[n]['PSNR']:.2f} ({row[n]['abs_bright_err']:.1f})"
                                                    for n in names) + ' |')
        lines += ['', 'RMS log-luminance error:', ''] + header
        for cell, by_model in cells.items():
            lines.append(f'| {cell} | ' + ' | '.join(f"{by_model[model][n]['rms_log_err']:.2f}" for n in names) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    torch = bg.prepare(args)
    start = time.time()
    models = [bg.load_model(spec, args.scale) for spec in args.model]  # bad specs fail before any work
    work = osp.abspath(args.work or osp.join(args.out, 'work'))
    os.makedirs(args.out, exist_ok=True)
    regression, inputs, targets = training_pairs(args)
    pairs = bg.synthesise(args, work)
    semantic = fit_semantic(inputs, targets, args.semantic_components)
    results = {'command': [osp.relpath(sys.argv[0], ROOT)] + sys.argv[1:], 'scale': args.scale,
               'seed': args.seed, 'regression': {'fitted_on': regression.fitted_on, 'r2': regression.r2,
                                                 'samples': regression.samples},
               'stacked': {}, 'scores': {}, 'device': 'CPU, %d threads' % torch.get_num_threads(),
               'date': time.strftime('%Y-%m-%d')}
    if semantic is not None:
        results['semantic'] = {'components': args.semantic_components, 'r2': semantic[1]}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for name, _, enhancer in models:
            print(f'fitting the stacked calibration: {name}', flush=True)
            weights, r2, own_r2 = fit_stack(enhancer.enhance, inputs, targets)
            results['stacked'][name] = {'weights': weights.tolist(), 'r2': r2, 'own_r2': own_r2}
            for (family, test_set), pair_dir in pairs.items():
                print(f'{family} / {test_set}: {name}', flush=True)
                results['scores'].setdefault(f'{family} / {test_set}', {})[name] = score_cell(
                    enhancer.enhance, pair_dir, args.scale, regression, weights, args.blends, args.oracle_errors,
                    semantic and semantic[0])
    results['seconds'] = time.time() - start
    write_whole(osp.join(args.out, 'results.json'), json.dumps(results, indent=1))
    write_whole(osp.join(args.out, 'results.md'), markdown(results))
    print(markdown(results))


if __name__ == '__main__':
    main()
