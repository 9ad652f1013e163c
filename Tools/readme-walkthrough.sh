#!/usr/bin/env bash
# Pastes the README's walk-through (the first ```sh block of "Using the original's real data") into a
# fresh shell, in an empty folder where a generated stand-in plays the user's files:
#   runs/f30k_scan/model_best.pth.tar   the fixture checkpoint written by the original code (legacy torch layout)
#   vocab/f30k_precomp_vocab.json       40 words: <pad> <start> <end> <unk> and the stand-in captions' 36 most frequent
#   data/f30k_precomp/{train,dev,test}_{ims.npy,caps.txt}   the evalrank fixture's 20 images (7 x 24) and 100 captions
# The block's build line becomes B=BIN_DIR; every other line runs as written, and any failure fails the script.
#
#   Tools/readme-walkthrough.sh [BIN_DIR]     (default .build/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${1:-$ROOT/.build/debug}
REF=${SCAN_REFERENCE_DIR:-$ROOT/../shared/fixtures/reference}
case "$REF" in /*) ;; *) REF=$ROOT/$REF ;; esac
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

python3 - "$REF" "$W" <<'PY'
import collections, json, os, shutil, struct, sys
import numpy as np
ref, w = sys.argv[1], sys.argv[2]
with open(os.path.join(ref, "evalrank_tiny_t2i.safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    base = 8 + n
    e = header["images"]
    f.seek(base + e["data_offsets"][0])
    count = e["data_offsets"][1] - e["data_offsets"][0]
    images = np.frombuffer(f.read(count), dtype="<f4").reshape(e["shape"])
with open(os.path.join(ref, "evalrank_tiny_t2i_caps.txt"), encoding="utf-8") as f:
    captions = f.read()
data = os.path.join(w, "data", "f30k_precomp")
os.makedirs(data)
for split in ["train", "dev", "test"]:
    np.save(os.path.join(data, f"{split}_ims.npy"), images)
    with open(os.path.join(data, f"{split}_caps.txt"), "w", encoding="utf-8") as f:
        f.write(captions)
counts = collections.Counter(t for line in captions.splitlines() for t in line.lower().split())
words = [wd for wd, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:36]]
idx2word = ["<pad>", "<start>", "<end>", "<unk>"] + words
os.makedirs(os.path.join(w, "vocab"))
with open(os.path.join(w, "vocab", "f30k_precomp_vocab.json"), "w") as f:
    json.dump({"word2idx": {wd: i for i, wd in enumerate(idx2word)}, "idx2word": {str(i): wd for i, wd in enumerate(idx2word)},
               "idx": len(idx2word)}, f)
os.makedirs(os.path.join(w, "runs", "f30k_scan"))
shutil.copy(os.path.join(ref, "checkpoint_tiny_legacy.pth.tar"), os.path.join(w, "runs", "f30k_scan", "model_best.pth.tar"))
PY

block=$(awk '/^## Using the original.s real data/ { f = 1 } f && /^```sh$/ { b = 1; next } b && /^```$/ { exit } b { print }' README.md)
first=$(printf '%s\n' "$block" | grep -v '^\s*$' | head -n 1)
if [ "$first" != 'swift build -c release && B=$PWD/.build/release' ]; then
  echo "readme-walkthrough: the block's first line is not the build line: $first" >&2
  exit 1
fi
printf '%s\n' "$block" | sed "s|^swift build -c release && B=\$PWD/.build/release\$|B=$BIN|" > "$W/walkthrough.sh"
commands=$(grep -c '^\$B/' "$W/walkthrough.sh")

cd "$W"
if ! SCAN_QUIET=1 bash -euo pipefail walkthrough.sh > out.txt 2> err.txt; then
  echo "readme-walkthrough: a command failed; stderr:" >&2
  cat err.txt >&2
  exit 1
fi
# What a user should see: both evaluations' lines, the index, the query's results.
fail=0
[ "$(grep -c '^rsum: ' out.txt)" = 2 ] || { echo "readme-walkthrough: expected two rsum lines" >&2; fail=1; }
grep -q '^query: two dogs play in the snow$' out.txt || { echo "readme-walkthrough: no results for the query" >&2; fail=1; }
[ "$(grep -cE '^ +[0-9]+ +[0-9.-]+ ' out.txt)" -ge 10 ] || { echo "readme-walkthrough: fewer than 10 result rows" >&2; fail=1; }
[ -f models/f30k_t2i/model.safetensors ] && [ -f Indexes/f30k_test/data.mdb ] || { echo "readme-walkthrough: model or index missing" >&2; fail=1; }
if [ "$fail" != 0 ]; then cat out.txt >&2; exit 1; fi
echo "readme-walkthrough: $commands commands of the README ran in a fresh folder; last output:"
tail -n 4 out.txt
