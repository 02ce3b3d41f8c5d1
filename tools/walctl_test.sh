#!/usr/bin/env bash
# walctl's command-line tests (ctest label "cli").
#
#   bash tools/walctl_test.sh path/to/walctl
#   UPDATE_GOLDENS=1 bash tools/walctl_test.sh path/to/walctl   # rewrite tools/testdata/*
#
# Builds small deterministic logs with `walctl demo` (hidden flags), then
# checks golden outputs, every bad-input case (exit code and the one-line
# "walctl: <what>: <where>" error), repair followed by verify, and that
# --dry-run and the read-only commands leave every byte unchanged. Every
# walctl run has its exit status checked (a sanitizer abort fails), and a
# missing tool (python3 for the JSON checks, setpriv from util-linux for the
# permission checks as root) is a failure, never a skip: scripts/deps.sh
# installs them.
set -euo pipefail

W=${1:?usage: walctl_test.sh path/to/walctl}
W=$(cd "$(dirname "$W")" && pwd)/$(basename "$W")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GOLD=$HERE/testdata
T=$(mktemp -d "${TMPDIR:-/tmp}/walctl_test.XXXXXX")
chmod 755 "$T"  # the permission test runs as another user
holder=""
cleanup() {
  if [[ -n $holder ]]; then kill "$holder" 2>/dev/null || true; fi
  chmod -R u+rwX "$T" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T"

passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*" >&2
}

# run CMD...: runs with a timeout (no hang allowed); sets rc, keeps out/err.
run() {
  set +e
  timeout 60 "$@" >"$T/out" 2>"$T/err"
  rc=$?
  set -e
}

# check NAME WANT_RC REGEX CMD...: exit code WANT_RC and REGEX (extended,
# may be empty) in stdout or stderr. A failure must print exactly one error
# line ("walctl: ..."; warnings aside) on stderr.
check() {
  local name=$1 want=$2 pattern=$3
  shift 3
  run "$@"
  if [[ $rc -ne $want ]]; then
    fail "$name: exit $rc, want $want; stderr: $(head -c 400 "$T/err")"
    return 0
  fi
  if [[ -n $pattern ]] && ! grep -Eq -- "$pattern" "$T/out" "$T/err"; then
    fail "$name: output does not match /$pattern/; stdout: $(head -c 300 "$T/out"); stderr: $(head -c 300 "$T/err")"
    return 0
  fi
  if [[ $want -ne 0 ]]; then
    local lines
    lines=$(grep -v '^walctl: warning: ' "$T/err" | grep -c '^walctl: ' || true)
    if [[ $lines -ne 1 ]] || [[ $(grep -vc '^walctl: ' "$T/err" || true) -ne 0 ]]; then
      fail "$name: want exactly one 'walctl: ' error line on stderr, got: $(cat "$T/err")"
      return 0
    fi
  fi
  ok
}

# golden NAME FILE WANT_RC CMD...: stdout equals tools/testdata/FILE.
golden() {
  local name=$1 file=$2 want=$3
  shift 3
  run "$@"
  if [[ -n ${UPDATE_GOLDENS:-} ]]; then cp "$T/out" "$GOLD/$file"; fi
  if [[ $rc -ne $want ]]; then
    fail "$name: exit $rc, want $want; stderr: $(head -c 400 "$T/err")"
  elif ! diff -u "$GOLD/$file" "$T/out" >"$T/diff"; then
    fail "$name: differs from testdata/$file:
$(head -40 "$T/diff")"
  else
    ok
  fi
}

# A digest of every file (names, sizes and bytes) under a directory.
digest() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1; }

unchanged() {  # NAME DIR DIGEST_BEFORE
  if [[ $(digest "$2") == "$3" ]]; then ok; else fail "$1: $2 was modified"; fi
}

# A field of the frame holding entry INDEX in walctl records' output. walctl
# exits 2 on a log with bad records (the listing is still complete); any
# other status, or no such entry, aborts the whole test (set -e).
entry_field() {  # DIR INDEX AWK-PROGRAM
  local rc=0 v
  "$W" records "$1" >"$T/records.out" 2>/dev/null || rc=$?
  if [[ $rc -ne 0 && $rc -ne 2 ]]; then
    echo "FAIL: walctl records $1: exit $rc" >&2
    return 1
  fi
  v=$(awk -v want="entry: index=$2 " "$3" "$T/records.out")
  if [[ -z $v ]]; then
    echo "FAIL: walctl records $1 lists no entry $2" >&2
    return 1
  fi
  echo "$v"
}
entry_offset() { entry_field "$1" "$2" 'index($0, want) { sub(/^ *offset=/, ""); sub(/ .*/, ""); print; exit }'; }
entry_len() { entry_field "$1" "$2" 'index($0, want) { sub(/.* len=/, ""); sub(/ .*/, ""); print; exit }'; }

# json_valid NAME WANT_RC CMD...: CMD exits WANT_RC and prints valid JSON.
json_valid() {
  local name=$1 want=$2 rcs
  shift 2
  set +e
  timeout 60 "$@" 2>/dev/null | python3 -c 'import json,sys; json.load(sys.stdin)'
  rcs=("${PIPESTATUS[@]}")
  set -e
  if [[ ${rcs[0]} -ne $want ]]; then
    fail "$name: walctl exit ${rcs[0]}, want $want"
  elif [[ ${rcs[1]} -ne 0 ]]; then
    fail "$name: not valid JSON"
  else
    ok
  fi
}

