"""Training pairs synthesised on the fly from normal-light HR images."""
from basicsr.utils.registry import DATASET_REGISTRY

from .coupled_base import CoupledBase
from .coupled_degradation import get_preset, make_pair, mod_crop
from .crops import random_crop, random_flip_rotate
from .image_source import ImageSource
from .upper_split import select_split


@DATASET_REGISTRY.register()
class CoupledOnlineDataset(CoupledBase):
    """Dark low-resolution / normal-light high-resolution pairs made from HR images at load time.

    Training: a random ``gt_size`` crop (with flips/rotations) is degraded with parameters drawn
    from ``preset``, so every epoch sees new darkness, noise and crops. Validation: each whole image
    (mod-cropped to the scale) is degraded with a generator seeded by ``seed`` and the image key --
    exactly what ``scripts/make_coupled_pairs.py --seed`` writes for that image.

    Args:
        opt (dict): Options:
            dataroot_gt (str): HR images: a folder, an LMDB (``io_backend: {type: lmdb}``) or
                ``skimage:name,...`` for photos bundled with scikit-image.
            io_backend (dict): ``{type: disk}`` (default) or ``{type: lmdb}``.
            meta_info_file (str): Optional list of the folder's images to use.
            preset (str | list[str]): ``clean``, ``dark``, ``ultra_dark`` (default) or ``extreme``; a list
                draws one of them (uniformly) per sample, for models that must handle several light levels.
            degradation (dict): Overrides of the preset's ranges (see ``PresetRanges``).
            gt_size (int): HR crop size for training; a multiple of ``scale``.
            use_hflip (bool), use_rot (bool): Random flips / 90-degree rotations. Default: True.
            upper_split (dict), split_part (str): Hold images out for the upper level (see upper_split.py);
            role (str): ``lower`` (default) or ``upper``: whose data this is. The upper level's stream
                sets ``upper``, which alone may use the upper-level families (``upper_*``) as presets.
                ``split_part: upper`` implies it.
            seed (int): Seed of the validation degradations. Default: 0.
            scale, phase, name, ... : BasicSR's usual keys.
    """

    OPTIONS = ('dataroot_gt', 'io_backend', 'meta_info_file', 'preset', 'degradation', 'gt_size', 'use_hflip',
               'use_rot', 'upper_split', 'split_part', 'seed', 'role')
    REQUIRED = ('dataroot_gt',)

    def __init__(self, opt):
        super().__init__(opt)
        backend = (opt.get('io_backend') or {}).get('type', 'disk')
        source = ImageSource(opt['dataroot_gt'], backend, opt.get('meta_info_file'))
        self.source = select_split(source, opt.get('upper_split'), opt.get('split_part', 'lower'), self.where)
        names = opt.get('preset', 'ultra_dark')
        names = [names] if isinstance(names, str) else list(names)
        if not names:
            raise ValueError(f'{self.where}: preset list is empty')
        role = opt.get('role') or ('upper' if opt.get('split_part') == 'upper' else 'lower')
        if role not in ('lower', 'upper'):
            raise ValueError(f"{self.where}.role must be 'lower' or 'upper', got '{role}'")
        self.preset_names = names
        self.presets = [get_preset(name, opt.get('degradation'), training=self.is_train, role=role) for name in names]

    def __len__(self):
        return len(self.source)

    def __getitem__(self, key):
        index, rng = self.generator(key)
        hr, path = self.source.load(index), self.source.path(index)
        if self.is_train:
            hr = random_crop(rng, hr, int(self.opt['gt_size']), path)
            hr, = random_flip_rotate(rng, [hr], self.opt.get('use_hflip', True), self.opt.get('use_rot', True))
        # One extra draw only with several presets: a single preset matches make_coupled_pairs exactly.
        choice = int(rng.integers(len(self.presets))) if len(self.presets) > 1 else 0
        hr = mod_crop(hr, self.scale, f'{path} ({self.where})')
        gt, lq, gt_lr, params = make_pair(hr, self.scale, self.presets[choice], rng)
        # 'preset' names the mix entry that made the sample (train.pgr.sample_weights groups by it)
        return self.sample(gt, lq, gt_lr, gt_path=path, lq_path=path, degradation=params.to_dict(),
                           preset=self.preset_names[choice])

    def image_key(self, index):
        return self.source.key(index)
