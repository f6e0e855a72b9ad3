"""Small utilities: atomic checkpoints, option checks, in-process option loading."""
import os

import pytest
import torch

from trico_basicsr.utils.atomic import atomic_torch_save
from trico_basicsr.utils.option_check import check_keys


def test_checkpoints_are_complete_or_absent_with_usual_permissions(tmp_path):
    path = tmp_path / 'net_g_1.pth'
    old = os.umask(0o022)
    try:
        atomic_torch_save({'params': {'w': torch.ones(2)}}, str(path))
    finally:
        os.umask(old)
    assert torch.equal(torch.load(path)['params']['w'], torch.ones(2))
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o644)
    with pytest.raises(Exception):
        atomic_torch_save({'bad': lambda: None}, str(tmp_path / 'net_g_2.pth'))  # lambdas do not pickle
    assert sorted(os.listdir(tmp_path)) == ['net_g_1.pth']


def test_unknown_option_lists_valid_keys_and_suggests_the_closest():
    with pytest.raises(KeyError) as error:
        check_keys({'upper_intervall': 3, 'hvp': 'x'}, ['upper_interval', 'hvp', 'phases'], 'train.pgr')
    message = str(error.value)
    assert "did you mean 'upper_interval'" in message and 'Valid keys: hvp, phases, upper_interval' in message


