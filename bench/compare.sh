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
# ab KEY "A-ARGS" "B-ARGS": our bench with two settings, interleaved per round
# (A B, then B A, ...) so disk drift hits both alike; prints A's best, B's
# best and the median of the per-round ratios B/A, over ROUNDS + 1 rounds.
# The argument strings are split into words on purpose.
ab() {
  local key=$1 a=$2 b=$3 va vb ratios="" i
  local ba=0 bb=0
  for i in $(seq $((ROUNDS + 1))); do
    if [ $((i % 2)) -eq 1 ]; then
      va=$(ours $a | field "$key"); vb=$(ours $b | field "$key")
    else
      vb=$(ours $b | field "$key"); va=$(ours $a | field "$key")
    fi
    ba=$(python3 -c "print(max($ba,$va))"); bb=$(python3 -c "print(max($bb,$vb))")
    ratios="$ratios $(python3 -c "print($vb/$va if $va else 0)")"
  done
  echo "$ba $bb $(python3 -c "import statistics,sys; print(f'{statistics.median(float(x) for x in sys.argv[1:]):.2f}')" $ratios)"
}
row() { python3 -c '
import sys; name, e, o = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]); extra = sys.argv[4] if len(sys.argv) > 4 else ""
print(f"{name:<40} {e:>14,.0f} {o:>14,.0f} {o/e if e else 0:>8.2f}x  {extra}")' "$@"; }
goal() { python3 -c "print('met' if $1 else 'missed')"; }  # goal PYTHON-CONDITION

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
  "raw pwrite+fdatasync: new file ${rnew%.*}/s (ours $(python3 -c "print(f'{$o/$rnew:.2f}')")x), preallocated ${rpre%.*}/s (ours $(python3 -c "print(f'{$o/$rpre:.2f}')")x); goal >=0.9x: $(goal "$o >= 0.9 * $rnew")"
# What Options::writeback_bytes (on by default) gives that run: the same Save
# with writeback left to the kernel, as etcd leaves it.
read -r o0 o1 wbr <<<"$(ab entries_per_sec "--mode unsynced --entries $BIG --size 100 --writeback-bytes 0" \
  "--mode unsynced --entries $BIG --size 100")"
row "one Save of $BIG x 100 B: writeback vs not" "$o0" "$o1" \
  "ours with writeback_bytes 1 MiB (default) vs 0, best of each; interleaved median ${wbr}x; without it $(python3 -c "print(f'{$o0/$rnew:.2f}')")x the raw limit (new file)"
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
  read -r o z zr <<<"$(ab entries_per_sec "--mode write --entries $n --size 100 --batch $batch" \
    "--mode write --entries $n --size 100 --batch $batch --prezero")"
  r=$(best entries_per_sec ours --mode raw --entries "$n" --size 100 --batch "$batch")
  row "synced 100 B, every ${batch}: prezero vs not" "$o" "$z" "ours with prezero_segments vs without, best of each; interleaved median ${zr}x; raw limit ${r%.*}/s: prezero $(python3 -c "print(f'{$z/$r:.2f}')")x"
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
touch=$(python3 -c "print(f'{1000 * $(echo "$read_json" | field mapped_touch_seconds):.0f} ms (arena: {1000 * $(echo "$read_json" | field arena_touch_seconds):.0f} ms)')")
row "ReadAllMapped $BIG x 100 B (warm cache)" "$e" "$m" \
  "goal >=20x etcd: $(goal "$m / $e >= 20"); ${vs_cat}x cat's speed on the same files (goal >=0.5x: $(goal "$vs_cat >= 0.5")); views ${mmem}x the entry data (goal <=0.5x: $(goal "$mmem <= 0.5")); a consumer's first read of every view, not timed above: $touch"

