#!/bin/sh
# Build the etcdwal interop driver against the Debian-packaged etcd v3.4
# sources (golang-etcd-server-dev), offline, in GOPATH mode.
#
# usage: build.sh OUT_BINARY [GOCACHE_DIR]
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 OUT_BINARY [GOCACHE_DIR]" >&2
    exit 2
fi

GO=${GO:-go}
if ! command -v "$GO" >/dev/null 2>&1; then
    echo "interop: Go toolchain missing; install: apt-get install golang-go golang-etcd-server-dev" >&2
    exit 2
fi

GOPATH_DIR=${ETCDWAL_GOPATH:-/usr/share/gocode}
if [ ! -d "$GOPATH_DIR/src/go.etcd.io/etcd/wal" ]; then
    echo "interop: etcd sources missing under $GOPATH_DIR; install: apt-get install golang-go golang-etcd-server-dev" >&2
    exit 2
fi

src_dir=$(cd "$(dirname "$0")" && pwd)
case $1 in
    /*) out=$1 ;;
    *) out=$(pwd)/$1 ;;
esac
cache=${2:-${TMPDIR:-/tmp}/etcdwal-gocache}
case $cache in
    /*) ;;
    *) cache=$(pwd)/$cache ;;
esac
mkdir -p "$(dirname "$out")" "$cache"

cd "$src_dir"
exec env GO111MODULE=off GOPATH="$GOPATH_DIR" GOCACHE="$cache" GOFLAGS= \
    GOPROXY=off CGO_ENABLED=0 "$GO" build -o "$out" .
