"""What the one-step mixture hypergradient sees: how each preset's training gradient aligns with the upper loss's.

    python scripts/mixture_gradient_alignment.py -opt options/trico_demo_bsd100_x4_finetune_pgr_mixture.yml \
        --checkpoint experiments/trico_demo_bsd100_x4/models/net_g_4000.pth --batches 16 \
        --out docs/benchmarks/mixture_alignment_x4

PGR's weight ``w_k`` of a preset in the training mix (``train.pgr.sample_weights: {by: preset}``) moves
by the response of the upper loss ``F`` to one lower/middle step: to first order
``dF/dw_k = -alpha <grad F, P grad L_k>``, with ``L_k`` the training loss on preset ``k``'s samples and
``P`` the step's preconditioner (identity for SGD; Adam's ``1 / (sqrt(v) + eps)``). The preset whose
gradient agrees most with the upper loss's *now* gains weight, whatever thousands of steps on it
would teach. This script measures that agreement at one checkpoint, with no training:

- for every preset of the options' training mix, ``--batches`` batches (the training crop size and
  batch size; the same crops and flips for every preset), each level's first-order gradient of its
  training loss (``pgr/objectives.first_order``: lower ``g`` for the SR net, middle ``f`` for the
  illumination net, as a training step takes them), averaged over the batches;
- the upper loss's gradient on ``--batches`` batches of the options' upper data (``train.pgr.upper_data``);
- per preset: the inner product with the upper gradient (what an SGD response scores), the same with an
  Adam-like preconditioner (``v`` = the mean squared gradient over every preset's batches, as Adam would
  hold it on this mix), the norm, and the cosine; each with its standard error over the batches.

The ranking by inner product is the direction the hypergradient pushes the mixture; comparing it with
the cosine tells whether a preset wins by agreeing with the target or by having large gradients.

With ``--horizons K1 K2 ...`` it also asks what a *longer* response would say: from the same weights,
each preset alone trains both levels for ``max(K)`` steps (the options' optimisers and learning rates,
first-order gradients as above, fresh batches each step), and the upper loss on the same fixed upper
batches is recorded after each ``K``. The preset that lowers it most after ``K`` steps is the one a
``K``-step hypergradient would favour.
Writes ``results.json`` and ``results.md`` under ``--out`` (each whole or not at all).
"""
import argparse
import os
import sys
import tempfile
import time
from os import path as osp

import numpy as np

ROOT = osp.abspath(osp.join(osp.dirname(__file__), osp.pardir))
sys.path.insert(0, ROOT)
DEFAULT_SEED = 7  # the draw keys' seed: the same crops for every preset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-opt', required=True, help='training options with a preset mix and train.pgr.upper_data')
    parser.add_argument('--checkpoint', required=True, help='weights to measure at (params: the trained weights)')
    parser.add_argument('--batches', type=int, default=16, help='batches per preset and for the upper loss')
    parser.add_argument('--eps', type=float, default=1e-8, help="the Adam-like preconditioner's epsilon")
    parser.add_argument('--seed', type=int, default=DEFAULT_SEED,
                        help='seed of the training crops and darkening (the upper batches stay the same)')
    parser.add_argument('--horizons', type=int, nargs='*', default=[],
                        help='train on each preset alone and record the upper loss after these many steps')
    parser.add_argument('--out', required=True)
    return parser.parse_args(argv)


def build(opt_path, checkpoint, root):
    """The TriLevelModel of ``opt_path`` on the CPU, at ``checkpoint``'s training weights."""
    from basicsr.models import build_model

    from trico_basicsr.utils.options import load_training_options
    if not osp.isfile(checkpoint):
        raise SystemExit(f'error: --checkpoint {checkpoint}: no such file')
    opt = load_training_options(opt_path, root, **{'path:pretrain_network_g': checkpoint, 'num_gpu': 0})
    if not opt['train'].get('pgr', {}).get('upper_data', {}).get('preset'):
        raise SystemExit(f'error: {opt_path}: train.pgr.upper_data has no preset; the upper loss needs data')
    return opt, build_model(opt)


def preset_batches(opt, preset, batches, seed=DEFAULT_SEED):
    """``batches`` training batches darkened by ``preset`` alone, the same crops whatever the preset."""
    from torch.utils.data import default_collate

    from trico_basicsr.data.coupled_online_dataset import CoupledOnlineDataset
    dataset = CoupledOnlineDataset({**opt['datasets']['train'], 'preset': [preset]})
    size = int(opt['datasets']['train']['batch_size_per_gpu'])
    for b in range(batches):
        keys = [((b * size + j) % len(dataset), (seed, 0, b, j)) for j in range(size)]
        yield default_collate([dataset[key] for key in keys])


