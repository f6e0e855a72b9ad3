"""Real dark / normal-light pairs from multi-exposure sequences (tripod frames of one scene).

A folder of numbered frames in capture order, where consecutive frames of one scene differ in
exposure only, is turned into pairs in four steps:

1. :func:`group_scenes` cuts the frame list into scenes where the exposure-free structure of
   neighbouring frames stops agreeing (or the numbering jumps);
2. :func:`pair_scene` pairs every dark frame of a scene with the scene's best-exposed frame;
3. :func:`check_alignment` refuses pairs whose frames moved (camera or subject motion);
4. :func:`split_scenes` splits **by scene**, so no scene's frames reach two splits.

Brightness is measured as the mean grey level of the 8-bit frame (0-255). Structure is compared on
rank-transformed grey thumbnails: a rank transform is invariant to any increasing tone change, so two
exposures of one scene compare as equal while two scenes do not.
"""
import re
from dataclasses import dataclass, field
from os import path as osp

import cv2
import numpy as np

#: Default brightness bands, mean 8-bit grey: dark inputs below 50, references in [90, 150].
DARK_MAX = 50.0
REFERENCE_BAND = (90.0, 150.0)
REFERENCE_TARGET = 120.0


@dataclass
class Frame:
    """One frame of a sequence: ``name`` (file name), its ``number`` in capture order, ``mean_grey``
    (0-255) and ``structure`` (unit-norm rank vector of its grey thumbnail)."""
    name: str
    number: int
    mean_grey: float
    structure: np.ndarray = field(repr=False)


@dataclass
class Pair:
    """A dark frame and the well-exposed frame of the same scene, with the alignment measured."""
    scene: int
    dark: str
    reference: str
    dark_mean: float
    reference_mean: float
    correlation: float = float('nan')
    shift_px: float = float('nan')


def frame_number(name):
    """The capture number in a file name (``'0123.jpg'`` -> 123); ValueError naming the file otherwise."""
    match = re.search(r'(\d+)', osp.splitext(osp.basename(name))[0])
    if match is None:
        raise ValueError(f'{name}: no frame number in the file name (frames must be numbered in capture order)')
    return int(match.group(1))


def rank_structure(img, size=32):
    """Exposure-free structure of an image: the rank transform of its ``size`` x ``size`` grey thumbnail.

    Args:
        img (ndarray): float RGB HWC in [0, 1].
    Returns:
        ndarray: (size*size,) float64, zero mean and unit norm (all zeros for a flat image).
    """
    grey = cv2.cvtColor(np.ascontiguousarray(img, dtype=np.float32), cv2.COLOR_RGB2GRAY)
    thumb = cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA).ravel()
    ranks = np.argsort(np.argsort(thumb, kind='stable'), kind='stable').astype(np.float64)
    ranks -= ranks.mean()
    norm = np.linalg.norm(ranks)
    return ranks / norm if norm > 0 else ranks


def describe_frame(name, img):
    """A :class:`Frame` for image ``img`` (float RGB HWC in [0, 1]) read from file ``name``."""
    return Frame(osp.basename(name), frame_number(name), float(img.mean() * 255.0), rank_structure(img))


def group_scenes(frames, min_correlation=0.9):
    """Cut frames (any order) into scenes: runs of consecutive numbers whose neighbours agree in structure.

    Args:
        frames (list[Frame]): The sequence's frames.
        min_correlation (float): A neighbour whose structure correlates less than this starts a new scene.
    Returns:
        list[list[Frame]]: Scenes in capture order, each in capture order.
    """
    ordered = sorted(frames, key=lambda f: f.number)
    scenes = []
    for frame in ordered:
        previous = scenes[-1][-1] if scenes else None
        same = previous is not None and frame.number == previous.number + 1 and \
            float(frame.structure @ previous.structure) >= min_correlation
        if same:
            scenes[-1].append(frame)
        else:
            scenes.append([frame])
    return scenes


def pair_scene(scene, scene_id, dark_max=DARK_MAX, reference_band=REFERENCE_BAND, reference_target=REFERENCE_TARGET):
    """Pair each dark frame of one scene with its best-exposed frame.

    The reference is the frame whose mean grey lies in ``reference_band`` and is closest to
    ``reference_target``; a scene without one gives no pairs. Dark frames have mean grey below ``dark_max``.

    Returns:
        list[Pair]: Unchecked pairs (alignment not yet measured).
    """
    low, high = reference_band
    candidates = [f for f in scene if low <= f.mean_grey <= high]
    if not candidates:
        return []
    reference = min(candidates, key=lambda f: abs(f.mean_grey - reference_target))
    return [Pair(scene_id, f.name, reference.name, f.mean_grey, reference.mean_grey)
            for f in scene if f.mean_grey < dark_max]


