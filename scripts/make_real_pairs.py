"""Build real dark / normal-light training pairs from multi-exposure sequences, split by scene.

    python scripts/make_real_pairs.py --frames path/to/multi_exposure_frames --out datasets/real_pairs --scale 4 2
    python scripts/create_lmdb.py --pairs datasets/real_pairs/train        # optional: LMDBs of one split

The frames are numbered in capture order; consecutive frames of one scene (tripod, exposure bracket)
are grouped into scenes (``trico_basicsr/data/real_pairs.py`` says how). Each dark frame (mean grey
below ``--dark-max``) is paired with its scene's best-exposed frame; pairs whose frames do not line up
(structure correlation below ``--min-correlation`` or a shift above ``--max-shift`` pixels) are refused.
Scenes, not frames, are split into train / val / test, and optionally upper (``--split``, ``--seed``).

Output, for each split: ``gt/<key>.png`` (the well-exposed frame, mod-cropped to the largest scale),
``lq_x<s>/<key>.png`` (the dark frame downsampled ``s`` times with ``--kernel``), keyed by the dark
frame's name; ``exposed/gt`` and ``exposed/lq_x<s>`` hold each scene's reference frame as its own input
(well-exposed photos a model should leave alone). ``report.json`` lists every scene, pair, refusal and
split. The output folder must not exist: it is written as ``<out>.partial`` and renamed when complete.
"""
import argparse
import json
import os
import shutil
import sys
from os import path as osp

from tqdm import tqdm

