"""PGR on problems with known answers: quadratic tri-level problems and a tiny network.

The quadratic problem (float64), with w = 2 softmax(lambda_sr), u = 2 softmax(lambda_illum):
    lower   g(s, i) = w0/2 (s - A i)^T Q (s - A i) + w1/2 |s - b|^2
    middle  f(s, i) = u0/2 |i - c|^2 + u1/2 |s - d|^2
    upper   F(s)    = 1/2 |s - y|^2
"""
import pytest
import torch

from trico_basicsr.data import differentiable_darkening as dd
from trico_basicsr.pgr.algorithm import Objectives, PhasedGradientResponse
from trico_basicsr.pgr.config import load_pgr_config
from trico_basicsr.pgr.hyper import HyperVariables
from trico_basicsr.pgr.response import gradients, mixed_second_derivative

MODES = ['double_backward', 'finite_difference']


@pytest.fixture(autouse=True)
def float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


class Quadratic:
    """The quadratic tri-level problem above, with PGR objectives over variable groups."""

    def __init__(self, isotropic=False, seed=0):
        gen = torch.Generator().manual_seed(seed)
        self.n, self.m = 3, 2
        self.A = torch.randn(self.n, self.m, generator=gen)
        self.b, self.c, self.d = torch.randn(self.n, generator=gen), torch.randn(self.m, generator=gen), torch.randn(
            self.n, generator=gen)
        basis = torch.linalg.qr(torch.randn(self.n, self.n, generator=gen))[0]
        self.Q = torch.eye(self.n) if isotropic else basis @ torch.diag(torch.tensor([1.0, 1.5, 2.0])) @ basis.T
        self.hyper = HyperVariables({'sr': ['coupled', 'anchor'], 'illum': ['prior', 'coupling']})
        self.y = torch.zeros(self.n)

    def weights(self, v):
        return self.hyper.weights_from(v['hyper'])

    def g(self, v):
        w, s, i = self.weights(v)['sr'], v['sr'][0], v['illum'][0]
        r = s - self.A @ i
        return w[0] * 0.5 * r @ self.Q @ r + w[1] * 0.5 * ((s - self.b)**2).sum()

    def f(self, v):
        u, s, i = self.weights(v)['illum'], v['sr'][0], v['illum'][0]
        return u[0] * 0.5 * ((i - self.c)**2).sum() + u[1] * 0.5 * ((s - self.d)**2).sum()

    def F(self, v):
        return 0.5 * ((v['sr'][0] - self.y)**2).sum()

    def objectives(self):
        return Objectives(self.g, self.f, self.F)

    def lower_hessian(self, w):
        return w[0] * self.Q + w[1] * torch.eye(self.n)

    def solution(self, logits):
        """Exact tri-level solution (s*, i*) for the given logits (differentiable w.r.t. them)."""
        weights = self.hyper.weights_from(logits)
        w, u = weights['sr'], weights['illum']
        H = self.lower_hessian(w)
        P = torch.linalg.solve(H, w[0] * self.Q @ self.A)  # s*(i) = P i + q
        q = torch.linalg.solve(H, w[1] * self.b)
        i = torch.linalg.solve(u[0] * torch.eye(self.m) + u[1] * P.T @ P, u[0] * self.c + u[1] * P.T @ (self.d - q))
        return P @ i + q, i

    def variables(self, s, i, logits=None):
        return {'sr': [s.clone()], 'illum': [i.clone()],
                'hyper': [t.detach().clone() for t in (logits or self.hyper.logit_list())]}


def pgr(mode='double_backward', K=1, alpha=0.5, beta=0.5, fd_epsilon=1e-4, **extra):
    cfg = load_pgr_config({'hvp': mode, 'unroll_steps': K, 'response_lr': {'sr': alpha, 'illum': beta},
                           'fd_epsilon': fd_epsilon, **extra})
    return PhasedGradientResponse(cfg, reduce=list)


