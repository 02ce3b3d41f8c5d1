#!/usr/bin/env bash
# bench/raft_compare.sh: the same 3-node walkv cluster (127.0.0.1) on --storage wal (our WAL,
# through walraft) and on --storage uv (canonical raft's own raft_uv), loaded alike with wrk
# (bench/raft_put.lua: PUTs of 100-byte values over a bounded key space, 32 connections, a fixed
# duration), alternating wal/uv/wal/uv in one run. Prints a markdown table: committed PUTs/s (200s
# only: committed and applied on the leader) and latency p50/p99 per run, the medians per storage
# and the ratio wal/uv. It never fails on a timing: only when a cluster does not come up or
# commits nothing.
#
#   bash bench/raft_compare.sh [--quick] [--duration S] [--rounds N] [--syscalls]
#                              [--storages "wal uv"] [--walkv PATH] [--dir DIR]
#
# --quick      2 s per run, 1 round (a smoke run: seconds, numbers meaningless).
# --syscalls   after each measured run, one more run of the same length (not measured) with
#              strace -c on the leader and on one follower: fdatasync/fsync/io_submit/write calls
#              per committed PUT, to explain the gap.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
WALKV="$ROOT/build/examples/walkv/walkv"
DURATION=10
ROUNDS=2
CONNECTIONS=32
THREADS=2
SYSCALLS=0
STORAGES="wal uv"
BASE_DIR="${TMPDIR:-/tmp}"

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DURATION=2; ROUNDS=1 ;;
    --duration) DURATION="$2"; shift ;;
    --rounds) ROUNDS="$2"; shift ;;
    --syscalls) SYSCALLS=1 ;;
    --storages) STORAGES="$2"; shift ;;
    --walkv) WALKV="$2"; shift ;;
    --dir) BASE_DIR="$2"; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "raft_compare: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "raft_compare: $tool is missing (bash scripts/deps.sh)" >&2; exit 2; }
done
[ -x "$WALKV" ] || { echo "raft_compare: no walkv at $WALKV (build the walkv target)" >&2; exit 2; }
if [ "$SYSCALLS" = 1 ] && ! command -v strace >/dev/null; then
  echo "raft_compare: --syscalls needs strace" >&2; exit 2
fi

