#!/usr/bin/env bash
# Train the full-size x4 candidates on a lent GPU, side by side for the same wall-clock:
# options/trico_bsd100_x4.yml (PGR, loss weights learned on another family) and its fixed-weight twin
# options/trico_bsd100_x4_fixed.yml -- about 7 minutes of training, checkpoints every 500 iterations.
# Here first:  bash scripts/fetch_device_wheels.sh && bash scripts/pack_device_data.sh
# then:        run(command="bash scripts/device_train_weights.sh", carry=[".whl", ".devdata"], timeout_s=560)
# (timeout_s must leave about 100 s beyond TRAIN_SECONDS for the wheels, start-up and the export: a call
# cut off before the export returns no checkpoint)
# Back in $OUT (default out/device_train), per run: the TOP (default 2) checkpoints with the best mean
# held-out validation PSNR and the last one (weight average only, so each stays under the tool's 16 MiB
# per file); and logs.tar.gz (training logs, validation JSONs, lambda's plot, nvidia-smi). OPTS chooses
# the option files (space-separated; all run at once), TRAIN_SECONDS the wall-clock each may train.
# DEVICE_CHECK_QUICK=1 runs them for a few iterations on a CPU (the test suite does).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device_train}
mkdir -p "$OUT"
source scripts/device_env.sh
if [ -d .devdata ]; then  # carried data: datasets/ is git-ignored, so it does not travel itself
    mkdir -p datasets
    for name in .devdata/*/; do name=$(basename "$name"); [ -e "datasets/$name" ] || ln -s "$PWD/.devdata/$name" "datasets/$name"; done
fi
read -r -a opts <<< "${OPTS:-options/trico_bsd100_x4.yml options/trico_bsd100_x4_fixed.yml}"
quick=()
if [ "${DEVICE_CHECK_QUICK:-0}" = 1 ]; then
    quick=(num_gpu=0 train:total_iter=4 train:scheduler:periods=[4] train:pgr:middle_interval=2 train:pgr:upper_interval=2
           datasets:train:gt_size=32 datasets:train:batch_size_per_gpu=2 datasets:train:num_worker_per_gpu=0
           datasets:train:persistent_workers=false val:val_freq=2 logger:save_checkpoint_freq=2
           logger:print_freq=1 logger:use_tb_logger=false network_g:num_block=2 network_g:num_feat=16
           datasets:train:dataroot_gt=skimage:astronaut,coffee,rocket,immunohistochemistry
           datasets:val:dataroot_gt=skimage:chelsea datasets:val_2:dataroot_gt=skimage:chelsea)  # bundled photos
fi
nvidia-smi > "$OUT/device.txt" 2>&1
names=() pids=() logs=()
for opt in "${opts[@]}"; do
    read -r name pgr < <($PY -c "import trico_basicsr; from trico_basicsr.utils.options import read_options
o = read_options('$opt'); print(o['name'], o['train'].get('pgr', {}).get('phases', {}).get('trilevel_start') is not None)") \
        && [ -n "$name" ] || { echo "cannot read the options file $opt" >&2; exit 1; }
    force=("${quick[@]}")
    if [ "${DEVICE_CHECK_QUICK:-0}" = 1 ]; then
        name=device_quick_$name; force+=("name=$name")
        # a PGR run reaches its tri-level phase within the few iterations; a fixed-weight one stays fixed
        [ "$pgr" = True ] && force+=(train:pgr:phases:cooperative_start=1 train:pgr:phases:trilevel_start=2)
    fi
    # an earlier experiments/$name is renamed by BasicSR (..._archived_<time>), never overwritten
    timeout "${TRAIN_SECONDS:-450}" $PY trico_basicsr/train.py -opt "$opt" ${force[@]:+--force_yml "${force[@]}"} \
        > "$OUT/$name.log" 2>&1 &
    names+=("$name") pids+=($!) logs+=("$OUT/$name.log")
done
codes=()
# A run that fails in its first minutes (a bad option, a CUDA error) stops them all, so the rest of the
# device allowance is left for a corrected rerun instead of being spent on a half-finished comparison.
for _ in $(seq "${EARLY_CHECK_SECONDS:-120}"); do
    sleep 1
    for i in "${!pids[@]}"; do
        if [ -z "${codes[$i]:-}" ] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
            wait "${pids[$i]}"; code=$?; codes[$i]=$code  # a reaped job cannot be waited for twice
            if [ "$code" != 0 ]; then
                echo "${names[$i]} failed early (exit status $code); stopping every run" >&2
                kill "${pids[@]}" 2>/dev/null; wait
                tail -n 40 "${logs[$i]}"; exit 3
            fi
        fi
    done
    all_done=1; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && all_done=0; done
    [ "$all_done" = 1 ] && break
done
status=0
for i in "${!names[@]}"; do
    if [ -n "${codes[$i]:-}" ]; then code=${codes[$i]}; else wait "${pids[$i]}"; code=$?; fi
    echo "${names[$i]}: training exit status $code (124: stopped by the time limit; checkpoints so far are kept)"
    grep -E "iter:|psnr" "${logs[$i]}" | tail -n 6
    [ "$code" = 0 ] || [ "$code" = 124 ] || { status=1; tail -n 30 "${logs[$i]}"; }
done
for name in "${names[@]}"; do
    cp experiments/"$name"/visualization/hyper_variables.png "$OUT/${name}_hyper_variables.png" 2>/dev/null
    $PY scripts/export_checkpoints.py --experiment "experiments/$name" --log "$OUT/$name.log" --out "$OUT" \
        --top "${TOP:-2}" || status=1
done
# everything but the checkpoints in one archive: the tool returns at most 8 files
(cd "$OUT" && shopt -s nullglob && tar czf logs.tar.gz --remove-files -- *.log *.json *.png device.txt) || status=1
ls -la "$OUT"
exit $status
