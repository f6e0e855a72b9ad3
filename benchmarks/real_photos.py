"""Real dark photos: real-pair test scenes, well-exposed inputs (do no harm) and night photos without ground truth.

    python -m benchmarks.real_photos --pairs datasets/real_pairs/test --night datasets/SCI --scale 4 \
        --model trico_light_x4=weights/trico_light_x4.pth --out docs/benchmarks/real_photos_x4

``--pairs`` is a split written by ``scripts/make_real_pairs.py`` (``gt/``, ``lq_x<scale>/`` and
``exposed/``); ``--night`` a folder (searched recursively) of real dark photos. Every method sees the
same inputs. Rows: bicubic + global auto-exposure, LIME + bicubic, and each ``--model``.

Figures (images in 8-bit sRGB; luminance in linear light):
- pairs: PSNR / SSIM (RGB, border of ``scale`` pixels cropped); gain-matched PSNR (the output given one
  linear-light gain to the target's mean luminance first: structure and tone, not the brightness guess);
  brightness error (|mean luminance of output / target - 1|, %); CIEDE2000 colour difference;
- exposed: an input that is already well exposed; brightness change of the output against the input
  (mean |ratio - 1|, % of images within +-10 %) and the share of clipped pixels (>= 254.5/255) beside
  the target's;
- night: over the darkest tenth of each input's pixels, the output's mean grey level (0-255) and mean
  CIELAB chroma (0: grey stays grey), and NIQE of the whole output (lower is better).
"""
import argparse
import json
import os
from os import path as osp

import cv2
import numpy as np

# isort: off
import trico_basicsr  # noqa: F401  (first: makes basicsr importable on today's torchvision; registers the archs)
from basicsr.metrics import calculate_niqe, calculate_psnr, calculate_ssim
# isort: on
from tqdm import tqdm

from benchmarks.baselines import bicubic_auto_exposure, lime_bicubic
from benchmarks.baselines.exposure_regression import gain_to_mean_luminance, luminance
from benchmarks.common import MODEL_SPEC, parse_model_spec, save_panels
from trico_basicsr.data.image_io import is_image_file, read_image, to_uint8
from trico_basicsr.metrics.delta_e_metric import calculate_delta_e

CLIPPED = 254.5 / 255


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--pairs', required=True, help='a split folder of scripts/make_real_pairs.py')
    parser.add_argument('--night', help='folder of real dark photos without ground truth (recursive)')
    parser.add_argument('--scale', type=int, choices=(2, 4), default=4)
    parser.add_argument('--model', action='append', default=[], metavar=MODEL_SPEC,
                        help="a model row; EXPOSURE: 'auto' (default), 'model' or a mean grey level; "
                             "BLACK_LEVEL: 'model' (default) or 'keep'; '@model' is the net as trained")
    parser.add_argument('--night-max-side', type=int, default=400,
                        help='night photos are area-downsampled to this longest side first (bounds the time)')
    parser.add_argument('--grid', type=int, default=0, metavar='N',
                        help='also write OUT/pairs.jpg: N test pairs spread over the split, input, every '
                             'method and the target; OUT/exposed.jpg the same for well-exposed inputs and, '
                             'with --night, OUT/night.jpg for N night photos (no target)')
    parser.add_argument('--grid-only', action='store_true', help='write OUT/pairs.jpg only, no scores')
    parser.add_argument('--out', required=True, help='folder for results.json and results.md')
    return parser.parse_args(argv)


def methods(models, scale):
    """``{name: f(lq) -> output}``: the classical baselines, then each model."""
    from trico_basicsr.utils.inference import TriCoEnhancer
    table = {'bicubic + auto-exposure': lambda lq: bicubic_auto_exposure(lq, scale),
             'LIME + bicubic': lambda lq: lime_bicubic(lq, scale)}
    for entry in models:
        name, checkpoint, finish = parse_model_spec(entry)
        enhancer = TriCoEnhancer(checkpoint, device='cpu', **finish)
        if enhancer.scale != scale:
            raise SystemExit(f'error: {checkpoint} is a x{enhancer.scale} model, not x{scale}')
        table[name] = enhancer.enhance
    return table


