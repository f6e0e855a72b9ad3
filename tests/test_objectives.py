"""The level objectives as plain functions of (variables, batch): no model, no hidden state."""
import pytest
import torch
from basicsr.archs import build_network

from trico_basicsr.pgr import load_pgr_config
from trico_basicsr.pgr.levels import LEVELS, LOWER, MIDDLE, UPPER, VOCABULARY
from trico_basicsr.pgr.objectives import (
    LevelNets,
    LevelTerms,
    evaluate,
    first_order,
    forward,
    lower_objective,
    make_objectives,
    middle_objective,
    upper_objective,
)
from trico_basicsr.pgr.response import gradients

NET = {'type': 'TriCoNet', 'upscale': 2, 'illum_feat': 8, 'illum_block': 1, 'num_feat': 8, 'num_block': 2,
       'ihem_every': 1, 'semantic': 'none'}
TERMS = {'sr_terms': {'pixel': {'type': 'L1Loss', 'loss_weight': 1.0}, 'edge': {'type': 'GradientLoss',
                                                                               'loss_weight': 0.5}},
         'illum_terms': {'pixel': {'type': 'L1Loss', 'loss_weight': 1.0, 'pred': 'lit', 'target': 'gt_lr'},
                         'coupling': {'type': 'LowerObjective', 'loss_weight': 0.7}}}


@pytest.fixture
def setup():
    torch.manual_seed(0)
    net = build_network(dict(NET))
    nets = LevelNets.of(net)
    terms = LevelTerms.from_config(load_pgr_config(TERMS), nets.has_middle, 'cpu')
    variables = {**{k: [p.detach().clone() for p in v] for k, v in nets.parameters().items()},
                 UPPER: [t.detach().clone() + 0.1 * torch.randn_like(t) for t in terms.hyper.logit_list()]}
    batch = {'lq': torch.rand(2, 3, 12, 12) * 0.2, 'gt': torch.rand(2, 3, 24, 24), 'gt_lr': torch.rand(2, 3, 12, 12)}
    return net, nets, terms, variables, batch


def test_levels_are_named_once_in_three_vocabularies():
    assert LEVELS == ('sr', 'illum', 'hyper')
    assert [VOCABULARY[level]['objective'] for level in LEVELS] == ['g', 'f', 'F']


def test_middle_objective_is_its_direct_part_plus_the_weighted_lower_objective(setup):
    _, nets, terms, variables, batch = setup
    values = evaluate(nets, terms, variables, batch)
    g = lower_objective(nets, terms, batch, variables)
    f = middle_objective(nets, terms, batch, variables)
    assert torch.allclose(g, values['g'])
    assert torch.allclose(f, values['f_direct'] + values['coupling_coeff'] * g)
    weights = terms.hyper.weights_from(variables[UPPER])
    assert torch.allclose(values['coupling_coeff'], weights[MIDDLE][1] * 0.7)


def test_objectives_depend_only_on_their_arguments(setup):
    net, nets, terms, variables, batch = setup
    before = evaluate(nets, terms, variables, batch)['g']
    with torch.no_grad():  # changing the live module's weights does not change f(variables)
        for p in net.parameters():
            p.add_(1.0)
    assert torch.equal(evaluate(nets, terms, variables, batch)['g'], before)


def test_upper_objective_is_the_fixed_fidelity_on_the_upper_batch(setup):
    _, nets, terms, variables, batch = setup
    sr = forward(nets, variables, batch['lq'])['sr']
    assert torch.allclose(upper_objective(nets, terms, batch, variables), (sr - batch['gt']).abs().mean())


def test_fused_first_order_pass_returns_both_level_gradients_and_the_values(setup):
    _, nets, terms, variables, batch = setup
    grads, values = first_order(nets, terms, batch, [LOWER, MIDDLE], variables)
    want_sr = gradients(lambda v: lower_objective(nets, terms, batch, v), variables, [LOWER])[LOWER]
    want_illum = gradients(lambda v: middle_objective(nets, terms, batch, v), variables, [MIDDLE])[MIDDLE]
    for got, want in zip(grads[LOWER] + grads[MIDDLE], want_sr + want_illum):
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-7)
    assert torch.allclose(values['g'], lower_objective(nets, terms, batch, variables))


def test_make_objectives_has_an_upper_objective_only_with_an_upper_batch(setup):
    _, nets, terms, _, batch = setup
    assert make_objectives(nets, terms, batch).upper is None
    assert make_objectives(nets, terms, batch, upper_batch=batch).upper is not None
