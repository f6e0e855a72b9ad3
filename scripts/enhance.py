"""Brighten and super-resolve dark low-resolution photos with a trained TriCo model.

    python scripts/enhance.py -i dark_photos/ -o out/ --scale 4
    python scripts/enhance.py -i photo.png -o out/ --model experiments/<name>/models/net_g_latest.pth --tile 128

Inputs: a file or a folder (not recursive). Outputs: ``OUTDIR/<input name>.png``, exactly ``scale`` times
the input size. Without ``--model`` the shipped demo weights ``weights/trico_demo_x<scale>.pth`` are used.
A file that cannot be read is reported by name and skipped; the exit status is 1 if any file failed.
"""
import argparse
import os
import sys
from os import path as osp

from tqdm import tqdm

ROOT = osp.abspath(osp.join(osp.dirname(__file__), osp.pardir))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('-i', '--input', required=True, help='image file or folder of images')
    parser.add_argument('-o', '--output', required=True, help='output folder (created if needed)')
    parser.add_argument('--model', help='checkpoint; default: weights/trico_demo_x<scale>.pth')
    parser.add_argument('--scale', type=int, choices=(2, 4), help="the model's scale; default: the checkpoint's")
    parser.add_argument('--tile', type=int, default=0, help='tile size in input pixels (0: whole image). Default: 0')
    parser.add_argument('--tile-pad', type=int, default=48, help='context around tiles, input pixels. Default: 48')
    parser.add_argument('--fp16', action='store_true', help='half precision (CUDA only)')
    parser.add_argument('--device', default=None, help="'cuda' or 'cpu'; default: CUDA when available")
    return parser.parse_args(argv)


def list_inputs(path):
    """Sorted image-like files of a folder, or the single file given."""
    from trico_basicsr.data.image_io import is_image_file
    if osp.isdir(path):
        names = sorted(n for n in os.listdir(path) if osp.isfile(osp.join(path, n)) and not n.startswith('.'))
        files = [osp.join(path, n) for n in names if is_image_file(n)]
        if not files:
            raise FileNotFoundError(f'{path}: no image files')
        return files
    if osp.isfile(path):
        return [path]
    raise FileNotFoundError(f'{path}: no such file or folder')


def default_model(scale):
    path = osp.join(ROOT, 'weights', f'trico_demo_x{scale or 4}.pth')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: pass --model, or see weights/README.md for the demo weights')
    return path


def main(argv=None):
    args = parse_args(argv)
    import trico_basicsr  # noqa: F401  (registers the archs; applies the BasicSR compat fixes)
    from trico_basicsr.data.image_io import read_image, write_png
    from trico_basicsr.utils.inference import TriCoEnhancer

    try:
        files = list_inputs(args.input)
        model_path = args.model or default_model(args.scale)
        enhancer = TriCoEnhancer(model_path, tile=args.tile, tile_pad=args.tile_pad, half=args.fp16, device=args.device)
    except (FileNotFoundError, KeyError, RuntimeError) as error:
        sys.exit(f'error: {error}')
    if args.scale and args.scale != enhancer.scale:
        sys.exit(f'error: --scale {args.scale} but {model_path} is a x{enhancer.scale} model')
    os.makedirs(args.output, exist_ok=True)
    failures = []
    for path in tqdm(files, desc=f'x{enhancer.scale}', unit='image'):
        try:
            img = read_image(path)
        except (ValueError, FileNotFoundError) as error:
            failures.append(str(error))
            tqdm.write(f'skipped {error}')
            continue
        write_png(osp.join(args.output, osp.splitext(osp.basename(path))[0] + '.png'), enhancer.enhance(img))
    print(f'{len(files) - len(failures)} of {len(files)} images written to {args.output}')
    if failures:
        print('failed:\n  ' + '\n  '.join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
