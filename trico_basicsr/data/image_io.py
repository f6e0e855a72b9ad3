"""Read and write images with errors that name the file.

Every reader returns float32 RGB arrays, HWC, in [0, 1]. Conversions (documented in the README):
8-bit images are divided by 255 and 16-bit images by 65535; grayscale images are replicated to three
channels; the alpha channel of RGBA images is dropped. Anything else (corrupt files, other bit
depths, other channel counts) raises ``ValueError`` naming the file.
"""
from os import path as osp

import cv2
import numpy as np

from trico_basicsr.utils.atomic import atomic_write

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')


def decode_image(data, name):
    """Decode encoded image bytes (PNG, JPEG, ...) into float32 RGB HWC in [0, 1].

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
    return _to_float_rgb(img, name)


def read_image(path):
    """Read an image file into float32 RGB HWC in [0, 1] (see the module docstring for conversions)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such image file')
    with open(path, 'rb') as f:
        return decode_image(f.read(), path)


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
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def encode_png(img):
    """Float RGB HWC in [0, 1] -> 8-bit PNG bytes (deterministic for equal input)."""
    ok, data = cv2.imencode('.png', cv2.cvtColor(to_uint8(img), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError('could not encode PNG')
    return data.tobytes()


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
