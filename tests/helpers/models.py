"""Build BasicSR models from option files in-process (what parse_options would add, without argv)."""
import copy
import os

import yaml
from basicsr.models import build_model
from basicsr.utils.options import ordered_yaml

from .runs import TINY


def load_options(path=TINY, root='/tmp/trico-tests', **changes):
    """Options as BasicSR's parse_options leaves them for a single-process training run.

    ``changes`` maps colon paths to values, like ``--force_yml`` (``{'train:total_iter': 3}``).
    """
    with open(path) as f:
        opt = yaml.load(f, Loader=ordered_yaml()[0])
    for keys, value in changes.items():
        node = opt
        *parents, last = keys.split(':')
        for key in parents:
            node = node[key]
        node[last] = copy.deepcopy(value)
    opt.update(dist=False, rank=0, world_size=1, is_train=True, auto_resume=False, root_path=root)
    for phase, dataset in opt['datasets'].items():
        dataset['phase'] = phase.split('_')[0]
        dataset['scale'] = opt['scale']
    experiments = os.path.join(root, 'experiments', opt['name'])
    opt['path'].update(experiments_root=experiments, models=os.path.join(experiments, 'models'),
                       training_states=os.path.join(experiments, 'training_states'), log=experiments,
                       visualization=os.path.join(experiments, 'visualization'))
    return opt


def build_tiny_model(root, **changes):
    return build_model(load_options(root=root, **changes))


def tiny_batch(model, size=32, batch=2):
    """A training batch from the model's own training dataset options (draw keys 0..batch-1)."""
    from basicsr.data import build_dataset
    from torch.utils.data import default_collate
    dataset_opt = dict(model.opt['datasets']['train'], gt_size=size)
    dataset = build_dataset(dataset_opt)
    return default_collate([dataset[(i % len(dataset), (0, 0, 0, i))] for i in range(batch)])
