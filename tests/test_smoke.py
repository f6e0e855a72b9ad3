"""Smoke tests: every shipped option file builds, every loss behaves at identity and in its reductions."""
import glob
import inspect
from os import path as osp

import pytest
import torch
from basicsr.archs import build_network
from basicsr.losses import build_loss
from basicsr.models import build_model
from basicsr.utils.registry import LOSS_REGISTRY

from tests.helpers.runs import ROOT
from trico_basicsr.utils.options import load_training_options

OPTION_FILES = sorted(glob.glob(osp.join(ROOT, 'options', '**', '*.yml'), recursive=True))
# Images the build can load without the datasets the options point to (an upper split needs images).
BUNDLED = 'skimage:astronaut,coffee,rocket,chelsea,immunohistochemistry'


def offline(opt):
    """The options with no backbone download, no pretrained weights and bundled images for training data."""
    net = opt['network_g']
    for key in ('semantic_weights',):
        if key in net:
            net[key] = None
    for sub in ('illum', 'sr'):
        if isinstance(net.get(sub), dict) and 'semantic_weights' in net[sub]:
            net[sub]['semantic_weights'] = None
    opt['path']['pretrain_network_g'] = None
    opt['num_gpu'] = 0
    train = opt['datasets'].get('train')
    if train is not None and train['type'] != 'CoupledOnlineDataset':
        kept = {k: v for k, v in train.items() if k not in ('dataroot_lq', 'io_backend', 'sources')}
        opt['datasets']['train'] = {**kept, 'type': 'CoupledOnlineDataset', 'dataroot_gt': BUNDLED,
                                    'preset': 'ultra_dark'}
    elif train is not None:
        train['dataroot_gt'] = BUNDLED
    upper = ((opt.get('train') or {}).get('pgr') or {}).get('upper_data') or {}
    if upper.get('source') == 'dataset':  # real pairs on disk: the same images as the training set instead
        upper['dataset'] = {'type': 'CoupledOnlineDataset', 'dataroot_gt': BUNDLED, 'preset': 'camera_mix',
                            'gt_size': (train or {}).get('gt_size', 96)}
    return opt


def test_there_are_option_files():
    assert len(OPTION_FILES) >= 8


@pytest.mark.parametrize('path', OPTION_FILES, ids=osp.basename)
def test_every_option_file_builds_its_network_and_model(path, tmp_path):
    opt = offline(load_training_options(path, str(tmp_path)))
    if 'train' not in opt['datasets']:  # a test-pipeline file (it may inherit a train block it does not use)
        opt['is_train'] = False
    net = build_network(dict(opt['network_g']))
    assert sum(p.numel() for p in net.parameters()) > 0
    model = build_model(opt)
    if opt['is_train']:
        assert model.level_optimizers, path
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert model.net_g(x).shape == (1, 3, 16 * opt['scale'], 16 * opt['scale'])


# ------------------------------------------------------------------------------------------ losses
def _trico_losses():
    import trico_basicsr.losses as package
    folder = osp.dirname(package.__file__)
    names = []
    for name, cls in LOSS_REGISTRY._obj_map.items():
        module = inspect.getmodule(cls)
        if module is not None and getattr(module, '__file__', '').startswith(folder):
            names.append(name)
    return sorted(names)


LOSSES = _trico_losses()
# Losses without a target judge one image alone: at "identity" they see a well-exposed, grey-balanced,
# smooth image, which is their minimum.
NO_TARGET = {'ColorConstancyLoss', 'ExposureControlLoss'}


def _make(name, **kwargs):
    opt = {'type': name, 'loss_weight': 1.0, **kwargs}
    if name == 'SemanticPerceptualLoss':
        opt['weights'] = None
    return build_loss(opt)


def _call(loss, name, pred, target):
    if name in NO_TARGET:
        return loss(pred)
    if name == 'IlluminationSmoothnessLoss':
        return loss(pred, target)
    return loss(pred, target)


def test_every_trico_loss_is_covered():
    assert set(LOSSES) >= {'SSIMLoss', 'GradientLoss', 'FFTAmplitudeLoss', 'ColorConstancyLoss', 'ExposureControlLoss',
                           'IlluminationSmoothnessLoss', 'SemanticPerceptualLoss'}


@pytest.mark.parametrize('name', LOSSES)
def test_loss_is_minimal_at_identity_with_finite_gradients(name):
    torch.manual_seed(0)
    target = torch.rand(2, 3, 32, 32)
    if name in NO_TARGET:
        ideal = torch.full((2, 3, 32, 32), 0.5)  # mid-grey: exposure at its level, channels balanced
    elif name == 'IlluminationSmoothnessLoss':
        ideal = torch.full((2, 3, 32, 32), 0.3)  # a constant illumination map is perfectly smooth
    else:
        ideal = target.clone()
    loss = _make(name)
    at_identity = _call(loss, name, ideal, target)
    assert at_identity.item() == pytest.approx(0.0, abs=1e-5), name
    perturbed = (ideal + 0.2 * torch.rand_like(ideal) - 0.1).clamp(0, 1).requires_grad_(True)
    value = _call(loss, name, perturbed, target)
    assert value.item() > at_identity.item() + 1e-6, name
    value.backward()
    assert perturbed.grad is not None and torch.isfinite(perturbed.grad).all(), name


@pytest.mark.parametrize('name', LOSSES)
def test_loss_honours_its_reductions(name):
    signature = inspect.signature(LOSS_REGISTRY.get(name).__init__).parameters
    assert 'reduction' in signature, f'{name} has no reduction argument'
    torch.manual_seed(1)
    pred, target = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    mean = _call(_make(name, reduction='mean'), name, pred, target)
    total = _call(_make(name, reduction='sum'), name, pred, target)
    assert mean.dim() == 0 and total.dim() == 0
    assert total.item() > mean.item() > 0, name  # a sum over more than one element exceeds its mean
    with pytest.raises((ValueError, KeyError, NotImplementedError)):
        _call(_make(name, reduction='median'), name, pred, target)
