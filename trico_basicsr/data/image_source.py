"""Named image lists from a folder, a meta-info file, an LMDB, or the photos bundled with scikit-image.

``dataroot`` forms:
    ``path/to/folder``                 every image file in the folder (sorted, not recursive);
    ``[folder_a, folder_b, ...]``      every image of each folder, in that order (keys must stay unique);
    ``path/to/folder`` + meta_info     the files the meta-info file lists (first token of each line);
    ``path/to/db.lmdb`` + lmdb backend the keys of the LMDB's ``meta_info.txt`` (BasicSR layout);
    ``skimage:astronaut,coffee``       images bundled with scikit-image (no download, no files).
"""
import functools
import os
from os import path as osp

import numpy as np
from basicsr.data.data_util import paths_from_lmdb
from basicsr.utils import FileClient, scandir

from .image_io import decode_image, is_image_file, read_image

SKIMAGE_PREFIX = 'skimage:'
# Colour photographs that scikit-image ships inside its wheel (no pooch download needed).
SKIMAGE_PHOTOS = ('astronaut', 'chelsea', 'coffee', 'rocket', 'immunohistochemistry')


def key_of(name):
    """Image key: the file name without folder and extension (BasicSR's LMDB key convention)."""
    return osp.splitext(osp.basename(name))[0]


@functools.lru_cache(maxsize=16)
def _skimage_photo(name):
    from skimage import data as skdata
    if not hasattr(skdata, name):
        raise ValueError(f"skimage:{name}: scikit-image has no bundled image of that name")
    img = np.asarray(getattr(skdata, name)())
    if img.dtype != np.uint8:
        raise ValueError(f'skimage:{name}: expected an 8-bit photo, got {img.dtype}')
    img = img.astype(np.float32) / 255.0
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


_lmdb_clients = {}


def lmdb_client(dataroot):
    """One BasicSR LMDB client per (process, database): LMDB refuses a second environment on a path a
    process has open, which two sources of one database (an ``upper_split`` and the rest, read with
    ``num_worker_per_gpu: 0``) would otherwise ask for."""
    key = (os.getpid(), osp.realpath(dataroot))
    if key not in _lmdb_clients:
        _lmdb_clients[key] = FileClient('lmdb', db_paths=[dataroot], client_keys=['default'])
    return _lmdb_clients[key]


class ImageSource:
    """An ordered list of named images, each loaded as float32 RGB HWC in [0, 1].

    Args:
        dataroot (str | list[str]): Folder, list of folders, LMDB folder, or ``skimage:name1,name2`` (see the
            module docstring).
        io_backend (str): ``'disk'`` or ``'lmdb'``. Default: ``'disk'``.
        meta_info_file (str | None): For the disk backend, a file listing the images to use.
        where (str): Option name for error messages. Default: ``'dataroot_gt'``.
    """

    def __init__(self, dataroot, io_backend='disk', meta_info_file=None, where='dataroot_gt'):
        self.dataroot, self.io_backend, self.where = dataroot, io_backend, where
        self._client = None
        if str(dataroot).startswith(SKIMAGE_PREFIX):
            listed = str(dataroot)[len(SKIMAGE_PREFIX):]
            self.names = [name.strip() for name in listed.split(',') if name.strip()] or list(SKIMAGE_PHOTOS)
            self.kind = 'skimage'
        elif isinstance(dataroot, (list, tuple)):
            if io_backend != 'disk' or meta_info_file:
                raise ValueError(f'{where}: a list of folders needs the disk backend and no meta_info_file')
            if not dataroot:
                raise ValueError(f'{where}: the list of folders is empty')
            self.names = [osp.join(folder, name) for folder in dataroot for name in self._list_folder(folder, None)]
            self.kind = 'folders'
        elif io_backend == 'lmdb':
            if not osp.isdir(dataroot):
                raise FileNotFoundError(f'{where}: LMDB folder {dataroot} does not exist')
            self.names = sorted(paths_from_lmdb(dataroot))
            self.kind = 'lmdb'
        elif io_backend == 'disk':
            self.names = self._list_folder(dataroot, meta_info_file)
            self.kind = 'disk'
        else:
            raise ValueError(f"{where}: io_backend type '{io_backend}' is not supported (use 'disk' or 'lmdb')")
        if not self.names:
            raise ValueError(f'{where}: no images found in {dataroot}')
        self._check_unique_keys()

    def _check_unique_keys(self):
        """Keys are file names without extension: ``a.jpg`` and ``a.png`` would silently become one image."""
        seen = {}
        for name in self.names:
            other = seen.setdefault(key_of(name), name)
            if other != name:
                raise ValueError(f"{self.where}: {other} and {name} in {self.dataroot} share the key "
                                 f"'{key_of(name)}' (file name without extension); rename one of them")

    def _list_folder(self, folder, meta_info_file):
        if not osp.isdir(folder):
            raise FileNotFoundError(f'{self.where}: folder {folder} does not exist')
        if meta_info_file:
            if not osp.isfile(meta_info_file):
                raise FileNotFoundError(f'meta_info_file: {meta_info_file} does not exist')
            with open(meta_info_file) as f:
                return [line.split()[0] for line in f if line.strip()]
        return sorted(name for name in scandir(folder) if is_image_file(name))

    def __len__(self):
        return len(self.names)

    def key(self, index):
        return key_of(self.names[index])

    def path(self, index):
        """Where image ``index`` comes from, for error messages and the datasets' ``*_path`` fields."""
        if self.kind == 'skimage':
            return SKIMAGE_PREFIX + self.names[index]
        if self.kind == 'lmdb':
            return f'{self.dataroot}:{self.names[index]}'
        if self.kind == 'folders':
            return self.names[index]
        return osp.join(self.dataroot, self.names[index])

    def load(self, index):
        """Image ``index`` as float32 RGB HWC in [0, 1]."""
        if self.kind == 'skimage':
            return _skimage_photo(self.names[index])
        if self.kind in ('disk', 'folders'):
            return read_image(self.path(index))
        if self._client is None:  # opened lazily: an LMDB environment cannot cross process boundaries
            self._client = lmdb_client(self.dataroot)
        data = self._client.get(self.names[index], 'default')
        if data is None:
            raise KeyError(f"LMDB {self.dataroot}: no key '{self.names[index]}' (listed in its meta_info.txt)")
        return decode_image(data, self.path(index))

    def subset(self, indices):
        """A new source restricted to ``indices`` (same order as given)."""
        clone = object.__new__(ImageSource)
        clone.__dict__.update(self.__dict__)
        clone._client = None
        clone.names = [self.names[i] for i in indices]
        return clone

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_client'] = None
        return state
