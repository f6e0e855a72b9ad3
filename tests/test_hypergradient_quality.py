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
