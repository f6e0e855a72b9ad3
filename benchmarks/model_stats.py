"""Parameters and multiply-accumulates per output megapixel of TriCo configurations and BasicSR archs.

    python -m benchmarks.model_stats --out docs/benchmarks/model_stats

For each option file (``network_g``) and for BasicSR's MSRResNet, RRDBNet (ESRGAN) and SwinIR (classical
SR, x4 settings of their papers), counts trainable and frozen parameters and the MACs of one forward
pass (``torch.utils.flop_counter``: convolutions and matrix products; MACs = FLOPs / 2), measured on a
64x64 input and divided by the output's megapixels. Writes ``OUT.json`` and ``OUT.md``.
"""
import argparse
import copy
import glob
import json
import os
from os import path as osp

import torch

from benchmarks.common import ROOT, command_line

BASICSR_ARCHS = {
    'MSRResNet (BasicSR)': {'type': 'MSRResNet', 'num_in_ch': 3, 'num_out_ch': 3, 'num_feat': 64, 'num_block': 16,
                            'upscale': 4},
    'RRDBNet / ESRGAN (BasicSR)': {'type': 'RRDBNet', 'num_in_ch': 3, 'num_out_ch': 3, 'num_feat': 64, 'num_block': 23,
                                   'num_grow_ch': 32, 'scale': 4},
    'SwinIR classical x4 (BasicSR)': {'type': 'SwinIR', 'upscale': 4, 'in_chans': 3, 'img_size': 48, 'window_size': 8,
                                      'img_range': 1.0, 'depths': [6] * 6, 'embed_dim': 180, 'num_heads': [6] * 6,
                                      'mlp_ratio': 2, 'upsampler': 'pixelshuffle', 'resi_connection': '1conv'},
}


def count(network_opt, size=64):
    """``{'scale', 'params_m', 'frozen_params_m', 'gmacs_per_output_mp'}`` of one network option dict."""
    from basicsr.archs import build_network
    from torch.utils.flop_counter import FlopCounterMode
    opt = copy.deepcopy(network_opt)
    if 'semantic_weights' in opt or opt['type'] == 'TriCoNet':
        opt['semantic_weights'] = None  # weights do not change the counts; no file needed
    net = build_network(opt).eval()
    scale = opt.get('upscale') or opt.get('scale')
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in net.parameters() if not p.requires_grad)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = net(torch.rand(1, 3, size, size) * 0.1)
    output_mp = out.shape[-1] * out.shape[-2] / 1e6
    return {'scale': scale, 'params_m': trainable / 1e6, 'frozen_params_m': frozen / 1e6,
            'gmacs_per_output_mp': counter.get_total_flops() / 2 / 1e9 / output_mp}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--options', nargs='*', help='option files (default: options/train/*.yml)')
    parser.add_argument('--out', default=osp.join(ROOT, 'docs', 'benchmarks', 'model_stats'))
    args = parser.parse_args(argv)
    import trico_basicsr  # noqa: F401
    from trico_basicsr.utils.options import read_options
    files = args.options or sorted(glob.glob(osp.join(ROOT, 'options', 'train', '*.yml')))
    rows = {}
    for path in files:
        network = read_options(path).get('network_g')
        if network and not osp.basename(path).startswith('test_'):
            rows[osp.relpath(path, ROOT)] = {'type': network['type'], **count(network)}
    for name, network in BASICSR_ARCHS.items():
        rows[name] = {'type': network['type'], **count(network)}
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out + '.json', 'w') as f:
        json.dump(rows, f, indent=1)
    lines = ['# Model size and compute', '', f'`{command_line()}` '
             '(MACs of convolutions and matrix products, 64x64 input).', '',
             '| model | arch | scale | trainable params (M) | frozen params (M) | GMACs per output megapixel |',
             '|---|---|---|---|---|---|']
    for name, r in rows.items():
        lines.append(f"| {name} | {r['type']} | x{r['scale']} | {r['params_m']:.3f} | {r['frozen_params_m']:.3f} | "
                     f"{r['gmacs_per_output_mp']:.1f} |")
    with open(args.out + '.md', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
