"""The classical baselines brighten and upscale."""
from os import path as osp

import cv2
import numpy as np
import pytest

from benchmarks.baselines import bicubic_auto_exposure, lime_bicubic


@pytest.fixture(scope='module')
def dark_folder(tmp_path_factory):
    """A 37x53 copy of scikit-image's coffee at 8 % of its brightness."""
    from skimage import data as skdata
    folder = tmp_path_factory.mktemp('dark')
    img = cv2.resize(skdata.coffee(), (53, 37), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(folder / 'coffee.png'), cv2.cvtColor((img * 0.08).astype(np.uint8), cv2.COLOR_RGB2BGR))
    return str(folder)


@pytest.mark.parametrize('baseline', [bicubic_auto_exposure, lime_bicubic])
def test_classical_baselines_brighten_and_upscale(baseline, dark_folder):
    from trico_basicsr.data.image_io import read_image
    lq = read_image(osp.join(dark_folder, 'coffee.png'))
    out = baseline(lq, 4)
    assert out.shape == (lq.shape[0] * 4, lq.shape[1] * 4, 3) and 0 <= out.min() and out.max() <= 1
    assert out.mean() > 3 * lq.mean()
