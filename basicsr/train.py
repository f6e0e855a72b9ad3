"""BasicSR's usual command, from this project's root: ``python basicsr/train.py -opt options/train/trico_x4.yml``.

A thin launcher: it imports ``trico_basicsr`` (registering the plugin) and runs the same entry point as
``trico_basicsr/train.py``. This folder has no ``__init__.py`` on purpose, so it never shadows the
installed ``basicsr`` package.
"""
from os import path as osp

from trico_basicsr.train import main

if __name__ == '__main__':
    main(osp.abspath(osp.join(__file__, osp.pardir, osp.pardir)))