seq_mb=$(ours --mode seqwrite --entries 512 | field mb_per_sec)
async_mb=$(ours --mode async --entries "$BIG" --size 100 --batch 1000 | field file_mb_per_sec)
printf '%-40s %14s %14s %9s  %s\n' "pipelined SaveAsync (MB/s of frames)" "-" "${async_mb%.*}" "" \
  "$(python3 -c "print(f'{$async_mb/$seq_mb:.2f}x the disk sequential write ({$seq_mb:.0f} MB/s)')")"
c1=$(ours --mode concurrent --threads 1 --seconds 2); one=$(echo "$c1" | field entries_per_sec)
c8=$(ours --mode concurrent --threads 8 --seconds 2); eight=$(echo "$c8" | field entries_per_sec)
c16=$(ours --mode concurrent --threads 16 --seconds 2); sixteen=$(echo "$c16" | field entries_per_sec)
printf '%-40s %14s %14s %9s  %s\n' "8 concurrent synced writers" "-" "${eight%.*}" "" \
  "$(python3 -c "print(f'{$eight/$one:.2f}x one synced writer ({$one:.0f}/s)')"); goal >=5x: $(goal "$eight >= 5 * $one")"
printf '%-40s %14s %14s %9s  %s\n' "16 concurrent synced writers" "-" "${sixteen%.*}" "" \
  "$(python3 -c "print(f'{$sixteen/$one:.2f}x one synced writer')"); goal >=10x: $(goal "$sixteen >= 10 * $one")"
# The cause of what group commit leaves (issue 14, part 4): rounds are serial,
# so per round = one fdatasync + the gap to the next (wake-up, appends, hand-off).
for c in "$c1" "$c8" "$c16"; do
  printf '%-40s %s\n' "  writers $(echo "$c" | field threads): per fdatasync round" "$(echo "$c" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print("%.2f saves, fdatasync %.0f us, gap %.0f us (fdatasync %.0f%% of the time)" % (d["saves_per_fdatasync"], d["fdatasync_us_mean"], d["gap_us_per_round"], 100 * d["fdatasync_share"]))')"
done
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
rm -rf "$SCRATCH/g"

# Goal (issue 14, part 2): reading by index a log larger than a reader wants
# to hold; 10 GB of 1000 B entries (1 GB with --quick), from a cold cache.
IX_N=10000000; [ "$QUICK" = "--quick" ] && IX_N=1000000
ix=$("$WALCTL" bench "$SCRATCH/i" --mode index --entries "$IX_N" --size 1000)
ixf() { echo "$ix" | field "$1"; }
printf '%-40s %14s %14s %9s  %s\n' "ReadIndexed of $(( $(ixf log_bytes) / 1000000 )) MB log, cold (MB/s)" "-" "$(ixf mb_per_sec | cut -d. -f1)" "" \
  "index $(ixf index_bytes_per_entry) B/entry (goal <=16: $(goal "$(ixf index_bytes_per_entry) <= 16")); peak RSS $(( $(ixf peak_rss_bytes) / 1048576 )) MiB"
printf '%-40s %14s %14s %9s  %s\n' "random Entries(i, i+1) (us, cold/warm)" "-" "$(ixf random_entry_us_cold | cut -d. -f1)" "" \
  "warm $(ixf random_entry_us_warm) us; preads per call: max $(ixf random_entry_preads_max), mean $(ixf random_entry_preads_avg) (goal <=2: $(goal "$(ixf random_entry_preads_max) <= 2"))"
printf '%-40s %14s %14s %9s  %s\n' "open at a snapshot near the end (MB read)" "-" "$(( $(ixf snapshot_open_read_bytes) / 1000000 ))" "" \
  "of $(( $(ixf log_bytes) / 1000000 )) MB; what follows the snapshot: $(( $(ixf bytes_after_snapshot) / 1000000 )) MB (the read starts at the segment holding it); $(ixf snapshot_open_seconds_cold) s"

