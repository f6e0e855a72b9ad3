"""Frequency loss: L1 distance between Fourier amplitude spectra."""
import torch
from basicsr.losses.loss_util import reduce_loss
from basicsr.utils.registry import LOSS_REGISTRY
from torch import nn


def amplitude_spectrum(img, eps=1e-8):
    """|FFT2| with orthonormal scaling, (N, C, H, W) -> (N, C, H, W // 2 + 1); smooth at zero."""
    spectrum = torch.fft.rfft2(img, norm='ortho')
    return torch.sqrt(spectrum.real**2 + spectrum.imag**2 + eps)


@LOSS_REGISTRY.register()
class FFTAmplitudeLoss(nn.Module):
    """``loss_weight * |amp(FFT(pred)) - amp(FFT(target))|``: restores high-frequency energy.

    Args:
        loss_weight (float): Default: 1.0.
        reduction (str): 'none' | 'mean' | 'sum' over the spectrum. Default: 'mean'.

    ``forward(pred, target)``: (N, C, H, W).
    """

    def __init__(self, loss_weight=1.0, reduction='mean'):
        super().__init__()
        self.loss_weight, self.reduction = loss_weight, reduction

    def forward(self, pred, target, weight=None):
        diff = torch.abs(amplitude_spectrum(pred) - amplitude_spectrum(target))
        return self.loss_weight * reduce_loss(diff, self.reduction)
