#!/usr/bin/env bash
# Side-by-side: the same workloads through our library (walctl bench) and
# through etcd v3.4.23's own wal package (interop/etcd's etcdwal), alternating
# in one run, on a scratch directory of the file system holding SCRATCH
# (default: ./compare.tmp). Prints a table with both figures and the ratio.
#   bash bench/compare.sh [SCRATCH] [--quick]
# Run `bash scripts/build.sh` first (the README's set-up).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${1:-compare.tmp}"
QUICK="${2:-}"
WALCTL=./build/tools/walctl
ETCDWAL=./build/interop/etcdwal
[ -x "$WALCTL" ] || { echo "compare: build first: bash scripts/build.sh" >&2; exit 1; }
if [ ! -x "$ETCDWAL" ]; then bash interop/etcd/build.sh "$ETCDWAL" "$PWD/build/interop/gocache"; fi
mkdir -p "$SCRATCH"
[ -z "$(ls -A "$SCRATCH")" ] || [ -f "$SCRATCH/.compare" ] || { echo "compare: $SCRATCH is not empty" >&2; exit 1; }
touch "$SCRATCH/.compare"

BIG=1000000; MATRIX_N=1000; ROUNDS=2
if [ "$QUICK" = "--quick" ]; then BIG=100000; MATRIX_N=200; ROUNDS=1; fi

field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }
etcd() { rm -rf "$SCRATCH/e"; "$ETCDWAL" bench "$@"; }
ours() { "$WALCTL" bench "$SCRATCH/w" "$@"; }

# best of ROUNDS, alternating etcd / ours / raw so drift hits all alike
best() {  # best KEY CMD...
  local key=$1; shift; local b=0 v
  for _ in $(seq "$ROUNDS"); do v=$("$@" | field "$key"); b=$(python3 -c "print(max($b,$v))"); done
  echo "$b"
}
row() { python3 -c '
import sys; name, e, o = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]); extra = sys.argv[4] if len(sys.argv) > 4 else ""
print(f"{name:<40} {e:>14,.0f} {o:>14,.0f} {o/e if e else 0:>8.2f}x  {extra}")' "$@"; }

printf '%-40s %14s %14s %9s\n' "workload (entries/s unless noted)" "etcd v3.4.23" "wal (C++)" "ratio"
e=$(best entries_per_sec etcd unsynced "$SCRATCH/e" --entries "$BIG" --size 100)
o=$(best entries_per_sec ours --mode unsynced --entries "$BIG" --size 100)
row "unsynced appends, $BIG x 100 B, 1 fsync" "$e" "$o"
# Goal (issue 14): one Save of BIG x 100 B with its fdatasync >= 0.9x the raw
# limit, one pwrite of the same frame bytes + one fdatasync, into a new file
# and into a preallocated one.
rnew=$(best entries_per_sec ours --mode raw --entries "$BIG" --size 100 --batch "$BIG" --raw-new-file)
rpre=$(best entries_per_sec ours --mode raw --entries "$BIG" --size 100 --batch "$BIG")
printf '%-40s %14s %14s %9s  %s\n' "one Save of $BIG x 100 B vs raw limit" "-" "${o%.*}" "" \
  "raw pwrite+fdatasync: new file ${rnew%.*}/s (ours $(python3 -c "print(f'{$o/$rnew:.2f}')")x), preallocated ${rpre%.*}/s (ours $(python3 -c "print(f'{$o/$rpre:.2f}')")x); goal >=0.9x: $(python3 -c "print('met' if $o >= 0.9 * $rnew else 'missed')")"
e=$(best entries_per_sec etcd write "$SCRATCH/e" --entries "$BIG" --size 100 --batch 1000 --unsafe-no-fsync 1)
o=$(best entries_per_sec ours --mode write --entries "$BIG" --size 100 --batch 1000 --no-fsync)
row "appends, no fsync at all (CPU only)" "$e" "$o"

