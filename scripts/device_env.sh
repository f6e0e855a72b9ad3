# Sourced by the scripts/device_*.sh scripts: on a lent GPU machine, install the wheels carried in .whl/
# (bash scripts/fetch_device_wheels.sh prepares them here) and put the project on PYTHONPATH.
export PYTHONUNBUFFERED=1
if ls .whl/*.whl >/dev/null 2>&1 && ! python3 -c 'import basicsr' 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
PY=${PY:-python3}
