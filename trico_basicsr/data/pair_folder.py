"""Pair folders synthesised from HR photos: ``gt/``, ``lq_x<s>/``, ``meta_info.txt`` and ``degradation.json``.

What ``scripts/make_coupled_pairs.py`` writes and the benchmarks test on. Each image's generator is seeded by
``(seed, CRC-32 of its key)``: the same seed gives byte-identical files, adding images never changes the
others, and the pairs equal what ``CoupledOnlineDataset`` produces in validation with the same ``seed`` and
preset. The folder appears only when complete (written to a temporary folder, then renamed).
"""
import dataclasses
import json
import os
import shutil
import tempfile
from os import path as osp

from tqdm import tqdm

from .coupled_base import stable_image_seed
from .coupled_degradation import get_preset, make_pair
from .draw_sampler import rng_from_key
from .image_io import write_png
from .image_source import ImageSource


def make_pairs(hr, out, scale, preset_name, seed, overwrite=False, progress=True):
    """Write the pair folder ``out`` from the HR images ``hr`` (a folder or ``skimage:name,...``).

    ``overwrite`` replaces only a folder this function wrote (one holding ``degradation.json``).
    Returns the degradation record: preset, ranges, scale, seed and each image's drawn parameters.

    Raises:
        FileExistsError: ``out`` exists (and may not be replaced).
        ValueError: An image is smaller than ``scale``, or two share a key; the message names the file.
    """
    if osp.exists(out) and not overwrite:
        raise FileExistsError(f'{out} already exists (overwrite=True, or --overwrite, replaces it)')
    if osp.exists(out) and not osp.isfile(osp.join(out, 'degradation.json')):
        raise FileExistsError(f'{out} exists and was not written by this script (no degradation.json): '
                              'refusing to replace it; choose another output folder')
    source = ImageSource(hr, where='--hr')
    preset = get_preset(preset_name)
    parent = osp.dirname(osp.abspath(out))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f'.{osp.basename(out)}.', suffix='.partial', dir=parent)
    record = {'preset': preset_name, 'ranges': dataclasses.asdict(preset), 'scale': scale, 'seed': seed, 'images': {}}
    try:
        meta_lines = []
        for index in tqdm(range(len(source)), desc=f'{preset_name} x{scale}', unit='image', disable=not progress):
            key = source.key(index)
            rng = rng_from_key((seed, stable_image_seed(key)))
            hr_img = source.load(index)
            if min(hr_img.shape[:2]) < scale:
                raise ValueError(f'{source.path(index)}: {hr_img.shape[0]}x{hr_img.shape[1]} pixels is smaller than '
                                 f'the scale {scale}: no low-resolution image can be made from it')
            gt, lq, _, params = make_pair(hr_img, scale, preset, rng)
            write_png(osp.join(staging, 'gt', f'{key}.png'), gt)
            write_png(osp.join(staging, f'lq_x{scale}', f'{key}.png'), lq)
            meta_lines.append(f'{key}.png ({gt.shape[0]},{gt.shape[1]},3)\n')
            record['images'][key] = params.to_dict()
        with open(osp.join(staging, 'meta_info.txt'), 'w') as f:
            f.writelines(meta_lines)
        with open(osp.join(staging, 'degradation.json'), 'w') as f:
            json.dump(record, f, indent=1, sort_keys=True)
        if osp.exists(out):
            shutil.rmtree(out)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return record