for size in 100 1000; do
  for batch in 1 10 100 500 1000; do
    n=$(( batch * MATRIX_N )); [ "$batch" -eq 1 ] && n=$(( MATRIX_N * 2 )); [ "$n" -gt "$BIG" ] && n=$BIG
    e=$(best entries_per_sec etcd write "$SCRATCH/e" --entries "$n" --size "$size" --batch "$batch")
    o=$(best entries_per_sec ours --mode write --entries "$n" --size "$size" --batch "$batch")
    r=$(best entries_per_sec ours --mode raw --entries "$n" --size "$size" --batch "$batch")
    ours_vs_raw=$(python3 -c "print(f'{$o/$r:.2f}')"); etcd_vs_raw=$(python3 -c "print(f'{$e/$r:.2f}')")
    row "synced ${size} B, fsync every ${batch}" "$e" "$o" "raw limit ${r%.*}/s: ours ${ours_vs_raw}x, etcd ${etcd_vs_raw}x"
  done
done

# Options::prezero_segments (zeros written and synced over each segment
# before use): small synced batches then flush data blocks only, with no
# unwritten-extent conversion in each fdatasync. Beside the same raw loop.
for batch in 1 10 100; do
  n=$(( batch * MATRIX_N )); [ "$batch" -eq 1 ] && n=$(( MATRIX_N * 2 ))
  o=$(best entries_per_sec ours --mode write --entries "$n" --size 100 --batch "$batch")
  z=$(best entries_per_sec ours --mode write --entries "$n" --size 100 --batch "$batch" --prezero)
  r=$(best entries_per_sec ours --mode raw --entries "$n" --size 100 --batch "$batch")
  row "synced 100 B, every ${batch}: prezero vs not" "$o" "$z" "ours with prezero_segments vs without; raw limit ${r%.*}/s: prezero $(python3 -c "print(f'{$z/$r:.2f}')")x"
done

# ReadAll: both read the same log, written once by etcd. walctl's read mode
# runs ReadAll and ReadAllArena each in a process of its own; "returned" is
# the entries' data bytes.
rm -rf "$SCRATCH/r"; "$ETCDWAL" bench write "$SCRATCH/r" --entries "$BIG" --size 100 --batch 1000 >/dev/null
e=$(best entries_per_sec "$ETCDWAL" bench read "$SCRATCH/r")
o=$(best entries_per_sec "$WALCTL" bench --mode read "$SCRATCH/r")
a=$(best arena_entries_per_sec "$WALCTL" bench --mode read "$SCRATCH/r")
read_json=$("$WALCTL" bench --mode read "$SCRATCH/r")
rss=$(echo "$read_json" | field rss_over_returned); arss=$(echo "$read_json" | field arena_rss_over_returned)
srss=$("$WALCTL" bench --mode stream "$SCRATCH/r" | field peak_rss_bytes)
row "ReadAll $BIG x 100 B (warm cache)" "$e" "$o" "peak RSS ${rss}x the entry data returned"
row "ReadAllArena $BIG x 100 B (warm cache)" "$e" "$a" "peak RSS ${arss}x the entry data returned; stream peak RSS $(( ${srss%.*} / 1048576 )) MiB"
# ReadAllMapped: views into the mapped segments. Goals (issue 14): >= 20x
# etcd's ReadAll, >= 0.5x the speed of cat over the same files (cat's time
# over ours), the result's own memory (views) <= 0.5x the entry data.
m=$(best mapped_entries_per_sec "$WALCTL" bench --mode read "$SCRATCH/r")
mmem=$(echo "$read_json" | field mapped_memory_over_returned)
cat_mb=$(best mb_per_sec "$WALCTL" bench --mode seqread "$SCRATCH/r")  # best of ROUNDS, as ours
cat_s=$(python3 -c "print($("$WALCTL" bench --mode seqread "$SCRATCH/r" | field bytes) / ($cat_mb * 1e6))")
vs_cat=$(python3 -c "print(f'{$cat_s / ($(echo "$read_json" | field entries) / $m):.2f}')")
goal() { python3 -c "print('met' if $1 else 'missed')"; }
touch=$(python3 -c "print(f'{1000 * $(echo "$read_json" | field mapped_touch_seconds):.0f} ms (arena: {1000 * $(echo "$read_json" | field arena_touch_seconds):.0f} ms)')")
row "ReadAllMapped $BIG x 100 B (warm cache)" "$e" "$m" \
  "goal >=20x etcd: $(goal "$m / $e >= 20"); ${vs_cat}x cat's speed on the same files (goal >=0.5x: $(goal "$vs_cat >= 0.5")); views ${mmem}x the entry data (goal <=0.5x: $(goal "$mmem <= 0.5")); a consumer's first read of every view, not timed above: $touch"