# A `walctl hold-lock` in the background: start_holder DIR, then
# stop_holder, which requires that it was still running (killed by our
# SIGTERM, status 143), not dead by itself.
start_holder() {
  "$W" hold-lock "$1" --seconds 30 >"$T/hold.out" 2>&1 &
  holder=$!
  for _ in $(seq 200); do
    grep -q '^locked' "$T/hold.out" 2>/dev/null && break
    sleep 0.05
  done
  if grep -q '^locked' "$T/hold.out"; then ok; else fail "hold-lock $1 never said it holds the locks: $(cat "$T/hold.out")"; fi
}
stop_holder() {
  local rc=0
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || rc=$?
  holder=""
  if [[ $rc -eq 143 ]]; then ok; else fail "hold-lock: exit $rc, want 143 (still running until killed)"; fi
}

SMALL=(--entries 20 --entry-size 24 --batch 5 --segment-size 4096 --cut-every 2 --seed 7 --snapshot-at 12)
seg0=0000000000000000-0000000000000000.wal
seg1=0000000000000001-000000000000000b.wal

# ---------------------------------------------------------------- help
for sub in "" dump records verify repair purge info demo; do
  run "$W" $sub --help
  if [[ $rc -eq 0 && -s $T/out ]] && grep -q "Exit codes" "$T/out"; then ok; else fail "help '$sub': exit $rc"; fi
  # In an operator's words: no library internals, no "a entry".
  if grep -qiE "the seed|OpenAtIndex|what ReadAll returns|\ba entry" "$T/out"; then
    fail "help '$sub' speaks of library internals: $(grep -iE "the seed|OpenAtIndex|what ReadAll returns|\ba entry" "$T/out" | head -1)"
  else ok; fi
done
check "version" 0 "walctl" "$W" --version
# The exit-code table of --help is the one tools/README.md documents (the
# codes, in order, and each one's first words), and the one these tests check.
run "$W" --help
help_codes=$(grep -E '^  [0-9]  ' "$T/out" | sed -E 's/^  ([0-9])  ([a-zA-Z]+( [a-zA-Z]+)?).*/\1 \2/')
readme_codes=$(grep -E '^\| [0-9] \| ' "$HERE/README.md" | sed -E 's/^\| ([0-9]) \| ([a-zA-Z]+( [a-zA-Z]+)?).*/\1 \2/')
if [[ -n $help_codes && $help_codes == "$readme_codes" && $(echo "$help_codes" | wc -l) -eq 9 ]]; then ok; else
  fail "exit codes: --help says [$help_codes], tools/README.md says [$readme_codes]"
fi
# The top-level README's "Exit codes:" paragraph names the same codes in the
# same order, each with the same first word.
main_codes=$(sed -n '/^Exit codes:/,/^$/p' "$HERE/../README.md" | tr '\n' ' ' | sed 's/^Exit codes://' |
  tr ';' '\n' | sed -nE 's/^ *([0-9]) ([a-zA-Z]+).*/\1 \2/p')
help_first=$(echo "$help_codes" | sed -E 's/^([0-9] [a-zA-Z]+).*/\1/')
if [[ -n $main_codes && $main_codes == "$help_first" ]]; then ok; else
  fail "exit codes: --help says [$help_first], README.md says [$main_codes]"
fi

# ---------------------------------------------------------------- demo
check "demo small" 0 "check: all 20 entries and the hard state match" "$W" demo g "${SMALL[@]}"
check "demo same seed, same bytes" 0 "" "$W" demo g2 "${SMALL[@]}"
if [[ $(digest g) == "$(digest g2)" ]]; then ok; else fail "demo is not deterministic"; fi
check "demo again over a previous demo" 0 "check: all" "$W" demo g2 "${SMALL[@]}"
check "demo several segments" 0 "segments: 3 in" "$W" demo many --entries 400 --entry-size 200 --batch 50 --segment-size 16384 --no-fsync
mkdir -p defdir
check "demo default dir" 0 "walctl demo: walctl-demo" bash -c "cd defdir && '$W' demo --entries 10 --batch 5 --no-fsync"
[[ -f defdir/walctl-demo/$seg0 ]] && ok || fail "demo default dir: no ./walctl-demo/$seg0"
mkdir -p foreign && echo keep >foreign/notes.txt
check "demo refuses a directory with other files" 1 "^walctl: refusing to remove .*notes.txt.*: foreign$" "$W" demo foreign --entries 5
[[ -f foreign/notes.txt ]] && ok || fail "demo removed foreign/notes.txt"
mkdir -p guard.tmp && echo keep >guard.tmp/x.txt
check "demo refuses a foreign <dir>.tmp" 1 "refusing to remove .*: guard.tmp$" "$W" demo guard --entries 5
echo x >plainfile
check "demo refuses a plain file" 1 "not a directory: plainfile" "$W" demo plainfile --entries 5

