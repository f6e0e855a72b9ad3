"""A brightness estimate that also sees what the scene *is*: ImageNet features next to baseline (c)'s statistics.

Baseline (c) (:mod:`trico_basicsr.baselines.exposure_regression`) predicts the log mean luminance of a dark
input's target from eight statistics of the input's own luminance. Those say how much light reached the
sensor, not how bright the scene was meant to be: a grey wall and a dim white one look the same. A
backbone pretrained on ImageNet has seen millions of scenes, so its features might carry that prior where 100
training photos cannot. This module adds the first principal components of MobileNetV2's pooled features
(of the input brought to a fixed brightness, so that they describe content rather than exposure) to the
eight statistics, in one ridge regression. Images are float32 RGB HWC in [0, 1].
"""
import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

from .exposure_regression import exposure_features, gain_to_mean_luminance, ridge_least_squares

MID_GREY = 0.18  # linear luminance the features' input is brought to: a photographer's mid grey
SHORT_SIDE = 224  # pixels: the resolution MobileNetV2 was trained at


def auto_exposed(lq, mean_luminance=MID_GREY):
    """``lq`` after one linear-light gain to the given mean luminance (clipped at 1), sRGB float32 HWC."""
    return gain_to_mean_luminance(lq, mean_luminance)


class ImageNetFeatures:
    """``features(lq)``: MobileNetV2's last feature map of the auto-exposed input, averaged over space (1280,).

    The weights load offline as :class:`~trico_basicsr.archs.semantic_arch.SemanticBackbone`'s do; a missing
    file is an error that says where to get it.
    """

    def __init__(self, weights='torchvision'):
        from trico_basicsr.archs.semantic_arch import SemanticBackbone
        self.backbone = SemanticBackbone('mobilenet_v2', layers='features.18', weights=weights)

    @torch.no_grad()
    def __call__(self, lq):
        x = torch.from_numpy(auto_exposed(lq)).permute(2, 0, 1)[None]
        height, width = x.shape[-2:]
        size = (round(height * SHORT_SIDE / min(height, width)), round(width * SHORT_SIDE / min(height, width)))
        x = F.interpolate(x, size=size, mode='bicubic', align_corners=False).clamp(0, 1)
        return self.backbone(x).mean(dim=(2, 3))[0].double().numpy()


@dataclasses.dataclass(frozen=True)
class SemanticExposureRegression:
    """Ridge regression on ``components`` principal components of the features plus baseline (c)'s statistics.

    ``r2``: in-sample R² of the target log mean luminance on the fitting pairs.
    """
    feature_mean: np.ndarray
    components: np.ndarray  # (components, 1280)
    weights: np.ndarray  # (components + 8,)
    r2: float
    samples: int

    def design(self, statistics, features):
        """Rows of regression inputs from (N, 8) statistics and (N, 1280) features."""
        return np.column_stack([(np.atleast_2d(features) - self.feature_mean) @ self.components.T,
                                np.atleast_2d(statistics)])

    def predict_from(self, statistics, features):
        """Predicted log mean linear luminance of the target, one per row."""
        return self.design(statistics, features) @ self.weights


def fit_semantic_exposure(statistics, features, targets, components=4, ridge=1e-3):
    """Fit on (N, 8) :func:`exposure_features`, (N, 1280) :class:`ImageNetFeatures` and N target log luminances."""
    statistics, features, targets = np.atleast_2d(statistics), np.atleast_2d(features), np.asarray(targets)
    if not 0 < components < min(len(targets), features.shape[1]):
        raise ValueError(f'components must be in 1 .. {min(len(targets), features.shape[1]) - 1}, got {components}')
    mean = features.mean(axis=0)
    basis = np.linalg.svd(features - mean, full_matrices=False)[2][:components]
    partial = SemanticExposureRegression(mean, basis, np.zeros(components + statistics.shape[1]), 0.0, len(targets))
    weights, r2 = ridge_least_squares(partial.design(statistics, features), targets, ridge)
    return dataclasses.replace(partial, weights=np.asarray(weights), r2=float(r2))


def semantic_inputs(lq, extractor):
    """``(statistics, features)`` of one dark input, as :func:`fit_semantic_exposure` takes them."""
    return exposure_features(lq), extractor(lq)
