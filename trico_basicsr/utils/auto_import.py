"""Import every module of a package folder whose file name ends with a suffix, as BasicSR does."""
import importlib
from os import path as osp

from basicsr.utils import scandir


def import_modules_by_suffix(package_file, package_name, suffix):
    """Import ``<package_name>.<stem>`` for each ``*<suffix>`` file next to ``package_file``.

    Args:
        package_file (str): ``__file__`` of the package's ``__init__.py``.
        package_name (str): Dotted package name, e.g. ``'trico_basicsr.archs'``.
        suffix (str): File-name ending, e.g. ``'_arch.py'``.

    Returns:
        list[module]: The imported modules, in sorted file-name order.
    """
    folder = osp.dirname(osp.abspath(package_file))
    stems = sorted(osp.splitext(name)[0] for name in scandir(folder) if name.endswith(suffix))
    return [importlib.import_module(f'{package_name}.{stem}') for stem in stems]
