#!/usr/bin/env bash
# The one place that lists the Debian packages this project needs. Installs
# the missing ones with apt-get (as root, or through sudo).
set -euo pipefail

PACKAGES=(
  # build
  cmake g++ make pkg-config ninja-build
  clang-format-14                            # test.sh's format check (pinned: versions format differently)
  # library
  libisal-dev
  # walctl (protobuf: its decoding of etcd's payloads, tools/etcd/*.proto)
  libcli11-dev libprotobuf-dev protobuf-compiler
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  golang-go golang-etcd-server-dev           # etcd's own wal package, for interop tests
  etcd-server etcd-client                    # a real etcd server, for interop tests
  clang-14 libclang-rt-14-dev                # libFuzzer and sanitizer runtimes
  python3                                    # interop test driver, bench/compare.sh, walctl's JSON checks
  util-linux                                 # setpriv: walctl's permission tests as root
  # walraft (canonical raft on our WAL) and the walkv example
  libraft-dev libuv1-dev                     # the Raft engine and its event loop
  libcpp-httplib-dev nlohmann-json3-dev      # walkv's HTTP server and JSON
  wrk curl                                   # HTTP load for bench/raft_compare.sh, cluster tests
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
