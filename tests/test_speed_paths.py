"""The faster training and inference paths give the results of the plain ones (issue: training speed)."""
import copy
import os
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from basicsr.metrics import calculate_ssim

from tests.helpers.models import build_tiny_model, tiny_batch
from trico_basicsr.losses.semantic_perceptual_loss import SemanticPerceptualLoss
from trico_basicsr.losses.ssim_loss import SSIMLoss, gaussian_kernel_1d
from trico_basicsr.pgr.precision import LossScale, Precision
from trico_basicsr.utils.loss_window import LossWindow


def ssim_2d_reference(x, y, size=11, sigma=1.5, c1=0.01**2, c2=0.03**2):
    """SSIM with five full 2-D window convolutions (the textbook form)."""
    channels = x.shape[1]
    g = gaussian_kernel_1d(size, sigma).to(x)
    kernel = torch.outer(g, g).expand(channels, 1, size, size)

    def blur(t):
        return F.conv2d(t, kernel, groups=channels)

    mu_x, mu_y = blur(x), blur(y)
    var_x, var_y, cov = blur(x * x) - mu_x**2, blur(y * y) - mu_y**2, blur(x * y) - mu_x * mu_y
    return ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))


def test_separable_batched_ssim_equals_the_2d_window_form_in_value_and_gradient():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 40, 36, dtype=torch.float64, requires_grad=True)
    y = torch.rand(2, 3, 40, 36, dtype=torch.float64)
    loss = SSIMLoss().double()(x, y)
    want = 1 - ssim_2d_reference(x, y).mean()
    assert torch.allclose(loss, want, atol=1e-7)  # the float32 Gaussian taps round differently in 2-D
    (g_loss,) = torch.autograd.grad(loss, x)
    (g_want,) = torch.autograd.grad(want, x)
    assert torch.allclose(g_loss, g_want, rtol=0, atol=1e-6 * float(g_want.abs().max()))


def test_ssim_loss_agrees_with_basicsr_ssim_metric():
    rng = np.random.default_rng(0)
    gt = rng.random((48, 48, 3))
    noisy = np.clip(gt + rng.normal(0, 0.1, gt.shape), 0, 1)
    metric = calculate_ssim(noisy * 255, gt * 255, crop_border=0, input_order='HWC')

    def tensor(a):
        return torch.from_numpy(a.transpose(2, 0, 1)).double()[None]

    ours = 1 - float(SSIMLoss().double()(tensor(noisy), tensor(gt)))
    assert ours == pytest.approx(metric, abs=2e-3)


class CountingBackbone(torch.nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone, self.calls = backbone, 0

    def forward(self, x):
        self.calls += 1
        return self.backbone(x)


def test_perceptual_loss_runs_the_backbone_once_per_target_and_never_serves_stale_features():
    torch.manual_seed(0)
    loss = SemanticPerceptualLoss(weights=None)
    torch.manual_seed(0)
    fresh = SemanticPerceptualLoss(weights=None)  # (a deepcopy of torch.fx's GraphModule leaves eval mode)
    fresh.target_features = lambda target: fresh.backbone(target)  # no cache
    loss.backbone = CountingBackbone(loss.backbone)
    pred, target = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    values = [loss(pred, target) for _ in range(3)]
    assert loss.backbone.calls == 3 + 1  # three predictions, one target
    assert all(torch.equal(v, fresh(pred, target)) for v in values)
    other = torch.rand(2, 3, 32, 32)
    assert torch.equal(loss(pred, other), fresh(pred, other))  # a new target tensor
    other.mul_(0.5)  # changed in place: its version counter moves
    assert torch.equal(loss(pred, other), fresh(pred, other))


def test_loss_window_averages_on_the_device_and_reads_once():
    window = LossWindow()
    window.add({'l_sr': torch.tensor(1.0), 'l_illum': torch.tensor(4.0)})
    window.add({'l_sr': torch.tensor(3.0), 'l_illum': torch.tensor(2.0), 'l_upper': torch.tensor(7.0)})
    assert window.read(reset=False) == {'l_sr': 2.0, 'l_illum': 3.0, 'l_upper': 7.0}
    assert window.read() == {'l_sr': 2.0, 'l_illum': 3.0, 'l_upper': 7.0}
    assert window.read() == {}  # reading started a new window


def test_a_first_order_iteration_reads_nothing_back_from_the_device(root, monkeypatch):
    """No .item()/float()/tolist() in a warm-up step (only one finiteness check per level, via bool)."""
    model = build_tiny_model(root, **{'train:pgr:phases:cooperative_start': 100,
                                      'train:pgr:phases:trilevel_start': 100})
    model.feed_data(tiny_batch(model))
    model.optimize_parameters(1)
    reads = []

    def spy(name, original):
        def read(self, *args):
            caller = sys._getframe(1).f_code.co_filename
            # torch.optim keeps Adam's step counter on the host (unless capturable): reading it is no sync
            if f'torch{os.sep}optim' not in caller:
                reads.append(f'{name} in {caller}')
            return original(self, *args)
        return read

    for name in ('item', 'tolist', '__float__'):
        monkeypatch.setattr(torch.Tensor, name, spy(name, getattr(torch.Tensor, name)))
    model.optimize_parameters(2)
    model.optimize_parameters(3)
    assert reads == []
    monkeypatch.undo()
    log = model.get_current_log()
    assert {'l_sr', 'l_illum', 'lambda_sr_pixel', 'skipped_updates'} <= set(log)
    assert 'l_sr' not in model.get_current_log()  # the window was read


def test_fused_weight_average_equals_basicsrs(root):
    from basicsr.models.base_model import BaseModel
    model = build_tiny_model(root, **{'train:ema_decay': 0.9})
    with torch.no_grad():
        for p in model.net_g.parameters():
            p.add_(torch.randn_like(p))
    reference = copy.deepcopy(model.net_g_ema)
    model.model_ema(decay=0.9)
    twin = copy.copy(model)
    twin.net_g_ema = reference
    BaseModel.model_ema(twin, decay=0.9)
    for ours, theirs in zip(model.net_g_ema.parameters(), reference.parameters()):
        assert torch.equal(ours, theirs)


def test_amp_options_are_checked():
    assert not Precision.from_options(None).enabled
    assert Precision.from_options({'dtype': 'bfloat16'}).dtype is torch.bfloat16
    with pytest.raises(ValueError, match='train.amp.dtype'):
        Precision.from_options({'dtype': 'half'})
    with pytest.raises(KeyError, match='init_scal'):
        Precision.from_options({'dtype': 'float16', 'init_scal': 8})


def test_loss_scale_halves_on_overflow_and_grows_after_a_finite_streak():
    scale = LossScale(1024.0, growth_interval=3)
    scale.update(finite=False)
    assert scale.value == 512.0
    for _ in range(3):
        scale.update(finite=True)
    assert scale.value == 1024.0 and scale.finite_streak == 0


@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
def test_amp_first_order_gradients_follow_float32_and_responses_stay_float32(root, dtype):
    fp32 = build_tiny_model(root)
    amp = build_tiny_model(root, **{'train:amp': {'dtype': dtype, 'init_scale': 256.0}})
    amp.net_g.load_state_dict(fp32.net_g.state_dict())
    batch = tiny_batch(fp32)
    fp32.feed_data(batch)
    amp.feed_data(batch)
    want = fp32._objectives().first_order(fp32.params).grads
    got = amp._objectives().first_order(amp.params).grads
    flat_want = torch.cat([g.flatten() for level in want for g in want[level]])
    flat_got = torch.cat([g.flatten() for level in got for g in got[level]])
    assert torch.isfinite(flat_got).all()
    assert F.cosine_similarity(flat_got, flat_want, dim=0) > 0.98
    # the objectives the responses differentiate are float32 whatever train.amp says
    assert torch.equal(amp._objectives().lower(amp.params), fp32._objectives().lower(fp32.params))


def test_amp_and_channels_last_train_like_float32(root):
    runs = {}
    for name, changes in {'fp32': {}, 'bf16': {'train:amp': {'dtype': 'bfloat16'}},
                          'channels_last': {'train:channels_last': True}}.items():
        torch.manual_seed(0)
        model = build_tiny_model(root, **changes)
        model.feed_data(tiny_batch(model))
        for it in range(1, 4):
            model.optimize_parameters(it)
        with torch.no_grad():
            model.net_g.eval()
            runs[name] = model.net_g(model.lq).clamp(0, 1)
    assert runs['channels_last'].is_contiguous(memory_format=torch.channels_last) or runs['channels_last'].shape[0]
    assert (runs['channels_last'] - runs['fp32']).abs().mean() * 255 < 0.01
    assert (runs['bf16'] - runs['fp32']).abs().mean() * 255 < 1.0


def test_enhancer_in_channels_last_matches_nchw(tmp_path):
    from tests.helpers.runs import ROOT
    from trico_basicsr.utils.inference import TriCoEnhancer
    weights = f'{ROOT}/weights/trico_light_x4.pth'
    img = np.random.default_rng(0).random((40, 56, 3)).astype(np.float32) * 0.1
    fast = TriCoEnhancer(weights, device='cpu').enhance(img)
    plain = TriCoEnhancer(weights, device='cpu', channels_last=False).enhance(img)
    assert fast.shape == plain.shape == (160, 224, 3)
    assert np.abs(fast - plain).max() * 255 < 0.01


@pytest.mark.slow  # about two minutes of torch.compile on a CPU
def test_compiled_level_networks_train_like_eager_ones(root):
    """train.compile: the same first-order step as eager execution (compiling takes a while on CPU)."""
    runs = {}
    for name, changes in {'eager': {}, 'compiled': {'train:compile': True}}.items():
        torch.manual_seed(0)
        model = build_tiny_model(root, **{'train:pgr:phases:cooperative_start': 100,
                                          'train:pgr:phases:trilevel_start': 100, **changes})
        model.feed_data(tiny_batch(model))
        model.optimize_parameters(1)
        runs[name] = [p.detach().clone() for level in ('sr', 'illum') for p in model.params[level]]
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(runs['eager'], runs['compiled']))


