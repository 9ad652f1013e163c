#!/usr/bin/env bash
# The test suite: installs the native libraries when missing, builds, runs every test.
# Reference fixtures are read from SCAN_REFERENCE_DIR (default ../shared/fixtures/reference).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
