"""TriLevelModel as a BasicSR model: objectives, guards, options, logs, reuse."""
import os

import pytest
import torch

from tests.helpers.models import build_tiny_model, tiny_batch
from tests.helpers.runs import TINY, train_in_process
from trico_basicsr.pgr.objectives import evaluate
from trico_basicsr.pgr.response import gradients


@pytest.fixture
def model(root):
    return build_tiny_model(root)


def test_fused_first_order_pass_equals_separate_level_gradients(model):
    model.feed_data(tiny_batch(model))
    objectives = model._objectives()
    fused = objectives.first_order(model.params).grads
    lower = gradients(objectives.lower, model.params, ['sr'])['sr']
    middle = gradients(objectives.middle, model.params, ['illum'])['illum']
    for got, want in zip(fused['sr'] + fused['illum'], lower + middle):
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-7)
    assert any(g.abs().sum() > 0 for g in fused['illum'])


def test_middle_objective_contains_the_lower_objective_as_coupling(model):
    model.feed_data(tiny_batch(model))
    values = evaluate(model.nets, model.terms, model.params, model._batch())
    names = model.terms.middle.names
    assert float(values['illum_values'][names.index('coupling')]) == pytest.approx(float(values['g']))


def test_non_finite_loss_skips_every_update_and_is_counted(model):
    batch = tiny_batch(model)
    batch['lq'][0, 0, 0, 0] = float('nan')
    model.feed_data(batch)
    before = [p.detach().clone() for level in ('sr', 'illum', 'hyper') for p in model.params[level]]
    model.optimize_parameters(current_iter=4)  # a tri-level iteration: all three levels would move
    after = [p.detach() for level in ('sr', 'illum', 'hyper') for p in model.params[level]]
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    assert model.skipped_updates['sr'] == 1 and model.skipped_updates['illum'] == 1
    assert model.log_dict['skipped_updates'] >= 2
    assert all(torch.isfinite(p).all() for p in model.params['hyper'])


def test_lambda_stays_positive_and_normalised_and_is_logged(model):
    model.feed_data(tiny_batch(model))
    for it in range(1, 7):
        model.optimize_parameters(it)
    log = model.log_dict
    for level, names in model.hyper.terms.items():
        weights = [log[f'lambda_{level}_{name}'] for name in names]
        assert all(w > 0 for w in weights)
        assert sum(weights) / len(weights) == pytest.approx(1.0, abs=1e-5)
    assert any(abs(log[f'lambda_sr_{name}'] - 1) > 1e-4 for name in model.hyper.terms['sr'])  # lambda moved
    assert log['pgr_phase'] == 2 and 'l_upper' in log and 'l_illum_coupling' in log


@pytest.mark.parametrize('key, value, message', [
    ('train:pgr', {'upper_intervall': 5}, 'upper_interval'),
    ('train:pgr', {'hvp': 'exact'}, 'finite_difference'),
    ('train:pgr', {'hypergradient': 'collaba'}, 'hypergradient.*gauss_newton'),
    ('train:pgr', {'phases': {'cooperative_start': 10, 'trilevel_start': 5}}, 'precede'),
    ('train:pgr', {'upper_interval': 'often'}, 'upper_interval'),
    ('train:pgr', {'train_levels': ['sr', 'lambda']}, 'lambda'),
    ('train:optim_g', {'type': 'Adam', 'lr': 1e-3}, 'optim_sr'),
    ('network_g:num_feats', 8, 'num_feat'),
])
def test_bad_options_are_errors_that_name_the_option(root, key, value, message):
    with pytest.raises((KeyError, ValueError), match=message):
        build_tiny_model(root, **{key: value})


def test_a_trained_level_needs_an_optimizer(root):
    from basicsr.models import build_model

    from tests.helpers.models import load_options
    opt = load_options(root=root)
    del opt['train']['optim_illum']
    with pytest.raises(KeyError, match='optim_illum'):
        build_model(opt)


def test_hyper_variable_plot_is_written_at_validation(root):
    train_in_process(root, TINY, ['name=plot', 'train:total_iter=4', 'val:val_freq=4'])
    assert os.path.getsize(os.path.join(root, 'experiments', 'plot', 'visualization', 'hyper_variables.png')) > 1000


def test_trains_a_cascade_of_other_registered_archs(root):
    """BasicSR's RRDBNet as the lower level behind an IllumNet middle level."""
    net = {'type': 'TwoLevelCascade', 'illum': {'type': 'IllumNet', 'num_feat': 8, 'num_block': 1},
           'sr': {'type': 'RRDBNet', 'num_in_ch': 3, 'num_out_ch': 3, 'scale': 4, 'num_feat': 8, 'num_block': 1,
                  'num_grow_ch': 4}}
    model = build_tiny_model(root, network_g=net)
    assert set(model.params) == {'sr', 'illum', 'hyper'}
    model.feed_data(tiny_batch(model))
    before = {level: [p.detach().clone() for p in model.params[level]] for level in model.params}
    for it in range(1, 5):
        model.optimize_parameters(it)
    for level, params in before.items():
        assert any(not torch.equal(a, b.detach()) for a, b in zip(params, model.params[level])), level


def test_cascade_stages_train_one_level_each(root):
    """train_levels: [illum] then [sr] -- the learned-cascade baseline."""
    model = build_tiny_model(root, **{'train:pgr': {'train_levels': ['illum'], 'illum_terms': {
        'pixel': {'type': 'L1Loss', 'pred': 'lit', 'target': 'gt_lr'}}}})
    assert list(model.level_optimizers) == ['illum']
    sr_before = [p.detach().clone() for p in model.params['sr']]
    model.feed_data(tiny_batch(model))
    model.optimize_parameters(1)
    assert all(torch.equal(a, b.detach()) for a, b in zip(sr_before, model.params['sr']))


def test_double_backward_mode_trains(root):
    model = build_tiny_model(root, **{'train:pgr:hvp': 'double_backward'})
    model.feed_data(tiny_batch(model))
    for it in range(1, 5):
        model.optimize_parameters(it)
    assert model.log_dict['skipped_updates'] == 0 and model.log_dict['pgr_phase'] == 2


def test_the_model_trains_lambda_with_the_gauss_newton_hypergradient(root):
    model = build_tiny_model(root, **{'train:pgr:hypergradient': 'gauss_newton'})
    assert model.pgr.cfg.hypergradient == 'gauss_newton'
    model.feed_data(tiny_batch(model))
    start = {name: float(w) for name, w in model.hyper.named_weights().items()}
    for it in range(1, 9):
        model.optimize_parameters(it)
    log = model.get_current_log()
    assert log['skipped_updates'] == 0 and log['pgr_phase'] == 2 and 'l_upper' in log
    moved = [abs(log[f'lambda_{name}'] - start[name]) for name in start]
    assert max(moved) > 1e-4
