#!/usr/bin/env bash
# The main job on a fresh machine (after scripts/setup_env.sh): train the CPU demo of TriCo x4 with PGR
# (a few minutes on 2 cores), then darken three bundled photos and enhance them with the new model.
#   bash scripts/run_demo.sh [extra train.py arguments, e.g. --force_yml train:total_iter=200]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

"$PY" trico_basicsr/train.py -opt options/train/trico_demo_x4.yml "$@"
"$PY" scripts/make_coupled_pairs.py --hr skimage:chelsea,astronaut,coffee --out out/demo/pairs --scale 4 \
    --preset ultra_dark --seed 0 --overwrite
"$PY" scripts/enhance.py -i out/demo/pairs/lq_x4 -o out/demo/enhanced \
    --model experiments/trico_demo_x4/models/net_g_latest.pth
# the same photos through the shipped weights (BSD100, camera mix, then an exposure-only-heavy fine-tune)
"$PY" scripts/enhance.py -i out/demo/pairs/lq_x4 -o out/demo/enhanced_shipped_weights
echo "dark inputs: out/demo/pairs/lq_x4  enhanced x4: out/demo/enhanced  ground truth: out/demo/pairs/gt"
echo "the same inputs through the shipped demo weights: out/demo/enhanced_shipped_weights"
echo "training log, checkpoints and loss-weight plot: experiments/trico_demo_x4/"
