#!/usr/bin/env bash
# The test suite: installs the native libraries when missing, builds, runs every test.
# Reference fixtures are read from SCAN_REFERENCE_DIR (default ../shared/fixtures/reference).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/install-deps.sh
# The checkpoint tests compute their expectation with Tools/convert_checkpoint.py's own functions (numpy, no torch).
python3 -c "import numpy" 2>/dev/null || python3 -m pip install -q numpy
swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# scan-serve from outside: a real browser on its page and schemathesis on its API (skipped when
# only some tests were asked for).
web=0
if [ $# -eq 0 ]; then
  bash Tools/web-test.sh .build/debug 2>&1 | tee -a "$log"
  web=${PIPESTATUS[0]}
  [ "$web" -eq 0 ] || echo "web tests (browser, schemathesis) FAILED" >&2
  # The Ray ingress's merge and the Python XXH64 (seconds, no Ray). The end-to-end Ray tests take
  # 5 to 8 minutes on 2 cores: SCAN_RAY_TESTS=1 runs them here, else run Tools/ray-test.sh.
  python3 Tools/ray/test_merge.py 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "python merge tests FAILED" >&2; web=1; }
  if [ "${SCAN_RAY_TESTS:-0}" = 1 ]; then
    bash Tools/ray-test.sh 2>&1 | tee -a "$log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "Ray tests FAILED" >&2; web=1; }
  fi
fi
set -e
# One plain closing line: the XCTest totals of the whole run.
summary=$(grep -E "Executed [0-9]+ tests?, with" "$log" | tail -n 1)
if [ -n "$summary" ]; then
  total=$(grep -oE "Executed [0-9]+" <<<"$summary" | grep -oE "[0-9]+" || echo 0)
  failed=$(grep -oE "[0-9]+ failures?" <<<"$summary" | grep -oE "[0-9]+" || echo 0)
  skipped=$(grep -oE "[0-9]+ tests? skipped" <<<"$summary" | grep -oE "[0-9]+" || echo 0)
  echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
[ "$status" -ne 0 ] || status=$web
exit "$status"
