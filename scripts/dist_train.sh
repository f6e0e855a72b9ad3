#!/usr/bin/env bash
# Distributed training in BasicSR's style, on torchrun (BasicSR's own script uses the deprecated
# torch.distributed.launch). Without CUDA the GPUS processes run on the CPU with gloo.
#   bash scripts/dist_train.sh GPUS OPT [train.py arguments...]
#   PORT=29600 bash scripts/dist_train.sh 4 options/train/trico_x4.yml --auto_resume
USAGE_NAME=$0 exec bash "$(dirname "$0")/dist_launch.sh" train "$@"
