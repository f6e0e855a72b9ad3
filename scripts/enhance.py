"""Brighten and super-resolve dark low-resolution photos with a trained TriCo model.

    python scripts/enhance.py -i dark_photos/ -o out/ --scale 4
    python scripts/enhance.py -i photo.png -o out/ --model experiments/<name>/models/net_g_latest.pth --tile 128

Inputs: a file or a folder (not recursive), upright as a viewer shows them (the EXIF orientation of
phone photos is applied). Outputs: ``OUTDIR/<input name><suffix>.png``, exactly ``scale`` times the input
size, in the input's layout: a 16-bit input gives a 16-bit PNG, an alpha channel is upscaled and
re-attached, a greyscale input gives a greyscale PNG unless ``--color``. Names are unique even where the
file system ignores case: inputs that share a stem keep their extension (``a_jpg.png``, ``a_png.png``) and
a name still taken gets ``_2``, ``_3``... Without ``--model`` the shipped weights
``weights/trico_light_x<scale>.pth`` are used.

Inputs are never overwritten: an output folder that is, or is inside, the input's folder is refused
unless ``--suffix`` is given, and no output may have an input's path. A file that cannot be read, written
or enhanced (out of memory: try a smaller ``--tile``; NaN output from a diverged checkpoint) is reported
by name and skipped, nothing is written for it, and the exit status is then 1. A checkpoint that cannot be
loaded (or holds NaN weights) or an unusable output folder stops the run with exit status 2.
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
    parser.add_argument('--model', help='checkpoint; default: weights/trico_light_x<scale>.pth')
    parser.add_argument('--scale', type=int, choices=(2, 4), help="the model's scale; default: the checkpoint's")
    parser.add_argument('--tile', type=int, default=0, help='tile size in input pixels (0: whole image). Default: 0')
    parser.add_argument('--tile-pad', type=int, default=48, help='context around tiles, input pixels. Default: 48')
    parser.add_argument('--fp16', action='store_true', help='half precision (CUDA only)')
    parser.add_argument('--self-ensemble', action='store_true',
                        help='average over the 8 flips and transposes of each input (8x slower; see README)')
    parser.add_argument('--device', default=None, help="'cuda' or 'cpu'; default: CUDA when available")
    parser.add_argument('--suffix', default='', help="appended to output names (e.g. '_x4'); allows -o inside -i")
    parser.add_argument('--color', action='store_true', help='write greyscale inputs as RGB (default: greyscale out)')
    parser.add_argument('--exposure', default='auto', type=exposure_choice,
                        help="how bright the output is: 'auto' (dark photos lit to a standard exposure, well-exposed "
                             "photos left as they are), 'model' (the network's own estimate) or a mean grey level "
                             'in (0, 1) for dark photos, e.g. 0.35 for a darker result. Default: auto')
    parser.add_argument('--black-level', choices=('keep', 'model'), default='model',
                        help="'keep': shadows at the black level the illumination level gave them, for night "
                             "scenes (the SR level lifts them, and unlit skies turn grey); 'model': as the network "
                             'outputs them, best for daytime scenes. Default: model')
    return parser.parse_args(argv)


def exposure_choice(text):
    """``--exposure``: 'auto', 'model' or a float in (0, 1)."""
    from trico_basicsr.archs.exposure_anchor import exposure_setting
    try:
        return exposure_setting(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class UsageError(Exception):
    """A problem with the command line or the run's set-up (exit status 2)."""


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


def output_paths(files, output, suffix=''):
    """``{input: output path}``, one distinct name per input even on a case-insensitive file system.

    Inputs whose stems match ignoring case keep their extension in the name (``a_jpg.png``, ``a_png.png``);
    a name already taken (``a_png.png`` beside ``a.png`` and ``a.jpg``) gets ``_2``, ``_3``...

    Raises:
        UsageError: An output would be an input (so writing it would destroy the input).
    """
    stems = {}
    for path in files:
        stems.setdefault(osp.splitext(osp.basename(path))[0].lower(), []).append(path)
    taken, outputs = set(), {}
    for path in files:
        stem, extension = osp.splitext(osp.basename(path))
        name = stem if len(stems[stem.lower()]) == 1 else f"{stem}_{extension.lstrip('.').lower()}"
        unique, number = name, 2
        while f'{unique}{suffix}'.lower() in taken:
            unique, number = f'{name}_{number}', number + 1
        taken.add(f'{unique}{suffix}'.lower())
        outputs[path] = osp.join(output, f'{unique}{suffix}.png')
    inputs = {osp.normcase(osp.realpath(p)) for p in files}
    clashes = sorted(p for p, out in outputs.items() if osp.normcase(osp.realpath(out)) in inputs)
    if clashes:
        raise UsageError(f'writing the output of {clashes[0]} would overwrite an input: choose another -o or --suffix')
    return outputs