# ---------------------------------------------------------------- goldens (known small log)
before=$(digest g)
golden "dump text" dump.txt 0 "$W" dump g
golden "dump json" dump.json 0 "$W" dump g --format json
golden "dump --data hex" dump_hex.txt 0 "$W" dump g --data hex
golden "dump --data base64" dump_base64.txt 0 "$W" dump g --data base64
golden "dump --data text" dump_text.txt 0 "$W" dump g --data text
golden "dump --at-index 12" dump_at_index_12.txt 0 "$W" dump g --at-index 12
golden "dump at snapshot 12" dump_snapshot_12.txt 0 "$W" dump g --snapshot-index 12 --snapshot-term 1
golden "records text" records.txt 0 "$W" records g
golden "records json" records.json 0 "$W" records g --format json
golden "info" info.txt 0 "$W" info g
golden "verify" verify.txt 0 "$W" verify g
check "dump --data raw: framed by length" 0 "^index=1 term=1 type=Normal data=raw:24:e1:" "$W" dump g --data raw
if command -v python3 >/dev/null 2>&1; then
  json_valid "json: dump" 0 "$W" dump g --format json
  json_valid "json: records" 0 "$W" records g --format json
  json_valid "json: error object" 5 "$W" dump nope --format json
  json_valid "json: error object with odd bytes in the path" 5 "$W" dump $'we"ird\x01\xff\xc3\xa9' --format json
else
  fail "JSON validity: python3 is missing (scripts/deps.sh installs it)"
fi
check "verify at snapshot 12" 0 "snapshot: index=12 term=1 found" "$W" verify g --snapshot-index 12 --snapshot-term 1
check "dump --at-index 0 = whole log" 0 "entries: 20 \(index 1..20\)" "$W" dump g --at-index 0
unchanged "read-only commands" g "$before"

# ---------------------------------------------------------------- bad input
for sub in dump records verify info repair; do
  check "$sub: missing directory" 5 "^walctl: no such directory: nope$" "$W" $sub nope
done
check "dump json: missing directory" 5 '^\{"error": \{"code": "NotFound", "message": "no such directory: nope"\}\}$' \
  "$W" dump nope --format json
check "records json: missing directory" 5 '"code": "NotFound"' "$W" records nope --format json
check "not a directory" 6 "^walctl: not a WAL directory \(not a directory\): plainfile$" "$W" verify plainfile
mkdir -p empty
for sub in dump records verify info repair; do
  check "$sub: empty directory" 6 "^walctl: not a WAL directory \(no \*.wal files, and no member/wal\): empty$" "$W" $sub empty
done
mkdir -p notwal && echo a >notwal/a.txt && echo b >notwal/b.log
check "directory that is not a WAL" 6 "not a WAL directory \(no \*.wal files, and no member/wal\): notwal$" "$W" info notwal
mkdir -p junkwal && echo junk >junkwal/junk.wal
check "only a badly named *.wal" 6 "warning: ignoring a \*.wal file .*junkwal/junk.wal" "$W" verify junkwal
cp -r g stray && echo hello >stray/README && echo hi >stray/odd.wal
check "non-WAL files in a WAL directory: verify" 0 "^ok: stray" "$W" verify stray
check "non-WAL files in a WAL directory: info" 0 "other files: README, odd.wal" "$W" info stray
mkdir -p garbage && head -c 5000 /dev/urandom >garbage/$seg0
check "non-WAL file named as a segment: verify" 2 "^walctl: .*garbage" "$W" verify garbage
check "non-WAL file named as a segment: records" 2 "BAD" "$W" records garbage
check "non-WAL file named as a segment: info" 2 "^walctl: bad record: .*garbage/$seg0" "$W" info garbage
check "non-WAL file named as a segment: dump" 2 "^walctl: .*garbage" "$W" dump garbage
mkdir -p zero && : >zero/$seg0
check "empty segment: verify" 2 "snapshot \{index 0, term 0\} not found" "$W" verify zero
check "empty segment: records" 2 "BAD: the segment holds no records" "$W" records zero
mkdir -p fifo && mkfifo fifo/$seg0
check "FIFO named as a segment (no hang)" 2 "^walctl: segment is not a regular file: fifo/$seg0$" "$W" dump fifo
mkdir -p segdir/$seg0
check "directory named as a segment" 2 "segment is not a regular file" "$W" info segdir
check "conflicting flags" 1 "^walctl: --snapshot-index excludes --at-index: walctl dump" \
  "$W" dump g --at-index 3 --snapshot-index 1 --snapshot-term 1
check "--snapshot-term without --snapshot-index" 1 "^walctl: --snapshot-term requires --snapshot-index" \
  "$W" verify g --snapshot-term 1
