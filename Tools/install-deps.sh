#!/usr/bin/env bash
# Installs the three native libraries the package links (Debian: libopenblas-dev, liblmdb-dev,
# libzstd-dev) and pkg-config, only when they are missing.
set -euo pipefail
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists openblas 2>/dev/null || missing+=(libopenblas-dev)
pkg-config --exists lmdb 2>/dev/null || missing+=(liblmdb-dev)
pkg-config --exists libzstd 2>/dev/null || missing+=(libzstd-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
