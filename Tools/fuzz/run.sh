#!/usr/bin/env bash
# libFuzzer targets for every parser of outside input (Tools/fuzz/README.md).
#
#   Tools/fuzz/run.sh build                  build every target into .build-fuzz/bin
#   Tools/fuzz/run.sh run TARGET [SECONDS]   fuzz one target (default 300 s), new inputs go to .build-fuzz/corpus/TARGET
#   Tools/fuzz/run.sh replay [TARGET...]     run the committed seeds and regressions once (no fuzzing)
#   Tools/fuzz/run.sh seeds                  rewrite the seeds that the project's writers make (seeds/MakeSeeds.swift)
#   Tools/fuzz/run.sh list                   the targets
#
# The library modules are compiled straight with swiftc (coverage + AddressSanitizer, testing enabled so
# the targets reach the internal byte entry points), then each Tools/fuzz/targets/NAME.swift is linked
# with libFuzzer. SwiftPM is not used: -sanitize=fuzzer would also link libFuzzer's main into every
# executable of the package. Crashes land in .build-fuzz/crashes/TARGET (git-ignored).
set -euo pipefail
# libFuzzer reports a trap itself; Swift's backtracer would add 30 s to every crash.
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/.build-fuzz
fuzzdir=$root/Tools/fuzz
targets=(npy safetensors config vocab captions tsv record metadata manifest tokenizer checkpoint pqrecord codebook)

san="-sanitize=fuzzer,address"
opt=(-O -g -enable-testing -parse-as-library -Xcc -Wno-everything)

# Library modules in dependency order. The lead's SCANData target (issue 10) is picked up when present.
modules=(SCANCore)
[ -d Sources/SCANData ] && modules+=(SCANData)
modules+=(SCANModel SCANIndex)

build() {
  mkdir -p "$out/mods" "$out/obj" "$out/bin" "$out/CSCANKernels" "$out/logs"
  cat > "$out/CSCANKernels/module.modulemap" <<MAP
module CSCANKernels {
    umbrella "$root/Sources/CSCANKernels/include"
    export *
}
MAP
  local inc=(-I "$out/mods" -I "$out/CSCANKernels" -I Sources/CBLAS -I Sources/CLMDB -I Sources/CZstd
             -Xcc -I"$root/Sources/CSCANKernels/include")
  local objs=()
  for c in Sources/CSCANKernels/*.c; do
    local o="$out/obj/CSCANKernels_$(basename "$c" .c).o"
    if [ ! -f "$o" ] || [ "$c" -nt "$o" ]; then
      clang -O2 -g -fPIC -fsanitize=address -I Sources/CSCANKernels/include -c "$c" -o "$o"
    fi
    objs+=("$o")
  done
  for m in "${modules[@]}"; do
    local o="$out/obj/$m.o"
    local srcs newest
    mapfile -t srcs < <(find Sources/"$m" -name '*.swift' | sort)  # SCANModel/Checkpoint is a subfolder
    newest=$(ls -t "${srcs[@]}" | head -n 1)
    if [ ! -f "$o" ] || [ "$newest" -nt "$o" ] || [ -n "${stale:-}" ]; then
      echo "compiling $m"
      swiftc "${opt[@]}" $san -wmo -module-name "$m" -c "${srcs[@]}" "${inc[@]}" \
        -emit-module -emit-module-path "$out/mods/$m.swiftmodule" -o "$o" > "$out/logs/compile-$m.log" 2>&1 \
        || { grep -v "warning:" "$out/logs/compile-$m.log"; echo "compiling $m failed"; exit 1; }
      touch "$o"
      stale=1  # dependents must be rebuilt
    fi
    objs+=("$o")
  done
  for t in "${targets[@]}"; do
    local exe="$out/bin/fuzz-$t"
    if [ ! -f "$exe" ] || [ "$fuzzdir/targets/$t.swift" -nt "$exe" ] || [ -n "${stale:-}" ]; then
      echo "linking fuzz-$t"
      swiftc "${opt[@]}" $san "$fuzzdir/targets/$t.swift" "$fuzzdir/targets/FuzzSupport.swift" "${inc[@]}" \
        "${objs[@]}" -lopenblas -llmdb -lzstd -o "$exe.new" 2>&1 | grep -v "Cannot export local symbol" || true
      mv "$exe.new" "$exe"  # a rename, so a target that is fuzzing now keeps its binary
    fi
  done
  if [ -n "${with_seeds:-}" ]; then
    swiftc "${opt[@]}" $san "$fuzzdir/seeds/MakeSeeds.swift" "${inc[@]}" \
      "${objs[@]}" -lopenblas -llmdb -lzstd -o "$out/bin/make-seeds" 2>&1 | grep -v "Cannot export local symbol" || true
  fi
}

run() {
  local t=$1 secs=${2:-300}
  mkdir -p "$out/corpus/$t" "$out/crashes/$t" "$out/logs"
  local dict=""
  [ -f "$fuzzdir/dict/$t.dict" ] && dict="$fuzzdir/dict/$t.dict"
  # New inputs go to the first (scratch) corpus directory; the committed seeds are read only.
  "$out/bin/fuzz-$t" "$out/corpus/$t" "$fuzzdir/corpus/$t" \
    -max_total_time="$secs" -max_len="${MAX_LEN:-65536}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    ${dict:+-dict="$dict"} -artifact_prefix="$out/crashes/$t/" 2>&1 | tee "$out/logs/$t.log" | grep -E "DONE|#[0-9]+.*(pulse|NEW)|ERROR|Deadly|stat::" || true
}

replay() {
  local list=("$@")
  [ ${#list[@]} -eq 0 ] && list=("${targets[@]}")
  for t in "${list[@]}"; do
    local inputs=("$fuzzdir/corpus/$t"/*)
    [ -d "$fuzzdir/regressions/$t" ] && inputs+=("$fuzzdir/regressions/$t"/*)
    "$out/bin/fuzz-$t" -runs=1 "${inputs[@]}" >/dev/null 2>&1 || { echo "fuzz-$t: an input fails"; exit 1; }
    echo "fuzz-$t: ${#inputs[@]} inputs ok"
  done
}

case "${1:-}" in
  build) build ;;
  run) build; run "$2" "${3:-300}" ;;
  replay) shift; build; replay "$@" ;;
  seeds) with_seeds=1 build; "$out/bin/make-seeds" "$fuzzdir/corpus" ;;
  list) printf '%s\n' "${targets[@]}" ;;
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac
