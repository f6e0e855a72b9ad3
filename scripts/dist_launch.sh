#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh: run basicsr/<train|test>.py in GPUS processes with torchrun.
#   bash scripts/dist_launch.sh train|test GPUS OPT [arguments...]
# PORT (or MASTER_PORT) sets the rendezvous port (default 4321); PYTHON the interpreter (default: python).
# Without CUDA the processes run on the CPU with gloo.
set -euo pipefail
if [ -z "${2:-}" ] || [ -z "${3:-}" ] || { [ "$1" != train ] && [ "$1" != test ]; }; then
    echo "usage: $(basename "${USAGE_NAME:-$0}") GPUS OPT [arguments...]" >&2
    exit 2
fi
ENTRY=$1
GPUS=$2
CONFIG=$3
shift 3
PORT=${PORT:-${MASTER_PORT:-4321}}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
exec "${PYTHON:-python}" -m torch.distributed.run --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$ROOT/basicsr/$ENTRY.py" -opt "$CONFIG" --launcher pytorch "$@"