def relative_error(a, b):
    """||a - b|| / ||b||; an exactly zero ``b`` (e.g. a group the function ignores) must be matched exactly."""
    return float((a - b).norm() / max(float(b.norm()), 1e-12))


def logits(sr, illum):
    return [torch.tensor(sr), torch.tensor(illum)]


# ------------------------------------------------------------------------------------- middle response
@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('K', [1, 3])
def test_middle_response_matches_the_closed_form_of_k_unrolled_steps(mode, K):
    p = Quadratic()
    lam = logits([0.3, -0.2], [0.1, 0.4])
    v = p.variables(torch.tensor([0.2, -0.5, 1.0]), torch.tensor([0.7, -0.3]), lam)
    alpha = 0.3
    engine = pgr(mode, K, alpha=alpha)
    lower_grad = gradients(p.g, v, ['sr'])['sr']
    got = engine.middle_response(v, p.objectives(), lower_grad)[0]

    w, u = p.weights(v)['sr'], p.weights(v)['illum']
    s, i = v['sr'][0], v['illum'][0]
    H, B = p.lower_hessian(w), w[0] * p.Q @ p.A  # grad_s g = H s - B i - w1 b
    step = torch.eye(p.n) - alpha * H
    s_k, jac = s.clone(), torch.zeros(p.n, p.m)
    for _ in range(K):
        s_k = step @ s_k + alpha * (B @ i + w[1] * p.b)
        jac = step @ jac + alpha * B
    expected = u[0] * (i - p.c) + jac.T @ (u[1] * (s_k - p.d))
    assert relative_error(got, expected) < 1e-3
    if mode == 'double_backward':
        assert relative_error(got, expected) < 1e-10


@pytest.mark.parametrize('mode', MODES)
def test_exactly_unrolled_middle_response_matches_implicit_differentiation(mode):
    p = Quadratic()
    lam = logits([0.3, -0.2], [0.1, 0.4])
    v = p.variables(torch.tensor([0.2, -0.5, 1.0]), torch.tensor([0.7, -0.3]), lam)
    w = p.weights(v)['sr']
    alpha = float(1 / torch.linalg.eigvalsh(p.lower_hessian(w)).max())
    engine = pgr(mode, K=80, alpha=alpha)
    got = engine.middle_response(v, p.objectives(), None)[0]
    # Best response s*(i) = H^-1 (B i + w1 b); total derivative of f(i, s*(i)).
    u, i = p.weights(v)['illum'], v['illum'][0]
    H, B = p.lower_hessian(w), w[0] * p.Q @ p.A
    s_star = torch.linalg.solve(H, B @ i + w[1] * p.b)
    expected = u[0] * (i - p.c) + torch.linalg.solve(H, B).T @ (u[1] * (s_star - p.d))
    assert relative_error(got, expected) < 1e-3


# ------------------------------------------------------------------------------------- hypergradient
def _explicit_one_step_objective(p, s, i, lam, alpha, beta):
    """F after one response-aware middle step and one lower step, written out with autograd (independent)."""
    def var(s_, i_):
        return {'sr': [s_], 'illum': [i_], 'hyper': lam}

    def lower_step(s_, i_):
        grad = torch.autograd.grad(p.g(var(s_, i_)), s_, create_graph=True)[0]
        return s_ - alpha * grad

    i_leaf = i.clone().requires_grad_(True)
    f_tilde = p.f(var(lower_step(s.clone().requires_grad_(True), i_leaf), i_leaf))
    i_next = i_leaf - beta * torch.autograd.grad(f_tilde, i_leaf, create_graph=True)[0]
    # A fresh leaf: the lower step takes the partial gradient in s (i_next depends on s above).
    s_next = lower_step(s.clone().requires_grad_(True), i_next)
    return p.F(var(s_next, i_next))