check "--format json with --data hex" 1 "^walctl: --data hex conflicts with --format json" "$W" dump g --format json --data hex
check "bad --format" 1 "^walctl: --format: xml not in" "$W" records g --format xml
check "no subcommand" 1 "^walctl: a command is required \(commands: dump, records, verify, repair, purge, info, demo, bench" "$W"
check "unknown command" 1 "^walctl: unknown command: dumpp \(commands: dump, records" "$W" dumpp g
check "unknown argument" 1 "^walctl: unexpected argument: extra: walctl verify \(see walctl verify --help\)$" "$W" verify g extra
check "missing DIR" 1 "^walctl: DIR is required" "$W" info
check "snapshot not recorded" 7 "snapshot \{index 5, term 1\} not found" "$W" verify g --snapshot-index 5 --snapshot-term 1
check "snapshot with another term" 7 "snapshot at index 12 has term 1, expected 2: g/$seg1 at offset" \
  "$W" dump g --snapshot-index 12 --snapshot-term 2
check "--at-index past the end" 7 "^walctl: index 21 not found; the log ends at index 20: g$" "$W" dump g --at-index 21

# permission denied: as an unprivileged user when root, by mode bits otherwise.
cp -r g perm && chmod 755 perm
AS=()
if [[ $(id -u) -eq 0 ]]; then
  if command -v setpriv >/dev/null 2>&1 && setpriv --reuid=65534 --regid=65534 --clear-groups "$W" --help >/dev/null 2>&1; then
    AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  fi
