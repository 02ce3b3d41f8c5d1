#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, builds tests/package against
# it with find_package(wal), runs the consumer.
set -euo pipefail
BUILD_DIR="$1"
SRC_DIR="$(cd "$(dirname "$0")" && pwd)"
WORK="$BUILD_DIR/package-test"
rm -rf "$WORK"
cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" >/dev/null
cmake -S "$SRC_DIR" -B "$WORK/build" -DCMAKE_PREFIX_PATH="$WORK/prefix" >/dev/null
cmake --build "$WORK/build" >/dev/null
mkdir -p "$WORK/run"
"$WORK/build/consumer" "$WORK/run"
