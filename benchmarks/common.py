"""What the benchmarks share: their reports, wall-clock timing, image conversion and a score cache.

Run every benchmark from the project root as a module, ``python -m benchmarks.<name> ...``.
"""
import hashlib
import json
import os
import statistics
import sys
import time
from os import path as osp

import numpy as np

ROOT = osp.abspath(osp.join(osp.dirname(__file__), osp.pardir))


# ------------------------------------------------------------------------------------------------ reports
def command_line(root=ROOT):
    """``python -m benchmarks.x --args`` as this process was started (a script: its path relative to ``root``)."""
    program = osp.abspath(sys.argv[0])
    package = osp.join(root, 'benchmarks')
    if osp.dirname(program) == package:
        return ' '.join(['python', '-m', f'benchmarks.{osp.splitext(osp.basename(program))[0]}'] + sys.argv[1:])
    return ' '.join(['python', osp.relpath(program, root)] + sys.argv[1:])


def write_report(out, results, markdown):
    """Write ``out.json`` (``results``) and ``out.md`` (``markdown``), each whole or not at all; print the Markdown."""
    from trico_basicsr.utils.atomic import atomic_write
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    atomic_write(out + '.json', lambda f: f.write(json.dumps(results, indent=1).encode()))
    atomic_write(out + '.md', lambda f: f.write(markdown.encode()))
    print(markdown)


# ------------------------------------------------------------------------------------------------ models
MODEL_SPEC = 'NAME=CHECKPOINT[@EXPOSURE[,BLACK_LEVEL]]'


def parse_model_spec(spec, option='--model'):
    """``(name, checkpoint, {'exposure': ..., 'keep_black_level': ...})`` of a model spec.

    ``NAME=CHECKPOINT[@EXPOSURE[,BLACK_LEVEL]]``: EXPOSURE is what ``TriCoEnhancer(exposure=...)`` takes,
    'auto' (the default, what users get), 'model' (the net's own brightness estimate) or a mean grey level;
    BLACK_LEVEL 'model' (the default, what users get: the SR level's shadows left as they are) or 'keep' (the
    enhancer's black-level step). ``@model`` is the network exactly as trained. A malformed spec or a missing
    checkpoint is an error naming ``option``.
    """
    name, sep, rest = spec.partition('=')
    path, _, finish = rest.rpartition('@') if '@' in rest else (rest, '', 'auto')
    exposure, _, black_level = finish.partition(',')
    if not sep or not name or not osp.isfile(path):
        raise SystemExit(f'error: {option} {spec!r}: expected {MODEL_SPEC} with an existing checkpoint')
    from trico_basicsr.archs.exposure_anchor import exposure_setting
    try:
        exposure = exposure_setting(exposure)
    except ValueError as error:
        raise SystemExit(f'error: {option} {spec!r}: EXPOSURE: {error}') from None
    if black_level not in ('', 'keep', 'model'):
        raise SystemExit(f"error: {option} {spec!r}: BLACK_LEVEL must be 'keep' or 'model'")
    return name, path, {'exposure': exposure, 'keep_black_level': black_level == 'keep'}


# ------------------------------------------------------------------------------------------------ timing
def synchronize():
    """Wait for queued CUDA work, so a timer measures the work and not only its launch (no-op on CPU)."""
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def median_seconds(fn, repeats, warmup=1):
    """Median seconds of ``fn()`` over ``repeats`` calls after ``warmup`` untimed ones, synchronised around each."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def device_name():
    """``'NVIDIA H100 ...'`` on a GPU, else ``'CPU (N threads)'``."""
    import torch
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f'CPU ({torch.get_num_threads()} threads)'


# ------------------------------------------------------------------------------------------------ images
def to_bgr_uint8(img):
    """An RGB float image in [0, 1] (HWC) as the contiguous 8-bit BGR array BasicSR's metrics read."""
    return np.ascontiguousarray(np.clip(np.rint(img[..., ::-1] * 255), 0, 255).astype(np.uint8))


def save_panels(rows, labels, path):
    """A JPEG grid with one row per example: ``row[label]`` for each of ``labels`` (RGB float HWC images in
    [0, 1]); the ``'input'`` column is nearest-neighbour upscaled to the next column's size."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(rows), len(labels), figsize=(2.3 * len(labels), 2.3 * len(rows) + 0.4),
                             squeeze=False)
    for r, row in enumerate(rows):
        for c, label in enumerate(labels):
            img = row[label]
            if label == 'input':
                factor = row[labels[1]].shape[0] // img.shape[0]
                img = img.repeat(factor, axis=0).repeat(factor, axis=1)
            axes[r][c].imshow(np.clip(img, 0, 1))
            axes[r][c].set_xticks([])
            axes[r][c].set_yticks([])
            if r == 0:
                axes[r][c].set_title(label, fontsize=7)
        axes[r][0].set_ylabel(row.get('_name', ''), fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80, pil_kwargs={'quality': 85})  # a JPEG: the grids are committed
    plt.close(fig)


# ------------------------------------------------------------------------------------------------ caching
def file_sha1(*paths):
    """The first 16 hex digits of the SHA-1 of the files' bytes, in order (a checkpoint's identity)."""
    digest = hashlib.sha1()
    for path in paths:
        with open(path, 'rb') as f:
            digest.update(f.read())
    return digest.hexdigest()[:16]


class ScoreCache:
    """Scores by (data, method identity) in a JSON file, written after every new entry."""

    def __init__(self, path):
        self.path = path
        self.entries = json.load(open(path)) if osp.isfile(path) else {}
        self.hits = self.misses = 0

    def get(self, key, compute):
        if key in self.entries:
            self.hits += 1
        else:
            self.misses += 1
            self.entries[key] = compute()
            if osp.isfile(self.path):  # another process may have added entries since: keep them
                self.entries = {**json.load(open(self.path)), **self.entries}
            tmp = f'{self.path}.{os.getpid()}.tmp'
            with open(tmp, 'w') as f:
                json.dump(self.entries, f)
            os.replace(tmp, self.path)
        return self.entries[key]
