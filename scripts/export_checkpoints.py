"""Export a training run's best and last checkpoints for shipping: weight average only, arch options kept.

    python scripts/export_checkpoints.py --experiment experiments/trico_bsd100_x4 --log train.log --out OUT

"Best" is the saved checkpoint whose validation PSNR (read from the training log, BasicSR's
``# psnr:`` lines) is highest; "last" the highest iteration saved. Each is written as
``OUT/<name>_<iter>_best.pth`` / ``OUT/<name>_<iter>_last.pth`` holding ``params_ema`` (or ``params``
when the run kept no average), ``network_g`` and ``scale`` -- what ``scripts/enhance.py --model`` and
``TriCoEnhancer`` read -- and ``OUT/<name>_validation.json`` the PSNR of every validation.
"""
import argparse
import json
import os
import re
from os import path as osp


def validation_psnr(log):
    """``{iteration: psnr}`` from a BasicSR training log (each validation follows its iteration's line)."""
    scores, iteration = {}, None
    for line in open(log, errors='replace'):
        found = re.search(r'iter:\s*([\d,]+)', line)
        if found:
            iteration = int(found.group(1).replace(',', ''))
        found = re.search(r'# psnr:\s*([-+0-9.eE]+|nan|inf)', line)
        if found and iteration is not None:
            scores[iteration] = float(found.group(1))
    return scores


def saved_iterations(models_dir):
    """Iterations of the ``net_g_<iter>.pth`` files in ``models_dir``, ascending."""
    return sorted(int(m.group(1)) for m in (re.fullmatch(r'net_g_(\d+)\.pth', f) for f in os.listdir(models_dir)) if m)


def export(checkpoint, out_file):
    import torch

    from trico_basicsr.utils.atomic import atomic_torch_save
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    key = 'params_ema' if 'params_ema' in state else 'params'
    atomic_torch_save({'params_ema': state[key], 'network_g': state['network_g'], 'scale': state['scale']}, out_file)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--experiment', required=True, help='the run folder (with models/)')
    parser.add_argument('--log', required=True, help='the training log (for the validation PSNRs)')
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    import trico_basicsr  # noqa: F401
    models = osp.join(args.experiment, 'models')
    saved = saved_iterations(models) if osp.isdir(models) else []
    if not saved:
        raise SystemExit(f'error: {models}: no net_g_<iter>.pth checkpoints (did the run save any?)')
    scores = validation_psnr(args.log)
    name = osp.basename(osp.normpath(args.experiment))
    scored = [it for it in saved if it in scores]
    best = max(scored, key=lambda it: scores[it]) if scored else None
    os.makedirs(args.out, exist_ok=True)
    for iteration, kind in ((best, 'best'), (saved[-1], 'last')):
        if iteration is not None:
            export(osp.join(models, f'net_g_{iteration}.pth'), osp.join(args.out, f'{name}_{iteration}_{kind}.pth'))
    with open(osp.join(args.out, f'{name}_validation.json'), 'w') as f:
        json.dump({'psnr': scores, 'saved': saved, 'best': best, 'last': saved[-1]}, f, indent=1)
    print(f'saved {saved}; best by validation PSNR: {best} ({scores.get(best)}); last: {saved[-1]}')


if __name__ == '__main__':
    main()
