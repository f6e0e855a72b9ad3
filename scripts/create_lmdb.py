"""Pack image folders into LMDB databases in BasicSR's layout (``data.mdb``, ``lock.mdb``, ``meta_info.txt``).

    python scripts/create_lmdb.py --folder datasets/pairs/gt --lmdb datasets/pairs/gt.lmdb
    python scripts/create_lmdb.py --pairs datasets/BSD100_ultra_dark_x4      # gt/ and lq_x*/ of make_coupled_pairs

Keys are file names without extension (BasicSR's convention), so a GT and an LQ folder with the same
file names give LMDBs with the same keys. Images are stored as PNG (lossless, bit depth and channels
kept). A database appears only when complete: it is written under a temporary name
(``<name>.partial-<pid>.lmdb``) and renamed; with ``--pairs`` every database is renamed only once all of
them are complete, so a failure leaves none behind. Temporary databases of killed runs (whose process no
longer exists) are removed, by name, before writing.
"""
import argparse
import glob
import os
import shutil
import sys
from os import path as osp

import cv2

# isort: off
import trico_basicsr  # noqa: F401  (first: makes basicsr importable on today's torchvision)
from basicsr.utils.lmdb_util import LmdbMaker
# isort: on
from tqdm import tqdm

from trico_basicsr.data.image_io import read_raw
from trico_basicsr.data.image_source import ImageSource


def _read(path):
    """The stored pixels, upright (EXIF orientation applied), bit depth and channels kept."""
    return read_raw(path)


def check_keys_readable_by_basicsr(folder, names, keys):
    """Refuse keys holding a dot: BasicSR reads ``meta_info.txt`` names up to their first dot, so
    ``photo.v2.png`` stored as key ``photo.v2`` would be looked up as ``photo`` and be missing."""
    dotted = [name for name, key in zip(names, keys) if '.' in key]
    if dotted:
        raise ValueError(f'{osp.join(folder, dotted[0])}: file names may hold no dot before the extension '
                         f'(BasicSR would read its key as {dotted[0].split(".")[0]!r}); {len(dotted)} such file(s): '
                         'rename them')


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_partials(lmdb_path, log=print):
    """Delete ``<name>.partial-<pid>.lmdb`` folders left by killed runs (their pid is gone); returns them."""
    removed = []
    for partial in sorted(glob.glob(f'{glob.escape(lmdb_path[:-5])}.partial-*.lmdb')):
        pid = partial[len(lmdb_path[:-5]) + len('.partial-'):-len('.lmdb')]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(partial, ignore_errors=True)
            log(f'removed {partial}: an incomplete LMDB left by a run that was killed (pid {pid})')
            removed.append(partial)
    return removed


def folder_to_lmdb(folder, lmdb_path, compress_level=1, progress=True):
    """Write every image of ``folder`` into the new LMDB ``lmdb_path`` (which must end with ``.lmdb``)."""
    tmp = write_partial_lmdb(folder, lmdb_path, compress_level, progress)
    os.rename(tmp, lmdb_path)
    return _keys(folder)


def _keys(folder):
    source = ImageSource(folder, where='--folder')
    return [source.key(i) for i in range(len(source))]


def write_partial_lmdb(folder, lmdb_path, compress_level=1, progress=True):
    """Write ``folder`` into a temporary LMDB next to ``lmdb_path``; returns its path (the caller renames it)."""
    if not lmdb_path.endswith('.lmdb'):
        raise ValueError(f"{lmdb_path}: an LMDB path must end with '.lmdb'")
    if osp.exists(lmdb_path):
        raise FileExistsError(f'{lmdb_path} already exists')
    source = ImageSource(folder, where='--folder')  # lists the images; two files sharing a key are an error
    names, keys = source.names, [source.key(i) for i in range(len(source))]
    check_keys_readable_by_basicsr(folder, names, keys)
    # Raw pixel bytes bound the PNG sizes; the margin covers LMDB's page overhead.
    raw = 0
    for name in names:
        img = _read(osp.join(folder, name))
        raw += img.nbytes
    remove_stale_partials(lmdb_path)
    tmp = f'{lmdb_path[:-5]}.partial-{os.getpid()}.lmdb'
    shutil.rmtree(tmp, ignore_errors=True)
    maker = LmdbMaker(tmp, map_size=int(raw * 1.5) + (64 << 20), compress_level=compress_level)
    try:
        for name, key in tqdm(list(zip(names, keys)), desc=osp.basename(lmdb_path), unit='image', disable=not progress):
            img = _read(osp.join(folder, name))
            ok, data = cv2.imencode('.png', img, [cv2.IMWRITE_PNG_COMPRESSION, compress_level])
            if not ok:
                raise ValueError(f'{osp.join(folder, name)}: could not encode as PNG')
            shape = img.shape if img.ndim == 3 else (*img.shape, 1)
            maker.put(data.tobytes(), key, shape)
        maker.close()
    except BaseException:
        maker.env.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def write_all(jobs, compress_level=1, progress=True):
    """Write every ``(folder, lmdb_path)`` job; the databases appear together, or none does."""
    for _, lmdb_path in jobs:
        if osp.exists(lmdb_path):
            raise FileExistsError(f'{lmdb_path} already exists')
    partials, renamed = [], []
    try:
        for folder, lmdb_path in jobs:
            partials.append(write_partial_lmdb(folder, lmdb_path, compress_level, progress))
        for tmp, (_, lmdb_path) in zip(partials, jobs):
            os.rename(tmp, lmdb_path)
            renamed.append(lmdb_path)
    except BaseException:
        for path in partials + renamed:  # all of this run's databases, complete or not
            shutil.rmtree(path, ignore_errors=True)
        raise
    return {lmdb_path: _keys(folder) for folder, lmdb_path in jobs}


def pair_folders(pair_dir):
    """``[(gt folder, gt.lmdb), (lq_x<s> folder, lq_x<s>.lmdb), ...]`` of a make_coupled_pairs output."""
    folders = [osp.join(pair_dir, 'gt')] + sorted(glob.glob(osp.join(pair_dir, 'lq_x*')))
    folders = [f for f in folders if osp.isdir(f) and not f.endswith('.lmdb')]
    if len(folders) < 2:
        raise FileNotFoundError(f'{pair_dir}: expected gt/ and lq_x<scale>/ folders (scripts/make_coupled_pairs.py)')
    return [(folder, folder + '.lmdb') for folder in folders]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--folder', help='image folder to pack')
    parser.add_argument('--lmdb', help='output path ending with .lmdb')
    parser.add_argument('--pairs', help='a make_coupled_pairs output: packs gt/ and lq_x*/ next to them')
    parser.add_argument('--compress-level', type=int, default=1, help='PNG compression 0-9. Default: 1')
    args = parser.parse_args(argv)
    if bool(args.pairs) == bool(args.folder and args.lmdb):
        parser.error('give either --pairs DIR, or --folder DIR with --lmdb PATH.lmdb')
    jobs = pair_folders(args.pairs) if args.pairs else [(args.folder, args.lmdb)]
    try:
        for lmdb_path, keys in write_all(jobs, args.compress_level).items():
            print(f'{lmdb_path}: {len(keys)} images')
    except (FileExistsError, FileNotFoundError, ValueError) as error:
        sys.exit(f'error: {error}')


if __name__ == '__main__':
    main()