@pytest.mark.parametrize('mode', MODES)
def test_one_step_hypergradient_matches_explicit_unrolled_differentiation(mode):
    p = Quadratic()
    p.y = torch.tensor([0.5, 0.1, -0.4])
    lam = [t.requires_grad_(True) for t in logits([0.3, -0.2], [0.1, 0.4])]
    s, i = torch.tensor([0.2, -0.5, 1.0]), torch.tensor([0.7, -0.3])
    expected = torch.autograd.grad(_explicit_one_step_objective(p, s, i, lam, 0.3, 0.2), lam)
    engine = pgr(mode, K=1, alpha=0.3, beta=0.2)
    v = p.variables(s, i, [t.detach() for t in lam])
    first = {'sr': gradients(p.g, v, ['sr'])['sr'], 'illum': gradients(p.f, v, ['illum'])['illum']}
    got, _ = engine.hypergradient(v, p.objectives(), first)
    for a, b in zip(got, expected):
        assert relative_error(a, b) < 1e-3


@pytest.mark.parametrize('mode', MODES)
def test_exactly_unrolled_hypergradient_matches_the_closed_form(mode):
    p = Quadratic()
    p.y = torch.tensor([0.5, 0.1, -0.4])
    lam = [t.requires_grad_(True) for t in logits([0.3, -0.2], [0.1, 0.4])]
    s_star, i_star = p.solution(lam)
    expected = torch.autograd.grad(0.5 * ((s_star - p.y)**2).sum(), lam)  # the true tri-level hypergradient

    weights = p.hyper.weights_from([t.detach() for t in lam])
    w, u = weights['sr'], weights['illum']
    H = p.lower_hessian(w)
    P = torch.linalg.solve(H, w[0] * p.Q @ p.A)
    # Steps 1/L of each level's curvature: the unrolled maps contract, so K steps converge.
    alpha = float(1 / torch.linalg.eigvalsh(H).max())
    beta = float(1 / torch.linalg.eigvalsh(u[0] * torch.eye(p.m) + u[1] * P.T @ P).max())
    engine = pgr(mode, K=25, alpha=alpha, beta=beta)
    v = p.variables(s_star.detach(), i_star.detach(), [t.detach() for t in lam])
    first = {'sr': gradients(p.g, v, ['sr'])['sr'], 'illum': None}
    got, _ = engine.hypergradient(v, p.objectives(), first)
    for a, b in zip(got, expected):
        assert relative_error(a, b) < 1e-3


# ------------------------------------------------------------------------------------- convergence
@pytest.mark.parametrize('mode', MODES)
def test_pgr_converges_to_the_known_tri_level_optimum(mode):
    p = Quadratic(isotropic=True)
    true_logits = logits([0.4, -0.4], [-0.3, 0.3])
    p.y = p.solution(true_logits)[0]  # F = 0 exactly at these weights
    params = {'sr': [torch.nn.Parameter(torch.zeros(p.n))], 'illum': [torch.nn.Parameter(torch.zeros(p.m))],
              'hyper': p.hyper.logit_list()}
    optimizers = {'sr': torch.optim.SGD(params['sr'], lr=0.3), 'illum': torch.optim.SGD(params['illum'], lr=0.1),
                  'hyper': torch.optim.SGD(params['hyper'], lr=0.5)}

    def apply(group, grads):
        for param, grad in zip(params[group], grads):
            param.grad = grad.clone()
        optimizers[group].step()

    # alpha = 1 / (w0 + w1) = 0.5 makes one unrolled lower step the exact best response.
    engine = pgr(mode, K=1, alpha=0.5, beta=0.5, upper_interval=1, phases={'cooperative_start': 0, 'trilevel_start': 0})
    for it in range(1, 701):
        engine.iteration(it, params, p.objectives(), apply)
    learned = p.hyper.weights_from([t.detach() for t in params['hyper']])
    wanted = p.hyper.weights_from(true_logits)
    for level in ('sr', 'illum'):
        assert torch.allclose(learned[level], wanted[level], atol=1e-4), level
    s_star, i_star = p.solution(true_logits)
    assert torch.allclose(params['sr'][0].detach(), s_star, atol=1e-4)
    assert torch.allclose(params['illum'][0].detach(), i_star, atol=1e-4)


