#!/usr/bin/env bash
# Distributed testing in BasicSR's style, on torchrun. Without CUDA the processes run on the CPU (gloo).
#   bash scripts/dist_test.sh GPUS OPT [test.py arguments...]
USAGE_NAME=$0 exec bash "$(dirname "$0")/dist_launch.sh" test "$@"
