"""Training throughput of a TriCo step next to BasicSR's stock MSRResNet, measured in one run.

    python -m benchmarks.training_speed --out docs/benchmarks/training_speed_cpu      # 2 CPU cores
    python -m benchmarks.training_speed --gt-size 192 --batches 8 32 \\
        --out docs/benchmarks/training_speed_gpu                                          # on a GPU

Rows, all on the device this runs on, each at the same batch size and patch size (so at equal output
pixels), medians of ``--repeats`` steps after ``--warmup`` steps, CUDA synchronised around each step:

- ``MSRResNet`` -- BasicSR's own ``SRModel.optimize_parameters`` (64 channels, 16 blocks, L1, Adam):
  the reference;
- ``TriCo <variant>`` -- ``TriLevelModel.optimize_parameters`` of the ``--options`` network with every
  default loss term, in the warm-up phase (a first-order step with fixed loss weights), in float32,
  bf16/fp16 autocast (``train.amp``), channels_last (``train.channels_last``), both, and with
  ``--compile`` ``torch.compile`` (``train.compile``).

Also reported: the mean difference, in 8-bit grey levels, between a trained checkpoint's outputs
under each AMP dtype and in float32 (``--weights``), and how many training images per second one data-loader
worker produces for the options' training dataset at this patch size (does ``num_worker_per_gpu`` keep
up with the steps?). Random inputs; EMA off in both models. Writes ``OUT.json`` and ``OUT.md``.
"""
import argparse
import tempfile
import time
from os import path as osp

import torch

import trico_basicsr  # noqa: F401  (before any basicsr import: applies the compat fixes)
from benchmarks.common import ROOT, command_line, device_name, median_seconds, write_report

REFERENCE = 'MSRResNet (BasicSR SRModel, stock)'


def stepper(model):
    """A function running the model's next training iteration (1, 2, ...) on the batch it was fed."""
    iterations = iter(range(1, 10**9))
    return lambda: model.optimize_parameters(next(iterations))


def random_batch(batch, gt_size, scale, device):
    """Inputs in the ranges training sees: dark LR (N, 3, h, w), HR target and its LR version in [0, 1]."""
    generator = torch.Generator().manual_seed(0)
    lq_size = gt_size // scale
    return {'lq': (torch.rand(batch, 3, lq_size, lq_size, generator=generator) * 0.1).to(device),
            'gt': torch.rand(batch, 3, gt_size, gt_size, generator=generator).to(device),
            'gt_lr': torch.rand(batch, 3, lq_size, lq_size, generator=generator).to(device)}


def msrresnet_model(root, scale):
    """BasicSR's SRModel with the stock MSRResNet x4 settings (options/train/SRResNet_SRGAN/*_MSRResNet_x4)."""
    from basicsr.models.sr_model import SRModel
    paths = {name: root for name in ('models', 'training_states', 'visualization', 'experiments_root', 'log')}
    opt = {'model_type': 'SRModel', 'scale': scale, 'num_gpu': int(torch.cuda.is_available()), 'is_train': True,
           'dist': False, 'rank': 0, 'world_size': 1,
           'network_g': {'type': 'MSRResNet', 'num_in_ch': 3, 'num_out_ch': 3, 'num_feat': 64, 'num_block': 16,
                         'upscale': scale},
           'path': {'pretrain_network_g': None, 'strict_load_g': True, 'resume_state': None, **paths},
           'train': {'ema_decay': 0, 'optim_g': {'type': 'Adam', 'lr': 2e-4, 'weight_decay': 0, 'betas': [0.9, 0.99]},
                     'scheduler': {'type': 'CosineAnnealingRestartLR', 'periods': [250000], 'restart_weights': [1],
                                   'eta_min': 1e-7},
                     'total_iter': 1000000, 'warmup_iter': -1,
                     'pixel_opt': {'type': 'L1Loss', 'loss_weight': 1.0, 'reduction': 'mean'}}}
    return SRModel(opt)


