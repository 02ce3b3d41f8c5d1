#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan) in BUILD_DIR and runs
# each for SECONDS on a copy of its seed corpus, so the repository is never
# modified. New corpus inputs and crash reproducers stay in
# BUILD_DIR/fuzz-run/<target>/.
#
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# Prints per target the number of executions (libFuzzer's final "Done N runs"),
# then "fuzz executions: X" and "fuzz: N passed, M failed". Exits 1 if any
# fuzzer found a crash, a leak, a timeout or an out-of-memory; 2 on a usage or
# build error. JOBS (default 2) sets the build parallelism.
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
  exit 2
fi
BUILD_DIR=$(realpath -m "$1")
SECS=$2
shift 2
case "$SECS" in
  '' | *[!0-9]*)
    echo "SECONDS must be a whole number" >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")/.."
SRC=$(pwd)
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(record_decoder_fuzzer directory_fuzzer roundtrip_fuzzer)
fi
JOBS=${JOBS:-2}

echo "fuzz: configuring $BUILD_DIR (clang-14, ASan+UBSan, libFuzzer)"
mkdir -p "$BUILD_DIR"
if ! CC=clang-14 CXX=clang++-14 cmake -S "$SRC" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DWAL_BUILD_FUZZERS=ON -DWAL_BUILD_TESTS=OFF -DWAL_BUILD_TOOLS=OFF -DWAL_BUILD_BENCHMARKS=OFF \
  >"$BUILD_DIR/fuzz-configure.log" 2>&1; then
  cat "$BUILD_DIR/fuzz-configure.log" >&2
  echo "fuzz: configure failed" >&2
  exit 2
fi
if ! cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}" >"$BUILD_DIR/fuzz-build.log" 2>&1; then
  tail -50 "$BUILD_DIR/fuzz-build.log" >&2
  echo "fuzz: build failed" >&2
  exit 2
fi

passed=0
failed=0
total=0
for t in "${TARGETS[@]}"; do
  work="$BUILD_DIR/fuzz-run/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$SRC/fuzz/corpus/$t/"* "$work/corpus/" 2>/dev/null || true
  seeds=$(find "$work/corpus" -type f | wc -l)
  log="$work/fuzz.log"
  # FUZZ_SEED and FUZZ_RUNS make a run reproducible (CI uses them);
  # without them the budget is SECS of wall time.
  det=()
  [ -n "${FUZZ_SEED:-}" ] && det+=(-seed="$FUZZ_SEED")
  [ -n "${FUZZ_RUNS:-}" ] && det+=(-runs="$FUZZ_RUNS")
  "$BUILD_DIR/fuzz/$t" "${det[@]}" -max_total_time="$SECS" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=30 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
  rc=$?
  runs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -1 | awk '{print $2}')
  if [ -z "$runs" ]; then  # a crash ends the run before "Done": take the last status line
    runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  fi
  runs=${runs:-0}
  total=$((total + runs))
  inputs=$(find "$work/corpus" -type f | wc -l)
  artifacts=$(find "$work/artifacts" -type f | wc -l)
  if [ "$rc" -eq 0 ] && [ "$artifacts" -eq 0 ]; then
    passed=$((passed + 1))
    echo "fuzz: $t: PASS, $runs executions in ${SECS}s (corpus $seeds -> $inputs inputs)"
  else
    failed=$((failed + 1))
    echo "fuzz: $t: FAIL (exit $rc) after $runs executions; log: $log"
    grep -E 'FUZZ_CHECK|ERROR: |SUMMARY: |runtime error|Test unit written|WAL_CHECK' "$log" | head -20
    find "$work/artifacts" -type f | sed 's/^/  reproducer: /'
  fi
done
echo "fuzz executions: $total"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