seq_mb=$(ours --mode seqwrite --entries 512 | field mb_per_sec)
async_mb=$(ours --mode async --entries "$BIG" --size 100 --batch 1000 | field file_mb_per_sec)
printf '%-40s %14s %14s %9s  %s\n' "pipelined SaveAsync (MB/s of frames)" "-" "${async_mb%.*}" "" \
  "$(python3 -c "print(f'{$async_mb/$seq_mb:.2f}x the disk sequential write ({$seq_mb:.0f} MB/s)')")"
one=$(ours --mode concurrent --threads 1 --seconds 2 | field entries_per_sec)
eight=$(ours --mode concurrent --threads 8 --seconds 2 | field entries_per_sec)
sixteen=$(ours --mode concurrent --threads 16 --seconds 2 | field entries_per_sec)
printf '%-40s %14s %14s %9s  %s\n' "8 concurrent synced writers" "-" "${eight%.*}" "" \
  "$(python3 -c "print(f'{$eight/$one:.2f}x one synced writer ({$one:.0f}/s); goal >=5x: ' + ('met' if $eight >= 5 * $one else 'missed'))")"
printf '%-40s %14s %14s %9s  %s\n' "16 concurrent synced writers" "-" "${sixteen%.*}" "" \
  "$(python3 -c "print(f'{$sixteen/$one:.2f}x one synced writer; goal >=10x: ' + ('met' if $sixteen >= 10 * $one else 'missed'))")"
one=$(ours --mode concurrent --threads 1 --seconds 2 --prezero | field entries_per_sec)
eight=$(ours --mode concurrent --threads 8 --seconds 2 --prezero | field entries_per_sec)
printf '%-40s %14s %14s %9s  %s\n' "8 synced writers, prezero_segments" "-" "${eight%.*}" "" \
  "$(python3 -c "print(f'{$eight/$one:.2f}x one synced writer ({$one:.0f}/s)')")"
lat=$(ours --mode latency --entries 2000 --size 100)
printf '%-40s %s\n' "synced single-entry Save latency (us)" \
  "$(echo "$lat" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print("p50 %.0f  p99 %.0f  p999 %.0f" % (d["p50_us"], d["p99_us"], d["p999_us"]))')"

# Open + ReadAll of a >= 1 GB multi-segment log vs reading its files raw.
GB_N=1000000; [ "$QUICK" = "--quick" ] && GB_N=100000
"$WALCTL" bench "$SCRATCH/g" --mode write --entries "$GB_N" --size 1000 --batch 1000 --keep >/dev/null
gb_json=$("$WALCTL" bench --mode read "$SCRATCH/g/wal")
o=$(echo "$gb_json" | field mb_per_sec)
a=$(echo "$gb_json" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d["bytes"] / d["arena_seconds"] / 1e6)')
ms=$(echo "$gb_json" | field mapped_seconds); mts=$(echo "$gb_json" | field mapped_touch_seconds)
m=$(python3 -c "print($(echo "$gb_json" | field bytes) / $ms / 1e6)")
cat_json=$("$WALCTL" bench --mode seqread "$SCRATCH/g/wal")
c=$(echo "$cat_json" | field mb_per_sec)
vs_cat=$(python3 -c "print(f'{$(echo "$cat_json" | field seconds) / $ms:.2f}')")
printf '%-40s %14s %14s %9s  %s\n' "Open+ReadAll of $((GB_N / 1000)) MB log (MB/s)" "-" "${o%.*}" "" \
  "ReadAllArena ${a%.*} MB/s; ReadAllMapped ${m%.*} MB/s, ${vs_cat}x cat's speed (then a first read of every view ${mts} s); cat of the same files: ${c%.*} MB/s (ours: entry data, cat: file bytes)"
rm -rf "$SCRATCH"