fi
if [[ $(id -u) -ne 0 || ${#AS[@]} -gt 0 ]]; then
  chmod 000 perm
  check "permission denied: directory" 3 "^walctl: permission denied: perm$" "${AS[@]}" "$W" verify perm
  chmod 755 perm && chmod 000 perm/$seg0
  check "permission denied: segment" 3 "^walctl: permission denied: perm/$seg0$" "${AS[@]}" "$W" dump perm
  chmod 444 perm/*
  before=$(digest perm)
  cp -r g tornp && truncate -s 700 tornp/$seg1 && chmod 755 tornp && chmod 444 tornp/* && chmod 555 tornp
  check "permission denied: repair" 3 "^walctl: permission denied .*tornp/$seg1$" "${AS[@]}" "$W" repair tornp
  check "repair --dry-run checks write access" 3 "^walctl: a real repair would fail: permission denied .*tornp/$seg1$" \
    "${AS[@]}" "$W" repair --dry-run tornp
  chmod 755 tornp
  check "info without write access reports the lock as unknown" 0 "locked: unknown" "${AS[@]}" "$W" info perm
  unchanged "permission cases" perm "$before"
else
  fail "permission denied: running as root and setpriv (util-linux) is missing or cannot drop to uid 65534 (scripts/deps.sh installs util-linux)"
fi

# locked: another process holds the segment locks.
cp -r g lk
start_holder lk
before=$(digest lk)
check "repair of a locked WAL" 4 "^walctl: the WAL is locked by another process \(open for writing\): lk/$seg1$" "$W" repair lk
check "info shows the lock" 0 "locked: yes, 2 of 2 segments" "$W" info lk
check "second locker" 4 "locked by another process" "$W" hold-lock lk --seconds 0
check "dump of a locked WAL (no lock needed)" 0 "entries: 20" "$W" dump lk
check "verify of a locked WAL warns of the running writer" 0 "warning: a running process holds the WAL's lock" "$W" verify lk
check "repair --dry-run of a locked WAL: nothing to cut, exit 0" 0 "nothing to repair" "$W" repair --dry-run lk
unchanged "locked WAL" lk "$before"
stop_holder

# ---------------------------------------------------------------- corruption in synced data
cp -r g crc
off=$(entry_offset crc 4)
len=$(entry_len crc 4)
printf 'X' | dd of=crc/$seg0 bs=1 seek=$((off + 8 + len - 3)) conv=notrunc status=none
before=$(digest crc)
check "verify: crc mismatch" 2 "^walctl: corruption in synced data \(not repairable\): crc mismatch .*: crc/$seg0 at offset $off \(last good entry index 3\)$" \
  "$W" verify crc
golden "records: crc mismatch is marked and the scan goes on" records_crc.txt 2 "$W" records crc
check "records: the rest of the log is still listed" 2 "entry: index=20 " "$W" records crc
check "dump: crc mismatch" 2 "^walctl: crc mismatch .*: crc/$seg0 at offset $off$" "$W" dump crc
check "info: crc mismatch" 2 "^walctl: bad record: crc mismatch" "$W" info crc
check "repair --dry-run: not repairable" 2 "still corrupt elsewhere" "$W" repair --dry-run crc
check "repair: not repairable" 2 "still corrupt elsewhere" "$W" repair crc
unchanged "crc mismatch cases" crc "$before"

cp -r g len
off=$(entry_offset len 6)
printf '\xff\xff\xff\x00\x00\x00\x00\x00' | dd of=len/$seg0 bs=1 seek="$off" conv=notrunc status=none
check "records: insane length stops the file, next file scanned" 2 "exceeds the .* bytes left in the file at offset $off; the rest of the file is skipped" \
  "$W" records len
check "records: next file after an insane length" 2 "entry: index=11 " "$W" records len
check "verify: insane length in synced data" 2 "corruption in synced data \(not repairable\): record length" "$W" verify len

# a crc in the last segment (not torn): not repairable either.
cp -r g crc2
off=$(entry_offset crc2 14)
len=$(entry_len crc2 14)
printf 'X' | dd of=crc2/$seg1 bs=1 seek=$((off + 8 + len - 3)) conv=notrunc status=none
before=$(digest crc2)
check "repair: crc mismatch in the last segment" 2 "^walctl: not repairable .*crc2/$seg1 at offset $off$" "$W" repair crc2
unchanged "crc mismatch in the last segment" crc2 "$before"

# ---------------------------------------------------------------- torn tail, repair, verify
# Cut the last segment in the middle of entry 20's frame, as a crash would.
cp -r g torn
off=$(entry_offset torn 20)
truncate -s $((off + 20)) torn/$seg1
before=$(digest torn)
check "verify: torn tail" 8 "^walctl: torn tail \(repairable with walctl repair\): record length .* exceeds the 12 bytes left in the file: torn/$seg1 at offset $off \(last good entry index 19\)$" \
  "$W" verify torn
check "verify: torn tail details" 8 "verdict: torn tail" "$W" verify torn
check "dump: a torn tail is skipped with a warning" 0 "warning: the log ends in a torn record" "$W" dump torn
golden "repair --dry-run" repair_dry_run.txt 0 "$W" repair --dry-run torn
unchanged "repair --dry-run" torn "$before"
[[ ! -e torn/$seg1.broken ]] && ok || fail "repair --dry-run created a .broken file"
check "repair" 0 "cut at offset $off, removed 20 bytes" "$W" repair torn
[[ -f torn/$seg1.broken && $(stat -c %s torn/$seg1.broken) -eq $((off + 20)) && $(stat -c %s torn/$seg1) -eq $off ]] && ok ||
  fail "repair: expected a $((off + 20))-byte .broken copy and a $off-byte segment"
check "dump after repair" 0 "entries: 19 \(index 1..19\)" "$W" dump torn
check "verify after repair" 0 "^ok: torn" "$W" verify torn
check "repair again: nothing to do" 0 "nothing to repair" "$W" repair torn
cp torn/$seg1.broken torn/$seg1
check "repair --dry-run warns about an existing .broken" 0 "replaces the existing .*broken" "$W" repair --dry-run torn

# A torn write inside a large record: a zeroed 512-byte sector.
check "demo with large entries" 0 "check: all" "$W" demo big --entries 6 --entry-size 3000 --batch 3 --segment-size 65536 --no-fsync
last=$(ls big/*.wal | tail -1)
off=$(entry_offset big 6)
len=$(entry_len big 6)
sector=$(((off + 8 + 20 + 511) / 512 * 512))
if ((sector + 512 <= off + 8 + len)); then
  dd if=/dev/zero of="$last" bs=1 seek="$sector" count=512 conv=notrunc status=none
  before=$(digest big)
  check "verify: zeroed sector is a torn tail" 8 "torn tail \(repairable with walctl repair\): .*at offset $off \(last good entry index 5\)" "$W" verify big
  check "records: zeroed sector" 2 "BAD: crc mismatch .*torn write: a zeroed sector" "$W" records big
  check "repair --dry-run: zeroed sector" 0 "entries lost: 1 \(index 6..6\)" "$W" repair --dry-run big
  unchanged "repair --dry-run (zeroed sector)" big "$before"
  check "repair: zeroed sector" 0 "cut at offset $off" "$W" repair big
  check "verify after repair: zeroed sector" 0 "entries: 5 \(index 1..5\)" "$W" verify big
else
  fail "zeroed sector: entry 6 does not span a whole sector (off=$off len=$len)"
fi

# ---------------------------------------------------------------- etcd's layout and terms
# An etcd data dir: DIR/member/wal, DIR/member/snap/<term>-<index>.snap.
mkdir -p dd/member/snap && cp -r g dd/member/wal
check "data dir: verify finds member/wal" 0 "note: etcd data dir: reading its WAL in dd/member/wal" "$W" verify dd
check "data dir: info" 0 "directory: dd/member/wal" "$W" info dd
check "data dir without member/wal" 6 "not a WAL directory \(no \*.wal files, and no member/wal\): dd/member$" "$W" verify dd/member
# etcd starts after the newest .snap file the WAL records ({12, 1}; index 19 is not recorded).
check "etcd-fixture: a .snap file" 0 "^wrote dd/member/snap/0000000000000001-000000000000000c.snap$" \
  "$W" etcd-fixture dd/member/snap --snap-index 12 --snap-term 1
"$W" etcd-fixture dd/member/snap --snap-index 19 --snap-term 1 >/dev/null
check "data dir: dump starts where etcd would" 0 "^walctl: note: reading from snapshot \{index=12 term=1\}: the newest snapshot file the WAL records, 0000000000000001-000000000000000c.snap" "$W" dump dd
check "data dir: dump prints the entries after it" 0 "entries: 8 \(index 13..20\)" "$W" dump dd
check "data dir: verify from the same snapshot" 0 "snapshot: index=12 term=1 found" "$W" verify dd
check "data dir: info lists etcd's snapshot files" 0 "^etcd snapshot files: dd/member/snap: 2, newest first:$" "$W" info dd
check "data dir: info shows a .snap file's header" 0 "^  0000000000000001-000000000000000c.snap index=12 term=1 voters=\[2e1259d415f2a040\] learners=\[\]$" "$W" info dd
# etcd skips a .snap file it cannot load (crc mismatch, empty): so does walctl.
cp -r dd ddbroken && printf 'X' | dd of=ddbroken/member/snap/0000000000000001-000000000000000c.snap bs=1 seek=20 conv=notrunc status=none
check "data dir: a broken .snap file is skipped, as etcd does" 0 "warning: skipping ddbroken/member/snap/0000000000000001-000000000000000c.snap: snapshot file has a crc mismatch" "$W" dump ddbroken
check "data dir: info marks it unreadable" 0 "^  0000000000000001-000000000000000c.snap unreadable: snapshot file has a crc mismatch" "$W" info ddbroken
check "data dir: info says where etcd starts" 0 "^etcd starts from: snapshot \{index=12 term=1\}: the newest snapshot file the WAL records" "$W" info dd
# A purged log (etcd removed the oldest segment): no flags needed.
cp -r g purged && rm purged/$seg0
check "purged log: dump with no flags" 0 "entries: 8 \(index 13..20\)" "$W" dump purged
check "purged log: dump says where it started" 0 "reading from snapshot \{index=12 term=1\}: the newest valid snapshot record; the oldest segment starts at index 11" "$W" dump purged
check "purged log: verify with no flags" 0 "etcd: will start on this log" "$W" verify purged
check "purged log: an index before the oldest segment" 7 "no segment can hold index 5 \(the first segment starts at index 11\): purged$" "$W" verify purged --snapshot-index 5 --snapshot-term 1
# etcd's startup check reads every segment: a bit flip before the snapshot's segment.
check "verify: damage before the snapshot's segment" 2 "^walctl: etcd will refuse to start: .*crc/$seg0" \
  "$W" verify crc --snapshot-index 12 --snapshot-term 1
check "verify: damage before the snapshot's segment, next step" 2 "replace the member" \
  "$W" verify crc --snapshot-index 12 --snapshot-term 1
# Verdicts in etcd's terms: a truncated tail etcd repairs by itself; a
# zeroed end of a record (no whole zero sector) etcd refuses (crc mismatch).
cp -r g torn2 && off=$(entry_offset torn2 20) && truncate -s $((off + 20)) torn2/$seg1
check "verify: etcd repairs a truncated tail itself" 8 "etcd: etcd repairs this by itself at startup" "$W" verify torn2
cp -r g zt && off=$(entry_offset zt 20) && size=$(stat -c %s zt/$seg1)
dd if=/dev/zero of=zt/$seg1 bs=1 seek=$((off + 8 + 30)) count=$((size - off - 38)) conv=notrunc status=none
check "verify: a zeroed tail etcd refuses" 8 "etcd: etcd will refuse to start \(.*crc mismatch.*\); walctl repair fixes it" "$W" verify zt
check "verify --torn-write-rule etcd: etcd's class" 2 "corruption in synced data" "$W" verify zt --torn-write-rule etcd
check "repair --dry-run --torn-write-rule etcd: not a torn tail" 2 "not repairable" "$W" repair --dry-run zt --torn-write-rule etcd

# purge: etcd's rule (keep --keep, stop at the first locked segment).
check "demo for purge" 0 "check: all" "$W" demo pg --entries 400 --entry-size 200 --batch 50 --segment-size 16384 --no-fsync
nseg=$(ls pg/*.wal | wc -l)
if ((nseg >= 3)); then
  before=$(digest pg)
  check "purge --dry-run" 0 "would remove $((nseg - 1)) of $nseg segments; 1 left" "$W" purge pg --keep 1 --dry-run
  unchanged "purge --dry-run" pg "$before"
  newest2=$(ls pg/*.wal | tail -2)
  start_holder pg
  check "purge: a locked WAL loses nothing" 0 "removed 0 of $nseg segments; $nseg left \(the oldest left is locked" "$W" purge pg --keep 1
  stop_holder
  check "purge" 0 "removed $((nseg - 2)) of $nseg segments; 2 left" "$W" purge pg --keep 2
  [[ $(ls pg/*.wal) == "$newest2" ]] && ok || fail "purge: expected the 2 newest segments to stay"
  check "purge again: nothing to do" 0 "removed 0 of 2 segments" "$W" purge pg --keep 2
else
  fail "demo for purge: want at least 3 segments, got $nseg"
fi
check "purge: missing directory" 5 "" "$W" purge does-not-exist --keep 1

# ---------------------------------------------------------------- etcd payloads
# `walctl etcd-fixture` (hidden) writes what etcd v3.4/v3.5 would: etcd's
# Metadata, conf changes with member JSON, v2 requests, an
# InternalRaftRequest of every kind, and three entries that are not etcd's.
golden "dump --decode none: the raw view (json)" dump_decode_none.json 0 "$W" dump g --format json --decode none
golden "dump --decode none: the raw view (text)" dump.txt 0 "$W" dump g --decode none
check "etcd-fixture" 0 "^wrote etcd$" "$W" etcd-fixture etcd
golden "dump: etcd payloads" dump_etcd.txt 0 "$W" dump etcd
golden "dump: etcd payloads (json)" dump_etcd.json 0 "$W" dump etcd --format json
json_valid "json: etcd payloads" 0 "$W" dump etcd --format json
check "dump --decode none: etcd data raw" 0 '^index=8 term=2 type=Normal data=hex:221' "$W" dump etcd --decode none

check "records: the request kind" 0 ' entry: index=8 term=2 type=Normal size=[0-9]+ data=hex:[0-9a-f]+(\.\.\.)? decoded=put$' "$W" records etcd
check "records: the conf change type" 0 ' entry: index=36 .* decoded=ConfChangeAddLearnerNode$' "$W" records etcd
check "records: not etcd's, nothing decoded" 0 ' entry: index=41 term=3 type=Normal size=24 data="e1:ddkedxzyxruwmnjtrzovo"$' "$W" records etcd

# json_check NAME PYTHON-EXPRESSIONS CMD...: CMD exits 0 and each line of
# PYTHON-EXPRESSIONS (over `d`, the parsed output, and `e`, its entries by
# index) is true.
json_check() {
  local name=$1 exprs=$2
  shift 2
  run "$@"
  if [[ $rc -ne 0 ]]; then
    fail "$name: exit $rc; stderr: $(head -c 400 "$T/err")"
    return 0
  fi
  if python3 - "$T/out" "$exprs" >"$T/py" 2>&1 <<'PY'; then ok; else fail "$name: $(cat "$T/py")"; fi
import json, sys
d = json.load(open(sys.argv[1]))
e = {x["index"]: x for x in d.get("entries", [])}
for expr in sys.argv[2].strip().splitlines():
    if not eval(expr):
        sys.exit("false: " + expr.strip())
PY
}
json_check "json: etcd fields" '
d["etcd_metadata"] == {"node_id": "2e1259d415f2a040", "cluster_id": "cdf818194e3a8c32"}
d["hard_state"] == {"term": 3, "vote": "2e1259d415f2a040", "commit": 41}
e[1]["type"] == "EntryConfChange" and e[1]["conf_change"]["type"] == "ConfChangeAddNode"
e[1]["member"] == {"id": "2e1259d415f2a040", "peerURLs": ["http://127.0.0.1:2380"], "name": "infra1", "clientURLs": ["http://127.0.0.1:2379"]}
e[2]["type"] == "EntryNormal" and "request" not in e[2] and e[2]["data"] == ""
e[3]["request"]["kind"] == "v2" and e[3]["request"]["message"] == "Request" and e[3]["request"]["v2"]["Method"] == "PUT"
e[4]["request"]["v2"]["Time"] == "1700000000123456789"
e[8]["request"] == {"kind": "put", "message": "InternalRaftRequest", "header": {"ID": "7a3c0e5d1b2f4005"}, "put": {"key": "foo", "value": "bar", "lease": "694d71ddd4a6b21c"}}
e[9]["request"]["put"]["key"] == {"hex": "2f72656769737472792f00ff"} and e[9]["request"]["put"]["prev_kv"] is True
e[12]["request"]["txn"]["compare"][0] == {"result": "EQUAL", "target": "VALUE", "key": "foo", "value": "bar"}
e[12]["request"]["txn"]["success"][1]["request_txn"]["success"][0]["request_delete_range"]["key"] == "old"
e[13]["request"]["compaction"]["revision"] == "9007199254740993"
e[7]["request"]["lease_grant"] == {"TTL": 60, "ID": "694d71ddd4a6b21c"}
e[17]["request"]["auth_user_add"]["password"] == "<redacted>" and "s3cret" not in open(sys.argv[1]).read()
e[35]["request"]["kind"] == "v2" and e[35]["request"]["message"] == "InternalRaftRequest"
e[36]["member"]["id"] == "91bc3c398fb3c146" and e[36]["member"]["isLearner"] is True
e[38]["type"] == "EntryConfChangeV2" and e[38]["conf_change"]["changes"][0]["node_id"] == "91bc3c398fb3c146"
all(k not in e[i] for i in (39, 40, 41) for k in ("request", "conf_change"))
' "$W" dump etcd --format json

json_check "json: records with the request kind" '
[r["entry"].get("decoded") for s in d["segments"] for r in s["records"] if "entry" in r][7:9] == ["put", "put"]
' "$W" records etcd --format json

# count_entries NAME WANT CMD...: CMD exits 0 and prints WANT entry lines.
count_entries() {
  local name=$1 want=$2 n
  shift 2
  run "$@"
  n=$(grep -c '^index=' "$T/out" || true)
  if [[ $rc -ne 0 ]]; then
    fail "$name: exit $rc; stderr: $(head -c 400 "$T/err")"
  elif [[ $n -ne $want ]] || ! grep -q "^shown: $want$" "$T/out"; then
    fail "$name: $n entries shown, want $want: $(head -c 600 "$T/out")"
  else
    ok
  fi
}
count_entries "--entry-type IRRPut" 2 "$W" dump etcd --entry-type IRRPut
[[ $(grep '^index=' "$T/out" | grep -vc ' request=put ' || true) -eq 0 ]] && ok || fail "--entry-type IRRPut: not only puts"
count_entries "--entry-type IRRPut,IRRTxn,IRRLeaseGrant" 4 "$W" dump etcd --entry-type IRRPut,IRRTxn,IRRLeaseGrant
count_entries "--entry-type ConfigChange (v1 and v2)" 4 "$W" dump etcd --entry-type ConfigChange
count_entries "--entry-type Request (bare v2)" 2 "$W" dump etcd --entry-type Request
count_entries "--entry-type InternalRaftRequest (and the empty entry)" 32 "$W" dump etcd --entry-type InternalRaftRequest
count_entries "--entry-type Normal" 37 "$W" dump etcd --entry-type Normal
count_entries "--entry-type IRRAuthUserAdd,IRRClusterVersionSet,IRRV2" 3 "$W" dump etcd --entry-type IRRAuthUserAdd,IRRClusterVersionSet,IRRV2
count_entries "--from 5 --to 7" 3 "$W" dump etcd --from 5 --to 7
[[ $(grep '^index=' "$T/out" | cut -d' ' -f1 | tr '\n' ' ') == "index=5 index=6 index=7 " ]] && ok || fail "--from 5 --to 7: $(cat "$T/out")"
count_entries "--from 40" 2 "$W" dump etcd --from 40
count_entries "--to 1 on a demo log" 1 "$W" dump g --to 1
count_entries "--from/--to with --entry-type" 1 "$W" dump etcd --entry-type IRRPut --from 9 --to 20
count_entries "--from past the end" 0 "$W" dump etcd --from 42
json_check "json: --entry-type IRRLeaseGrant,IRRLeaseRevoke" '
[x["request"]["kind"] for x in d["entries"]] == ["lease_grant", "lease_revoke"]
' "$W" dump etcd --format json --entry-type IRRLeaseGrant,IRRLeaseRevoke
check "--entry-type: unknown name" 1 '^walctl: --entry-type: unknown entry type "IRRBogus" \(valid: Normal, ConfigChange, .*IRRLeaseCheckpoint' \
  "$W" dump etcd --entry-type IRRPut,IRRBogus
check "--from after --to" 1 "^walctl: --from 8 is after --to 3: dump$" "$W" dump etcd --from 8 --to 3

# --stream-decoder: etcd-dump-logs' contract (hex lines in, "status|data" out).
printf '#!/bin/bash\nwhile read -r line; do echo "OK|$line"; done\n' >echo-decoder
printf '#!/bin/bash\nwhile read -r line; do echo "no bar here"; done\n' >plain-decoder
printf '#!/bin/bash\nwhile read -r line; do echo "A|b|c"; done\n' >bars-decoder
printf '#!/bin/bash\nexit 3\n' >dead-decoder
printf '#!/bin/bash\nwhile read -r line; do :; done\n' >mute-decoder
printf '#!/bin/bash\nexec cat >/dev/null\n' >closing-decoder
printf '#!/bin/bash\nwhile read -r line; do echo "OK|x"; done\nexit 4\n' >failing-decoder
chmod +x ./*-decoder
check "--stream-decoder" 0 '^index=8 term=2 type=Normal request=put .* decoder_status="OK" decoded_data="2214' \
  "$W" dump etcd --entry-type IRRPut --stream-decoder "$T/echo-decoder"
json_check "json: --stream-decoder gets each entry's data in hex" '
len(d["entries"]) == 41
all(x["decoder"] == {"status": "OK", "data": __import__("base64").b64decode(x["data"]).hex()} for x in d["entries"])
' "$W" dump etcd --format json --stream-decoder "$T/echo-decoder"
check "--stream-decoder: no delimiter" 0 'decoder_status="decoder output format is not right, print output anyway" decoded_data="no bar here"' \
  "$W" dump etcd --from 3 --to 3 --stream-decoder "$T/plain-decoder"
check "--stream-decoder: two delimiters" 0 'decoder_status="A\(\*WARNING: data might contain deliminator used by etcd-dump-logs\)" decoded_data="bc"' \
  "$W" dump etcd --from 3 --to 3 --stream-decoder "$T/bars-decoder"
check "--stream-decoder: dies" 1 "^walctl: stream decoder exited with status 3 without answering entry index 1: $T/dead-decoder$" \
  "$W" dump etcd --stream-decoder "$T/dead-decoder"
check "--stream-decoder: prints nothing" 1 "^walctl: stream decoder gave no answer line for entry index 1 within 0.3 s" \
  "$W" dump etcd --stream-decoder "$T/mute-decoder" --stream-decoder-timeout 0.3
check "--stream-decoder: closes its stdout" 1 "^walctl: stream decoder closed its stdout without answering entry index 1: $T/closing-decoder$" \
  "$W" dump etcd --stream-decoder "$T/closing-decoder"
check "--stream-decoder: fails at the end" 1 "^walctl: stream decoder exited with status 4: $T/failing-decoder$" \
  "$W" dump etcd --stream-decoder "$T/failing-decoder"
check "--stream-decoder: not found" 1 "^walctl: stream decoder cannot be started \(No such file or directory\): nope-decoder$" \
  "$W" dump etcd --stream-decoder nope-decoder
json_valid "json: --stream-decoder failure is an error object" 1 "$W" dump etcd --format json --stream-decoder "$T/dead-decoder"

echo "walctl_cli: $passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