def test_compile_refuses_double_backward(root):
    with pytest.raises(ValueError, match='finite_difference'):
        build_tiny_model(root, **{'train:compile': True, 'train:pgr:hvp': 'double_backward'})


def test_an_illumination_far_above_one_has_zero_not_nan_gradient():
    """exp(log_illum) overflowed to inf for a diverging net, and clamp's zero gradient times inf was NaN."""
    from trico_basicsr.archs.illum_arch import IllumNet
    net = IllumNet(num_feat=8, num_block=1)
    with torch.no_grad():
        net.conv_last.bias.fill_(200.0)  # log_illum ~ 200: exp overflows float32
    x = torch.rand(1, 3, 16, 16) * 0.2
    lit, illum = net(x)
    assert torch.equal(illum, torch.ones_like(illum)) and torch.equal(lit, x)
    (lit.sum() + illum.sum()).backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)


def test_an_overflowing_float16_step_is_skipped_and_halves_the_loss_scale(root):
    warm_up_only = {'train:pgr:phases:cooperative_start': 100, 'train:pgr:phases:trilevel_start': 100}
    model = build_tiny_model(root, **{'train:amp': {'dtype': 'float16', 'init_scale': 256.0}, **warm_up_only})
    batch = tiny_batch(model)
    batch['lq'][0, 0, 0, 0] = float('inf')
    model.feed_data(batch)
    model.optimize_parameters(1)
    assert model.skipped_updates['sr'] == 1 and model.precision.loss_scale == 128.0
    assert model.get_current_log()['loss_scale'] == 128.0
    model.feed_data(tiny_batch(model))
    model.optimize_parameters(2)
    assert model.precision.scale.finite_streak == 1 and model.precision.loss_scale == 128.0
