#!/usr/bin/env bash
# Train the full-size x4 candidate (options/trico_bsd100_x4.yml: BSD100, broad camera mix, PGR with the
# upper family) on a lent GPU: about 7 minutes of training at ~15 iterations/s, checkpoints every 1,000.
# Here first:  bash scripts/fetch_device_wheels.sh && bash scripts/pack_device_data.sh
# then:        run(command="bash scripts/device_train_weights.sh", carry=[".whl", ".devdata"], timeout_s=590)
# Back in $OUT (default out/device_train): the checkpoint with the best held-out validation PSNR and the
# last one (weight average only, so each stays under the tool's 16 MiB per file), the training log and
# lambda's plot. DEVICE_CHECK_QUICK=1 runs it for a few iterations on a CPU (the test suite does).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device_train}
mkdir -p "$OUT"
source scripts/device_env.sh
if [ -d .devdata ]; then  # carried data: datasets/ is git-ignored, so it does not travel itself
    mkdir -p datasets
    for name in .devdata/*/; do name=$(basename "$name"); [ -e "datasets/$name" ] || ln -s "$PWD/.devdata/$name" "datasets/$name"; done
fi
OPT=${OPT:-options/trico_bsd100_x4.yml}
force=()
if [ "${DEVICE_CHECK_QUICK:-0}" = 1 ]; then
    force=(num_gpu=0 train:total_iter=4 train:scheduler:periods=[4] train:pgr:phases:cooperative_start=1
           train:pgr:phases:trilevel_start=2 train:pgr:middle_interval=2 train:pgr:upper_interval=2
           datasets:train:gt_size=32 datasets:train:batch_size_per_gpu=2 datasets:train:num_worker_per_gpu=0
           datasets:train:persistent_workers=false val:val_freq=2 logger:save_checkpoint_freq=2
           logger:print_freq=1 logger:use_tb_logger=false network_g:num_block=2 network_g:num_feat=16
           name=device_train_quick datasets:train:dataroot_gt=skimage:astronaut,coffee,rocket,immunohistochemistry
           datasets:val:dataroot_gt=skimage:chelsea)  # bundled photos: no dataset needed
fi
nvidia-smi > "$OUT/device.txt" 2>&1
name=$($PY -c "import trico_basicsr; from trico_basicsr.utils.options import read_options; print(read_options('$OPT')['name'])")
[ "${DEVICE_CHECK_QUICK:-0}" = 1 ] && name=device_train_quick
# an earlier experiments/$name is renamed by BasicSR (..._archived_<time>), never overwritten
timeout "${TRAIN_SECONDS:-480}" $PY trico_basicsr/train.py -opt "$OPT" ${force[@]:+--force_yml "${force[@]}"} \
    > "$OUT/train.log" 2>&1
status=$?
echo "training exit status $status (124: stopped by the time limit; checkpoints so far are kept)"
tail -n 30 "$OUT/train.log"
cp experiments/"$name"/visualization/hyper_variables.png "$OUT/" 2>/dev/null
$PY scripts/export_checkpoints.py --experiment "experiments/$name" --log "$OUT/train.log" --out "$OUT" || status=1
ls -la "$OUT"
exit $status
