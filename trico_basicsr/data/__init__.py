"""Every ``*_dataset.py`` module here is imported, which registers its classes in BasicSR's ``DATASET_REGISTRY``."""
from trico_basicsr.utils.auto_import import import_modules_by_suffix

_modules = import_modules_by_suffix(__file__, __name__, '_dataset.py')