WORK=$(mktemp -d "$BASE_DIR/raft_compare.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

json_field() {  # json_field FIELD < json
  python3 -c 'import json,sys
try: print(json.load(sys.stdin).get(sys.argv[1], ""))
except Exception: print("")' "$1"
}

free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# start_cluster STORAGE DIR: starts three nodes; sets RAFT_PIDS, HTTP_ADDRS, LEADER_ID, LEADER_HTTP.
start_cluster() {
  local storage="$1" dir="$2" ports peers="" peers_http="" i
  read -r -a ports <<<"$(free_ports 6)"
  for i in 1 2 3; do
    peers+="${peers:+,}$i=127.0.0.1:${ports[$((i - 1))]}"
    peers_http+="${peers_http:+,}$i=127.0.0.1:${ports[$((i + 2))]}"
  done
  RAFT_PIDS=()
  HTTP_ADDRS=()
  for i in 1 2 3; do
    "$WALKV" --id "$i" --data "$dir/node$i" --raft "127.0.0.1:${ports[$((i - 1))]}" \
      --http "127.0.0.1:${ports[$((i + 2))]}" --peers "$peers" --peers-http "$peers_http" \
      --storage "$storage" >"$dir/node$i.log" 2>&1 &
    RAFT_PIDS+=("$!")
    PIDS+=("$!")
    HTTP_ADDRS+=("127.0.0.1:${ports[$((i + 2))]}")
  done
  LEADER_ID=""
  local deadline=$((SECONDS + 30)) role
  while [ -z "$LEADER_ID" ] && [ $SECONDS -lt $deadline ]; do
    for i in 1 2 3; do
      role=$(curl -s --max-time 1 "http://${HTTP_ADDRS[$((i - 1))]}/v1/status" | json_field role || true)
      if [ "$role" = leader ]; then LEADER_ID=$i; break; fi
    done
    [ -n "$LEADER_ID" ] || sleep 0.2
  done
  if [ -z "$LEADER_ID" ]; then
    echo "raft_compare: the $storage cluster elected no leader within 30 s" >&2
    tail -n 5 "$dir"/node*.log >&2
    exit 1
  fi
  LEADER_HTTP=${HTTP_ADDRS[$((LEADER_ID - 1))]}
}

stop_cluster() {
  local p
  for p in "${RAFT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${RAFT_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

# run_wrk SECONDS: prints the WALKV_RESULT line of bench/raft_put.lua.
run_wrk() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1"s --timeout 10s -s "$HERE/raft_put.lua" \
    "http://$LEADER_HTTP/" | grep '^WALKV_RESULT' || true
}

RESULTS="$WORK/results.txt"
: >"$RESULTS"
echo "raft_compare: $(nproc) cores, $(uname -r), data under $WORK ($(df -T "$WORK" | awk 'NR==2 {print $2}')), ${DURATION} s per run, $ROUNDS round(s), $CONNECTIONS connections" >&2
for round in $(seq 1 "$ROUNDS"); do
  for storage in $STORAGES; do
    dir="$WORK/$storage-$round"
    mkdir -p "$dir"
    start_cluster "$storage" "$dir"
    sleep 1  # let the followers' connections settle
    line=$(run_wrk "$DURATION")
    echo "raft_compare: round $round $storage (leader $LEADER_ID): ${line:-no result}" >&2
    [ -n "$line" ] || { echo "raft_compare: wrk gave no result" >&2; exit 1; }
    echo "run $round $storage ${line#WALKV_RESULT }" >>"$RESULTS"
    if [ "$SYSCALLS" = 1 ]; then
      follower=$(( LEADER_ID % 3 + 1 ))
      strace -f -c -o "$dir/strace-leader.txt" -p "${RAFT_PIDS[$((LEADER_ID - 1))]}" 2>/dev/null &
      s1=$!
      strace -f -c -o "$dir/strace-follower.txt" -p "${RAFT_PIDS[$((follower - 1))]}" 2>/dev/null &
      s2=$!
      sleep 1
      sline=$(run_wrk "$DURATION")
      kill -INT "$s1" "$s2" 2>/dev/null || true
      wait "$s1" "$s2" 2>/dev/null || true
      for who in leader follower; do
        # strace -c columns: % time, seconds, usecs/call, calls, [errors], syscall.
        calls=$(awk '$NF ~ /^(fdatasync|fsync|io_submit|io_getevents|pwrite64|pwritev|pwritev2|write|writev|sendmsg|sendto)$/ {
                       printf "%s=%s ", $NF, $4 }' "$dir/strace-$who.txt")
        echo "sys $round $storage $who ${sline#WALKV_RESULT } $calls" >>"$RESULTS"
      done
    fi
    stop_cluster
    rm -rf "$dir"
  done
done

python3 - "$RESULTS" "$DURATION" <<'PY'
import statistics, sys
runs, sys_rows = [], []
for line in open(sys.argv[1]):
    parts = line.split()
    kv = dict(p.split("=", 1) for p in parts[3:] if "=" in p)
    row = {k: int(v) for k, v in kv.items() if v.isdigit()}
    if parts[0] == "run":
        runs.append((int(parts[1]), parts[2], row))
    else:
        sys_rows.append((int(parts[1]), parts[2], parts[3], row))

def rate(r):
    return r["ok"] * 1e6 / r["duration_us"]

print("| run | storage | committed PUTs/s | p50 ms | p99 ms | non-200 | socket errors |")
print("|---|---|---:|---:|---:|---:|---:|")
for rnd, storage, r in runs:
    print(f"| {rnd} | {storage} | {rate(r):.0f} | {r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} "
          f"| {r['other']} | {r['errors']} |")
med = {}
for storage in sorted({s for _, s, _ in runs}, reverse=True):
    rs = [r for _, s, r in runs if s == storage]
    med[storage] = (statistics.median(rate(r) for r in rs),
                    statistics.median(r["p50_us"] for r in rs) / 1000,
                    statistics.median(r["p99_us"] for r in rs) / 1000)
    print(f"| median | {storage} | {med[storage][0]:.0f} | {med[storage][1]:.1f} | {med[storage][2]:.1f} | | |")
if "wal" in med and "uv" in med and med["uv"][0] > 0:
    ratio = med["wal"][0] / med["uv"][0]
    met = ratio >= 1.0 and med["wal"][2] <= med["uv"][2]
    print()
    print(f"wal/uv committed PUTs/s: **{ratio:.2f}x**; p99 wal {med['wal'][2]:.1f} ms vs uv "
          f"{med['uv'][2]:.1f} ms. Goal (>= 1.0x at a p99 no worse): **{'met' if met else 'missed'}**.")
if sys_rows:
    names = ["fdatasync", "fsync", "io_submit", "io_getevents", "pwrite64", "pwritev", "pwritev2",
             "write", "writev", "sendmsg", "sendto"]
    seen = [n for n in names if any(n in r for *_, r in sys_rows)]
    print()
    print("System calls per committed PUT (strace -c, a separate unmeasured run of the same length):")
    print()
    print("| run | storage | node | PUTs | " + " | ".join(seen) + " |")
    print("|---|---|---|---:|" + "---:|" * len(seen))
    for rnd, storage, who, r in sys_rows:
        ok = max(1, r.get("ok", 0))
        print(f"| {rnd} | {storage} | {who} | {r.get('ok', 0)} | "
              + " | ".join(f"{r.get(n, 0) / ok:.2f}" for n in seen) + " |")
if not runs or any(r["ok"] == 0 for _, _, r in runs):
    print("raft_compare: a run committed no PUT", file=sys.stderr)
    sys.exit(1)
PY
