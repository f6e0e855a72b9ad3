"""scripts/set_prior_exponent.py: a new prior exponent keeps the gain at the reference level, lowers it below."""

import pytest
import torch

from scripts.set_prior_exponent import main, set_prior_exponent
from trico_basicsr.archs.illum_arch import IllumNet


def _illum_net():
    torch.manual_seed(0)
    net = IllumNet(num_feat=8, num_block=1, global_exposure=True).eval()
    with torch.no_grad():
        net.global_exposure['embed'][0].weight.normal_(0, 0.3)
        # a global log-gain of about -0.3 per channel: no illumination reaches either clamp (0.01, 1) here
        net.global_exposure['log_gain'].weight.normal_(0, 0.05)
        net.global_exposure['log_gain'].bias.normal_(-0.3, 0.05)
    return net


def _gain(net, level):
    """Mean gain (lit / input) on a uniform grey image at ``level``, with the whole-image statistics fixed."""
    x = torch.full((1, 3, 16, 16), level)
    stats = net.exposure_stats(torch.full((1, 3, 16, 16), 0.05))  # the same global estimate for every level
    with torch.no_grad():
        _, illum = net(x, exposure_stats=stats)
    return (1 / illum).mean().item()


def _with_exponent(net, exponent, reference):
    new = IllumNet(num_feat=8, num_block=1, global_exposure=True).eval()
    new.load_state_dict({k[len('illum.'):]: v for k, v in set_prior_exponent(
        {f'illum.{k}': v for k, v in net.state_dict().items()}, exponent, reference).items()})
    return new


def test_gain_kept_at_the_reference_and_lowered_in_darker_regions():
    net = _illum_net()
    new = _with_exponent(net, 0.35, reference=0.1 + 1e-3)  # the prior's log adds 1e-3
    assert new.prior_exponent.item() == pytest.approx(0.35)
    assert _gain(new, 0.1) == pytest.approx(_gain(net, 0.1), rel=1e-4)
    # a night sky is lit much less: by (0.01 / 0.1) ** (0.8 - 0.35), about 0.37
    assert _gain(new, 0.01) / _gain(net, 0.01) == pytest.approx(((0.01 + 1e-3) / (0.1 + 1e-3)) ** 0.45, rel=1e-3)
    assert _gain(new, 0.3) > _gain(net, 0.3)


def test_refuses_a_checkpoint_without_the_global_estimate_and_an_overwrite(tmp_path):
    plain = tmp_path / 'plain.pth'
    torch.save({'params': {f'illum.{k}': v for k, v in IllumNet(num_feat=8, num_block=1).state_dict().items()}},
               plain)
    with pytest.raises(SystemExit, match='missing'):
        main(['--model', str(plain), '--exponent', '0.3', '--out', str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()
    with pytest.raises(SystemExit):
        main(['--model', str(plain), '--exponent', '0.3', '--out', str(plain)])
    with pytest.raises(ValueError, match='reference'):
        set_prior_exponent({'illum.prior_exponent': torch.ones(1), 'illum.global_exposure.log_gain.bias':
                            torch.zeros(3)}, 0.3, reference=0)
