"""The upper level's data: an endless, rank-consistent stream of batches from held-out images."""
from copy import deepcopy

import numpy as np
from torch.utils.data import default_collate

from .draw_sampler import UPPER_STREAM


class UpperLevelStream:
    """Batches for the hypergradient, from a dataset disjoint from the lower/middle training images.

    Batch ``k`` covers global positions ``[k*B, (k+1)*B)`` (``B`` = batch size x world size) of an
    endless sequence of permutations of the dataset, one per pass, seeded by ``(seed, pass)``. Rank
    ``r`` loads positions ``r, r+W, r+2W, ...`` of that range, so W ranks with batch b see exactly the
    images (and draw keys) that one rank with batch W*b sees. The only state is the number of batches
    drawn, saved with the training state.

    Args:
        dataset (Dataset): Training-phase dataset (random crops), ideally accepting draw keys.
        batch_size_per_gpu (int): Images per rank per batch.
        seed (int): Stream seed.
        rank (int), world_size (int): This process's place in the job. Default: 0, 1.
    """

    def __init__(self, dataset, batch_size_per_gpu, seed, rank=0, world_size=1):
        if len(dataset) == 0:
            raise ValueError('the upper-level dataset is empty')
        self.dataset, self.batch_size, self.seed = dataset, int(batch_size_per_gpu), int(seed)
        self.rank, self.world_size = rank, world_size
        self.batches_drawn = 0
        self.keyed = getattr(dataset, 'accepts_draw_keys', False)

    def _permutation(self, pass_index):
        return np.random.default_rng([self.seed, UPPER_STREAM, pass_index]).permutation(len(self.dataset))

    def _key(self, position):
        pass_index, offset = divmod(position, len(self.dataset))
        index = int(self._permutation(pass_index)[offset])
        return (index, (self.seed, UPPER_STREAM, 0, position)) if self.keyed else index

    def positions(self, batch_index):
        """Global positions this rank loads for batch ``batch_index``."""
        start = batch_index * self.batch_size * self.world_size
        return [start + self.rank + j * self.world_size for j in range(self.batch_size)]

    def next_batch(self):
        """The next collated batch (dict of stacked tensors and lists of paths)."""
        items = [self.dataset[self._key(p)] for p in self.positions(self.batches_drawn)]
        self.batches_drawn += 1
        return default_collate(items)

    def state_dict(self):
        return {'batches_drawn': self.batches_drawn}

    def load_state_dict(self, state):
        self.batches_drawn = int(state['batches_drawn'])


def build_upper_stream(opt, upper_data):
    """The upper level's stream for BasicSR options ``opt`` and the validated ``train.pgr.upper_data``.

    ``source: split``: the training dataset's ``upper_split`` images (its held-out part), degraded with
    ``upper_data.preset`` when given (another degradation family than training's; the training
    dataset's ``degradation`` overrides then do not apply);
    ``source: dataset``: the dataset options given in ``upper_data.dataset`` (paired folders or LMDBs
    of real pairs, or another family). A ``CoupledOnlineDataset`` here is marked ``role: upper``.
    """
    from basicsr.data import build_dataset
    if upper_data.source == 'split':
        dataset_opt = deepcopy(opt['datasets']['train'])
        if not dataset_opt.get('upper_split'):
            raise ValueError('train.pgr.upper_data.source is split, but datasets.train has no upper_split '
                             '(e.g. upper_split: {fraction: 0.2, seed: 0}); or give upper_data.dataset.')
        dataset_opt['split_part'] = 'upper'
        dataset_opt['name'] = f"{dataset_opt.get('name', 'train')}_upper"
        if upper_data.preset:
            if dataset_opt.get('type') != 'CoupledOnlineDataset':
                raise ValueError('train.pgr.upper_data.preset needs datasets.train of type CoupledOnlineDataset '
                                 f"(HR images degraded on the fly), not {dataset_opt.get('type')}; for fixed pairs "
                                 'give upper_data.source: dataset with the upper pairs')
            dataset_opt['preset'] = upper_data.preset
            dataset_opt.pop('degradation', None)
    else:
        from trico_basicsr.pgr.config import to_dict
        dataset_opt = to_dict(upper_data.dataset)
        dataset_opt.setdefault('name', 'upper')
    if dataset_opt.get('type') == 'CoupledOnlineDataset':
        dataset_opt['role'] = 'upper'
    dataset_opt.update(phase='train', scale=opt['scale'])
    seed = opt['manual_seed'] if upper_data.seed is None else upper_data.seed
    return UpperLevelStream(build_dataset(dataset_opt), upper_data.batch_size_per_gpu, seed, opt['rank'],
                            opt['world_size'])


def unused_split_warning(opt, pgr_cfg):
    """A warning when ``upper_split`` holds images out of training but the upper level never trains, else None."""
    split = opt['datasets'].get('train', {}).get('upper_split')
    start = pgr_cfg.phases.trilevel_start
    from trico_basicsr.pgr.levels import UPPER
    never = UPPER not in pgr_cfg.train_levels or start is None or start > opt['train']['total_iter']
    if split and never:
        return (f"datasets.train.upper_split holds {split.get('fraction')} of the training images out for the upper "
                'level, but the upper level never trains (train.pgr.train_levels / phases.trilevel_start): '
                'those images are wasted. Remove upper_split to train on all of them.')
    return None
