"""Train the learned-cascade baseline on the same options, data and budget as a TriCo run.

    python scripts/train_cascade.py --options options/trico_demo_bsd100_x4.yml --iters 6000 --work work/cascade_x4

The cascade is method (c) of ``scripts/benchmark_quality.py``: the illumination net trained alone for a
quarter of the iterations, then the SR net trained alone on its (frozen) outputs for the rest, with the
options' network, data, degradation mix and loss terms. Writes
``WORK/experiments/bench_c_cascade/models/net_g_latest.pth`` (and the first stage's beside it).
"""
import argparse
import sys
from os import path as osp

ROOT = osp.abspath(osp.join(osp.dirname(__file__), osp.pardir))
sys.path.insert(0, osp.join(ROOT, 'scripts'))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--options', required=True, help='the TriCo training options to match')
    parser.add_argument('--iters', type=int, required=True, help='total iterations of both stages')
    parser.add_argument('--work', required=True, help='folder for the experiments and logs')
    args = parser.parse_args(argv)
    import benchmark_quality

    import trico_basicsr  # noqa: F401
    from trico_basicsr.utils.options import read_options
    base = read_options(args.options)
    for split in ('train', 'val'):  # the runs start in another folder: make data paths absolute
        dataset = base['datasets'][split]
        dataset['dataroot_gt'] = osp.join(ROOT, dataset['dataroot_gt']) if not str(
            dataset['dataroot_gt']).startswith('skimage:') else dataset['dataroot_gt']
    base['val']['val_freq'] = 10**9
    base['logger'].update(use_tb_logger=False, save_checkpoint_freq=10**9)
    work = osp.abspath(args.work)
    for stage in ('c_cascade_illum', 'c_cascade'):
        checkpoint, seconds = benchmark_quality.train(benchmark_quality.method_options(base, stage, args.iters, work),
                                                      work)
        print(f'{stage}: {checkpoint} ({seconds:.0f} s)', flush=True)


if __name__ == '__main__':
    main()
