"""Which level lifts the shadows? Black point and brightness of each level's output against its target.

    python scripts/benchmark_black_level.py --hr datasets/BSD100 datasets/Set14 --images 40 \
        --presets camera_linear ultra_dark heldout_aces_lanczos --scale 4 \
        --model "shipped=weights/trico_light_x4.pth" --out docs/benchmarks/black_level_x4

Every image (the first ``--images`` of each ``--hr`` folder, in key order) is darkened with each
``--presets`` entry as ``make_coupled_pairs`` does (same seed, same per-image draws). A TriCoNet checkpoint
then gives its middle level's ``lit`` image (low resolution; its target is ``gt_lr``, the normally lit
bicubic downsampling) and the final ``sr`` output (its target ``gt``). For each, means over the images, in
8-bit grey levels:

- ``black``: the 1st percentile of the per-pixel minimum channel (where black is); ``black_gt``: the
  same of the target;
- ``dark``: mean of the pixels under the darkest tenth of the input (night skies, shadows); ``dark_gt``;
- ``bright_err``: mean grey minus the target's (> 0: too bright).

Outputs whose ``black`` sits well above ``black_gt`` look washed out: shadows lifted to a grey haze. The
two levels side by side show where the lift is made. Bicubic + auto-exposure is scored as ``sr`` for
reference. Writes ``results.json`` and ``results.md`` under ``--out`` (each written whole, as
``benchmark_components.py`` writes its own).
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

AUTO_EXPOSURE = 'bicubic + auto-exposure'
STATISTICS = ('black', 'black_gt', 'dark', 'dark_gt', 'bright_err')
BLACK_QUANTILE = 0.01
DARK_FRACTION = 0.1


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--hr', nargs='+', required=True, help='folders of normally lit HR images')
    parser.add_argument('--images', type=int, default=40, help='first N images of each folder (key order)')
    parser.add_argument('--presets', nargs='+', required=True, help='degradation presets, one cell each')
    parser.add_argument('--scale', type=int, default=4)
    parser.add_argument('--model', action='append', default=[], required=True,
                        help='NAME=CHECKPOINT of a TriCoNet (repeatable)')
    parser.add_argument('--seed', type=int, default=0, help='degradation seed (as make_coupled_pairs)')
    parser.add_argument('--out', required=True, help='folder for results.json and results.md')
    args = parser.parse_args(argv)
    if args.images < 1:
        parser.error(f'--images must be at least 1, got {args.images}')
    return args


def black_point(img):
    """1st percentile of the per-pixel minimum channel of an RGB HWC float image, in 8-bit grey levels."""
    return float(np.quantile(img.min(axis=2), BLACK_QUANTILE) * 255)


def level_statistics(out, target, dark_mask):
    """``{black, black_gt, dark, dark_gt, bright_err}`` of ``out`` against ``target`` (both RGB HWC in [0, 1]).

    ``dark_mask`` (H, W) bool: the pixels under the input's darkest tenth, at ``out``'s resolution.
    """
    out = np.clip(out, 0, 1)
    return {'black': black_point(out), 'black_gt': black_point(target),
            'dark': float(out[dark_mask].mean() * 255), 'dark_gt': float(target[dark_mask].mean() * 255),
            'bright_err': float((out.mean() - target.mean()) * 255)}


def darkest_tenth(lq, scale):
    """Masks of the input's darkest tenth (by mean channel): ``(at lq's size, at scale x lq's size)``."""
    luminance = lq.mean(axis=2)
    mask = luminance <= np.quantile(luminance, DARK_FRACTION)
    return mask, np.repeat(np.repeat(mask, scale, axis=0), scale, axis=1)


def pairs(folder, preset_name, scale, seed, images):
    """``[(lq, gt_lr, gt)]`` for the first ``images`` images of ``folder``, drawn as make_coupled_pairs draws.

    ``gt_lr`` is what ``make_pair`` gives the middle level as its target: ``gt``'s bicubic downsampling.
    """
    from benchmark_components import synthesise

    from trico_basicsr.data.coupled_degradation import get_preset
    try:
        preset = get_preset(preset_name)
    except (KeyError, ValueError) as error:
        raise SystemExit(f'error: --presets {preset_name!r}: {error}') from None
    try:
        drawn = synthesise(folder, preset, scale, seed, images, where=f'--hr {folder}')
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f'error: {error}') from None
    return [(lq, gt_lr, gt) for lq, gt, gt_lr in drawn]


