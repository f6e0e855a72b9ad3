"""Every ``*_metric.py`` module here is imported, which registers its classes in BasicSR's ``METRIC_REGISTRY``."""
from trico_basicsr.utils.auto_import import import_modules_by_suffix

_modules = import_modules_by_suffix(__file__, __name__, '_metric.py')