def training_gradients(model, batch, levels):
    """``{level: grads}``: the first-order training gradients of ``levels`` on ``batch``, as a step takes them."""
    from trico_basicsr.pgr import objectives
    model.feed_data(batch)
    return objectives.first_order(model.nets, model.terms, model._batch(), levels, model.params).grads


def flat_gradients(model, batch, levels):
    """:func:`training_gradients` flattened into one float64 vector."""
    import torch
    grads = training_gradients(model, batch, levels)
    return torch.cat([g.reshape(-1) for level in levels for g in grads[level]]).double()


def upper_gradient(model, batch, levels):
    """The upper loss's gradient on ``batch`` (tensors only) w.r.t. ``levels``, flattened, float64."""
    import torch

    from trico_basicsr.pgr import objectives
    leaves = {k: [t.detach().requires_grad_(k in levels) for t in v] for k, v in model.params.items()}
    loss = objectives.upper_objective(model.nets, model.terms, batch, leaves)
    targets = [t for level in levels for t in leaves[level]]
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, targets)]).double()


def upper_loss(model, upper_batches):
    """Mean upper loss over the fixed ``upper_batches`` at the model's current weights."""
    import torch

    from trico_basicsr.pgr import objectives
    with torch.no_grad():
        return float(np.mean([float(objectives.upper_objective(model.nets, model.terms, batch, model.params))
                              for batch in upper_batches]))


def horizon_responses(model, opt, presets, upper_batches, horizons, levels, seed=DEFAULT_SEED):
    """``{preset: {K: upper loss after K steps on that preset alone}}``, every preset from the same weights."""
    import torch
    start = {level: [p.detach().clone() for p in model.params[level]] for level in levels}
    responses = {}
    for preset in presets:
        optimizers = {}
        for level in levels:  # fresh optimisers as the training run builds them (train.optim_<level>)
            optim_opt = dict(opt['train'][f'optim_{level}'])
            optimizers[level] = model.get_optimizer(optim_opt.pop('type'), model.params[level], **optim_opt)
        responses[preset] = {}
        for step, batch in enumerate(preset_batches(opt, preset, max(horizons), seed), start=1):
            grads = training_gradients(model, batch, levels)
            for level in levels:
                optimizers[level].zero_grad(set_to_none=True)
                for param, grad in zip(model.params[level], grads[level]):
                    param.grad = grad.detach().view_as(param)
                optimizers[level].step()
            if step in horizons:
                responses[preset][step] = upper_loss(model, upper_batches)
        with torch.no_grad():  # back to the measured weights for the next preset
            for level in levels:
                for param, value in zip(model.params[level], start[level]):
                    param.copy_(value)
    return responses


def mean_and_se(values):
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def alignment(per_preset, upper, eps):
    """Per preset: inner products (plain and preconditioned), norm and cosine with the upper gradient;
    ``'_upper'``: the upper gradient's norm."""
    import torch
    upper_mean = torch.stack(upper).mean(0)
    second_moment = torch.stack([g * g for grads in per_preset.values() for g in grads]).mean(0)
    precondition = 1.0 / (second_moment.sqrt() + eps)
    rows = {'_upper': {'norm': float(upper_mean.norm())}}
    for preset, grads in per_preset.items():
        mean = torch.stack(grads).mean(0)
        rows[preset] = {
            'inner': mean_and_se([float(upper_mean @ g) for g in grads]),
            'inner_adam': mean_and_se([float(upper_mean @ (precondition * g)) for g in grads]),
            'norm': float(mean.norm()),
            'cosine': mean_and_se([float(upper_mean @ g / (upper_mean.norm() * g.norm())) for g in grads]),
            'cosine_of_means': float(upper_mean @ mean / (upper_mean.norm() * mean.norm())),
        }
    return rows


