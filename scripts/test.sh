#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test:
#   1. the release build: unit, crash, fault, cli, interop (etcd), fuzz corpus
#      replay, kill loop, package consumer, benchmark smoke;
#   2. the same library and tests under ASan+UBSan (-fno-sanitize-recover=all);
#   3. the multi-threaded tests (group commit, async saves, segment pipeline)
#      under TSan;
#   4. each libFuzzer target for a short fixed budget (clang-14).
# Any failure fails the run. WAL_TEST_SEED makes the randomised tests replay.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
FUZZ_SECONDS="${FUZZ_SECONDS:-120}"   # a ceiling; the budget is FUZZ_RUNS executions
# Reproducible fuzzing in CI: a fixed seed and number of executions per
# target. Unseeded, longer runs are for hunting (fuzz/run.sh; fuzz/findings/ says what to do with a find).
export FUZZ_SEED="${FUZZ_SEED:-1}" FUZZ_RUNS="${FUZZ_RUNS:-20000}"
start=$(date +%s)
section() { printf '\n=== %s (%ss elapsed)\n' "$1" "$(( $(date +%s) - start ))"; }

section "build (RelWithDebInfo)"
bash scripts/build.sh

section "tests: release build"
ctest --test-dir build --output-on-failure -j "$JOBS"

section "tests: ASan + UBSan"
SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O1 $SAN_FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="$SAN_FLAGS" -DWAL_BUILD_BENCHMARKS=OFF -DWAL_INSTALL=OFF >/dev/null
cmake --build build-asan -j "$JOBS"
# interop is excluded here only because it re-runs etcd's Go code; our side of
# it runs in the release build above.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$JOBS" -LE 'interop|bench|package'

section "tests: TSan (multi-threaded tests)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O1 -fsanitize=thread" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" -DWAL_BUILD_BENCHMARKS=OFF -DWAL_BUILD_TOOLS=OFF \
  -DWAL_INSTALL=OFF >/dev/null
cmake --build build-tsan -j "$JOBS" --target wal_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ./build-tsan/tests/wal_tests \
  --gtest_filter='GroupCommit*:Pipelined*:*Pipeline*:FaultInjection.Async*:*LockTo*'

if [ -f fuzz/run.sh ]; then
  section "fuzzers (${FUZZ_RUNS} executions each, seed ${FUZZ_SEED}, clang-14, ASan+UBSan)"
  bash fuzz/run.sh build-fuzz "$FUZZ_SECONDS"
fi

section "all tests passed"
