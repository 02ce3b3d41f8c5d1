#!/usr/bin/env bash
# The main job: installs what is missing, builds, runs `walctl demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec ./build/tools/walctl demo "$@"
