"""Paired dark-LR / normal-light-HR images from folders, a meta-info file or LMDB."""
from basicsr.utils.registry import DATASET_REGISTRY

from .coupled_base import CoupledBase
from .coupled_degradation import downsample
from .crops import check_pair_size, random_crop_pair, random_flip_rotate
from .image_source import ImageSource
from .upper_split import select_split


@DATASET_REGISTRY.register()
class CoupledPairedDataset(CoupledBase):
    """Real or pre-made pairs: ``dataroot_lq`` (dark, low resolution) and ``dataroot_gt`` (lit, s x larger).

    Pairs are matched by key (file name without extension); every GT needs an LQ of the same key.
    Training takes scale-aligned random crops with flips/rotations drawn from the draw key; validation
    uses whole images. ``gt_lr`` is the bicubic downsampling of ``gt`` (the illumination target).
    The folder and LMDB backends list keys in sorted order, so both give identical samples.

    Args:
        opt (dict): Options: ``dataroot_gt``, ``dataroot_lq`` (folders, or ``.lmdb`` folders with
            ``io_backend: {type: lmdb}``), ``meta_info_file`` (disk only; names the GT files, LQ files
            share their names), ``gt_size``, ``use_hflip``, ``use_rot``, ``upper_split``, ``split_part``,
            ``seed`` and BasicSR's usual keys.
    """

    OPTIONS = ('dataroot_gt', 'dataroot_lq', 'io_backend', 'meta_info_file', 'gt_size', 'use_hflip', 'use_rot',
               'upper_split', 'split_part', 'seed')
    REQUIRED = ('dataroot_gt', 'dataroot_lq')

    def __init__(self, opt):
        super().__init__(opt)
        backend = (opt.get('io_backend') or {}).get('type', 'disk')
        gt = ImageSource(opt['dataroot_gt'], backend, opt.get('meta_info_file'), where='dataroot_gt')
        lq = ImageSource(opt['dataroot_lq'], backend, opt.get('meta_info_file'), where='dataroot_lq')
        lq_index = {lq.key(i): i for i in range(len(lq))}
        missing = [gt.path(i) for i in range(len(gt)) if gt.key(i) not in lq_index]
        if missing:
            raise FileNotFoundError(f"dataroot_lq ({opt['dataroot_lq']}) has no image for GT "
                                    f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        self.gt = select_split(gt, opt.get('upper_split'), opt.get('split_part', 'lower'), self.where)
        self.lq = lq.subset([lq_index[self.gt.key(i)] for i in range(len(self.gt))])

    def __len__(self):
        return len(self.gt)

    def image_key(self, index):
        return self.gt.key(index)

    def __getitem__(self, key):
        index, rng = self.generator(key)
        gt, lq = self.gt.load(index), self.lq.load(index)
        gt_path, lq_path = self.gt.path(index), self.lq.path(index)
        check_pair_size(gt, lq, self.scale, gt_path, lq_path)
        if self.is_train:
            gt, lq = random_crop_pair(rng, gt, lq, int(self.opt['gt_size']), self.scale, gt_path)
            gt, lq = random_flip_rotate(rng, [gt, lq], self.opt.get('use_hflip', True), self.opt.get('use_rot', True))
        return self.sample(gt, lq, downsample(gt, self.scale), gt_path=gt_path, lq_path=lq_path)
