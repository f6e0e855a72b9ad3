"""A training set drawn from several coupled datasets with fixed probabilities (synthetic + real pairs)."""
import numpy as np
from basicsr.utils.registry import DATASET_REGISTRY

from .coupled_base import CoupledBase

#: Sample fields every source yields; anything else (e.g. a synthetic draw's parameters) is dropped so
#: that samples of different sources collate into one batch.
COMMON_FIELDS = ('lq', 'gt', 'gt_lr', 'lq_path', 'gt_path')


@DATASET_REGISTRY.register()
class CoupledMixDataset(CoupledBase):
    """Each sample comes from one of several coupled datasets, chosen with the given probabilities.

    Typical use: synthetic pairs from every HR photo at hand (``CoupledOnlineDataset``) mixed with real
    dark/normal pairs (``CoupledPairedDataset``, from ``scripts/make_real_pairs.py``). A sample's source
    and its index within the source are drawn from the draw key (reproducible across workers, ranks and
    resumes), then the source is given its own draw key. ``preset`` of each sample names the synthetic
    preset that made it, or the source's name for fixed pairs (``train.pgr.sample_weights`` groups by it).

    Args:
        opt (dict): Options:
            sources (dict[str, dict]): Name -> dataset options (``type`` and that type's keys, plus
                ``probability``, a positive weight; weights are normalised). ``phase``, ``scale``,
                ``gt_size``, ``use_hflip`` and ``use_rot`` are passed down unless a source sets them.
            gt_size (int), use_hflip (bool), use_rot (bool): As in the sources.
            length (int): Samples in one epoch. Default: the sum of the sources' lengths.
            scale, phase, name, ... : BasicSR's usual keys.
    """

    OPTIONS = ('sources', 'gt_size', 'use_hflip', 'use_rot', 'length', 'seed')
    REQUIRED = ('sources',)
    INHERITED = ('phase', 'scale', 'gt_size', 'use_hflip', 'use_rot')

    def __init__(self, opt):
        super().__init__(opt)
        from basicsr.data import build_dataset
        sources = opt['sources']
        if not isinstance(sources, dict) or not sources:
            raise ValueError(f'{self.where}.sources must be a mapping of name -> dataset options')
        self.names, self.sources, weights = [], [], []
        for name, source_opt in sources.items():
            source_opt = dict(source_opt)
            weight = source_opt.pop('probability', None)
            if not isinstance(weight, (int, float)) or weight <= 0:
                raise ValueError(f'{self.where}.sources.{name}.probability must be a positive number, got {weight}')
            if 'type' not in source_opt:
                raise ValueError(f'{self.where}.sources.{name} has no type (e.g. CoupledPairedDataset)')
            for key in self.INHERITED:
                if key in opt and key not in source_opt:
                    source_opt[key] = opt[key]
            source_opt.setdefault('name', f"{opt.get('name', 'mix')}.{name}")
            dataset = build_dataset(source_opt)
            if len(dataset) == 0:
                raise ValueError(f'{self.where}.sources.{name} is empty')
            self.names.append(name)
            self.sources.append(dataset)
            weights.append(float(weight))
        self.probabilities = np.asarray(weights) / sum(weights)
        self.length = int(opt.get('length') or sum(len(d) for d in self.sources))

    def __len__(self):
        return self.length

    def image_key(self, index):
        return f'mix{index}'

    def __getitem__(self, key):
        index, rng = self.generator(key)
        choice = int(rng.choice(len(self.sources), p=self.probabilities))
        source = self.sources[choice]
        sub_index = int(rng.integers(len(source)))
        if getattr(source, 'accepts_draw_keys', False):
            sample = source[(sub_index, tuple(int(v) for v in rng.integers(0, 2**31 - 1, size=4)))]
        else:
            sample = source[sub_index]
        out = {k: sample[k] for k in COMMON_FIELDS}
        out['preset'] = sample.get('preset', self.names[choice])
        return out