from trico_basicsr.data.coupled_degradation import mod_crop
from trico_basicsr.data.image_io import is_image_file, read_image, write_png
from trico_basicsr.data.real_pairs import (
    DARK_MAX,
    REFERENCE_BAND,
    SPLITS,
    check_alignment,
    describe_frame,
    downsample_dark,
    group_scenes,
    pair_scene,
    split_scenes,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--frames', required=True, help='folder of numbered multi-exposure frames')
    parser.add_argument('--out', required=True, help='output folder (must not exist)')
    parser.add_argument('--scale', type=int, nargs='+', default=[4, 2], help='scales of the inputs. Default: 4 2')
    parser.add_argument('--kernel', choices=('area', 'binning'), default='area',
                        help="downsampling of the dark frame: 'area' (block mean of the encoded values) or "
                             "'binning' (block mean in linear light, sensor-like). Default: area")
    parser.add_argument('--dark-max', type=float, default=DARK_MAX, help='dark frames: mean grey below. Default: 50')
    parser.add_argument('--reference-band', type=float, nargs=2, default=list(REFERENCE_BAND),
                        help='reference frames: mean grey within. Default: 90 150')
    parser.add_argument('--scene-correlation', type=float, default=0.9,
                        help='neighbouring frames below this structure correlation start a new scene. Default: 0.9')
    parser.add_argument('--min-correlation', type=float, default=0.95,
                        help='refuse a pair whose equalised frames correlate less. Default: 0.95')
    parser.add_argument('--max-shift', type=float, default=1.0,
                        help='refuse a pair whose frames are shifted by more (full-size pixels). Default: 1.0')
    parser.add_argument('--split', type=float, nargs='+', default=[0.8, 0.1, 0.1],
                        help='train, val, test [, upper] shares of the scenes (upper: scenes for the upper '
                             "level's hyper-variables only). Default: 0.8 0.1 0.1")
    parser.add_argument('--seed', type=int, default=0, help='seed of the scene split. Default: 0')
    return parser.parse_args(argv)


def list_frames(folder):
    if not osp.isdir(folder):
        raise FileNotFoundError(f'--frames: {folder} is not a folder')
    names = sorted(n for n in os.listdir(folder) if is_image_file(n) and not n.startswith('.'))
    if not names:
        raise FileNotFoundError(f'--frames: {folder} holds no images')
    return names


def find_pairs(args, names):
    """Scenes, checked pairs and refusals for the frames ``names`` of ``args.frames``."""
    frames = [describe_frame(n, read_image(osp.join(args.frames, n))) for n in tqdm(names, desc='frames')]
    scenes = group_scenes(frames, args.scene_correlation)
    accepted, refused, references = [], [], {}
    for scene_id, scene in enumerate(scenes):
        for pair in pair_scene(scene, scene_id, args.dark_max, tuple(args.reference_band)):
            references[scene_id] = pair.reference
            pair.correlation, pair.shift_px = check_alignment(read_image(osp.join(args.frames, pair.dark)),
                                                              read_image(osp.join(args.frames, pair.reference)))
            if pair.correlation < args.min_correlation:
                refused.append((pair, f'correlation {pair.correlation:.3f} < {args.min_correlation}'))
            elif pair.shift_px > args.max_shift:
                refused.append((pair, f'shift {pair.shift_px:.2f} px > {args.max_shift}'))
            else:
                accepted.append(pair)
    return scenes, accepted, refused, references


def write_example(folder, key, gt, dark, scales, kernel):
    write_png(osp.join(folder, 'gt', f'{key}.png'), gt)
    for s in scales:
        write_png(osp.join(folder, f'lq_x{s}', f'{key}.png'), downsample_dark(dark, s, kernel))


def stem(name):
    return osp.splitext(name)[0]


def write_splits(args, tmp, accepted, references, splits):
    crop = max(args.scale)
    for pair in tqdm(accepted, desc='pairs'):
        gt = mod_crop(read_image(osp.join(args.frames, pair.reference)), crop)
        dark = mod_crop(read_image(osp.join(args.frames, pair.dark)), crop)
        write_example(osp.join(tmp, splits[pair.scene]), stem(pair.dark), gt, dark, args.scale, args.kernel)
    for scene_id, reference in references.items():
        img = mod_crop(read_image(osp.join(args.frames, reference)), crop)
        write_example(osp.join(tmp, splits[scene_id], 'exposed'), stem(reference), img, img, args.scale, 'area')


def report(args, scenes, accepted, refused, references, splits):
    names = SPLITS[:len(args.split)]
    counts = {name: sum(splits[p.scene] == name for p in accepted) for name in names}
    return {
        'frames': args.frames, 'scales': args.scale, 'kernel': args.kernel, 'seed': args.seed,
        'scenes': len(scenes), 'scenes_with_pairs': len(references),
        'pairs_found': len(accepted) + len(refused), 'pairs_kept': len(accepted), 'pairs_per_split': counts,
        'scenes_per_split': {name: sorted(s for s, v in splits.items() if v == name) for name in names},
        'pairs': [vars(p) | {'split': splits[p.scene]} for p in accepted],
        'refused': [vars(p) | {'why': why} for p, why in refused],
    }


def main(argv=None):
    args = parse_args(argv)
    try:
        if osp.exists(args.out):
            raise FileExistsError(f'--out: {args.out} already exists (choose a new folder; nothing is overwritten)')
        if any(s not in (2, 3, 4, 8) for s in args.scale):
            raise ValueError(f'--scale: expected 2, 3, 4 or 8, got {args.scale}')
        names = list_frames(args.frames)
        scenes, accepted, refused, references = find_pairs(args, names)
        if not accepted:
            raise ValueError(f'--frames: no aligned dark/normal pair in {args.frames} ({len(refused)} refused)')
        splits = split_scenes(sorted(references), tuple(args.split), args.seed)
        tmp = args.out.rstrip('/') + '.partial'
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            write_splits(args, tmp, accepted, references, splits)
            with open(osp.join(tmp, 'report.json'), 'w') as f:
                json.dump(report(args, scenes, accepted, refused, references, splits), f, indent=1)
            os.rename(tmp, args.out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    except (FileExistsError, FileNotFoundError, ValueError) as error:
        sys.exit(f'error: {error}')
    print(f'{len(scenes)} scenes, {len(references)} with a reference; pairs kept {len(accepted)} of '
          f'{len(accepted) + len(refused)} (refused: {len(refused)}); written to {args.out}')


if __name__ == '__main__':
    main()
