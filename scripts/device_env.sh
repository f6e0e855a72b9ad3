# Sourced by the scripts/device_*.sh scripts: on a lent GPU machine, install the wheels carried in .whl/
# (bash scripts/fetch_device_wheels.sh prepares them here) and put the project on PYTHONPATH.
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
# Ask the interpreter the jobs will run with (PY), not whichever python3 is first on PATH: a venv
# that already has basicsr needs no wheels (and .whl/ holds the GPU machine's, for another Python).
# (basicsr 1.4.2 imports only after trico_basicsr's compatibility fixes, so ask for both.)
if ls .whl/*.whl >/dev/null 2>&1 && ! PYTHONPATH=$PWD "$PY" -c 'import trico_basicsr, basicsr' 2>/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