# ------------------------------------------------------------------------------------- tiny network
class TinyNets:
    """Two small conv levels with nonlinearities: illum (3->3 channels) then sr (3->3, x2 pixel shuffle)."""

    def __init__(self, seed=0):
        gen = torch.Generator().manual_seed(seed)
        self.x = torch.rand(2, 3, 6, 6, generator=gen) * 0.3
        self.y = torch.rand(2, 3, 12, 12, generator=gen)
        self.y_lr = torch.nn.functional.avg_pool2d(self.y, 2)
        self.x_val, self.y_val = torch.rand(2, 3, 6, 6, generator=gen) * 0.3, torch.rand(2, 3, 12, 12, generator=gen)
        self.illum = [torch.randn(3, 3, 3, 3, generator=gen) * 0.2, torch.zeros(3)]
        self.sr = [torch.randn(12, 3, 3, 3, generator=gen) * 0.2, torch.zeros(12)]
        self.hyper = HyperVariables({'sr': ['l1', 'l2'], 'illum': ['pixel', 'coupling']})

    def forward(self, v, x):
        wi, bi = v['illum']
        lit = torch.sigmoid(torch.nn.functional.conv2d(x, wi, bi, padding=1) + 2 * x)
        ws, bs = v['sr']
        hr = torch.nn.functional.pixel_shuffle(torch.tanh(torch.nn.functional.conv2d(lit, ws, bs, padding=1)), 2)
        return lit, hr + torch.nn.functional.interpolate(lit, scale_factor=2)

    def g(self, v):
        w = self.hyper.weights_from(v['hyper'])['sr']
        _, hr = self.forward(v, self.x)
        return w[0] * (hr - self.y).abs().mean() + w[1] * ((hr - self.y)**2).mean()

    def f(self, v):
        u = self.hyper.weights_from(v['hyper'])['illum']
        lit, _ = self.forward(v, self.x)
        return u[0] * ((lit - self.y_lr)**2).mean() + u[1] * self.g(v)

    def F(self, v):
        _, hr = self.forward(v, self.x_val)
        return ((hr - self.y_val)**2).mean()

    def variables(self, lam):
        return {'sr': [t.clone() for t in self.sr], 'illum': [t.clone() for t in self.illum], 'hyper': lam}


def test_hvp_modes_agree_on_a_network():
    nets = TinyNets()
    v = nets.variables([t.detach().clone() for t in nets.hyper.logit_list()])
    direction = [torch.randn_like(t) for t in v['sr']]
    exact = mixed_second_derivative(nets.g, v, 'sr', direction, ['illum', 'sr', 'hyper'], 'double_backward')
    approx = mixed_second_derivative(nets.g, v, 'sr', direction, ['illum', 'sr', 'hyper'], 'finite_difference', 1e-4)
    for group in exact:
        for a, b in zip(approx[group], exact[group]):
            assert relative_error(a, b) < 1e-3, group


@pytest.mark.parametrize('mode', MODES)
def test_network_hypergradient_matches_central_differences_of_the_unrolled_objective(mode):
    nets = TinyNets()
    alpha, beta = 0.5, 0.5
    base = [torch.tensor([0.2, -0.1]), torch.tensor([0.3, -0.2])]

    def unrolled_objective(lam):
        return _network_unrolled_objective(nets, lam, alpha, beta).detach().item()

    engine = pgr(mode, K=1, alpha=alpha, beta=beta, fd_epsilon=1e-5)
    v = nets.variables([t.clone() for t in base])
    first = {'sr': gradients(nets.g, v, ['sr'])['sr'], 'illum': gradients(nets.f, v, ['illum'])['illum']}
    got, _ = engine.hypergradient(v, Objectives(nets.g, nets.f, nets.F), first)
    h = 1e-5
    for level in range(2):
        numeric = torch.zeros(2)
        for j in range(2):
            plus, minus = [t.clone() for t in base], [t.clone() for t in base]
            plus[level][j] += h
            minus[level][j] -= h
            numeric[j] = (unrolled_objective(plus) - unrolled_objective(minus)) / (2 * h)
        assert relative_error(got[level], numeric) < 1e-3, level