def levels_of(enhancer, lq):
    """``(lit, sr)`` of a TriCoNet for ``lq`` (RGB HWC float), as RGB HWC float arrays."""
    import torch
    net = enhancer.net
    x = torch.from_numpy(np.ascontiguousarray(lq.transpose(2, 0, 1)))[None].to(enhancer.device)
    with torch.no_grad():
        out = net(x.to(next(net.parameters()).dtype), return_intermediates=True)
    as_image = lambda t: t[0].float().cpu().numpy().transpose(1, 2, 0)  # noqa: E731
    return as_image(out['lit']), as_image(out['sr'])


def load_models(specs, scale):
    """``{name: TriCoEnhancer}``; a clear error for a checkpoint that is not a x``scale`` TriCoNet."""
    from benchmark_generalisation import load_model
    models = {}
    for spec in specs:
        name, path, enhancer = load_model(spec, scale)
        if not hasattr(enhancer.net, 'illum'):
            raise SystemExit(f'error: --model {spec!r}: {path} has no illumination level (not a TriCoNet)')
        models[name] = enhancer
    return models


def evaluate(models, drawn, scale):
    """``{method: {'lit': stats, 'sr': stats}}``, each statistic averaged over ``drawn``."""
    from trico_basicsr.baselines import bicubic_auto_exposure
    per_image = {name: {'lit': [], 'sr': []} for name in [AUTO_EXPOSURE, *models]}
    for lq, gt_lr, gt in drawn:
        mask_lr, mask_hr = darkest_tenth(lq, scale)
        per_image[AUTO_EXPOSURE]['sr'].append(level_statistics(bicubic_auto_exposure(lq, scale), gt, mask_hr))
        for name, enhancer in models.items():
            lit, sr = levels_of(enhancer, lq)
            per_image[name]['lit'].append(level_statistics(lit, gt_lr, mask_lr))
            per_image[name]['sr'].append(level_statistics(sr, gt, mask_hr))
    return {name: {level: {k: float(np.mean([s[k] for s in stats])) for k in STATISTICS}
                   for level, stats in levels.items() if stats}
            for name, levels in per_image.items()}


def markdown(results):
    lines = ['# Black level of each level, x{}'.format(results['scale']), '',
             f"Command: `{results['command']}` ({results['date']}, {results['seconds']:.0f} s on "
             f"{results['device']}). Grey levels (8-bit); `black`: 1st percentile of the minimum channel; "
             '`dark`: mean under the darkest tenth of the input; `bright_err`: mean grey minus the target\'s. '
             '`lit` is scored against `gt_lr` (low resolution), `sr` against `gt`.', '']
    for cell, methods in results['cells'].items():
        lines += [f'## {cell}', '', '| method | level | black | black_gt | dark | dark_gt | bright_err |',
                  '|---|---|---|---|---|---|---|']
        for name, levels in methods.items():
            for level, s in levels.items():
                lines.append(f"| {name} | {level} | {s['black']:.1f} | {s['black_gt']:.1f} | {s['dark']:.1f} | "
                             f"{s['dark_gt']:.1f} | {s['bright_err']:+.1f} |")
        lines.append('')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    for folder in args.hr:
        if not osp.isdir(folder):
            raise SystemExit(f'error: --hr {folder}: not a folder')
    import trico_basicsr  # noqa: F401  (before basicsr: compat fixes, registries)
    warnings.filterwarnings('ignore', category=UserWarning)
    start = time.time()
    models = load_models(args.model, args.scale)
    cells = {}
    for folder in args.hr:
        for preset in args.presets:
            cell = f'{preset} / {osp.basename(osp.normpath(folder))}'
            print(cell, flush=True)
            cells[cell] = evaluate(models, pairs(folder, preset, args.scale, args.seed, args.images), args.scale)
    import torch
    from benchmark_components import write_whole
    results = {'command': ' '.join(['scripts/benchmark_black_level.py', *(sys.argv[1:] if argv is None else argv)]),
               'date': time.strftime('%Y-%m-%d'), 'seconds': time.time() - start,
               'device': f'CPU, {torch.get_num_threads()} threads', 'scale': args.scale, 'images': args.images,
               'cells': cells}
    os.makedirs(args.out, exist_ok=True)
    write_whole(osp.join(args.out, 'results.json'), json.dumps(results, indent=1))
    write_whole(osp.join(args.out, 'results.md'), markdown(results))
    print(f"wrote {osp.join(args.out, 'results.md')}")


if __name__ == '__main__':
    main()