def _normalised_grey(img, size):
    """Grey image resized to ``size``, histogram-equalised so that two exposures look alike (float32)."""
    grey = cv2.cvtColor(np.ascontiguousarray(img, dtype=np.float32), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA)
    ranks = np.argsort(np.argsort(grey.ravel(), kind='stable'), kind='stable').astype(np.float32)
    return (ranks / max(ranks.size - 1, 1)).reshape(grey.shape)


def check_alignment(dark, reference, size=128):
    """How well two exposures of a scene line up.

    Both images are brought to one tone scale by a rank transform, then compared: the correlation of
    their (equalised) grey images at ``size`` x ``size`` and the translation between them by phase
    correlation, scaled back to the full image's pixels.

    Args:
        dark, reference (ndarray): float RGB HWC in [0, 1], same size.
    Returns:
        tuple[float, float]: ``(correlation, shift_px)``.
    """
    if dark.shape != reference.shape:
        raise ValueError(f'frames differ in size: {dark.shape[:2]} and {reference.shape[:2]}')
    a, b = _normalised_grey(dark, size), _normalised_grey(reference, size)
    correlation = float(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    window = cv2.createHanningWindow((size, size), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, window)
    shift = float(np.hypot(dx, dy)) * max(dark.shape[:2]) / size
    return correlation, shift


SPLITS = ('train', 'val', 'test', 'upper')


def split_scenes(scene_ids, fractions=(0.8, 0.1, 0.1), seed=0):
    """Assign whole scenes to ``train``, ``val``, ``test`` (and ``upper``) with a seeded shuffle.

    Args:
        scene_ids (list[int]): Scenes to split (each scene lands in exactly one split).
        fractions (tuple[float, ...]): Shares of train, val, test and optionally upper (the upper
            level's own scenes, disjoint from the others); non-negative, summing to 1.
    Returns:
        dict[int, str]: Split name of every scene.
    """
    if len(fractions) not in (3, 4) or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f'split fractions must be 3 or 4 non-negative numbers that sum to 1, got {fractions}')
    ids = sorted(set(scene_ids))
    order = np.random.default_rng(seed).permutation(len(ids))
    # train takes the remainder; the others get their rounded counts, in the order val, test, upper
    bounds = np.cumsum([round(f * len(ids)) for f in fractions[1:]])
    splits = {}
    for rank, i in enumerate(order):
        later = int(np.searchsorted(bounds, rank, side='right'))
        splits[ids[i]] = SPLITS[1 + later] if later < len(bounds) else 'train'
    return splits


def srgb_to_linear(img):
    """sRGB-encoded values in [0, 1] -> linear light in [0, 1] (IEC 61966-2-1)."""
    return np.where(img <= 0.04045, img / 12.92, ((img + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(img):
    """Linear light in [0, 1] -> sRGB-encoded values in [0, 1]."""
    img = np.clip(img, 0.0, 1.0)
    return np.where(img <= 0.0031308, img * 12.92, 1.055 * img ** (1 / 2.4) - 0.055)


def downsample_dark(img, scale, kernel='area'):
    """The low-resolution dark input: ``img`` (float RGB HWC in [0, 1], sides multiples of ``scale``) / scale.

    Kernels: ``area`` averages each ``scale`` x ``scale`` block of the encoded values (what a resize of
    the JPEG does); ``binning`` averages the block in linear light and re-encodes with the sRGB curve,
    as a sensor that bins photosites before its tone curve would.
    """
    h, w = img.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f'image {h}x{w} is not a multiple of scale {scale}: mod-crop it first')
    if kernel == 'area':
        blocks = img.reshape(h // scale, scale, w // scale, scale, -1).mean(axis=(1, 3))
    elif kernel == 'binning':
        linear = srgb_to_linear(img.astype(np.float64))
        blocks = linear_to_srgb(linear.reshape(h // scale, scale, w // scale, scale, -1).mean(axis=(1, 3)))
    else:
        raise ValueError(f"downsampling kernel must be 'area' or 'binning', got '{kernel}'")
    return blocks.astype(np.float32)
