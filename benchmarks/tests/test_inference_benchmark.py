"""benchmarks.inference: the finishing steps are timed against the raw network in the same run."""
from os import path as osp

from benchmarks import inference
from benchmarks.common import ROOT


def test_finishing_is_timed_with_and_without_its_steps():
    seconds = inference.time_finishing(osp.join(ROOT, 'weights', 'trico_light_x2.pth'), repeats=1)
    assert set(seconds) == {'default', 'raw network'} and all(t > 0 for t in seconds.values())
