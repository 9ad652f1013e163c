#!/usr/bin/env bash
# The service's tests from outside: a real browser on the search page (Tools/browser_test.py) and
# schemathesis against the served OpenAPI document, both on the demo chain's small index served by
# scan-serve on a free loopback port. Installs chromium, chromium-driver, selenium and schemathesis
# when missing. Expects the debug build (Tools/test.sh builds it first).
#
#   Tools/web-test.sh [BUILD_DIR]     (default .build/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-.build/debug}"
OUT="${SCAN_WEB_TEST_DIR:-.build/web-test}"
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost SCAN_QUIET=1

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "web-test: installing ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
python3 -c "import selenium" 2>/dev/null || python3 -m pip install -q selenium
command -v schemathesis >/dev/null 2>&1 || python3 -m pip install -q schemathesis

rm -rf "$OUT" && mkdir -p "$OUT"
# The demo chain at the size of DemoChainTests: world, one short epoch, prefilter, index.
"$B/scan-demo-world" --out "$OUT/world" --seed 4 --train 40 --dev 10 --test 20 --regions 8 --img-dim 32 --threshold 1 --quiet >/dev/null
"$B/scan-train" --data_path "$OUT/world" --data_name "" --vocab_path "$OUT/world/vocab.json" --logger_name "$OUT/run/log" \
  --model_name "$OUT/run/checkpoint" --embed_size 16 --word_dim 8 --img_dim 32 --bi_gru --num_epochs 1 --batch_size 20 \
  --learning_rate 0.002 --val_step 0 --log_step 0 --seed 1 >/dev/null 2>&1
"$B/scan-prefilter" fit --model "$OUT/run/checkpoint/model_best" --data_path "$OUT/world" --split train --steps 20 --batch_size 16 --dim 8 >/dev/null 2>&1
"$B/scan-index" build --model "$OUT/run/checkpoint/model_best" --features "$OUT/world/test_ims.npy" --captions "$OUT/world/test_caps.txt" \
  --index "$OUT/index" >/dev/null 2>&1

"$B/scan-serve" --index "$OUT/index" --port 0 --image-dir "$OUT/world/images" >"$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
URL=""
for _ in $(seq 1 100); do
  URL=$(grep -o 'at http://127.0.0.1:[0-9]*/' "$OUT/serve.log" | head -n 1 | sed 's/^at //; s/\/$//' || true)
  [ -n "$URL" ] && break
  kill -0 $SERVER 2>/dev/null || { cat "$OUT/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "web-test: scan-serve did not start" >&2; cat "$OUT/serve.log" >&2; exit 1; }
echo "web-test: scan-serve at $URL"

echo "== browser (chromium, selenium)"
python3 Tools/browser_test.py --url "$URL" --screenshot "$OUT/search-page.png"

echo "== schemathesis against $URL/openapi.json (no 5xx, every response matches the schema)"
schemathesis run "$URL/openapi.json" --url "$URL" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${SCAN_SCHEMATHESIS_EXAMPLES:-40}" --generation-deterministic --no-color \
  --report junit --report-dir "$OUT/schemathesis" 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
if grep -q '"5[0-9][0-9]"\|status="5' "$OUT/serve.log"; then echo "web-test: 5xx in the server log" >&2; status=1; fi
exit "$status"
