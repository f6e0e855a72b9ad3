"""Train with BasicSR's own pipeline and this plugin's components.

    python trico_basicsr/train.py -opt options/train/trico_demo_x4.yml [--auto_resume] [--debug] [--force_yml k=v ...]
    torchrun --nproc_per_node=N trico_basicsr/train.py -opt options/train/trico_x4.yml --launcher pytorch

``experiments/`` and ``tb_logger/`` are created under the repository root (the folder above this file).
"""
from os import path as osp

# isort: off
import trico_basicsr  # noqa: F401  (applies the BasicSR compat fixes and registers the plugin)
from basicsr.train import train_pipeline
# isort: on


def main(root_path):
    """Run BasicSR's ``train_pipeline`` with ``root_path`` as the folder for experiments and logs."""
    train_pipeline(root_path)


if __name__ == '__main__':
    main(osp.abspath(osp.join(__file__, osp.pardir, osp.pardir)))
