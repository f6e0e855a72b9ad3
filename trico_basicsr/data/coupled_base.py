"""What the coupled datasets share: option checking, per-draw generators and the sample layout.

Every sample is a dict of CHW float32 RGB tensors in [0, 1]:
    ``lq``     dark low-resolution input, (3, H, W);
    ``gt``     normal-light high-resolution target, (3, sH, sW);
    ``gt_lr``  normal-light low-resolution target (bicubic downsampling of ``gt``), (3, H, W) --
               what the illumination (middle) level should produce;
plus ``lq_path`` and ``gt_path`` strings, as BasicSR's validation expects.
"""
import zlib

import numpy as np
from basicsr.utils import img2tensor
from torch.utils import data

from trico_basicsr.utils.option_check import check_keys, require_keys

from .draw_sampler import rng_from_key, split_key

# Keys BasicSR itself adds to, or reads from, every dataset block.
BASICSR_DATASET_KEYS = ('name', 'type', 'phase', 'scale', 'batch_size_per_gpu', 'num_worker_per_gpu',
                        'dataset_enlarge_ratio', 'prefetch_mode', 'pin_memory', 'persistent_workers',
                        'num_prefetch_queue')


def stable_image_seed(key):
    """A seed derived from an image key alone (CRC-32), so adding files never reshuffles others' draws."""
    return zlib.crc32(key.encode('utf-8'))


class CoupledBase(data.Dataset):
    """Base of the coupled datasets. Subclasses set ``OPTIONS`` / ``REQUIRED`` and ``__getitem__``."""

    accepts_draw_keys = True
    OPTIONS = ()
    REQUIRED = ()

    def __init__(self, opt):
        super().__init__()
        where = f"datasets.{opt.get('phase', '?')} ({opt.get('name', type(self).__name__)})"
        check_keys(opt, BASICSR_DATASET_KEYS + tuple(self.OPTIONS), where)
        require_keys(opt, ('scale', 'phase') + tuple(self.REQUIRED), where)
        self.opt, self.where = opt, where
        self.scale = int(opt['scale'])
        self.is_train = opt['phase'] == 'train'
        self.seed = int(opt.get('seed', 0))
        if self.is_train:
            require_keys(opt, ('gt_size',), where)
            if int(opt['gt_size']) % self.scale:
                raise ValueError(f"{where}: gt_size {opt['gt_size']} is not a multiple of scale {self.scale}")

    def image_key(self, index):
        """Key (file name without extension) of image ``index``."""
        raise NotImplementedError

    def generator(self, key):
        """``(index, rng)`` for one draw: from the draw key, else per image (validation) or fresh (training)."""
        index, entropy = split_key(key)
        if entropy is not None:
            return index, rng_from_key(entropy)
        if self.is_train:  # a plain sampler: behave like BasicSR, drawing from the global NumPy state
            return index, np.random.default_rng(np.random.randint(0, 2**31 - 1))
        return index, rng_from_key((self.seed, stable_image_seed(self.image_key(index))))

    @staticmethod
    def sample(gt, lq, gt_lr, gt_path, lq_path, **extra):
        gt_t, lq_t, gt_lr_t = img2tensor([gt, lq, gt_lr], bgr2rgb=False, float32=True)
        return {'lq': lq_t, 'gt': gt_t, 'gt_lr': gt_lr_t, 'lq_path': lq_path, 'gt_path': gt_path, **extra}
