"""The exposure anchor: the middle level's overall brightness set by a rule, its local light map kept."""
import numpy as np
import pytest
import torch
from basicsr.archs import build_network

from trico_basicsr.archs import exposure_anchor
from trico_basicsr.archs.exposure_anchor import (
    DARK_GREY,
    DEFAULT_AIM,
    EXPOSED_GREY,
    anchor_log_gain,
    lit_mean_grey,
    target_grey,
)
from trico_basicsr.archs.illum_arch import IllumNet
from trico_basicsr.utils.inference import TriCoEnhancer

NET = {'type': 'TriCoNet', 'upscale': 2, 'illum_feat': 8, 'illum_block': 1, 'num_feat': 8, 'num_block': 1,
       'ihem_every': 1, 'semantic': 'none', 'global_exposure': True}


def test_dark_inputs_aim_between_the_net_and_a_standard_exposure_and_exposed_ones_keep_their_level():
    own = torch.tensor([0.2, 0.7, 0.7, 0.7])
    inputs = torch.tensor([0.05, 0.05, EXPOSED_GREY, 0.6])
    target = target_grey(inputs, own)
    assert torch.allclose(target[:2], torch.sqrt(own[:2] * DEFAULT_AIM))
    assert torch.allclose(target[2:], inputs[2:])  # already exposed: as bright as it came
    fixed = target_grey(inputs, own, aim=0.3)
    assert torch.allclose(fixed, torch.tensor([0.3, 0.3, EXPOSED_GREY, 0.6]))
    between = target_grey(torch.tensor([(DARK_GREY + EXPOSED_GREY) / 2]), torch.tensor([0.9]), aim=0.4)
    assert torch.allclose(between, torch.tensor([(0.4 + (DARK_GREY + EXPOSED_GREY) / 2) / 2]))


def test_the_search_finds_the_gain_that_reaches_the_target_and_stops_at_the_range_ends():
    torch.manual_seed(0)
    x = torch.rand(3, 3, 20, 20) * torch.tensor([0.05, 0.1, 0.5])[:, None, None, None]
    log_illum = torch.log(torch.rand(3, 1, 20, 20) * 0.3 + 0.05)
    target = torch.tensor([0.3, 0.45, 0.2])  # the third is darker than its input: out of reach
    gain = anchor_log_gain(x, log_illum, target, 0.01)
    reached = lit_mean_grey(x, log_illum, gain, 0.01)
    assert torch.allclose(reached[:2], target[:2], atol=1e-4)
    assert torch.allclose(reached[2], x[2].mean(), atol=1e-5)  # illumination 1: the input unchanged


def test_an_anchored_middle_level_leaves_a_well_exposed_input_as_it_is_and_lights_a_dark_one_to_the_aim():
    torch.manual_seed(0)
    net = IllumNet(num_feat=8, num_block=1, exposure=0.4).eval()
    exposed = torch.rand(1, 3, 32, 32) * 0.4 + 0.3
    lit, illum = net(exposed)
    assert torch.equal(lit, exposed) and torch.all(illum == 1)
    dark = torch.rand(1, 3, 32, 32) * 0.08
    lit, _ = net(dark)
    assert abs(float(lit.mean()) - 0.4) < 1e-3
    net.set_exposure('model')  # the net's own level: an untrained net is LIME, which lights it otherwise
    assert abs(float(net(dark)[0].mean()) - 0.4) > 0.02


@pytest.mark.parametrize('bad', ['bright', 0.0, 1.5, '-0.2'])
def test_a_bad_exposure_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match='exposure'):
        IllumNet(num_feat=8, num_block=1, exposure=bad)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    net = build_network(dict(NET))
    with torch.no_grad():
        net.illum.global_exposure['log_gain'].weight.normal_(0, 0.5)
    path = str(tmp_path_factory.mktemp('ckpt') / 'net.pth')
    torch.save({'params': net.state_dict(), 'network_g': dict(NET), 'scale': 2}, path)
    return path


def dark_gradient_image(height, width):
    rng = np.random.default_rng(0)
    return (rng.random((height, width, 3)) * np.linspace(0.01, 0.2, width)[None, :, None]).astype(np.float32)


@pytest.mark.parametrize('max_pixels', [1 << 18, 256])  # the whole image, then a downsampled view of it
def test_tiles_share_the_whole_image_anchor(checkpoint, monkeypatch, max_pixels):
    monkeypatch.setattr(exposure_anchor, 'MAX_ANCHOR_PIXELS', max_pixels)
    img = dark_gradient_image(48, 64)
    whole = TriCoEnhancer(checkpoint, exposure=0.45).enhance(img)
    tiled = TriCoEnhancer(checkpoint, tile=16, tile_pad=16, exposure=0.45).enhance(img)
    assert np.abs(tiled - whole).max() < 1.0 / 255
    # tiles anchoring themselves would each reach the aim on their own: the test can tell
    monkeypatch.setattr(TriCoEnhancer, '_whole_image_inputs', lambda self, x: {})
    per_tile = TriCoEnhancer(checkpoint, tile=16, tile_pad=16, exposure=0.45).enhance(img)
    assert np.abs(per_tile - whole).max() > 5.0 / 255


def test_the_enhancer_chooses_the_exposure_and_model_keeps_the_trained_behaviour(checkpoint):
    img = dark_gradient_image(24, 32)
    trained = build_network(dict(NET))
    trained.load_state_dict(torch.load(checkpoint, weights_only=True)['params'])
    with torch.no_grad():
        expected = trained.eval()(torch.from_numpy(img.transpose(2, 0, 1).copy())[None])[0].permute(1, 2, 0).numpy()
    as_trained = TriCoEnhancer(checkpoint, exposure='model', keep_black_level=False).enhance(img)
    assert np.abs(as_trained - expected.clip(0, 1)).max() < 1e-5
    darker = TriCoEnhancer(checkpoint, exposure=0.2).enhance(img).mean()
    brighter = TriCoEnhancer(checkpoint, exposure=0.5).enhance(img).mean()
    assert darker < brighter - 0.1
