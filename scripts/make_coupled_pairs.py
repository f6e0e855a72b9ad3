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
import sys

from trico_basicsr.data.coupled_degradation import PRESETS
from trico_basicsr.data.pair_folder import make_pairs


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--hr', required=True, help='folder of normal-light HR images (or skimage:name,...)')
    parser.add_argument('--out', required=True, help='output folder (must not exist unless --overwrite)')
    parser.add_argument('--scale', type=int, choices=(2, 4), required=True)
    parser.add_argument('--preset', choices=sorted(PRESETS), default='ultra_dark')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true', help='replace an existing output folder')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        record = make_pairs(args.hr, args.out, args.scale, args.preset, args.seed, args.overwrite)
    except (FileExistsError, FileNotFoundError, ValueError, KeyError) as error:
        sys.exit(f'error: {error}')
    print(f"wrote {len(record['images'])} pairs to {args.out}")


if __name__ == '__main__':
    main()
