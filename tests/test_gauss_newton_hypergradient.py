"""The CollaBA-style one-backward hypergradient (``train.pgr.hypergradient: gauss_newton``)."""
import pytest
import torch

from tests.test_pgr_analytic import Quadratic, TinyNets, float64, pgr, relative_error  # noqa: F401
from trico_basicsr.pgr.algorithm import Objectives
from trico_basicsr.pgr.hyper import HyperVariables
from trico_basicsr.pgr.response import gradients


def closed_form(objectives, v):
    """``-sum_h (grad F . grad h) / ||grad h||^2 * dh/dlambda`` over h = g (sr) and f (illum), by autograd."""
    total = [torch.zeros_like(t) for t in v['hyper']]
    for level, fn in (('sr', objectives.lower), ('illum', objectives.middle)):
        grad_h = gradients(fn, v, [level])[level]
        grad_upper = gradients(objectives.upper, v, [level])[level]
        ratio = sum((a * b).sum() for a, b in zip(grad_upper, grad_h)) / sum((a * a).sum() for a in grad_h)
        total = [t - ratio * d for t, d in zip(total, gradients(fn, v, ['hyper'])['hyper'])]
    return total


def first_order(objectives, v):
    return {'sr': gradients(objectives.lower, v, ['sr'])['sr'],
            'illum': gradients(objectives.middle, v, ['illum'])['illum']}


def test_gauss_newton_hypergradient_is_the_closed_form_on_the_quadratic_problem():
    p = Quadratic()
    v = p.variables(torch.randn(p.n), torch.randn(p.m), [torch.tensor([0.3, -0.2]), torch.tensor([0.1, 0.4])])
    engine = pgr(hypergradient='gauss_newton')
    got, upper = engine.gauss_newton_hypergradient(v, p.objectives(), first_order(p.objectives(), v))
    for a, b in zip(got, closed_form(p.objectives(), v)):
        assert relative_error(a, b) < 1e-10
    assert float(upper) == pytest.approx(float(p.F(v)))


def test_gauss_newton_hypergradient_is_the_closed_form_on_a_network():
    nets = TinyNets()
    objectives = Objectives(nets.g, nets.f, nets.F)
    v = nets.variables([torch.tensor([0.2, -0.1]), torch.tensor([-0.3, 0.3])])
    got, _ = pgr(hypergradient='gauss_newton').gauss_newton_hypergradient(v, objectives, first_order(objectives, v))
    expected = closed_form(objectives, v)
    assert all(float(b.abs().max()) > 0 for b in expected)
    for a, b in zip(got, expected):
        assert relative_error(a, b) < 1e-10


def two_anchors(theta, target):
    """h = w_a (theta - 1)^2 / 2 + w_b (theta + 1)^2 / 2 (one level), F = (theta - target)^2 / 2."""
    hyper = HyperVariables({'sr': ['a', 'b']})

    def h(v):
        w, s = hyper.weights_from(v['hyper'])['sr'], v['sr'][0]
        return w[0] * 0.5 * ((s - 1)**2).sum() + w[1] * 0.5 * ((s + 1)**2).sum()

    def upper(v):
        return 0.5 * ((v['sr'][0] - target)**2).sum()

    v = {'sr': [torch.tensor([theta])], 'hyper': hyper.logit_list()}
    return Objectives(h, None, upper), v


@pytest.mark.parametrize('target, heavier', [(1.0, 0), (-1.0, 1)])
def test_the_term_that_pulls_towards_the_upper_target_gets_the_larger_weight(target, heavier):
    objectives, v = two_anchors(0.5, target)
    grads = {'sr': gradients(objectives.lower, v, ['sr'])['sr']}
    hyper, _ = pgr(hypergradient='gauss_newton', train_levels=['sr', 'hyper']).gauss_newton_hypergradient(
        v, objectives, grads)
    step = -hyper[0]  # a gradient-descent step on the logits
    assert step[heavier] > 0 > step[1 - heavier]


def test_a_level_at_a_stationary_point_contributes_nothing():
    objectives, v = two_anchors(0.0, 1.0)  # equal weights: grad h = (0 - 1) + (0 + 1) = 0
    grads = {'sr': gradients(objectives.lower, v, ['sr'])['sr']}
    assert float(grads['sr'][0].abs().max()) == 0
    hyper, _ = pgr(hypergradient='gauss_newton', train_levels=['sr', 'hyper']).gauss_newton_hypergradient(
        v, objectives, grads)
    assert torch.equal(hyper[0], torch.zeros(2))

