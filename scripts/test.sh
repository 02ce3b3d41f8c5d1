#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test:
#   0. clang-format over the tracked C/C++ files (a misformatted file fails),
#      and the library and walraft built by clang-14 under -Wthread-safety -Werror;
#   1. the release build: unit, crash, fault, cli, interop (etcd), fuzz corpus
#      replay, kill loop, package consumer, benchmark smoke;
#   2. the same library and tests under ASan+UBSan (-fno-sanitize-recover=all);
#   3. the multi-threaded tests (group commit, async saves, tickets, segment
#      pipeline, the threaded crash workloads and fault test) under TSan;
#   4. each libFuzzer target for a short fixed budget (clang-14).
# Any failure fails the run, and so does a step that runs nothing: ctest
# --no-tests=error, and every gtest filter is checked to select a test.
# WAL_TEST_SEED makes the randomised tests replay.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
FUZZ_SECONDS="${FUZZ_SECONDS:-120}"   # a ceiling; the budget is FUZZ_RUNS executions
# Reproducible fuzzing in CI: a fixed seed and number of executions per
# target. Unseeded, longer runs are for hunting (fuzz/run.sh; fuzz/findings/ says what to do with a find).
export FUZZ_SEED="${FUZZ_SEED:-1}" FUZZ_RUNS="${FUZZ_RUNS:-20000}"
start=$(date +%s)
section() { printf '\n=== %s (%ss elapsed)\n' "$1" "$(( $(date +%s) - start ))"; }

# gtest BINARY FILTER: runs the gtest binary with FILTER after checking that
# each ':'-separated pattern of FILTER selects at least one test (gtest runs
# "0 tests" and exits 0 on a filter that matches nothing).
gtest() {
  local bin=$1 filter=$2 pat n
  IFS=':' read -ra pats <<<"$filter"
  for pat in "${pats[@]}"; do
    n=$("$bin" --gtest_list_tests --gtest_filter="$pat" | grep -c '^  ' || true)
    if [[ $n -eq 0 ]]; then
      echo "test.sh: gtest filter '$pat' selects no test in $bin" >&2
      return 1
    fi
  done
  "$bin" --gtest_filter="$filter"
}

section "format (clang-format-14 --dry-run -Werror, .clang-format)"
bash scripts/deps.sh
# Every tracked C/C++ file (src/ include/ tools/ tests/ fuzz/ bench/ raft/
# examples/ interop/); a misformatted one fails the run. Fix: clang-format-14 -i FILE.
git ls-files -z '*.cc' '*.h' '*.cpp' '*.hpp' | xargs -0 clang-format-14 --dry-run -Werror

section "build (RelWithDebInfo)"
bash scripts/build.sh

section "thread-safety analysis (clang-14 -Wthread-safety -Werror: the library and walraft)"
# Every field a mutex guards says so (src/mutex.h); this build fails on an
# access without the lock. Compiled only: the tests run in the other builds.
CXX=clang++-14 cmake -S . -B build-tsa -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-Wthread-safety -Werror" \
  -DWAL_BUILD_TESTS=OFF -DWAL_BUILD_TOOLS=OFF -DWAL_BUILD_BENCHMARKS=OFF -DWAL_BUILD_EXAMPLES=OFF \
  -DWAL_BUILD_INTEROP=OFF -DWAL_INSTALL=OFF >/dev/null
cmake --build build-tsa -j "$JOBS"

section "tests: release build"
ctest --test-dir build --output-on-failure --no-tests=error -j "$JOBS"

section "tests: ASan + UBSan"
SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# -g1 (line tables, no locals): the sanitizers' reports keep file:line and
# inlined frames; full -g costs a quarter of the sanitizer builds' compile time.
# The sanitizer trees are unity builds (CMake joins up to 8 sources of a target
# into one file): 182 s instead of 264 s for this one on 2 cores, the headers
# (gtest's above all) parsed once per 8 files. So file-local names must not
# collide across the files of a target (the release build is not a unity
# build; a collision shows up here as a redefinition, and a configure with
# -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=0 shows them all).
UNITY=(-DCMAKE_UNITY_BUILD=ON)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_CXX_FLAGS="-O1 $SAN_FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="$SAN_FLAGS" -DWAL_BUILD_BENCHMARKS=OFF -DWAL_BUILD_INTEROP=OFF -DWAL_INSTALL=OFF \
  -DWAL_KILL_LOOP_CYCLES=60 "${UNITY[@]}" >/dev/null
cmake --build build-asan -j "$JOBS"
# interop is not built here (-DWAL_BUILD_INTEROP=OFF) only because it re-runs
# etcd's Go code (and compiles it); our side of it runs in the release build above.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure --no-tests=error -j "$JOBS" -LE 'interop|bench|package'

section "tests: TSan (multi-threaded tests)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_CXX_FLAGS="-O1 -fsanitize=thread" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" -DWAL_BUILD_BENCHMARKS=OFF -DWAL_BUILD_TOOLS=OFF \
  -DWAL_BUILD_INTEROP=OFF -DWAL_INSTALL=OFF "${UNITY[@]}" >/dev/null
TSAN_TARGETS=(wal_tests wal_crash_tests)
# walraft's io tests (the syncer thread hands reports to the loop thread) and
# walkv (HTTP threads hand requests to the loop thread), when they are built.
if grep -q '^WAL_BUILD_RAFT:BOOL=ON' build-tsan/CMakeCache.txt; then TSAN_TARGETS+=(wal_raft_tests walkv); fi
cmake --build build-tsan -j "$JOBS" --target "${TSAN_TARGETS[@]}"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
gtest ./build-tsan/tests/wal_tests 'GroupCommit*:Pipelined*:*Pipeline*:Tickets.*:*LockTo*:ReadByIndex.ReadsWhile*'
# The threaded crash workloads (SaveAsync across cuts, the ticket callback)
# and the fault test of a failed background sync.
gtest ./build-tsan/tests/wal_crash_tests 'CrashEnumeration.ThreadedWorkloads:FaultInjection.AsyncSaveReportsAFailedSync'
if [[ -x build-tsan/raft/wal_raft_tests ]]; then
  ./build-tsan/raft/wal_raft_tests
  # One cluster scenario on the TSan walkv: a data race halts a node, and the
  # scenario requires every node to exit 0 on SIGTERM. The suppressions file
  # ignores only what the uninstrumented libcpp-httplib.so calls itself (it
  # says why); walkv, walraft and the wal library stay fully checked.
  TSAN_OPTIONS="$TSAN_OPTIONS suppressions=$PWD/tests/cluster/walkv.tsan.supp" python3 tests/cluster/walkv_cluster.py --walkv build-tsan/examples/walkv/walkv \
    --workdir build-tsan/cluster-leader_kill --storage wal --scenario leader_kill
fi
unset TSAN_OPTIONS

if [ -f fuzz/run.sh ]; then
  section "fuzzers (${FUZZ_RUNS} executions each, seed ${FUZZ_SEED}, clang-14, ASan+UBSan)"
  bash fuzz/run.sh build-fuzz "$FUZZ_SECONDS"
fi

section "all tests passed"
