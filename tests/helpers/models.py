"""Build TriLevelModels from option files in-process, for tests."""
from basicsr.models import build_model

from trico_basicsr.utils.options import load_training_options

from .runs import TINY


def load_options(path=TINY, root='/tmp/trico-tests', **changes):
    return load_training_options(path, root, **changes)


def build_tiny_model(root, **changes):
    return build_model(load_options(root=root, **changes))


def tiny_batch(model, size=32, batch=2):
    """A training batch from the model's own training dataset options (draw keys 0..batch-1)."""
    from basicsr.data import build_dataset
    from torch.utils.data import default_collate
    dataset_opt = dict(model.opt['datasets']['train'], gt_size=size)
    dataset = build_dataset(dataset_opt)
    return default_collate([dataset[(i % len(dataset), (0, 0, 0, i))] for i in range(batch)])
