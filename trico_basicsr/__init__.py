"""trico-basicsr: TriCo tri-level learning for ultra-dark low-resolution images, as a BasicSR plugin.

Importing the package first applies the BasicSR 1.4.2 compatibility fixes (``utils/compat.py``), then
registers every arch, dataset, loss, metric and model of the plugin in BasicSR's registries.
"""
from .utils import compat

compat.apply()

from . import archs, data, losses, metrics, models  # noqa: E402,F401  (registration by import)
from .version import __version__  # noqa: E402,F401
