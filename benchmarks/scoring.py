"""How the benchmarks score a restorer: full-reference scores on pair folders, no-reference scores on real
dark photos, and the exposure-fidelity check (six photos of different brightness darkened alike).

A restorer is a function from a dark low-resolution RGB float image in [0, 1] (HWC) to its output at the
scale. ``SCORING_CODE`` hashes the scoring functions' source: the score caches key on it, so a change of
how anything is scored never reuses an old score.
"""
import hashlib
import os
from os import path as osp

import cv2
import numpy as np

from benchmarks.common import to_bgr_uint8


def grey(img):
    """Mean grey level of an RGB float image, in 8-bit units."""
    return float(np.clip(img, 0, 1).mean() * 255)


def brightness_matched(out, gt):
    """``out`` after one linear-light gain that gives it ``gt``'s mean luminance (Rec. 709 weights)."""
    from trico_basicsr.data.coupled_degradation import linear_to_srgb, srgb_to_linear
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)
    out_lin, gt_lin = srgb_to_linear(out), srgb_to_linear(gt)
    gain = float((gt_lin @ weights).mean() / max(float((out_lin @ weights).mean()), 1e-6))
    return linear_to_srgb(np.clip(out_lin * gain, 0, 1))


def full_reference_scores(out, gt, scale, niqe):
    from basicsr.metrics import calculate_metric

    def metric(kind, img):
        return float(calculate_metric({'img': to_bgr_uint8(img), 'img2': to_bgr_uint8(gt)},
                                      {'type': kind, 'crop_border': scale}))

    scores = {'PSNR': metric('calculate_psnr', out), 'SSIM': metric('calculate_ssim', out),
              'PSNR_matched': metric('calculate_psnr', brightness_matched(out, gt)),
              'DeltaE': metric('calculate_delta_e', out), 'bright_err': grey(out) - grey(gt)}
    scores['abs_bright_err'] = abs(scores['bright_err'])
    if niqe:
        scores['NIQE'] = niqe_score(out, scale)
    return scores


def niqe_score(img, crop_border):
    from basicsr.metrics import calculate_metric
    return float(calculate_metric({'img': to_bgr_uint8(img)}, {'type': 'calculate_niqe', 'crop_border': crop_border}))


def chroma_cast(img):
    """Distance of the image's mean colour from grey in the CIELAB a*b* plane."""
    lab = cv2.cvtColor(np.clip(img, 0, 1).astype(np.float32), cv2.COLOR_RGB2LAB)
    return float(np.hypot(lab[..., 1].mean(), lab[..., 2].mean()))


def real_photo_scores(out, lq, scale):
    """No-reference scores of one output for a real dark photo ``lq`` (its darkest 10 % -> dark_lift)."""
    luminance = lq.mean(axis=2)
    darkest = luminance <= np.quantile(luminance, 0.1)
    mask = np.repeat(np.repeat(darkest, scale, axis=0), scale, axis=1)
    return {'NIQE': niqe_score(out, scale), 'mean_grey': grey(out), 'dark_lift': float(out[mask].mean() * 255),
            'cast': chroma_cast(out)}


def read_pair(pair_dir, scale, file_name):
    from trico_basicsr.data.image_io import read_image
    return (read_image(osp.join(pair_dir, f'lq_x{scale}', file_name)),
            read_image(osp.join(pair_dir, 'gt', file_name)))


def evaluate_pairs(restore, pair_dir, scale, niqe):
    """Per-image scores of one method on a pair folder, averaged over the images."""
    per_image, out_grey, gt_grey = [], [], []
    for file_name in sorted(os.listdir(osp.join(pair_dir, 'gt'))):
        lq, gt = read_pair(pair_dir, scale, file_name)
        out = restore(lq)
        per_image.append(full_reference_scores(out, gt, scale, niqe))
        out_grey.append(grey(out))
        gt_grey.append(grey(gt))
    scores = {k: float(np.mean([s[k] for s in per_image])) for k in per_image[0]}
    scores['bright_corr'] = float(np.corrcoef(out_grey, gt_grey)[0, 1])
    return scores


TRACKING_PHOTOS = ('astronaut', 'chelsea', 'coffee', 'rocket', 'immunohistochemistry', 'camera')


def tracking_photo(name, scale):
    """scikit-image's photo ``name`` as RGB float, 48 * ``scale`` pixels square."""
    from skimage import data as skdata
    img = getattr(skdata, name)()
    img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
    size = 48 * scale
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def brightness_tracking(restore, scale):
    """``{'slope', 'mean_abs_error'}`` of output vs target mean grey levels over the six tracking photos."""
    from trico_basicsr.data.coupled_degradation import DegradationParams, degrade
    darkening = DegradationParams(exposure=0.08, gamma=1.0, photons=3000.0, read_noise=0.001, blur_sigma=0.0,
                                  jpeg_quality=0)
    outputs, targets = [], []
    for i, name in enumerate(TRACKING_PHOTOS):
        gt = tracking_photo(name, scale)
        outputs.append(grey(restore(degrade(gt, scale, darkening, np.random.default_rng(i)))))
        targets.append(grey(gt))
    return {'slope': float(np.polyfit(targets, outputs, 1)[0]),
            'mean_abs_error': float(np.abs(np.subtract(outputs, targets)).mean())}


def real_photos(folder):
    from trico_basicsr.data.image_io import is_image_file
    files = []
    for parent, _, names in os.walk(folder):
        files += [osp.join(parent, n) for n in names if is_image_file(n)]
    if not files:
        raise SystemExit(f'error: --real {folder}: no image files')
    return sorted(files)


def real_input(path, scale):
    """A real photo area-downsampled by ``scale`` (so the output has the photo's size)."""
    from trico_basicsr.data.coupled_degradation import downsample, mod_crop
    from trico_basicsr.data.image_io import read_image
    return downsample(mod_crop(read_image(path), scale), scale, 'area')


def evaluate_real(restore, files, scale):
    """Mean no-reference scores of one method over the real photos."""
    scores = []
    for path in files:
        lq = real_input(path, scale)
        scores.append(real_photo_scores(restore(lq), lq, scale))
    return {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}


def _scoring_code():
    """What the scores depend on in this script (its scoring functions), for the cache's method identities."""
    import inspect
    functions = (grey, brightness_matched, full_reference_scores, niqe_score, chroma_cast, real_photo_scores,
                 read_pair, evaluate_pairs, real_input, evaluate_real)
    return hashlib.sha1(''.join(inspect.getsource(f) for f in functions).encode()).hexdigest()[:16]


SCORING_CODE = _scoring_code()
