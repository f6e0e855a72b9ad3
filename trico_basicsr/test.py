"""Test with BasicSR's own pipeline and this plugin's components.

    python trico_basicsr/test.py -opt options/test/test_trico_x4.yml

Results land in ``results/<name>/`` under the repository root (the folder above this file).
"""
from os import path as osp

# isort: off
import trico_basicsr  # noqa: F401  (applies the BasicSR compat fixes and registers the plugin)
from basicsr.test import test_pipeline
# isort: on


def main(root_path):
    """Run BasicSR's ``test_pipeline`` with ``root_path`` as the folder for results and logs."""
    test_pipeline(root_path)


if __name__ == '__main__':
    main(osp.abspath(osp.join(__file__, osp.pardir, osp.pardir)))