def trico_model(options, root, changes):
    """TriLevelModel of ``options``'s network, warm-up phase only (no upper stream), EMA off."""
    from basicsr.models import build_model

    from trico_basicsr.utils.options import load_training_options, read_options
    network = read_options(options)['network_g']
    if 'semantic_weights' in network:
        network['semantic_weights'] = None  # random backbone weights: the same compute, no file needed
    overrides = {'network_g': network, 'scale': network['upscale'], 'train:ema_decay': 0,
                 'train:pgr:phases:cooperative_start': None, 'train:pgr:phases:trilevel_start': None,
                 'train:pgr:train_levels': ['sr', 'illum'], 'datasets:train:upper_split': None, **changes}
    demo = osp.join(ROOT, 'options', 'train', 'trico_demo_x4.yml')  # its online dataset needs no files
    return build_model(load_training_options(demo, root, **overrides))


def variants(device, compile_too=False):
    out = {'TriCo float32': {}, 'TriCo bf16 autocast': {'train:amp': {'dtype': 'bfloat16'}},
           'TriCo channels_last': {'train:channels_last': True},
           'TriCo bf16 autocast + channels_last': {'train:amp': {'dtype': 'bfloat16'}, 'train:channels_last': True}}
    if device.type == 'cuda':  # float16 kernels exist only on GPUs; on CPU they are emulated (10x slower)
        out['TriCo fp16 autocast'] = {'train:amp': {'dtype': 'float16'}}
        out['TriCo fp16 autocast + channels_last'] = {'train:amp': {'dtype': 'float16'}, 'train:channels_last': True}
    if compile_too:
        out['TriCo torch.compile'] = {'train:compile': True}
        out['TriCo torch.compile + bf16 + channels_last'] = {'train:compile': True, 'train:channels_last': True,
                                                             'train:amp': {'dtype': 'bfloat16'}}
    return out


def amp_output_difference(weights, device, dtype, size=128):
    """Mean |output under autocast(dtype) - float32 output| of a trained checkpoint, in 8-bit grey levels,
    on a dark (N, 3, size, size) input."""
    from trico_basicsr.utils.inference import load_checkpoint_network
    net, _ = load_checkpoint_network(weights, device=device)
    lq = (torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0)) * 0.1).to(device)
    with torch.no_grad():
        reference = net(lq).clamp(0, 1)
        with torch.autocast(device_type=device.type, dtype=dtype):
            amp = net(lq).float().clamp(0, 1)
    return float((amp - reference).abs().mean() * 255)


def loader_images_per_second(options, gt_size, count):
    """Training images per second from one worker's ``dataset[i]`` (the options' training dataset)."""
    from basicsr.data import build_dataset

    from trico_basicsr.utils.options import read_options
    dataset_opt = dict(read_options(options)['datasets']['train'], gt_size=gt_size, phase='train', scale=4)
    try:
        dataset = build_dataset(dataset_opt)
    except (OSError, KeyError, ValueError) as error:  # e.g. trico_x4.yml's LMDBs are not here
        return {'dataset': dataset_opt['type'], 'skipped': str(error).splitlines()[0]}
    dataset[0]
    start = time.perf_counter()
    for i in range(count):
        dataset[i % len(dataset)]
    return {'dataset': dataset_opt['type'], 'preset': str(dataset_opt.get('preset')),
            'images_per_second': count / (time.perf_counter() - start)}


