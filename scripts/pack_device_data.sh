#!/usr/bin/env bash
# Copy the training and validation images a GPU run needs (datasets/BSD100, datasets/Set5; links followed)
# into .devdata/, which git ignores (.git/info/exclude), so the device tool can carry them (about 28 MB):
#   bash scripts/pack_device_data.sh && run(..., carry=[".whl", ".devdata"])
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.devdata/' .git/info/exclude 2>/dev/null || echo '/.devdata/' >> .git/info/exclude
for name in ${DEVICE_DATASETS:-BSD100 Set5}; do
    [ -d "datasets/$name" ] || { echo "datasets/$name is missing (README: Train on your own data)" >&2; exit 1; }
    rm -rf ".devdata/$name.partial" && mkdir -p .devdata
    cp -rL "datasets/$name" ".devdata/$name.partial" && rm -rf ".devdata/$name" && mv ".devdata/$name.partial" ".devdata/$name"
done
du -sh .devdata
