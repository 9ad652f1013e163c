#!/usr/bin/env bash
# Throughput and latency of scan-serve's GET /search under wrk, at 1, 4 and 16 connections on
# loopback, against the library call that `scan-search` makes for the same queries in the same run.
# Prints numbers; asserts nothing. Installs wrk (Debian) when missing.
#
#   Tools/serve-bench.sh --index DIR [--queries FILE] [--duration 15] [--connections "1 4 16"]
#                        [--threads-per-query "1 0"] [--build DIR]
#
# FILE: one query per line (default: 200 captions of the index's images read back through /images).
# Each connection count runs `--duration` seconds after a 3 s warm-up; wrk cycles through the queries.
# The library yardstick: scan-search answering every query from stdin in one process,
# ((time for all) - (time for the first)) / (n - 1) per query, and the server's own
# timings_ms.total (encode + search inside the process) at 1 connection.
# Each --threads-per-query setting (scan-serve's option; 0: all cores) gets its own server and table,
# and its yardstick runs scan-search with the same cores per query (SCAN_THREADS).
set -euo pipefail
cd "$(dirname "$0")/.."
INDEX=""; QUERIES=""; DURATION=15; CONNS="1 4 16"; TPQS="1 0"; B=.build/release
while [ $# -gt 0 ]; do
  case "$1" in
    --index) INDEX="$2"; shift 2 ;;
    --queries) QUERIES="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNS="$2"; shift 2 ;;
    --threads-per-query) TPQS="$2"; shift 2 ;;
    --build) B="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$INDEX" ] || { echo "usage: Tools/serve-bench.sh --index DIR [--queries FILE] [--duration S] [--connections \"1 4 16\"]" >&2; exit 2; }
command -v wrk >/dev/null 2>&1 || { SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo; $SUDO apt-get install -y -qq wrk >/dev/null; }
for p in scan-serve scan-search; do [ -x "$B/$p" ] || swift build -c release --product "$p"; done
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -z "$SERVER" ] || { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; }; rm -rf "$WORK"; }
trap cleanup EXIT

start_server() {
  "$B/scan-serve" --index "$INDEX" --port 0 --threads-per-query "$1" >"$WORK/serve.log" 2>&1 &
  SERVER=$!
  URL=""
  for _ in $(seq 1 600); do
    URL=$(grep -o 'at http://127.0.0.1:[0-9]*/' "$WORK/serve.log" | head -n 1 | sed 's/^at //; s/\/$//' || true)
    [ -n "$URL" ] && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$URL" ] || { echo "scan-serve did not start" >&2; exit 1; }
}
stop_server() { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; SERVER=""; }
start_server 1
if [ -z "$QUERIES" ]; then
  QUERIES="$WORK/queries.txt"
  python3 - "$URL" "$QUERIES" <<'PY'
import json, sys, urllib.request
url, out = sys.argv[1], sys.argv[2]
info = json.load(urllib.request.urlopen(url + "/info"))
n = info["image_count"]
qs = []
for i in range(0, n, max(1, n // 200)):
    try:
        m = json.load(urllib.request.urlopen(url + "/images/" + urllib.request.quote(str(i))))
        if m.get("captions"): qs.append(m["captions"][0])
    except Exception:
        pass
    if len(qs) >= 200: break
if not qs: qs = ["a dog on a beach", "a man riding a horse", "a red car on the street"]
open(out, "w").write("\n".join(qs) + "\n")
PY
fi
NQ=$(grep -c . "$QUERIES")

# wrk: each request takes the next query (URL-encoded in Lua).
cat > "$WORK/queries.lua" <<LUA
local qs = {}
for line in io.lines("$QUERIES") do
  if #line > 0 then
    qs[#qs + 1] = "/search?top=10&q=" .. line:gsub("([^%w])", function(c) return string.format("%%%02X", string.byte(c)) end)
  end
end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", qs[(i % #qs) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.requests))
end
LUA

echo "scan-serve: index $INDEX ($(python3 -c "import json,urllib.request;print(json.load(urllib.request.urlopen('$URL/info'))['image_count'])") images), $NQ queries, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
stop_server

for TPQ in $TPQS; do
start_server "$TPQ"
if [ "$TPQ" = 0 ]; then THREADS_ENV=(); CORES="all cores"; else THREADS_ENV=(SCAN_THREADS="$TPQ"); CORES="$TPQ core(s)"; fi
echo
echo "== scan-serve --threads-per-query $TPQ ($CORES per query); load average $(cut -d' ' -f1-3 /proc/loadavg)"
# The library yardstick (scan-search, same queries, same machine, same run).
t_one=$( { env "${THREADS_ENV[@]}" /usr/bin/time -f %e "$B/scan-search" - --index "$INDEX" --json < <(head -n 1 "$QUERIES") >/dev/null; } 2>&1 | tail -n 1)
t_all=$( { env "${THREADS_ENV[@]}" /usr/bin/time -f %e "$B/scan-search" - --index "$INDEX" --json < "$QUERIES" >/dev/null; } 2>&1 | tail -n 1)
lib_ms=$(python3 -c "print('%.2f' % ((float('$t_all') - float('$t_one')) * 1000 / max(1, $NQ - 1)))")
# The server's own time per query (encode + search), sequentially.
inproc_ms=$(python3 - "$URL" "$QUERIES" <<'PY'
import json, statistics, sys, urllib.parse, urllib.request
url, path = sys.argv[1], sys.argv[2]
qs = [l.strip() for l in open(path) if l.strip()]
t = [json.load(urllib.request.urlopen(url + "/search?top=10&q=" + urllib.parse.quote(q)))["timings_ms"]["total"] for q in qs[:100]]
print("%.2f" % statistics.median(t))
PY
)

printf '\n%-11s | %9s | %8s | %8s | %6s | %8s\n' connections "queries/s" "p50 ms" "p99 ms" errors requests
base=""; four=""
for c in $CONNS; do
  wrk -t "$(( c < 2 ? 1 : 2 ))" -c "$c" -d 3s -s "$WORK/queries.lua" "$URL" >/dev/null 2>&1 || true
  line=$(wrk -t "$(( c < 2 ? 1 : 2 ))" -c "$c" -d "${DURATION}s" --timeout 30s -s "$WORK/queries.lua" "$URL" | grep '^RESULT')
  read -r _ rps p50 p99 non2xx sockerr total <<<"$line"
  printf '%-11s | %9s | %8s | %8s | %6s | %8s\n' "$c" "$rps" "$p50" "$p99" "$((non2xx + sockerr))" "$total"
  [ "$c" != 1 ] || { base=$rps; base_p50=$p50; }
  [ "$c" != 4 ] || four=$rps
done
echo
echo "library per query (scan-search with $CORES per query, $NQ queries from stdin in one process, load excluded): $lib_ms ms"
echo "server's own time per query (timings_ms.total, median of sequential requests): $inproc_ms ms"
if [ -n "$base" ]; then
  python3 -c "print('server p50 at 1 connection minus the library: %.2f ms (scan-search per query) / %.2f ms (in-process time)' % (float('$base_p50') - float('$lib_ms'), float('$base_p50') - float('$inproc_ms')))"
  [ -z "${four:-}" ] || python3 -c "print('throughput at 4 connections / at 1: %.2fx' % (float('$four') / float('$base')))"
fi
stop_server
done