def measure(args):
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    root = tempfile.mkdtemp()
    results = {'device': device_name(), 'torch': torch.__version__, 'options': osp.relpath(args.options, ROOT),
               'gt_size': args.gt_size, 'repeats': args.repeats, 'rows': [], 'amp_difference_8bit': {}}
    scale = None
    for batch_size in args.batches:
        models = {REFERENCE: None}
        models.update(variants(device, args.compile))
        for name, changes in models.items():
            if name == REFERENCE:
                model = msrresnet_model(root, scale or 4)
            else:
                model = trico_model(args.options, root, changes)
                scale = model.opt['scale']
            batch = random_batch(batch_size, args.gt_size, model.opt['scale'], device)
            model.feed_data(batch)
            seconds = median_seconds(stepper(model), args.repeats, args.warmup)
            row = {'model': name, 'batch': batch_size, 'seconds_per_step': seconds, 'steps_per_second': 1 / seconds,
                   'images_per_second': batch_size / seconds,
                   'output_megapixels_per_second': batch_size * args.gt_size**2 / 1e6 / seconds}
            results['rows'].append(row)
            print(row, flush=True)
    for dtype_name, dtype in (('bfloat16', torch.bfloat16), ('float16', torch.float16)):
        if dtype is torch.float16 and device.type != 'cuda':
            continue
        results['amp_difference_8bit'][dtype_name] = amp_output_difference(args.weights, device, dtype)
    results['amp_weights'] = osp.relpath(args.weights, ROOT)
    results['loader'] = loader_images_per_second(args.loader_options, args.gt_size, args.loader_images)
    return results


def markdown(results, command):
    lines = ['# Training speed', '', f'`{command}` -- {results["device"]}, torch {results["torch"]}, network of '
             f'`{results["options"]}`, {results["gt_size"]} px HR patches, median of {results["repeats"]} steps.', '',
             '"x MSRResNet" = seconds per TriCo step / seconds per stock MSRResNet step at the same batch and patch '
             'size (equal output pixels), measured in this run. "x batch" = images/s relative to the smallest batch.',
             '', '| model | batch | s/step | steps/s | images/s | x MSRResNet | x batch images/s |',
             '|---|---|---|---|---|---|---|']
    rows = results['rows']
    for row in rows:
        reference = next(r for r in rows if r['model'] == REFERENCE and r['batch'] == row['batch'])
        smallest = next(r for r in rows if r['model'] == row['model'])
        lines.append(f"| {row['model']} | {row['batch']} | {row['seconds_per_step']:.4f} | "
                     f"{row['steps_per_second']:.2f} | {row['images_per_second']:.1f} | "
                     f"{row['seconds_per_step'] / reference['seconds_per_step']:.2f} | "
                     f"{row['images_per_second'] / smallest['images_per_second']:.2f} |")
    lines += ['', f"Output of `{results['amp_weights']}` under autocast vs float32 (same weights, dark 128 px "
              'inputs), mean absolute difference: ' +
              ', '.join(f'{k} {v:.3f} grey levels' for k, v in results['amp_difference_8bit'].items()) + '.']
    loader = results['loader']
    if 'images_per_second' in loader:
        lines += ['', f"Data: one worker of `{loader['dataset']}` (preset {loader['preset']}) makes "
                  f"{loader['images_per_second']:.1f} training images/s at this patch size."]
    else:
        lines += ['', f"Data: not measured ({loader['skipped']})."]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--options', default=osp.join(ROOT, 'options', 'train', 'trico_x4.yml'),
                        help='whose network_g is timed (default: the full-size TriCo x4)')
    parser.add_argument('--loader-options', default=osp.join(ROOT, 'options', 'train', 'trico_light_x4_stage1.yml'),
                        help='whose training dataset is timed per worker')
    parser.add_argument('--weights', default=osp.join(ROOT, 'weights', 'trico_light_x4.pth'),
                        help='trained checkpoint whose outputs compare AMP with float32')
    parser.add_argument('--gt-size', type=int, default=96, help='HR patch size (trico_x4.yml trains at 192)')
    parser.add_argument('--batches', type=int, nargs='+', default=[2, 8])
    parser.add_argument('--compile', action='store_true', help='also time train.compile variants (compiling takes '
                        'minutes; warm-up steps absorb it)')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--loader-images', type=int, default=20)
    parser.add_argument('--out', default=osp.join(ROOT, 'docs', 'benchmarks', 'training_speed_cpu'))
    args = parser.parse_args(argv)
    results = measure(args)
    write_report(args.out, results, markdown(results, command_line()))


if __name__ == '__main__':
    main()
