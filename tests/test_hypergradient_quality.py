"""Guards on the hypergradient's accuracy: a finite-difference step too small for float32 is refused."""
import pytest
import torch

from trico_basicsr.pgr.response import mixed_second_derivative


def quadratic(variables):
    """0.5 s^T M s + s . (B i): mixed second derivative d/di (grad_s . u) = B^T u."""
    s, i = variables['sr'][0], variables['illum'][0]
    matrix = torch.diag(torch.arange(1.0, s.numel() + 1, dtype=s.dtype))
    coupling = torch.ones(s.numel(), i.numel(), dtype=s.dtype)
    return 0.5 * s @ matrix @ s + s @ (coupling @ i)


def point(dtype, scale=0.1):
    gen = torch.Generator().manual_seed(0)
    return {'sr': [(scale * torch.randn(1000, generator=gen)).to(dtype)],
            'illum': [torch.randn(4, generator=gen).to(dtype)]}


def test_a_finite_difference_step_below_float32_resolution_is_refused_with_the_reason():
    variables = point(torch.float32)
    direction = [torch.randn(1000, generator=torch.Generator().manual_seed(1))]
    with pytest.raises(ValueError, match=r'fd_epsilon=1e-09 is too small for torch.float32 .*rounds back to theta'):
        mixed_second_derivative(quadratic, variables, 'sr', direction, ['illum'], 'finite_difference', 1e-9)


@pytest.mark.parametrize('dtype, fd_epsilon', [(torch.float32, 1e-2), (torch.float64, 1e-6)])
def test_a_step_the_dtype_resolves_gives_the_exact_mixed_derivative(dtype, fd_epsilon):
    variables = point(dtype)
    direction = [torch.randn(1000, generator=torch.Generator().manual_seed(1)).to(dtype)]
    got = mixed_second_derivative(quadratic, variables, 'sr', direction, ['illum'], 'finite_difference', fd_epsilon)
    want = torch.ones(1000, 4, dtype=dtype).T @ direction[0]
    assert torch.allclose(got['illum'][0], want, rtol=1e-3 if dtype == torch.float32 else 1e-6)


def test_entries_the_direction_does_not_move_do_not_count_as_lost():
    variables = point(torch.float32)
    direction = [torch.zeros(1000)]
    direction[0][:10] = 1.0  # only 10 entries move, each by fd_epsilon / sqrt(10)
    got = mixed_second_derivative(quadratic, variables, 'sr', direction, ['illum'], 'finite_difference', 1e-2)
    assert torch.allclose(got['illum'][0], torch.full((4,), 10.0), rtol=1e-2)


def test_snr_is_high_for_a_steady_signal_and_about_one_for_pure_noise():
    from trico_basicsr.pgr.snr import HypergradientSNR
    gen = torch.Generator().manual_seed(0)
    snr = HypergradientSNR(window=400)
    assert snr.ratios() is None
    for _ in range(400):
        noise = torch.randn(3, generator=gen)
        snr.add([torch.tensor([5.0]) + 0.1 * noise[:1], noise[1:]])  # one steady component, two pure-noise ones
    ratios = snr.ratios()
    assert ratios[0] > 100
    assert (ratios[1:] < 3.5).all()  # |N(0, 1)| under 3.5 but for one draw in 2000


def test_snr_window_keeps_only_recent_hypergradients_and_is_validated():
    from trico_basicsr.pgr.config import load_pgr_config
    from trico_basicsr.pgr.snr import HypergradientSNR
    snr = HypergradientSNR(window=2)
    for value in (100.0, 1.0, 3.0):
        snr.add([torch.tensor([value])])
    assert [float(s) for s in snr.samples] == [1.0, 3.0]
    assert float(snr.ratios()[0]) == pytest.approx(2.0 / (2**0.5 / 2**0.5))
    with pytest.raises(ValueError, match='snr_window'):
        load_pgr_config({'snr_window': 1})