def images(folder):
    return sorted(n for n in os.listdir(folder) if is_image_file(n))


def pair_scores(out, gt, scale):
    """PSNR, SSIM, gain-matched PSNR, brightness error (%) and ΔE of one output against its target."""
    out8, gt8 = to_uint8(out), to_uint8(gt)
    target = float(luminance(gt).mean())
    matched = to_uint8(gain_to_mean_luminance(out, target))
    ratio = float(luminance(out).mean()) / max(target, 1e-6)
    return {'psnr': calculate_psnr(out8, gt8, scale), 'ssim': calculate_ssim(out8, gt8, scale),
            'psnr_gain_matched': calculate_psnr(matched, gt8, scale), 'brightness_error_pct': abs(ratio - 1) * 100,
            'delta_e': calculate_delta_e(out8, gt8, scale, bgr=False)}


def exposed_scores(out, lq, gt):
    ratio = float(luminance(out).mean()) / max(float(luminance(lq).mean()), 1e-6)
    return {'brightness_change_pct': abs(ratio - 1) * 100, 'within_10pct': float(abs(ratio - 1) <= 0.1),
            'clipped_pct': float((out.max(axis=2) >= CLIPPED).mean()) * 100,
            'target_clipped_pct': float((gt.max(axis=2) >= CLIPPED).mean()) * 100}


def dark_tenth_scores(out, lq):
    """Mean grey level (0-255) and mean CIELAB chroma of the output over the darkest tenth of the input's
    pixels (night skies: near black, and grey stays grey)."""
    y = luminance(lq)
    dark = cv2.resize((y <= np.quantile(y, 0.1)).astype(np.uint8), out.shape[1::-1],
                      interpolation=cv2.INTER_NEAREST).astype(bool)
    lab = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_RGB2LAB)
    chroma = np.hypot(lab[:, :, 1], lab[:, :, 2])
    return {'dark_tenth_level': float(to_uint8(out)[dark].mean()), 'dark_tenth_chroma': float(chroma[dark].mean())}


def night_scores(out, lq, scale):
    """:func:`dark_tenth_scores` and NIQE of the whole output (lower is better)."""
    niqe = float(calculate_niqe(to_uint8(out)[:, :, ::-1], crop_border=scale))
    return {**dark_tenth_scores(out, lq), 'niqe': niqe}


def mean_of(rows):
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]} if rows else {}


def night_inputs(folder, max_side):
    for root, _, names in sorted(os.walk(folder)):
        for name in sorted(n for n in names if is_image_file(n)):
            img = read_image(osp.join(root, name))
            factor = max_side / max(img.shape[:2])
            if factor < 1:
                img = cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
            yield osp.relpath(osp.join(root, name), folder), img


def evaluate(args, table):
    """``{method: {split: mean scores}}`` of every method of ``table`` (:func:`methods`)."""
    lq_name = f'lq_x{args.scale}'
    results = {name: {} for name in table}
    splits = [('pairs', args.pairs), ('exposed', osp.join(args.pairs, 'exposed'))]
    for split, folder in splits:
        if not osp.isdir(osp.join(folder, 'gt')):
            continue
        rows = {name: [] for name in table}
        for image in tqdm(images(osp.join(folder, 'gt')), desc=split, unit='image'):
            gt, lq = read_image(osp.join(folder, 'gt', image)), read_image(osp.join(folder, lq_name, image))
            for name, enhance in table.items():
                out = enhance(lq)
                rows[name].append(pair_scores(out, gt, args.scale) if split == 'pairs' else exposed_scores(out, lq, gt))
        for name in table:
            results[name][split] = {'images': len(rows[name]), **mean_of(rows[name])}
    if args.night:
        rows = {name: [] for name in table}
        for _, lq in tqdm(list(night_inputs(args.night, args.night_max_side)), desc='night', unit='image'):
            for name, enhance in table.items():
                rows[name].append(night_scores(enhance(lq), lq, args.scale))
        for name in table:
            results[name]['night'] = {'images': len(rows[name]), **mean_of(rows[name])}
    return results


