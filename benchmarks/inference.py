"""CPU inference time for a ~1-megapixel output, and tiled-versus-whole agreement.

    python -m benchmarks.inference --out docs/benchmarks/inference

Times one forward pass producing a 1024x1024 output (256x256 input at x4, 512x512 at x2) for the
shipped and full-size TriCo configurations and, in the same run, BasicSR's stock ``MSRResNet`` x4
(64 channels, 16 blocks) as the reference (median of ``--repeats`` runs after a warm-up, fp32, the
threads torch uses here), in both memory layouts (NCHW, and channels_last, which ``TriCoEnhancer``
uses by default), and measures how far tiled inference (``--tile``, ``--tile-pad``) is from whole-image
inference with the shipped weights on a real dark photo (or a synthetic one when none is given), and what
``TriCoEnhancer``'s default finishing (the exposure anchor) adds to its time for the same 1-megapixel
output. Writes ``OUT.json`` and ``OUT.md``.
"""
import argparse
import json
import os
import statistics
import time
from os import path as osp

import numpy as np
import torch

import trico_basicsr  # noqa: F401  (before any basicsr import: applies the compat fixes)
from benchmarks.common import ROOT, command_line

REFERENCE = 'MSRResNet x4 (BasicSR, stock)'


LAYOUTS = {'NCHW': torch.contiguous_format, 'channels_last': torch.channels_last}


def time_forward(net, size, repeats, layout=torch.contiguous_format):
    x = (torch.rand(1, 3, size, size) * 0.1).to(memory_format=layout)
    net = net.to(memory_format=layout)
    with torch.no_grad():
        net(x)  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_finishing(weights, repeats):
    """Seconds of ``TriCoEnhancer.enhance`` for a 1-megapixel output with its defaults (the exposure anchor) and
    as the raw network, median of ``repeats`` after a warm-up; both from the same run."""
    from trico_basicsr.utils.inference import TriCoEnhancer
    seconds = {}
    for name, finish in (('default', {}), ('raw network', {'exposure': 'model', 'keep_black_level': False})):
        enhancer = TriCoEnhancer(weights, device='cpu', **finish)
        img = np.random.default_rng(0).random((1024 // enhancer.scale,) * 2 + (3,)).astype(np.float32) * 0.1
        enhancer.enhance(img)  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            enhancer.enhance(img)
            times.append(time.perf_counter() - start)
        seconds[name] = statistics.median(times)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--options', nargs='*', default=['options/train/trico_light_x4.yml',
                                                         'options/train/trico_light_x2.yml',
                                                         'options/train/trico_x4.yml', 'options/train/trico_x2.yml'])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--weights', default=osp.join(ROOT, 'weights', 'trico_light_x4.pth'))
    parser.add_argument('--image', help='a real dark photo for the tiling check')
    parser.add_argument('--tile', type=int, default=128)
    parser.add_argument('--tile-pad', type=int, default=48)
    parser.add_argument('--out', default=osp.join(ROOT, 'docs', 'benchmarks', 'inference'))
    args = parser.parse_args(argv)
    from basicsr.archs import build_network  # importable: trico_basicsr (imported above) applied the compat fixes

    from trico_basicsr.data.image_io import read_image
    from trico_basicsr.utils.inference import TriCoEnhancer
    from trico_basicsr.utils.options import read_options

    results = {'threads': torch.get_num_threads(), 'torch': torch.__version__, 'timings': {}}
    networks = {}
    for path in args.options:
        networks[path] = read_options(osp.join(ROOT, path))['network_g']
        networks[path]['semantic_weights'] = None
    networks[REFERENCE] = {'type': 'MSRResNet', 'num_in_ch': 3, 'num_out_ch': 3, 'num_feat': 64, 'num_block': 16,
                           'upscale': 4}
    for path, network in networks.items():
        net = build_network(dict(network)).eval()
        scale = network['upscale']
        seconds = {name: time_forward(net, 1024 // scale, args.repeats, layout) for name, layout in LAYOUTS.items()}
        results['timings'][path] = {'scale': scale, 'input': f'{1024 // scale}x{1024 // scale}',
                                    'output_megapixels': 1024 * 1024 / 1e6, 'seconds': seconds}
        print(f'{path}: {seconds} s for a 1024x1024 output', flush=True)

    if osp.isfile(args.weights):
        img = read_image(args.image) if args.image else \
            np.random.default_rng(0).random((300, 400, 3)).astype(np.float32) * 0.1
        whole = TriCoEnhancer(args.weights).enhance(img)
        tiled = TriCoEnhancer(args.weights, tile=args.tile, tile_pad=args.tile_pad).enhance(img)
        diff = np.abs(tiled - whole) * 255
        results['finishing'] = {'weights': osp.relpath(args.weights, ROOT),
                                 'seconds': time_finishing(args.weights, args.repeats)}
        results['tiling'] = {'weights': osp.relpath(args.weights, ROOT), 'image': args.image or 'synthetic noise x0.1',
                             'input': f'{img.shape[1]}x{img.shape[0]}', 'tile': args.tile, 'tile_pad': args.tile_pad,
                             'max_abs_diff_8bit': float(diff.max()), 'mean_abs_diff_8bit': float(diff.mean())}
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out + '.json', 'w') as f:
        json.dump(results, f, indent=1)
    lines = ['# CPU inference', '', f'`{command_line()}` '
             f"-- torch {results['torch']}, {results['threads']} threads, fp32, median of {args.repeats}.", '',
             'Seconds per 1-megapixel output; "x MSRResNet" divides by the reference in the same layout, '
             'measured in the same run. `scripts/enhance.py` (`TriCoEnhancer`) runs channels_last.', '',
             '| configuration | scale | input | NCHW s/MP | channels_last s/MP | x MSRResNet (NCHW) '
             '| x MSRResNet (channels_last) |', '|---|---|---|---|---|---|---|']
    reference = results['timings'][REFERENCE]['seconds']
    for path, r in results['timings'].items():
        t = r['seconds']
        lines.append(f"| `{path}` | x{r['scale']} | {r['input']} | {t['NCHW']:.2f} | {t['channels_last']:.2f} "
                     f"| {t['NCHW'] / reference['NCHW']:.2f} | {t['channels_last'] / reference['channels_last']:.2f} |")
    if 'finishing' in results:
        f = results['finishing']['seconds']
        lines += ['', f"`TriCoEnhancer` with `{results['finishing']['weights']}`, 1-megapixel output: "
                  f"{f['default']:.2f} s with its default finishing (the exposure anchor), "
                  f"{f['raw network']:.2f} s without (x{f['default'] / f['raw network']:.2f})."]
    if 'tiling' in results:
        t = results['tiling']
        lines += ['', f"Tiled ({t['tile']} px tiles, {t['tile_pad']} px padding) vs whole-image inference with "
                  f"`{t['weights']}` on {t['image']} ({t['input']}): max difference {t['max_abs_diff_8bit']:.3f}, "
                  f"mean {t['mean_abs_diff_8bit']:.4f} grey levels (8-bit)."]
    with open(args.out + '.md', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
