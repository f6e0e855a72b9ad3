"""A BasicSR ``EnlargedSampler`` that resumes mid-epoch and hands out reproducible draw keys.

A *draw key* names one training sample independently of the process that loads it:
``(index, (seed, stream, epoch, position))`` where ``position`` is the sample's place in the epoch's
global (all-rank) order. Datasets that set ``accepts_draw_keys = True`` seed their random crop,
flips and degradation from the key (see :func:`rng_from_key`), so a sample is the same whether it is
loaded by worker 0 or 3, by rank 0 of 2 or by the single rank of a one-process run, and before or
after a resume. Other datasets receive plain indices, as with BasicSR's sampler.
"""
import numpy as np
from basicsr.data.data_sampler import EnlargedSampler

TRAIN_STREAM = 0
UPPER_STREAM = 1


def rng_from_key(entropy):
    """A NumPy generator seeded by a draw key's entropy tuple of non-negative ints."""
    return np.random.default_rng([int(v) for v in entropy])


def split_key(key):
    """Split a dataset key into ``(index, entropy)``; ``entropy`` is None for a plain index."""
    if isinstance(key, (tuple, list)):
        index, entropy = key
        return int(index), tuple(entropy)
    return int(key), None


class DrawKeySampler(EnlargedSampler):
    """EnlargedSampler (same order, same rank split) with draw keys and mid-epoch resume.

    Args:
        dataset (Dataset): Dataset to sample.
        num_replicas (int): World size.
        rank (int): Rank of this process.
        ratio (int): Dataset enlarge ratio. Default: 1.
        seed (int): Seed mixed into every draw key (the options' ``manual_seed``). Default: 0.
    """

    def __init__(self, dataset, num_replicas, rank, ratio=1, seed=0):
        super().__init__(dataset, num_replicas, rank, ratio)
        self.seed = seed
        self._continue_epoch = None
        self._consumed = 0

    def continue_epoch(self, epoch, num_consumed):
        """Make ``epoch`` skip its first ``num_consumed`` samples of this rank (they were trained on)."""
        self._continue_epoch, self._consumed = epoch, int(num_consumed)

    def __iter__(self):
        skip = self._consumed if self.epoch == self._continue_epoch else 0
        keyed = getattr(self.dataset, 'accepts_draw_keys', False)
        for local_position, index in enumerate(super().__iter__()):
            if local_position < skip:
                continue
            if keyed:
                position = self.rank + local_position * self.num_replicas
                yield index, (self.seed, TRAIN_STREAM, self.epoch, position)
            else:
                yield index

    def __len__(self):
        skip = self._consumed if self.epoch == self._continue_epoch else 0
        return self.num_samples - skip
