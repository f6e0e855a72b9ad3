"""The darkening's parameters as upper-level hyper-variables: options, the batch they shape, learning and logging."""
import math

import pytest
import torch

from tests.helpers.models import build_tiny_model, tiny_batch
from trico_basicsr.data import differentiable_darkening as dd
from trico_basicsr.pgr.hyper import DARKENING, HyperVariables

START = {'log_exposure': math.log(0.05), 'log_read_noise': math.log(0.002), 'log_blur': math.log(0.5)}


def test_continuous_values_are_used_as_they_are_and_logged_by_name():
    hyper = HyperVariables({'sr': ['pixel', 'ssim']}, continuous={'log_exposure': -3.0, 'log_blur': -0.7})
    weights = hyper.weights_from(hyper.logit_list())
    assert weights[DARKENING].tolist() == pytest.approx([-3.0, -0.7])
    assert weights['sr'].tolist() == pytest.approx([1.0, 1.0])
    named = hyper.named_weights()
    assert named['darkening_log_exposure'] == pytest.approx(-3.0) and named['darkening_log_blur'] == pytest.approx(-0.7)


def test_the_group_name_cannot_be_taken_by_a_loss_level():
    with pytest.raises(ValueError, match="'darkening' is the continuous group's name"):
        HyperVariables({'darkening': ['pixel']}, continuous={'log_blur': 0.0})


def test_resynthesis_darkens_the_marked_samples_and_keeps_the_others():
    gt, lq = torch.rand(3, 3, 16, 16), torch.rand(3, 3, 8, 8)
    mask = torch.tensor([True, False, True])
    resynthesis = dd.Resynthesis(gt, lq, mask, ['log_exposure'], 2, torch.Generator().manual_seed(0))
    out = resynthesis(torch.tensor([math.log(0.05)]))
    assert torch.equal(out[1], lq[1])
    expected = dd.darken(gt, {'log_exposure': math.log(0.05)}, resynthesis.draws, 2)
    assert torch.equal(out[0], expected[0]) and torch.equal(out[2], expected[2])


@pytest.fixture
def model(root):
    return build_tiny_model(root, **{'datasets:train:preset': ['camera_linear'],
                                     'train:pgr:darkening': {'parameters': dict(START)}})


def test_model_learns_and_logs_the_darkening(model):
    batch = tiny_batch(model, batch=4)
    model.feed_data(batch)
    for it in range(1, 7):
        model.optimize_parameters(it)
    log = model.log_dict
    moved = [abs(log[f'lambda_darkening_{name}'] - start) for name, start in START.items()]
    assert all(math.isfinite(m) for m in moved) and max(moved) > 1e-4  # the hypergradient reached the data
    assert model.skipped_updates['hyper'] == 0
    assert 'darkening_log_exposure' in model.hyper_history[-1][1]


def test_a_dataset_that_names_no_preset_is_refused(model):
    batch = tiny_batch(model, batch=2)
    batch.pop('preset')
    model.feed_data(batch)
    with pytest.raises(ValueError, match='train.pgr.darkening needs training samples that name their'):
        model.optimize_parameters(1)


def test_darkening_and_sample_weights_together_are_refused(root):
    with pytest.raises(ValueError, match='sample_weights and darkening cannot be combined'):
        build_tiny_model(root, **{'train:pgr:darkening': {'parameters': dict(START)},
                                  'train:pgr:sample_weights': {'by': 'preset'}})


def test_fixed_darkening_redarkens_the_inputs_without_learning_it(root):
    model = build_tiny_model(root, **{'datasets:train:preset': ['camera_linear'],
                                      'train:pgr:darkening': {'parameters': dict(START), 'learn': False}})
    assert DARKENING not in model.hyper.terms
    batch = tiny_batch(model, batch=2)
    model.feed_data(batch)
    darken = model._objectives(1).lower.args[2]['darken']
    assert not torch.equal(darken(None), batch['lq'])  # the torch darkening replaced the dataset's input
    model.optimize_parameters(1)
    assert 'lambda_darkening_log_exposure' not in model.log_dict
