"""Synthesise dark low-resolution / normal-light high-resolution pairs from HR images.

    python scripts/make_coupled_pairs.py --hr datasets/BSD100 --out datasets/BSD100_ultra_dark_x4 \
        --scale 4 --preset ultra_dark --seed 0

Writes ``OUT/gt/<key>.png`` (HR, mod-cropped to the scale), ``OUT/lq_x<s>/<key>.png`` (dark LR),
``OUT/meta_info.txt`` (BasicSR's ``name (h,w,c)`` lines) and ``OUT/degradation.json`` (preset, ranges,
seed and each image's drawn parameters). Each image's generator is seeded by ``(seed, CRC-32 of its
key)``: the same seed gives byte-identical files, adding images never changes the others, and the
pairs equal what ``CoupledOnlineDataset`` produces in validation with the same ``seed`` and preset.
The output appears only when complete (written to a temporary folder, then renamed). ``--overwrite``
replaces only a folder this script wrote (one holding ``degradation.json``), never any other folder.
Inputs sharing a key (``a.jpg``, ``a.png``) and images smaller than the scale are errors naming the file.
"""
import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
from os import path as osp

from tqdm import tqdm

from trico_basicsr.data.coupled_base import stable_image_seed
from trico_basicsr.data.coupled_degradation import PRESETS, get_preset, make_pair
from trico_basicsr.data.draw_sampler import rng_from_key
from trico_basicsr.data.image_io import write_png
from trico_basicsr.data.image_source import ImageSource


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--hr', required=True, help='folder of normal-light HR images (or skimage:name,...)')
    parser.add_argument('--out', required=True, help='output folder (must not exist unless --overwrite)')
    parser.add_argument('--scale', type=int, choices=(2, 4), required=True)
    parser.add_argument('--preset', choices=sorted(PRESETS), default='ultra_dark')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true', help='replace an existing output folder')
    return parser.parse_args(argv)


def make_pairs(hr, out, scale, preset_name, seed, overwrite=False, progress=True):
    """Write the pair folder ``out``; returns the degradation record (see module docstring)."""
    if osp.exists(out) and not overwrite:
        raise FileExistsError(f'{out} already exists (use --overwrite to replace it)')
    if osp.exists(out) and not osp.isfile(osp.join(out, 'degradation.json')):
        raise FileExistsError(f'{out} exists and was not written by this script (no degradation.json): '
                              'refusing to replace it with --overwrite; choose another --out')
    source = ImageSource(hr, where='--hr')
    preset = get_preset(preset_name)
    parent = osp.dirname(osp.abspath(out))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f'.{osp.basename(out)}.', suffix='.partial', dir=parent)
    record = {'preset': preset_name, 'ranges': dataclasses.asdict(preset), 'scale': scale, 'seed': seed, 'images': {}}
    try:
        meta_lines = []
        for index in tqdm(range(len(source)), desc=f'{preset_name} x{scale}', unit='image', disable=not progress):
            key = source.key(index)
            rng = rng_from_key((seed, stable_image_seed(key)))
            hr_img = source.load(index)
            if min(hr_img.shape[:2]) < scale:
                raise ValueError(f'{source.path(index)}: {hr_img.shape[0]}x{hr_img.shape[1]} pixels is smaller than '
                                 f'the scale {scale}: no low-resolution image can be made from it')
            gt, lq, _, params = make_pair(hr_img, scale, preset, rng)
            write_png(osp.join(staging, 'gt', f'{key}.png'), gt)
            write_png(osp.join(staging, f'lq_x{scale}', f'{key}.png'), lq)
            meta_lines.append(f'{key}.png ({gt.shape[0]},{gt.shape[1]},3)\n')
            record['images'][key] = params.to_dict()
        with open(osp.join(staging, 'meta_info.txt'), 'w') as f:
            f.writelines(meta_lines)
        with open(osp.join(staging, 'degradation.json'), 'w') as f:
            json.dump(record, f, indent=1, sort_keys=True)
        if osp.exists(out):
            shutil.rmtree(out)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return record


def main(argv=None):
    args = parse_args(argv)
    try:
        record = make_pairs(args.hr, args.out, args.scale, args.preset, args.seed, args.overwrite)
    except (FileExistsError, FileNotFoundError, ValueError, KeyError) as error:
        sys.exit(f'error: {error}')
    print(f"wrote {len(record['images'])} pairs to {args.out}")


if __name__ == '__main__':
    main()
