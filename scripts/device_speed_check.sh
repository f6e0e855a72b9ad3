#!/usr/bin/env bash
# The GPU checks of the training-speed work, as one script for a lent GPU machine (about 8 minutes on an
# H100/H200, start-up not included). Prepare the wheels here first (bash scripts/fetch_device_wheels.sh),
# then, with the device tool:  run(command="bash scripts/device_speed_check.sh", carry=[".whl"], timeout_s=540)
# Results (Markdown, JSON, logs) go to $OUT (default out/device_speed); copy them to docs/benchmarks/.
# On a CPU-only machine it runs the same commands at CPU sizes (DEVICE_CHECK_QUICK=1: a smoke run).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device_speed}
mkdir -p "$OUT"
source scripts/device_env.sh
(nvidia-smi; $PY -c 'import torch; print(torch.__version__, torch.cuda.is_available())') > "$OUT/device.txt" 2>&1
if [ "${DEVICE_CHECK_QUICK:-0}" = 1 ]; then
    size=(--gt-size 32); batches=(--batches 1 2); repeats=(--repeats 1); cost=(--repeats 1 --gt-size 32 --batch 1)
else
    size=(--gt-size 192); batches=(--batches 8 32); repeats=(--repeats 10); cost=(--repeats 5 --gt-size 192 --batch 8)
fi
status=0
run() {  # name, command...: log to $OUT/name.log, keep going after a failure
    local name=$1; shift
    echo "== $name: $*"
    timeout 240 "$@" > "$OUT/$name.log" 2>&1 || { echo "   failed ($?), see $name.log"; status=1; }
    tail -n 25 "$OUT/$name.log"
}
run training_speed $PY scripts/benchmark_training_speed.py "${size[@]}" "${batches[@]}" "${repeats[@]}" \
    --out "$OUT/training_speed_gpu"
if [ "${DEVICE_CHECK_QUICK:-0}" != 1 ]; then  # compiling takes minutes on a CPU
    run training_speed_compiled $PY scripts/benchmark_training_speed.py "${size[@]}" --batches 8 --repeats 10 \
        --compile --out "$OUT/training_speed_compiled_gpu"
fi
run pgr_cost $PY scripts/benchmark_pgr_cost.py --network options/trico_x4.yml --hvp finite_difference \
    "${cost[@]}" --out "$OUT/pgr_cost_gpu"
run profile $PY scripts/profile_training_step.py --options options/trico_x4.yml "${size[@]}" \
    --batch "${cost[-1]}" --out "$OUT/profile_gpu"
exit $status
