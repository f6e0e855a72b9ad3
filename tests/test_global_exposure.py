"""IllumNet's global exposure estimate: starts as the local net, and tiles see the whole image's statistics."""
import numpy as np
import pytest
import torch
from basicsr.archs import build_network

from trico_basicsr.archs.illum_arch import IllumNet
from trico_basicsr.utils.inference import TriCoEnhancer

NET = {'type': 'TriCoNet', 'upscale': 4, 'illum_feat': 8, 'illum_block': 1, 'num_feat': 8, 'num_block': 2,
       'ihem_every': 1, 'semantic': 'none', 'global_exposure': True}


def test_untrained_global_branch_leaves_the_local_net_unchanged():
    torch.manual_seed(0)
    local, with_global = IllumNet(num_feat=8, num_block=1), IllumNet(num_feat=8, num_block=1, global_exposure=True)
    with_global.load_state_dict(local.state_dict(), strict=False)
    x = torch.rand(2, 3, 24, 24) * 0.2
    for a, b in zip(local(x), with_global(x)):
        assert torch.equal(a, b)


def test_exposure_statistics_shift_with_the_exposure():
    x = torch.rand(1, 3, 64, 64) * 0.5 + 0.3
    net = IllumNet(global_exposure=True)
    brighter, darker = net.exposure_stats(x), net.exposure_stats(x * 0.25)
    shift = (brighter - darker)[0, :len(IllumNet.STAT_QUANTILES)]
    assert torch.allclose(shift, torch.full_like(shift, float(np.log(4))), atol=0.1)
    assert torch.allclose(brighter[0, -3:], darker[0, -3:], atol=0.05)  # colour balance does not move


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    net = build_network(dict(NET))
    with torch.no_grad():  # a global branch that matters, as after training
        for head in ('feat_bias', 'log_gain'):
            net.illum.global_exposure[head].weight.normal_(0, 0.5)
    path = str(tmp_path_factory.mktemp('ckpt') / 'net.pth')
    torch.save({'params': net.state_dict(), 'network_g': dict(NET), 'scale': 4}, path)
    return path


def test_tiles_use_the_whole_image_statistics(checkpoint, monkeypatch):
    rng = np.random.default_rng(0)
    img = (rng.random((64, 96, 3)) * np.linspace(0.02, 0.4, 96)[None, :, None]).astype(np.float32)  # dark to bright
    whole = TriCoEnhancer(checkpoint).enhance(img)
    tiled = TriCoEnhancer(checkpoint, tile=32, tile_pad=24).enhance(img)
    assert np.abs(tiled - whole).max() < 1.0 / 255
    # tiles that computed their own statistics would be lit differently: the test can tell
    monkeypatch.setattr(TriCoEnhancer, '_whole_image_inputs', lambda self, x: {})
    per_tile = TriCoEnhancer(checkpoint, tile=32, tile_pad=24).enhance(img)
    assert np.abs(per_tile - whole).max() > 5.0 / 255


def test_a_cascade_with_a_global_illumination_net_also_tiles_with_whole_image_statistics(tmp_path):
    torch.manual_seed(1)
    opt = {'type': 'TwoLevelCascade', 'illum': {'type': 'IllumNet', 'num_feat': 8, 'num_block': 1,
                                                'global_exposure': True},
           'sr': {'type': 'MSRResNet', 'num_feat': 8, 'num_block': 1, 'upscale': 4}}
    net = build_network(dict(opt))
    with torch.no_grad():
        net.illum.global_exposure['log_gain'].weight.normal_(0, 0.5)
    path = str(tmp_path / 'cascade.pth')
    torch.save({'params': net.state_dict(), 'network_g': opt, 'scale': 4}, path)
    rng = np.random.default_rng(0)
    img = (rng.random((48, 64, 3)) * np.linspace(0.02, 0.4, 64)[None, :, None]).astype(np.float32)
    whole = TriCoEnhancer(path).enhance(img)
    tiled = TriCoEnhancer(path, tile=24, tile_pad=16).enhance(img)
    assert net.uses_global_statistics and np.abs(tiled - whole).max() < 1.0 / 255