COLUMNS = [('pairs', 'psnr', 'PSNR', 2), ('pairs', 'ssim', 'SSIM', 3),
           ('pairs', 'psnr_gain_matched', 'gain-matched PSNR', 2),
           ('pairs', 'brightness_error_pct', 'brightness err %', 1), ('pairs', 'delta_e', 'ΔE', 2),
           ('exposed', 'brightness_change_pct', 'exposed: change %', 1),
           ('exposed', 'within_10pct', 'within ±10 %', 2), ('exposed', 'clipped_pct', 'clipped %', 2),
           ('night', 'dark_tenth_level', 'night: darkest tenth', 1), ('night', 'dark_tenth_chroma', 'its chroma', 1),
           ('night', 'niqe', 'NIQE', 2)]


def markdown(results, args):
    first = next(iter(results.values()))
    counts = ', '.join(f"{split} {first[split]['images']}" for split in ('pairs', 'exposed', 'night') if split in first)
    lines = [f'# Real photos, x{args.scale}', '', f'Images: {counts}. Command: `python -m benchmarks.real_photos '
             f'--pairs <real pairs>/{osp.basename(osp.normpath(args.pairs))} '
             + ('--night <night photos> ' if args.night else '') + f'--scale {args.scale} ' +
             ' '.join(f'--model "{m}"' for m in args.model) + (f' --grid {args.grid}' if args.grid else '') + '`', '',
             '| method | ' + ' | '.join(c[2] for c in COLUMNS) + ' |', '|---' * (len(COLUMNS) + 1) + '|']
    for name, by_split in results.items():
        cells = [f'{by_split[s][k]:.{d}f}' if s in by_split else '' for s, k, _, d in COLUMNS]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def spread(items, count):
    """``count`` of ``items``, evenly spread over them (first and last included)."""
    return [items[i] for i in np.linspace(0, len(items) - 1, min(count, len(items))).round().astype(int)]


def save_grid(args, table, folder, path):
    """``args.grid`` pairs of ``folder`` (a split, or its ``exposed/``), spread over it: input, each method, target."""
    rows = []
    for name in spread(images(osp.join(folder, 'gt')), args.grid):
        gt = read_image(osp.join(folder, 'gt', name))
        lq = read_image(osp.join(folder, f'lq_x{args.scale}', name))
        rows.append({'input': lq, **{method: enhance(lq) for method, enhance in table.items()}, 'target': gt})
    save_panels(rows, ['input', *table, 'target'], path)


def save_night_grid(args, table, path):
    """``args.grid`` night photos spread over ``args.night``: input and each method (there is no target)."""
    rows = [{'input': lq, **{method: enhance(lq) for method, enhance in table.items()}}
            for _, lq in spread(list(night_inputs(args.night, args.night_max_side)), args.grid)]
    save_panels(rows, ['input', *table], path)


def main(argv=None):
    args = parse_args(argv)
    if args.grid_only and not args.grid:
        raise SystemExit('error: --grid-only needs --grid N')
    os.makedirs(args.out, exist_ok=True)
    table = methods(args.model, args.scale)  # models loaded once for the grid and the scores
    if args.grid:
        save_grid(args, table, args.pairs, osp.join(args.out, 'pairs.jpg'))
        if osp.isdir(osp.join(args.pairs, 'exposed', 'gt')):
            save_grid(args, table, osp.join(args.pairs, 'exposed'), osp.join(args.out, 'exposed.jpg'))
        if args.night:
            save_night_grid(args, table, osp.join(args.out, 'night.jpg'))
    if args.grid_only:
        return
    results = evaluate(args, table)
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump({'scale': args.scale, 'models': args.model, 'results': results}, f, indent=1)
    with open(osp.join(args.out, 'results.md'), 'w') as f:
        f.write(markdown(results, args))
    print(markdown(results, args))


if __name__ == '__main__':
    main()