def test_the_model_logs_each_hyper_variables_snr(root):
    from tests.helpers.models import build_tiny_model, tiny_batch
    model = build_tiny_model(root)
    model.feed_data(tiny_batch(model))
    for it in range(1, 9):
        model.optimize_parameters(it)
    log = model.get_current_log()
    names = [f'hyper_snr_{name}' for name in model.hyper.named_weights()]
    assert len(model.hyper_snr.samples) >= 2
    assert all(name in log and log[name] >= 0 for name in names)


def test_adam_step_rule_is_adams_next_step_at_this_gradient_and_linear_around_it():
    from trico_basicsr.pgr.optimizer_steps import optimizer_step_rule
    torch.manual_seed(0)
    param = torch.nn.Parameter(torch.randn(50))
    optimizer = torch.optim.Adam([param], lr=1e-2, betas=(0.9, 0.99))
    assert optimizer_step_rule(optimizer, [param]) is None  # no state before the first step
    for _ in range(30):
        param.grad = torch.randn(50)
        optimizer.step()
    theta, grad = param.detach().clone(), torch.randn(50)
    rule = optimizer_step_rule(optimizer, [param], [grad])
    predicted = rule([theta], [grad])[0]
    m, v = optimizer.state[param]['exp_avg'], optimizer.state[param]['exp_avg_sq']
    v_next = 0.99 * v + 0.01 * grad**2
    def step_at(g):
        return 1e-2 * ((0.9 * m + 0.1 * g) / (1 - 0.9**31)) / ((v_next / (1 - 0.99**31)).sqrt() + 1e-8)
    other = torch.randn(50)
    assert torch.allclose(rule([theta], [other])[0], theta - step_at(other), rtol=0, atol=1e-6)  # linear in g
    param.grad = grad
    optimizer.step()  # at this iteration's gradient the rule is Adam's real step
    assert torch.allclose(param.detach(), predicted, rtol=0, atol=1e-6)  # float32 rounding of values near 1


def test_a_preconditioned_response_matches_its_closed_form():
    """Middle response through one step theta_S' = s - c - K * grad_s g with a diagonal K (float64).

    g(s, i) = 1/2 |s - A i|^2, f(s, i) = 1/2 |s - d|^2 + 1/2 |i - e|^2:
    d/di f(s'(i), i) = (i - e) + (K * A)^T ... = (i - e) + A^T (K * (s' - d)).
    """
    from trico_basicsr.pgr.algorithm import Objectives, PhasedGradientResponse
    from trico_basicsr.pgr.config import load_pgr_config
    from trico_basicsr.pgr.response import StepRule
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    d, e = torch.randn(4, generator=gen, dtype=torch.float64), torch.randn(3, generator=gen, dtype=torch.float64)
    s, i = torch.randn(4, generator=gen, dtype=torch.float64), torch.randn(3, generator=gen, dtype=torch.float64)
    K = torch.rand(4, generator=gen, dtype=torch.float64) * 0.5
    c = torch.randn(4, generator=gen, dtype=torch.float64) * 0.1

    def g(v):
        return 0.5 * ((v['sr'][0] - A @ v['illum'][0])**2).sum()

    def f(v):
        return 0.5 * ((v['sr'][0] - d)**2).sum() + 0.5 * ((v['illum'][0] - e)**2).sum()

    for hvp in ('double_backward', 'finite_difference'):
        engine = PhasedGradientResponse(load_pgr_config({'hvp': hvp, 'fd_epsilon': 1e-6}), reduce=lambda t: t)
        variables = {'sr': [s], 'illum': [i], 'hyper': []}
        got = engine.middle_response(variables, Objectives(g, f), None, steps={'sr': StepRule([K], [c])})[0]
        s_next = s - c - K * (s - A @ i)
        want = (i - e) + A.T @ (K * (s_next - d))
        assert torch.allclose(got, want, rtol=1e-6, atol=1e-9), hvp


