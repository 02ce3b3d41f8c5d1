#!/usr/bin/env bash
# Installs a build tree into a scratch prefix and checks what a user of the
# package gets:
#   - tests/package built with find_package(wal), and main.cc compiled by
#     hand with `pkg-config --cflags --libs wal` (Make/Meson users); both run;
#   - the installed walctl runs and verifies the log the consumer wrote.
#
#   run.sh BUILD_DIR
#   run.sh --build-from SRC_DIR BUILD_DIR [CMAKE_ARGS...]
#       first configures and builds the library and walctl from SRC_DIR in
#       BUILD_DIR (e.g. -DBUILD_SHARED_LIBS=ON for the shared flavour).
set -euo pipefail
if [[ "${1:-}" == "--build-from" ]]; then
  SRC="$2" BUILD_DIR="$3"
  shift 3
  cmake -S "$SRC" -B "$BUILD_DIR" -DWAL_BUILD_TESTS=OFF -DWAL_BUILD_BENCHMARKS=OFF -DWAL_BUILD_EXAMPLES=OFF \
    -DWAL_BUILD_RAFT=OFF -DWAL_BUILD_TOOLS=ON -DWAL_INSTALL=ON "$@" >/dev/null
  cmake --build "$BUILD_DIR" -j "${JOBS:-2}" >/dev/null
else
  BUILD_DIR="$1"
fi
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$BUILD_DIR/package-test"
PREFIX="$WORK/prefix"
rm -rf "$WORK"
cmake --install "$BUILD_DIR" --prefix "$PREFIX" >/dev/null
shared=no
if compgen -G "$PREFIX/lib*/libwal.so*" >/dev/null || compgen -G "$PREFIX/lib/*/libwal.so*" >/dev/null; then
  shared=yes
fi
echo "package: installed $( [[ $shared == yes ]] && echo shared || echo static ) wal into $PREFIX"

# find_package(wal)
cmake -S "$HERE" -B "$WORK/build" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$WORK/build" >/dev/null
mkdir -p "$WORK/run-cmake"
"$WORK/build/consumer" "$WORK/run-cmake"

# pkg-config wal (the installed wal.pc, found only through the prefix)
pc_dir=$(dirname "$(find "$PREFIX" -name wal.pc -print -quit)")
[[ -f "$pc_dir/wal.pc" ]] || { echo "package: wal.pc not installed" >&2; exit 1; }
flags=$(PKG_CONFIG_PATH="$pc_dir" PKG_CONFIG_LIBDIR="$pc_dir" pkg-config --cflags --libs wal)
echo "package: pkg-config --cflags --libs wal: $flags"
# shellcheck disable=SC2086  # the flags are words
"${CXX:-c++}" -std=c++20 "$HERE/main.cc" $flags -o "$WORK/consumer-pc"
mkdir -p "$WORK/run-pc"
libdir=$(PKG_CONFIG_PATH="$pc_dir" PKG_CONFIG_LIBDIR="$pc_dir" pkg-config --variable=libdir wal)
LD_LIBRARY_PATH="$libdir" "$WORK/consumer-pc" "$WORK/run-pc"
if [[ $shared == no ]] && ldd "$WORK/consumer-pc" | grep -q libwal; then
  echo "package: a static install linked a shared libwal" >&2
  exit 1
fi

# The installed walctl (on its install RPATH, no LD_LIBRARY_PATH).
"$PREFIX/bin/walctl" verify "$WORK/run-cmake/wal"
echo "package: the installed walctl verified the consumer's log"