def markdown(results):
    rows = {k: v for k, v in results['presets'].items() if k != '_upper'}
    order = sorted(rows, key=lambda p: -rows[p]['inner'][0])
    lines = [f"# Mixture gradient alignment, {results['options']}", '',
             f"Command: `{' '.join(results['command'])}` ({results['date']}, {results['seconds']:.0f} s on CPU). "
             f"At `{results['checkpoint']}`, seed {results.get('seed', DEFAULT_SEED)}; "
             f"upper data `{results['upper_preset']}`; {results['batches']} batches "
             f"of {results['batch_size']} x {results['gt_size']} px per preset; levels {', '.join(results['levels'])}. "
             'Inner products of each preset\'s mean training gradient with the upper loss\'s (x 1e3; SGD and '
             'Adam-like preconditioning), its norm, and the cosine (mean over batches ± standard error; '
             'last column: cosine of the mean gradients). Sorted by the SGD inner product: the order in which '
             'a one-step hypergradient raises the presets\' weights.', '',
             '| preset | inner (SGD) x1e3 | inner (Adam-like) | norm | cosine | cosine of means |',
             '|---|---|---|---|---|---|']
    for preset in order:
        r = rows[preset]
        lines.append(f"| {preset} | {r['inner'][0] * 1e3:.3f} ± {r['inner'][1] * 1e3:.3f} | "
                     f"{r['inner_adam'][0]:.1f} ± {r['inner_adam'][1]:.1f} | {r['norm']:.4f} | "
                     f"{r['cosine'][0]:.3f} ± {r['cosine'][1]:.3f} | {r['cosine_of_means']:.3f} |")
    if results.get('horizons'):
        horizons = results['horizons']
        steps = sorted({int(k) for r in horizons['after'].values() for k in r})
        lines += ['', f"Upper loss after K steps on each preset alone, minus its value at the start "
                  f"({horizons['start']:.5f}), x 1e3 (lower is better for the upper level; the best per column "
                  'in bold):', '', '| preset | ' + ' | '.join(f'K = {k}' for k in steps) + ' |',
                  '|---' * (1 + len(steps)) + '|']
        best = {k: min(horizons['after'], key=lambda p: horizons['after'][p][str(k)]) for k in steps}
        for preset, after in horizons['after'].items():
            cells = [f"{(after[str(k)] - horizons['start']) * 1e3:+.3f}" for k in steps]
            cells = [f'**{c}**' if best[k] == preset else c for c, k in zip(cells, steps)]
            lines.append(f'| {preset} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    if args.batches < 2:
        raise SystemExit('error: --batches must be at least 2 (standard errors need two)')
    if any(k < 1 for k in args.horizons):
        raise SystemExit(f'error: --horizons {args.horizons}: each must be a positive number of steps')
    import torch

    import trico_basicsr  # noqa: F401  (its BasicSR fixes and registries before basicsr builds anything)
    from trico_basicsr.utils.reports import write_report
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 2)))
    start = time.time()
    with tempfile.TemporaryDirectory() as root:
        opt, model = build(args.opt, args.checkpoint, root)
        from trico_basicsr.pgr.levels import LOWER, MIDDLE
        levels = [level for level in (LOWER, MIDDLE) if level in model.params]
        presets = list(dict.fromkeys(opt['datasets']['train']['preset']))
        per_preset = {p: [flat_gradients(model, batch, levels)
                          for batch in preset_batches(opt, p, args.batches, args.seed)] for p in presets}
        upper_batches = [{k: v for k, v in model.upper_stream.next_batch().items() if torch.is_tensor(v)}
                         for _ in range(args.batches)]
        upper = [upper_gradient(model, batch, levels) for batch in upper_batches]
        horizons = None
        if args.horizons:
            after = horizon_responses(model, opt, presets, upper_batches, sorted(set(args.horizons)), levels,
                                      args.seed)
            horizons = {'start': upper_loss(model, upper_batches),
                        'after': {p: {str(k): v for k, v in r.items()} for p, r in after.items()}}
    results = {'command': [osp.relpath(sys.argv[0], ROOT)] + sys.argv[1:], 'options': args.opt,
               'checkpoint': args.checkpoint, 'upper_preset': opt['train']['pgr']['upper_data']['preset'],
               'seed': args.seed, 'batches': args.batches,
               'batch_size': int(opt['datasets']['train']['batch_size_per_gpu']),
               'gt_size': int(opt['datasets']['train']['gt_size']), 'levels': levels,
               'presets': alignment(per_preset, upper, args.eps), 'horizons': horizons,
               'date': time.strftime('%Y-%m-%d')}
    results['seconds'] = time.time() - start
    write_report(osp.join(args.out, 'results'), results, markdown(results))


if __name__ == '__main__':
    main()