def _network_unrolled_objective(nets, lam, alpha, beta):
    """F(theta_S', theta_I') after one response-aware middle step and one lower step, by plain autograd."""
    def var(sr, illum):
        return {'sr': sr, 'illum': illum, 'hyper': lam}

    def lower_step(sr, illum, create_graph):
        grads = torch.autograd.grad(nets.g(var(sr, illum)), sr, create_graph=create_graph)
        return [t - alpha * gr for t, gr in zip(sr, grads)]

    sr = [t.clone().requires_grad_(True) for t in nets.sr]
    illum = [t.clone().requires_grad_(True) for t in nets.illum]
    f_tilde = nets.f(var(lower_step(sr, illum, True), illum))
    illum_next = [t - beta * gr for t, gr in zip(illum, torch.autograd.grad(f_tilde, illum))]
    illum_next = [t.detach().requires_grad_(False) for t in illum_next]
    sr_next = lower_step(sr, illum_next, False)
    return nets.F(var(sr_next, illum_next))


class DarkenedTinyNets(TinyNets):
    """TinyNets whose training inputs are darkened from targets by the darkening hyper-variables."""

    NAMES = ['log_exposure', 'log_read_noise', 'log_blur']

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(7)
        self.x_hr = torch.rand(2, 3, 12, 12, generator=gen)
        self.draws = dd.draw(2, (12, 12), 2, gen)
        self.hyper = HyperVariables({'sr': ['l1', 'l2'], 'illum': ['pixel', 'coupling']},
                                    continuous={'log_exposure': -1.5, 'log_read_noise': -3.0, 'log_blur': -0.5})

    def _x(self, v):
        values = self.hyper.weights_from(v['hyper'])['darkening']
        return dd.darken(self.x_hr, dict(zip(self.NAMES, values)), self.draws, 2)

    def g(self, v):
        w = self.hyper.weights_from(v['hyper'])['sr']
        _, hr = self.forward(v, self._x(v))
        return w[0] * (hr - self.y).abs().mean() + w[1] * ((hr - self.y)**2).mean()

    def f(self, v):
        u = self.hyper.weights_from(v['hyper'])['illum']
        lit, _ = self.forward(v, self._x(v))
        return u[0] * ((lit - self.y_lr)**2).mean() + u[1] * self.g(v)


@pytest.mark.parametrize('mode', MODES)
def test_darkening_hypergradient_matches_central_differences_of_the_unrolled_objective(mode, monkeypatch):
    """The upper level reaches the data's parameters: d F(theta'(phi)) / d phi through the darkened inputs."""
    monkeypatch.setattr(dd, 'quantise', lambda img: img)  # 8-bit rounding is flat: no finite difference
    nets = DarkenedTinyNets()
    alpha, beta = 0.5, 0.5
    base = [t.detach().clone() for t in nets.hyper.logit_list()]

    def unrolled_objective(lam):
        return _network_unrolled_objective(nets, lam, alpha, beta).detach().item()

    engine = pgr(mode, K=1, alpha=alpha, beta=beta, fd_epsilon=1e-5)
    v = nets.variables([t.clone() for t in base])
    first = {'sr': gradients(nets.g, v, ['sr'])['sr'], 'illum': gradients(nets.f, v, ['illum'])['illum']}
    got, _ = engine.hypergradient(v, Objectives(nets.g, nets.f, nets.F), first)
    h = 1e-5
    numeric = torch.zeros(3)
    for j in range(3):
        plus, minus = [t.clone() for t in base], [t.clone() for t in base]
        plus[2][j] += h
        minus[2][j] -= h
        numeric[j] = (unrolled_objective(plus) - unrolled_objective(minus)) / (2 * h)
    assert numeric.abs().min() > 1e-7  # every parameter matters to the upper objective here
    assert relative_error(got[2], numeric) < 1e-3