def check_output_folder(input_path, output, suffix):
    """Refuse an output folder that is, or is inside, the input's folder (unless a suffix keeps names apart).

    For a single file the input's folder is the one holding it: ``-i d/a.jpg -o d`` would otherwise write
    ``d/a.png`` over an unrelated photo.
    """
    if suffix:
        return
    folder = input_path if osp.isdir(input_path) else osp.dirname(osp.abspath(input_path))
    source, target = osp.realpath(folder), osp.realpath(output)
    if target == source or target.startswith(source + os.sep):
        raise UsageError(f'output folder {output} is inside the input folder {folder}: outputs could overwrite or '
                         'be mixed with the files there. Choose another -o, or give --suffix (e.g. --suffix _x4).')


def default_model(scale):
    path = osp.join(ROOT, 'weights', f'trico_light_x{scale or 4}.pth')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: pass --model, or see weights/README.md for the shipped weights')
    return path


def main(argv=None):
    args = parse_args(argv)
    import trico_basicsr  # noqa: F401  (registers the archs; applies the BasicSR compat fixes)

    try:
        files = list_inputs(args.input)
        check_output_folder(args.input, args.output, args.suffix)
        outputs = output_paths(files, args.output, args.suffix)
        model_path = args.model or default_model(args.scale)
        enhancer = load_enhancer(model_path, args)
        if args.scale and args.scale != enhancer.scale:
            raise UsageError(f'--scale {args.scale} but {model_path} is a x{enhancer.scale} model')
        os.makedirs(args.output, exist_ok=True)
    except (UsageError, FileNotFoundError, OSError) as error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)
    failures = []
    for path in tqdm(files, desc=f'x{enhancer.scale}', unit='image'):
        try:
            enhance_file(enhancer, path, outputs[path], keep_grey=not args.color)
        except (ValueError, OSError) as error:  # unreadable input, NaN output, unwritable output (full disk)
            failures.append(f'{path}: {error}' if path not in str(error) else str(error))
        except (MemoryError, RuntimeError) as error:  # torch.cuda.OutOfMemoryError is a RuntimeError
            failures.append(f'{path}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ""}'
                            f'{memory_hint(error, args.tile)}')
        else:
            continue
        tqdm.write(f'skipped {failures[-1]}')
    print(f'{len(files) - len(failures)} of {len(files)} images written to {args.output}')
    if failures:
        print('failed:\n  ' + '\n  '.join(failures), file=sys.stderr)
        sys.exit(1)


def enhance_file(enhancer, path, output, keep_grey=True):
    """Enhance one file into ``output`` in the input's layout (bit depth, alpha, grey); written atomically."""
    import cv2

    from trico_basicsr.data.image_io import encode_png_layout, read_image_layout, write_bytes_atomic
    rgb, layout = read_image_layout(path)
    result = enhancer.enhance(rgb, bit_depth=layout.bit_depth)
    if layout.alpha is not None:  # alpha is a mask, not a photo: plain bicubic, as image editors resize it
        height, width = result.shape[:2]
        layout.alpha = cv2.resize(layout.alpha, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    layout.grey = layout.grey and keep_grey
    write_bytes_atomic(output, encode_png_layout(result, layout))


def memory_hint(error, tile):
    """A hint for an out-of-memory error: tiles, or tiles half the size of those given."""
    if not (isinstance(error, MemoryError) or 'memory' in str(error).lower()):
        return ''
    if tile and tile > 32:
        return f' (out of memory: try --tile {max(32, tile // 2)})'
    if not tile:
        return ' (out of memory: try --tile 256)'
    return ' (out of memory even with small tiles: try --device cpu)'


def load_enhancer(model_path, args):
    """The enhancer for ``model_path``; any failure to load it is a :class:`UsageError` naming the file."""
    from trico_basicsr.utils.inference import TriCoEnhancer
    if not osp.isfile(model_path):
        raise UsageError(f'checkpoint {model_path} not found')
    try:
        return TriCoEnhancer(model_path, tile=args.tile, tile_pad=args.tile_pad, half=args.fp16, device=args.device,
                             self_ensemble=args.self_ensemble, exposure=args.exposure,
                             keep_black_level=args.black_level == 'keep')
    except Exception as error:  # truncated zip, pickle error, missing keys, wrong arch: all mean "bad checkpoint"
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f'cannot load checkpoint {model_path}: {first_line}') from error


if __name__ == '__main__':
    main()
