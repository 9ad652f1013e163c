#!/usr/bin/env bash
# Shards on a Ray cluster, end to end (Tools/ray/ray_test.py): equality of 1, 2 and 4 shards with one
# index, shards built by Ray tasks, a lost replica on a 2-node loopback cluster. Installs ray[serve]
# when missing; builds the tools it runs (debug, as Tools/test.sh does). About 5 to 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import ray, aiohttp; from ray import serve' 2>/dev/null || python3 -m pip install --quiet "ray[serve]"
BIN=${SCAN_BIN_DIR:-.build/debug}
if [ ! -x "$BIN/scan-serve" ] || [ ! -x "$BIN/scan-index" ]; then
  for p in scan-demo-world scan-train scan-prefilter scan-index scan-serve; do swift build --product "$p"; done
fi
exec nice python3 Tools/ray/ray_test.py --bin-dir "$BIN" "$@"