# Goal (issue 14, part 5): is a direct-I/O write path worth building? The raw
# loops (no WAL around them), synced 100 B appends every 1 and every 10.
for b in 1 10; do
  d=$(./build/bench/wal_dio_bench "$SCRATCH" --size 100 --batch "$b" --count 2000)
  dio() { echo "$d" | python3 -c 'import json,sys; print({json.loads(l)["mode"]: json.loads(l) for l in sys.stdin if l.strip()}[sys.argv[1]]["appends_per_sec"])' "$1"; }
  buf=$(dio buffered); best_direct=0; best_mode=
  for mode in direct direct_dsync direct_dsync_zeroed; do
    v=$(dio "$mode"); if python3 -c "import sys; sys.exit(0 if $v > $best_direct else 1)"; then best_direct=$v; best_mode=$mode; fi
  done
  printf '%-40s %14s %14s %9s  %s\n' "raw synced 100 B every $b: direct vs buffered" "-" "$best_direct" "" \
    "best direct loop ($best_mode) $(python3 -c "print(f'{$best_direct/$buf:.2f}')")x the buffered pwrite+fdatasync loop ($buf/s); goal >=1.3x: $(goal "$best_direct >= 1.3 * $buf")"
done
rm -rf "$SCRATCH"

# Part 5 with the write path built: the WAL with Options::direct_io beside
# the buffered WAL (both with and without prezero_segments) and the raw
# buffered pwrite+fdatasync loop, on synced 100 B / 1000 B cells.
for size in 100 1000; do
  for batch in 1 10; do
    n=$(( batch * MATRIX_N )); [ "$batch" -eq 1 ] && n=$(( MATRIX_N * 2 ))
    b=$(best entries_per_sec ours --mode write --entries "$n" --size "$size" --batch "$batch")
    bz=$(best entries_per_sec ours --mode write --entries "$n" --size "$size" --batch "$batch" --prezero)
    d=$(best entries_per_sec ours --mode write --entries "$n" --size "$size" --batch "$batch" --direct-io)
    dz=$(best entries_per_sec ours --mode write --entries "$n" --size "$size" --batch "$batch" --direct-io --prezero)
    r=$(best entries_per_sec ours --mode raw --entries "$n" --size "$size" --batch "$batch")
    dj=$(ours --mode write --entries "$n" --size "$size" --batch "$batch" --direct-io --prezero)
    g=""; [ "$size" -eq 100 ] && g="; goal >=1.3x the raw loop: $(goal "$dz >= 1.3 * $r")"
    row "synced ${size} B every ${batch}: direct_io vs buffered" "$bz" "$dz" \
      "direct_io+prezero vs buffered+prezero; without prezero: direct_io ${d%.*}/s, buffered ${b%.*}/s; raw buffered loop ${r%.*}/s: direct_io+prezero $(python3 -c "print(f'{$dz/$r:.2f}')")x$g (direct_io $(echo "$dj" | field direct_io), $(echo "$dj" | field durable_writes) RWF_DSYNC writes, $(echo "$dj" | field fdatasyncs) fdatasyncs)"
  done
done
b=$(best entries_per_sec ours --mode unsynced --entries "$BIG" --size 100)
d=$(best entries_per_sec ours --mode unsynced --entries "$BIG" --size 100 --direct-io)
row "one Save of $BIG x 100 B: direct_io vs buffered" "$b" "$d" "the 1 M-entry run; raw limit (new file) ${rnew%.*}/s: direct_io $(python3 -c "print(f'{$d/$rnew:.2f}')")x"
one=$(ours --mode concurrent --threads 1 --seconds 2 --prezero --direct-io | field entries_per_sec)
eight=$(ours --mode concurrent --threads 8 --seconds 2 --prezero --direct-io | field entries_per_sec)
printf '%-40s %14s %14s %9s  %s\n' "8 synced writers, direct_io+prezero" "-" "${eight%.*}" "" \
  "$(python3 -c "print(f'{$eight/$one:.2f}x one synced direct_io writer ({$one:.0f}/s)')")"
