"""Checks shared by the degradation-family tests."""
import pytest
from basicsr.data import build_dataset

from trico_basicsr.data.coupled_degradation import get_preset


def assert_refused_for_training(family, message):
    """``family`` is refused by ``get_preset(training=True)`` and in a training dataset's preset list.

    Returns the refused dataset options (a 32 px training crop of a bundled photo, scale 4) for more checks.
    """
    with pytest.raises(ValueError, match=message):
        get_preset(family, training=True)
    opt = {'name': 't', 'type': 'CoupledOnlineDataset', 'phase': 'train', 'scale': 4, 'gt_size': 32,
           'dataroot_gt': 'skimage:astronaut', 'preset': ['camera_mix', family]}
    with pytest.raises(ValueError, match=family):
        build_dataset(opt)
    return opt
