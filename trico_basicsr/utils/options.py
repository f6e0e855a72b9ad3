"""Load option files in-process the way BasicSR's ``parse_options`` prepares them, without argv.

For notebooks, scripts and tests that build a model with ``basicsr.models.build_model`` instead of
running the training pipeline.
"""
import copy
import os

import yaml
from basicsr.utils.options import ordered_yaml


def load_training_options(path, root, **changes):
    """Options of ``path`` for a single-process training run rooted at ``root``.

    ``changes`` maps colon paths to values like ``--force_yml`` (``**{'train:total_iter': 3}``).
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
    if opt.get('num_gpu') == 'auto':
        import torch
        opt['num_gpu'] = torch.cuda.device_count()
    for phase, dataset in opt['datasets'].items():
        dataset['phase'] = phase.split('_')[0]
        dataset['scale'] = opt['scale']
    experiments = os.path.join(root, 'experiments', opt['name'])
    opt['path'].update(experiments_root=experiments, models=os.path.join(experiments, 'models'),
                       training_states=os.path.join(experiments, 'training_states'), log=experiments,
                       visualization=os.path.join(experiments, 'visualization'))
    return opt
