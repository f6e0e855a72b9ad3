"""The black level: shadows the SR level lifted go back where the middle level put them, mean and colour kept."""
import numpy as np
import torch

from trico_basicsr.utils import black_level
from trico_basicsr.utils.black_level import BlackLevelMap, BlackLevelReference, luminance


def scene(lift=0.0, seed=0):
    """(lq, out): a dark input whose left quarter is near black, and a x2 'output' of it, lit, with ``lift``
    (sRGB) added to that quarter as an SR level that lifts shadows would."""
    g = torch.Generator().manual_seed(seed)
    lq = torch.rand(1, 3, 16, 24, generator=g) * 0.1 + 0.05
    lq[..., :6] = 0.003
    out = torch.nn.functional.interpolate(lq * 4, scale_factor=2, mode='nearest').clamp(0, 1)
    out[..., :12] = out[..., :12] + lift * torch.tensor([1.0, 0.8, 1.2])[None, :, None, None]
    return lq, out.clamp(0, 1)


def dark_mean(lq, img, threshold):
    dark = (luminance(lq) <= threshold).float().repeat_interleave(2, 2).repeat_interleave(2, 3)
    return float((luminance(img) * dark).sum() / dark.sum())


def test_lifted_shadows_go_back_to_the_middle_levels_level_and_the_mean_and_colours_stay():
    lq, out = scene(lift=0.15)
    _, unlifted = scene()
    reference = BlackLevelReference.measure(lq, torch.nn.functional.avg_pool2d(unlifted, 2))
    mapping = BlackLevelMap(reference, 2)
    mapping.add(lq, out)
    mapped = mapping.apply(out)
    assert abs(dark_mean(lq, mapped, reference.threshold) - reference.lit_dark_level) < 1e-4
    assert dark_mean(lq, out, reference.threshold) > 3 * reference.lit_dark_level  # the test can tell
    assert abs(float(luminance(mapped).mean() - luminance(out).mean())) < 1e-3
    bright = mapped[..., 20, 40] / mapped[..., 20, 40].sum()
    assert torch.allclose(bright, out[..., 20, 40] / out[..., 20, 40].sum(), atol=0.02)  # hue of a lit pixel kept


def test_shadows_that_were_not_lifted_are_left_alone():
    lq, out = scene()
    reference = BlackLevelReference.measure(lq, torch.nn.functional.avg_pool2d(out, 2))
    mapping = BlackLevelMap(reference, 2)
    mapping.add(lq, out)
    assert mapping.coefficients() is None and mapping.apply(out) is out


def test_tiles_add_up_to_the_whole_image():
    lq, out = scene(lift=0.1)
    reference = BlackLevelReference(threshold=0.001, lit_dark_level=0.002)
    whole, tiled = BlackLevelMap(reference, 2), BlackLevelMap(reference, 2)
    whole.add(lq, out)
    tiled.add(lq[..., :10], out[..., :20])
    tiled.add(lq[..., 10:], out[..., 20:])
    assert np.allclose(whole.coefficients(), tiled.coefficients())


def test_a_quantised_output_is_mapped_band_by_band_like_the_float_one():
    lq, out = scene(lift=0.1)
    reference = BlackLevelReference(threshold=0.001, lit_dark_level=0.002)
    mapping = BlackLevelMap(reference, 2)
    mapping.add(lq, out)
    as_float = mapping.apply(out)[0].permute(1, 2, 0).numpy()
    as_uint16 = mapping.apply((out[0].permute(1, 2, 0).numpy() * 65535).round().astype(np.uint16), band_pixels=50)
    assert np.abs(as_uint16 / 65535 - as_float).max() < 2e-3


def test_a_flat_image_gets_at_most_the_capped_stretch():
    lq = torch.full((1, 3, 8, 8), 0.05)
    lq[..., 0, 0] = 0.04
    out = torch.full((1, 3, 16, 16), 0.5)
    out[..., :2, :2] = 0.45  # the dark pixel's output: barely darker than the rest
    threshold = float(luminance(torch.full((1, 3, 1, 1), 0.045)))
    mapping = BlackLevelMap(BlackLevelReference(threshold=threshold, lit_dark_level=0.0), 2)
    mapping.add(lq, out)
    assert mapping.coefficients()[0] == black_level.MAX_STRETCH
