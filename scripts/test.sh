#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
JOBS="${JOBS:-$(nproc)}"
ctest --test-dir build --output-on-failure -j "$JOBS"
