#!/usr/bin/env bash
# The demo, from a fresh Debian machine with Swift: installs the native libraries when missing,
# builds in release mode, generates the SYNTHETIC demo world, trains a small SCAN model on it,
# fits the search prefilter, builds Indexes/demo and answers a query. Every stage reuses what
# already exists, so a second run only searches.
#
#   Tools/demo.sh ["a dog on a beach"] [scan-search options...]
#   Tools/demo.sh --serve [port]      the same, then scan-serve on the demo index (page with pictures)
#
# Sizes (chosen so that training takes a few minutes on 2 cores): 3000/200/500 images of
# 36 regions x 512 dims; embed_size 256, word_dim 128, bi-GRU, t2i LogSumExp, max_violation.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVE=0
PORT=8080
if [ "${1:-}" = "--serve" ]; then
  SERVE=1
  shift
  if [ -n "${1:-}" ]; then PORT="$1"; shift; fi
fi
QUERY="${1:-a dog on a beach}"
shift || true
DEMO=demo
B=.build/release
EPOCHS=${SCAN_DEMO_EPOCHS:-3}

stage() { printf '\n== %s\n' "$*" >&2; }
elapsed() { printf '   (%s: %ds)\n' "$1" "$(( $(date +%s) - $2 ))" >&2; }

stage "1/6 native libraries (libopenblas-dev, liblmdb-dev, libzstd-dev)"
t=$(date +%s); bash Tools/install-deps.sh; elapsed "libraries" "$t"

stage "2/6 release build"
t=$(date +%s)
newest_source=$(find Package.swift Sources Tools -newer "$B/scan-search" -name '*.swift' -o -newer "$B/scan-search" -name '*.c' -o -newer "$B/scan-search" -name '*.h' 2>/dev/null | head -n 1 || true)
PRODUCTS="scan-demo-world scan-train scan-prefilter scan-index scan-search"
[ "$SERVE" = 0 ] || PRODUCTS="$PRODUCTS scan-serve"
if [ ! -x "$B/scan-search" ] || [ -n "$newest_source" ] || { [ "$SERVE" = 1 ] && [ ! -x "$B/scan-serve" ]; }; then
  # Only the tools the demo runs (scan-serve, with its HTTP stack, only for --serve).
  for p in $PRODUCTS; do swift build -c release --product "$p"; done
else
  echo "   up to date" >&2
fi
elapsed "build" "$t"

stage "3/6 synthetic demo world (NOT real data) -> $DEMO/world"
t=$(date +%s)
if [ -f "$DEMO/world/world.json" ] && [ ! -f "$DEMO/world/images/NOTICE.txt" ]; then
  # A world from before the showcase scenes and pictures: its test split differs, start again.
  echo "   older demo world without pictures: regenerating it (and the model and index)" >&2
  rm -rf "$DEMO" Indexes/demo
fi
if [ ! -f "$DEMO/world/world.json" ]; then
  "$B/scan-demo-world" --out "$DEMO/world" --seed 1 --train 3000 --dev 200 --test 500 --regions 36 --img-dim 512
else
  echo "   exists" >&2
fi
elapsed "world" "$t"

stage "4/6 train the demo model with scan-train ($EPOCHS epochs) -> $DEMO/run"
t=$(date +%s)
MODEL="$DEMO/run/checkpoint/model_best"
if [ ! -f "$MODEL/model.safetensors" ]; then
  rm -rf "$DEMO/run"
  "$B/scan-train" --data_path "$DEMO/world" --data_name "" --vocab_path "$DEMO/world/vocab.json" \
    --logger_name "$DEMO/run/log" --model_name "$DEMO/run/checkpoint" \
    --embed_size 256 --word_dim 128 --img_dim 512 --bi_gru --max_violation \
    --num_epochs "$EPOCHS" --batch_size 128 --learning_rate 0.0005 --val_step 0 --log_step 20 --seed 1
else
  echo "   exists" >&2
fi
elapsed "training" "$t"

stage "5/6 fit the prefilter and build the index -> Indexes/demo"
t=$(date +%s)
if [ ! -f "$MODEL/prefilter.safetensors" ]; then
  "$B/scan-prefilter" fit --model "$MODEL" --data_path "$DEMO/world" --split train --steps 600 --batch_size 256 --dim 128
fi
if ! "$B/scan-index" info --index Indexes/demo >/dev/null 2>&1; then
  "$B/scan-index" build --model "$MODEL" --features "$DEMO/world/test_ims.npy" --captions "$DEMO/world/test_caps.txt" --name demo
else
  echo "   exists" >&2
fi
elapsed "index" "$t"

stage "6/6 scan-search \"$QUERY\" (synthetic demo world)"
t=$(date +%s)
"$B/scan-search" "$QUERY" --index Indexes/demo "$@"
elapsed "search" "$t"

if [ "$SERVE" = 1 ]; then
  stage "serving Indexes/demo with scan-serve (Ctrl-C stops it)"
  echo "   open http://127.0.0.1:$PORT/?q=$(printf '%s' "$QUERY" | sed 's/ /+/g') (pictures: $DEMO/world/images, synthetic)" >&2
  exec "$B/scan-serve" --index Indexes/demo --image-dir "$DEMO/world/images" --port "$PORT"
fi
