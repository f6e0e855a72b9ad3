"""Read and write images with errors that name the file: the one reader of the package.

Every file is decoded once, by :func:`decode_raw`, which applies the EXIF orientation (the tag a phone
writes for a portrait photo; OpenCV's ``IMREAD_UNCHANGED`` ignores it) and keeps bit depth and
channels. :func:`read_image` / :func:`decode_image` then return float32 RGB arrays, HWC, in [0, 1]:
8-bit images are divided by 255 and 16-bit images by 65535; grayscale images are replicated to three
channels; the alpha channel of RGBA images is dropped (:func:`read_image_layout` keeps it, for
writers that give it back). Anything else (corrupt files, other bit depths, other channel counts)
raises ``ValueError`` naming the file.
"""
import io
from dataclasses import dataclass
from os import path as osp

import cv2
import numpy as np

from trico_basicsr.utils.atomic import atomic_write

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')


EXIF_ORIENTATION = 0x0112


def exif_orientation(data):
    """The EXIF orientation (1-8) stored in encoded image bytes; 1 (as stored) when there is none."""
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as img:
            value = img.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # not a format PIL knows, or broken metadata: the pixels are still as stored
        return 1
    return value if value in range(1, 9) else 1


def apply_orientation(img, orientation):
    """Turn an HW[C] array stored with EXIF ``orientation`` (1-8) upright, as a viewer shows it.

    1: as stored; 2: mirrored; 3: rotated 180; 4: flipped; 5: transposed; 6: rotated 90 clockwise to view;
    7: transversed; 8: rotated 90 counter-clockwise to view.
    """
    if orientation in (5, 6, 7, 8):
        img = np.swapaxes(img, 0, 1)  # transpose first, then the flips below finish each case
    flip_rows = orientation in (3, 4, 7, 8)
    flip_columns = orientation in (2, 3, 6, 7)
    if flip_rows:
        img = img[::-1]
    if flip_columns:
        img = img[:, ::-1]
    return np.ascontiguousarray(img)


def decode_raw(data, name):
    """Decode encoded image bytes as OpenCV stores them (BGR[A] or grey, 8- or 16-bit), EXIF orientation applied.

    Args:
        data (bytes | None): Encoded image; None (e.g. a missing LMDB key) is an error.
        name (str): File path or LMDB key, used in error messages.
    """
    if data is None:
        raise ValueError(f'{name}: no image data')
    buffer = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED) if buffer.size else None
    if img is None:
        raise ValueError(f'{name}: not a readable image (corrupt file or unsupported format)')
    return apply_orientation(img, exif_orientation(data))


def decode_image(data, name):
    """Decode encoded image bytes (PNG, JPEG, ...) into float32 RGB HWC in [0, 1], upright (EXIF applied)."""
    return _to_float_rgb(decode_raw(data, name), name)


def read_bytes(path):
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such image file')
    with open(path, 'rb') as f:
        return f.read()


def read_raw(path):
    """:func:`decode_raw` of an image file."""
    return decode_raw(read_bytes(path), path)


def read_image(path):
    """Read an image file into float32 RGB HWC in [0, 1] (see the module docstring for conversions)."""
    return decode_image(read_bytes(path), path)


@dataclass
class ImageLayout:
    """What an input file had that float RGB drops: ``bit_depth`` (8 or 16), ``grey`` (one channel) and
    ``alpha`` (float32 HW in [0, 1], or None)."""
    bit_depth: int
    grey: bool
    alpha: np.ndarray = None


def read_image_layout(path):
    """``(rgb, layout)``: the image as :func:`read_image` gives it and the :class:`ImageLayout` it came in."""
    raw = read_raw(path)
    rgb = _to_float_rgb(raw, path)
    scale = 65535.0 if raw.dtype == np.uint16 else 255.0
    alpha = raw[:, :, 3].astype(np.float32) / scale if raw.ndim == 3 and raw.shape[2] == 4 else None
    grey = raw.ndim == 2 or raw.shape[2] == 1
    return rgb, ImageLayout(16 if raw.dtype == np.uint16 else 8, grey, alpha)


def _to_float_rgb(img, name):
    if img.dtype == np.uint8:
        img = img.astype(np.float32) / 255.0
    elif img.dtype == np.uint16:
        img = img.astype(np.float32) / 65535.0
    else:
        raise ValueError(f'{name}: unsupported pixel type {img.dtype} (expected 8- or 16-bit)')
    if img.ndim == 2:
        return np.repeat(img[:, :, None], 3, axis=2)
    channels = img.shape[2]
    if channels == 1:
        return np.repeat(img, 3, axis=2)
    if channels == 3:
        return np.ascontiguousarray(img[:, :, ::-1])
    if channels == 4:
        return np.ascontiguousarray(img[:, :, 2::-1])
    raise ValueError(f'{name}: unsupported channel count {channels} (expected 1, 3 or 4)')


def to_uint8(img):
    """Float RGB HWC in [0, 1] -> uint8 RGB (rounded, clipped)."""
    return quantise(img, 8)


def quantise(img, bit_depth):
    """Float array in [0, 1] -> uint8 (``bit_depth`` 8) or uint16 (16), rounded and clipped.

    Works in place on one float32 copy, so the peak is the input, one float copy and the result.
    """
    top = 65535.0 if bit_depth == 16 else 255.0
    scaled = np.multiply(img, top, dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, top, out=scaled)
    return scaled.astype(np.uint16 if bit_depth == 16 else np.uint8)


def encode_png_layout(img, layout=None):
    """PNG bytes of an image as an input of ``layout`` had it: bit depth, grey or colour, alpha.

    Args:
        img (ndarray): RGB HWC, float in [0, 1], or already quantised (uint8 / uint16 of that depth).
        layout (ImageLayout | None): None writes 8-bit RGB. A grey layout writes the luma (BT.601) of
            ``img``; an alpha (float HW in [0, 1], the output's size) is attached as a fourth channel.
    """
    layout = layout or ImageLayout(8, False)
    bits = layout.bit_depth
    pixels = img if img.dtype != np.float32 and img.dtype != np.float64 else quantise(img, bits)
    if pixels.dtype != (np.uint16 if bits == 16 else np.uint8):
        raise ValueError(f'image of type {pixels.dtype} cannot be written as a {bits}-bit PNG')
    if layout.grey:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    else:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
        if layout.alpha is not None:
            if layout.alpha.shape != pixels.shape[:2]:
                raise ValueError(f'alpha {layout.alpha.shape} does not match the image {pixels.shape[:2]}')
            pixels = np.dstack([pixels, quantise(layout.alpha, bits)])
    ok, data = cv2.imencode('.png', pixels)
    if not ok:
        raise ValueError('could not encode PNG')
    return data.tobytes()


def encode_png(img):
    """Float RGB HWC in [0, 1] -> 8-bit PNG bytes (deterministic for equal input)."""
    return encode_png_layout(img)


def write_bytes_atomic(path, data):
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    An interrupted write never leaves a complete-looking ``path`` behind.
    """
    atomic_write(path, lambda f: f.write(data))


def write_png(path, img):
    """Write float RGB HWC in [0, 1] as an 8-bit PNG, atomically."""
    write_bytes_atomic(path, encode_png(img))


def is_image_file(name):
    return name.lower().endswith(IMAGE_EXTENSIONS)