def test_the_model_unrolls_its_optimisers_step_once_they_have_state(root):
    from tests.helpers.models import build_tiny_model, tiny_batch
    from trico_basicsr.pgr.response import StepRule
    model = build_tiny_model(root)
    assert model.pgr_cfg.response_step == 'optimizer'
    assert all(rule is None for rule in model._response_steps().values())  # Adam has no state yet
    model.feed_data(tiny_batch(model))
    for it in range(1, 5):
        model.optimize_parameters(it)
    rules = model._response_steps()
    assert set(rules) == {'sr', 'illum'} and all(isinstance(r, StepRule) for r in rules.values())
    assert all(torch.isfinite(p).all() for level in model.params for p in model.params[level])
    sgd = build_tiny_model(root, **{'train:pgr:response_step': 'sgd'})
    assert sgd._response_steps() is None


def test_optimiser_variants_the_rule_does_not_model_fall_back_to_sgd():
    from trico_basicsr.pgr.optimizer_steps import optimizer_step_rule
    for make in (lambda p: torch.optim.Adam([p], lr=1e-2, amsgrad=True),
                 lambda p: torch.optim.SGD([p], lr=1e-2, momentum=0.9, nesterov=True)):
        param = torch.nn.Parameter(torch.randn(5))
        optimizer = make(param)
        for _ in range(2):
            param.grad = torch.randn(5)
            optimizer.step()
        assert optimizer_step_rule(optimizer, [param]) is None


def _accumulating_engine(k, upper_interval=4):
    from trico_basicsr.pgr import PhasedGradientResponse, load_pgr_config
    cfg = load_pgr_config({'upper_interval': upper_interval, 'hyper_accumulate': k, 'train_levels': ['sr', 'hyper'],
                           'phases': {'cooperative_start': 0, 'trilevel_start': 0}}, has_middle=False)
    engine = PhasedGradientResponse(cfg, reduce=lambda grads: grads)
    engine.hypergradient = lambda variables, objectives, first, middle_grad=None, steps=None: (
        [torch.tensor([float(engine.now)])], None)  # the hypergradient "is" the iteration number
    return engine


def _run(engine, iterations):
    from trico_basicsr.pgr import Objectives
    variables = {'sr': [torch.ones(2, requires_grad=True)], 'hyper': [torch.zeros(1)]}
    objectives = Objectives(lower=lambda v: (v['sr'][0] ** 2).sum(), upper=lambda v: v['sr'][0].sum())
    applied = []
    for it in iterations:
        engine.now = it
        engine.iteration(it, variables, objectives,
                         lambda group, grads: applied.append((it, float(grads[0]))) if group == 'hyper' else None)
    return applied


def test_lambda_moves_by_the_mean_of_the_window_hypergradients():
    engine = _accumulating_engine(k=2)
    assert [it for it in range(1, 9) if engine.hypergradient_due(it, {'hyper': []})] == [2, 4, 6, 8]
    assert _run(engine, range(1, 9)) == [(4, 3.0), (8, 7.0)]  # (2 + 4) / 2 and (6 + 8) / 2
    assert _run(_accumulating_engine(k=1), range(1, 9)) == [(4, 4.0), (8, 8.0)]  # default: one per update


def test_a_half_accumulated_window_survives_a_resume():
    engine = _accumulating_engine(k=2)
    _run(engine, [1, 2])
    resumed = _accumulating_engine(k=2)
    resumed.load_state_dict(engine.state_dict())
    assert _run(resumed, [3, 4]) == [(4, 3.0)]


def test_hyper_accumulate_must_divide_the_upper_interval():
    from trico_basicsr.pgr import load_pgr_config
    with pytest.raises(ValueError, match='hyper_accumulate must be >= 1 and divide upper_interval'):
        load_pgr_config({'upper_interval': 10, 'hyper_accumulate': 3})
