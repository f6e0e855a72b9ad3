"""Export a training run's best and last checkpoints for shipping: weight average only, arch options kept.

    python scripts/export_checkpoints.py --experiment experiments/trico_large_x4_stage1 --log train.log --out OUT

"Best" is the saved checkpoint whose validation PSNR (read from the training log, BasicSR's
``# psnr:`` lines; with several validation sets, their mean -- weights/README.md's selection rule) is
highest; "last" the highest iteration saved. ``--top N`` exports the N best. Each is written as
``OUT/<name>_<iter>_best.pth`` (``_best2.pth``, ... for the runners-up) / ``OUT/<name>_<iter>_last.pth``
holding ``params_ema`` (or ``params`` when the run kept no average), ``network_g`` and ``scale`` -- what
``scripts/enhance.py --model`` and ``TriCoEnhancer`` read -- and ``OUT/<name>_validation.json`` the PSNR
of every validation, per set and their mean.
"""
import argparse
import json
import os
import re
from os import path as osp


def validation_psnr_by_set(log):
    """``{iteration: {set name: psnr}}`` from a BasicSR training log.

    Each ``Validation <set>`` block follows its iteration's ``iter:`` line; a block without a name (an
    older log) counts as set ``val``.
    """
    scores, iteration, name = {}, None, 'val'
    for line in open(log, errors='replace'):
        found = re.search(r'iter:\s*([\d,]+)', line)
        if found:
            iteration = int(found.group(1).replace(',', ''))
        found = re.search(r'Validation (\S+)', line)
        if found:
            name = found.group(1)
        found = re.search(r'# psnr:\s*([-+0-9.eE]+|nan|inf)', line)
        if found and iteration is not None:
            scores.setdefault(iteration, {})[name] = float(found.group(1))
    return scores


def validation_psnr(log):
    """``{iteration: psnr}``: the mean over the validation sets of each validation in ``log``.

    A validation that scored fewer sets than the others (a run stopped while validating) is left out, so
    a mean never stands on part of the sets.
    """
    by_iteration = validation_psnr_by_set(log)
    sets = max((len(by_set) for by_set in by_iteration.values()), default=0)
    return {it: sum(by_set.values()) / sets for it, by_set in by_iteration.items() if len(by_set) == sets}


def saved_iterations(models_dir):
    """Iterations of the ``net_g_<iter>.pth`` files in ``models_dir``, ascending."""
    return sorted(int(m.group(1)) for m in (re.fullmatch(r'net_g_(\d+)\.pth', f) for f in os.listdir(models_dir)) if m)


def export(checkpoint, out_file):

    from trico_basicsr.utils.atomic import atomic_torch_save
    from trico_basicsr.utils.inference import checkpoint_state_dict, load_weights_only
    state = load_weights_only(checkpoint)
    atomic_torch_save({'params_ema': checkpoint_state_dict(state, checkpoint), 'network_g': state['network_g'],
                       'scale': state['scale']}, out_file)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--experiment', required=True, help='the run folder (with models/)')
    parser.add_argument('--log', required=True, help='the training log (for the validation PSNRs)')
    parser.add_argument('--out', required=True)
    parser.add_argument('--top', type=int, default=1, help='how many of the best checkpoints to export (default 1)')
    args = parser.parse_args(argv)
    import trico_basicsr  # noqa: F401
    models = osp.join(args.experiment, 'models')
    saved = saved_iterations(models) if osp.isdir(models) else []
    if not saved:
        raise SystemExit(f'error: {models}: no net_g_<iter>.pth checkpoints (did the run save any?)')
    if args.top < 1:
        parser.error(f'--top must be at least 1, not {args.top}')
    by_set = validation_psnr_by_set(args.log)
    scores = validation_psnr(args.log)
    name = osp.basename(osp.normpath(args.experiment))
    ranked = sorted((it for it in saved if it in scores), key=lambda it: scores[it], reverse=True)[:args.top]
    os.makedirs(args.out, exist_ok=True)
    exports = [(it, 'best' if rank == 0 else f'best{rank + 1}') for rank, it in enumerate(ranked)]
    for iteration, kind in exports + [(saved[-1], 'last')]:
        try:
            export(osp.join(models, f'net_g_{iteration}.pth'), osp.join(args.out, f'{name}_{iteration}_{kind}.pth'))
        except ValueError as err:
            raise SystemExit(f'error: {err}')
    best = ranked[0] if ranked else None
    with open(osp.join(args.out, f'{name}_validation.json'), 'w') as f:
        json.dump({'psnr': scores, 'psnr_by_set': by_set, 'saved': saved, 'best': best, 'ranked': ranked,
                   'last': saved[-1]}, f, indent=1)
    print(f'saved {saved}; best by validation PSNR: {best} ({scores.get(best)}); exported {ranked}; last: {saved[-1]}')


if __name__ == '__main__':
    main()
