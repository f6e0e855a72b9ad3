"""Which component of a degradation family costs a model its lead? Switch each off in turn and re-score.

    python scripts/benchmark_components.py --family heldout_banding_jpeg --test-hr datasets/Set14 datasets/Set5 \
        --scale 4 --without jpeg row_noise sensor_noise --model shipped=weights/trico_light_x4.pth \
        --out docs/benchmarks/components_x4

Each test set is darkened with the family as ``benchmark_generalisation.py`` does (same seed, same
per-image draws), then again with one component switched off (``--without``; see :data:`COMPONENTS`).
Every other parameter of every image stays what it was -- the draws do not shift -- so a difference
between two rows is that component's doing alone.

Scored for bicubic + auto-exposure and each ``--model NAME=CHECKPOINT`` (RGB PSNR, ``scale`` border cropped,
means over the images):
- ``PSNR``: as output;
- ``PSNR_matched``: after one global linear-light gain matches the mean luminance (as in the
  generalisation benchmark): brightness errors removed;
- ``PSNR_tone``: after the best global tone curve, per channel (each output level, in 64 bins, replaced by
  the ground truth's mean over the pixels at that level): an oracle that removes every global tone and
  colour error, so what is left is structure -- detail, noise, artefacts.

The model's lead over auto-exposure in ``PSNR_tone`` is what its restoration of structure is worth on
that variant; comparing rows shows which component takes it away. Writes ``results.json`` and
``results.md`` under ``--out`` (each written whole, through a temporary file).
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

#: Components that can be switched off: name -> PresetRanges overrides that remove it (and nothing else).
COMPONENTS = {
    'jpeg': {'jpeg_prob': 0.0},
    'row_noise': {'row_noise': (0.0, 0.0)},
    'sensor_noise': {'photons': None, 'read_noise': (0.0, 0.0), 'row_noise': (0.0, 0.0)},
    'blur': {'blur_prob': 0.0},
    'colour_cast': {'wb_shift': 0.0},
    'highlights': {'highlight_prob': 0.0},
    'tone_curve': {'tone_curves': ('srgb',)},
    'downsampler': {'downsamplers': ('bicubic',)},
}
METRICS = ('PSNR', 'PSNR_matched', 'PSNR_tone')
TONE_BINS = 64
AUTO_EXPOSURE = 'bicubic + auto-exposure'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--family', required=True, help='degradation family (a preset name)')
    parser.add_argument('--test-hr', nargs='+', required=True, help='folders of HR test images')
    parser.add_argument('--scale', type=int, default=4)
    parser.add_argument('--without', nargs='+', required=True, help=f"components to switch off, one at a time: "
                        f"{', '.join(COMPONENTS)}")
    parser.add_argument('--model', action='append', default=[], help='NAME=CHECKPOINT (repeatable)')
    parser.add_argument('--seed', type=int, default=0, help='degradation seed (as make_coupled_pairs)')
    parser.add_argument('--out', required=True, help='folder for results.json and results.md')
    return parser.parse_args(argv)


def tone_matched(out, gt, bins=TONE_BINS):
    """``out`` after the best global per-channel tone curve onto ``gt`` (an oracle; see the module docstring).

    Args:
        out, gt (ndarray): float32 RGB HWC in [0, 1], the same size.

    Returns:
        ndarray: float32 RGB HWC in [0, 1]; each channel's values replaced by the mean of ``gt`` over the
        pixels whose ``out`` value falls in the same of ``bins`` equal bins.
    """
    matched = np.empty_like(gt, dtype=np.float32)
    for channel in range(3):
        level = np.minimum((np.clip(out[..., channel], 0, 1) * bins).astype(np.int64), bins - 1).ravel()
        total = np.bincount(level, gt[..., channel].ravel(), bins)
        count = np.bincount(level, None, bins)
        curve = total / np.maximum(count, 1)
        matched[..., channel] = curve[level].reshape(gt.shape[:2])
    return matched


def scores(out, gt, scale):
    """PSNR as output, brightness-matched and tone-matched (dB; see the module docstring)."""
    from basicsr.metrics import calculate_metric
    from benchmark_generalisation import brightness_matched
    from benchmark_quality import to_bgr_uint8

    def psnr(img):
        return float(calculate_metric({'img': to_bgr_uint8(img), 'img2': to_bgr_uint8(gt)},
                                      {'type': 'calculate_psnr', 'crop_border': scale}))
    return {'PSNR': psnr(out), 'PSNR_matched': psnr(brightness_matched(out, gt)),
            'PSNR_tone': psnr(tone_matched(out, gt))}


def variants(family, without):
    """``{variant name: preset}``: the family, then the family without each component in ``without``."""
    from trico_basicsr.data.coupled_degradation import PRESETS, get_preset
    if family not in PRESETS:
        raise SystemExit(f"error: --family {family!r} is unknown; choose from {', '.join(PRESETS)}")
    unknown = [c for c in without if c not in COMPONENTS]
    if unknown:
        raise SystemExit(f"error: --without {' '.join(unknown)}: unknown; choose from {', '.join(COMPONENTS)}")
    full = get_preset(family)
    presets = {'full family': full}
    for component in without:
        preset = get_preset(family, COMPONENTS[component])
        if preset == full:
            raise SystemExit(f'error: --without {component}: the family {family!r} has no {component} to remove')
        presets[f'without {component}'] = preset
    return presets


def synthesise(hr_folder, preset, scale, seed, images=None, where='--test-hr'):
    """``[(lq, gt, gt_lr)]`` for every image of ``hr_folder`` (the first ``images`` in key order, if given),
    drawn as ``make_coupled_pairs`` draws them.

    ``gt_lr`` is ``make_pair``'s target for the middle level (``gt``'s bicubic downsampling); ``where``
    names the caller's option in the error for a folder without images.
    """
    from trico_basicsr.data.coupled_base import stable_image_seed
    from trico_basicsr.data.coupled_degradation import make_pair
    from trico_basicsr.data.draw_sampler import rng_from_key
    from trico_basicsr.data.image_source import ImageSource
    source = ImageSource(hr_folder, where=where)
    pairs = []
    for index in range(len(source) if images is None else min(images, len(source))):
        rng = rng_from_key((seed, stable_image_seed(source.key(index))))
        gt, lq, gt_lr, _ = make_pair(source.load(index), scale, preset, rng)
        pairs.append((lq, gt, gt_lr))
    return pairs


def restorers(args):
    """``{name: restore}``: bicubic + auto-exposure and every ``--model``."""
    from benchmark_generalisation import load_model

    from trico_basicsr.baselines import bicubic_auto_exposure
    methods = {AUTO_EXPOSURE: lambda lq: bicubic_auto_exposure(lq, args.scale)}
    for spec in args.model:
        name, _, enhancer = load_model(spec, args.scale)
        methods[name] = enhancer.enhance
    return methods


def markdown(results):
    methods = list(next(iter(next(iter(results['scores'].values())).values())))
    models = [m for m in methods if m != AUTO_EXPOSURE]
    lines = [f"# Components of `{results['family']}`, x{results['scale']}", '',
             f"Command: `{' '.join(results['command'])}` ({results['date']}, {results['seconds']:.0f} s on "
             f"{results['device']}). Each cell: PSNR as output / after brightness matching / after the best "
             f"global tone curve (dB, means over the images). The last columns: each model's lead over "
             f"auto-exposure as output and after tone matching (structure alone).", '']
    for test_set in results['test_sets']:
        lines += [f'## {test_set}', '',
                  '| variant | ' + ' | '.join(methods) + ' | ' +
                  ' | '.join(f'{m}: lead as output / structure' for m in models) + ' |',
                  '|---' * (1 + len(methods) + len(models)) + '|']
        for variant, per_set in results['scores'].items():
            cells = per_set[test_set]
            row = [' / '.join(f'{cells[m][k]:.2f}' for k in METRICS) for m in methods]
            row += [f"{cells[m]['PSNR'] - cells[AUTO_EXPOSURE]['PSNR']:+.2f} / "
                    f"{cells[m]['PSNR_tone'] - cells[AUTO_EXPOSURE]['PSNR_tone']:+.2f}" for m in models]
            lines.append(f'| {variant} | ' + ' | '.join(row) + ' |')
        lines.append('')
    return '\n'.join(lines)


def write_whole(path, text):
    """Write ``text`` to ``path`` whole or not at all (through a temporary file)."""
    from trico_basicsr.utils.atomic import atomic_write
    atomic_write(path, lambda f: f.write(text.encode('utf-8')))


def main(argv=None):
    args = parse_args(argv)
    import torch

    import trico_basicsr  # noqa: F401
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 2)))
    start = time.time()
    presets = variants(args.family, args.without)
    methods = restorers(args)
    test_sets = {osp.basename(osp.normpath(folder)): folder for folder in args.test_hr}
    results = {'command': [osp.relpath(sys.argv[0], ROOT)] + sys.argv[1:], 'family': args.family,
               'scale': args.scale, 'seed': args.seed, 'test_sets': list(test_sets),
               'overrides': {f'without {c}': COMPONENTS[c] for c in args.without},
               'models': dict(spec.partition('=')[::2] for spec in args.model),
               'device': 'CPU, %d threads' % torch.get_num_threads(), 'date': time.strftime('%Y-%m-%d'),
               'scores': {}}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for variant, preset in presets.items():
            results['scores'][variant] = {}
            for test_set, folder in test_sets.items():
                pairs = synthesise(folder, preset, args.scale, args.seed)
                cell = results['scores'][variant][test_set] = {}
                for method, restore in methods.items():
                    print(f'{variant} / {test_set}: {method}', flush=True)
                    per_image = [scores(restore(lq), gt, args.scale) for lq, gt, _ in pairs]
                    cell[method] = {k: float(np.mean([s[k] for s in per_image])) for k in METRICS}
    results['seconds'] = time.time() - start
    os.makedirs(args.out, exist_ok=True)
    write_whole(osp.join(args.out, 'results.json'), json.dumps(results, indent=1))
    write_whole(osp.join(args.out, 'results.md'), markdown(results))
    print(markdown(results))


if __name__ == '__main__':
    main()
