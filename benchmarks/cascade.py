"""Train the learned-cascade baseline on the same options, data and budget as a TriCo run.

    python -m benchmarks.cascade --options options/train/trico_light_x4_stage1.yml --iters 6000 --work work/cascade_x4
    python -m benchmarks.cascade --options options/train/trico_light_x4_stage1.yml --iters 6000 --seed 1 \
        --work work/cascade_x4_s1

The cascade is method ``cascade`` of ``benchmarks.quality``: the illumination net trained alone for a quarter
of the iterations, then the SR net trained alone on its (frozen) outputs for the rest, with the options'
network, training images (minus their ``upper_split``, as the TriCo run's lower levels), degradation mix and
loss terms. Writes ``WORK/experiments/bench_c_cascade/models/net_g_latest.pth`` (and the first stage's,
``bench_c_cascade_illum``, beside it).
"""
import argparse
from os import path as osp

from benchmarks.common import ROOT
from benchmarks.quality import base_options, method_options, train


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--options', required=True, help='the TriCo training options to match')
    parser.add_argument('--iters', type=int, required=True, help='total iterations of both stages')
    parser.add_argument('--work', required=True, help='folder for the experiments and logs')
    parser.add_argument('--threads', type=int, default=1, help='torch threads of each stage')
    parser.add_argument('--seed', type=int, default=None,
                        help="random seed of both stages (default: the options' manual_seed, else 0)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import trico_basicsr  # noqa: F401
    from trico_basicsr.utils.options import read_options
    options = read_options(args.options)
    train_hr = options['datasets']['train']['dataroot_gt']
    if not str(train_hr).startswith('skimage:'):
        train_hr = osp.join(ROOT, train_hr)
    base = base_options(args.options, train_hr, options['scale'])
    work = osp.abspath(args.work)
    seed = base.get('manual_seed', 0) if args.seed is None else args.seed
    first = None
    for stage, name in (('cascade_illum', 'bench_c_cascade_illum'), ('cascade', 'bench_c_cascade')):
        opt = method_options(base, stage, args.iters, seed, None, work)
        opt['name'] = name
        if first is not None:  # the SR stage starts from the illumination stage's weights
            opt['path']['pretrain_network_g'] = first
        checkpoint, seconds = train(opt, work, threads=args.threads)
        first = checkpoint
        print(f'{stage}: {checkpoint} ({seconds:.0f} s)', flush=True)


if __name__ == '__main__':
    main()
