#!/usr/bin/env python3
"""Differential tests: this WAL library (wal_interop) against etcd v3.4.23's
own wal package (etcdwal) and a real etcd server. Stdlib only.

    interop_test.py --etcdwal BIN --ours BIN [--work-dir DIR] [--jobs N] TEST [options]

TEST is one of
  etcd-writes   etcd writes fixed workloads; both read them (read both modes
                at several snapshots, verify, valid-snapshots, repair)
  we-write      we write fixed workloads; etcd's ReadAll returns exactly what
                was saved and etcd's Verify passes
  same-bytes    both write the same workloads: identical file names and bytes
  edge-cases    hand-made directories for each known difference, plus error
                paths of `run`
  random        seeded random workloads, each also mutated (truncations at
                8-byte boundaries of the tail's last 4 KiB, a flipped bit or
                byte, a zeroed sector, a removed file, a torn tail)
                options: --workloads N (200) --shards K --shard I (1, 0)
                         --truncation-step S (50: a workload truncates at the
                  k = seed mod S of k = 0..511, so any S consecutive seeds,
                  e.g. each shard of 50, cover all 512 boundaries)
                env: WAL_INTEROP_SEED=S runs only workload S (in shard 0);
                     WAL_INTEROP_BASE_SEED=B (1) first seed of the run;
                     WAL_INTEROP_ALL_TRUNCATIONS=1 all 512 truncations
  etcd-server   a real etcd (/usr/bin/etcd) writes a WAL on loopback; both
                read it
  walctl-headless  (--walctl BIN) etcd builds the headless tail (Repair to
                nothing, Open + Save); walctl verify / repair --dry-run /
                repair and wal::Repair agree on it and on damaged variants
  walctl-random (--walctl BIN) seeded damage of etcd-written logs: walctl
                verify never looser than wal::Verify, walctl repair = wal::Repair
                (files), walctl dump = ReadAll; options --workloads N
                --truncation-step S --also-seeds S1,S2; env WAL_INTEROP_SEED /
                WAL_INTEROP_BASE_SEED

Prints each mismatch with its seed, then the counts and
`interop: N passed, M failed`; exits non-zero on any failure. Differences
are accepted only through the rows of pylib/equiv.py:EQUIVALENCES
(doc/compatibility.md).
"""

import argparse
import collections
import concurrent.futures
import ctypes
import fcntl
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean (no __pycache__)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pylib import equiv, tools, walctl, walfmt, workloads  # noqa: E402
from pylib.workloads import ent, save  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class Harness:
    def close_drivers(self):
        for drv in (self.etcd, self.ours, self.ours_etcd_rule):
            drv.close()

    def __init__(self, args):
        self.args = args
        self.etcd = tools.Driver("etcd", args.etcdwal)
        env = dict(os.environ)
        env.pop("WAL_INTEROP_TORN_WRITE_RULE", None)
        # ours with the library's default options (TornWriteRule::kZeroTail),
        # and ours with TornWriteRule::kEtcd (etcd's exact torn-write rule).
        self.ours = tools.Driver("ours", args.ours, env)
        self.ours_etcd_rule = tools.Driver("ours[etcd-rule]", args.ours,
                                           dict(env, WAL_INTEROP_TORN_WRITE_RULE="etcd"))
        self.lock = threading.Lock()
        self.passed = 0
        self.failed = 0
        self.rules = collections.Counter()
        self.counts = collections.Counter()
        self.work = args.work_dir
        self.fail_dir = os.path.join(self.work, "failures")

    # -- bookkeeping ----------------------------------------------------------

    def ok(self, rule=None):
        with self.lock:
            self.passed += 1
            if rule:
                self.rules[rule] += 1

    def mismatch(self, label, check, detail, keep=None):
        with self.lock:
            self.failed += 1
            n = self.failed
        msg = "MISMATCH [%s] %s: %s" % (label, check, detail)
        if keep and os.path.exists(keep) and n <= 50:
            dst = os.path.join(self.fail_dir, "%d-%s" % (n, label.replace(" ", "_").replace("/", "_")[:80]))
            tools.copy_dir(keep, dst)
            msg += "\n  directory kept at %s" % dst
        print(msg, flush=True)

    def count(self, what, n=1):
        with self.lock:
            self.counts[what] += n

    def tmpdir(self, tag):
        os.makedirs(self.work, exist_ok=True)
        return tempfile.mkdtemp(prefix=tag + "-", dir=self.work)

    # -- comparisons -----------------------------------------------------------

    def context(self, ours, d, snap, scratch):
        return equiv.Context(self.etcd, ours, d, snap, scratch, zero_tail=ours is self.ours)

    def check(self, ctx, label, kind, e, o):
        v = ctx.compare(kind, e, o)
        if v.ok:
            self.ok(v.rule)
            return True
        self.mismatch(label, "%s snap=%s" % (kind, ctx.snap),
                      "etcd=%s ours=%s%s" % (equiv.short(e), equiv.short(o),
                                             (" [row %s: %s]" % (v.rule, v.detail)) if v.rule or v.detail else ""),
                      keep=ctx.dir)
        return False

    def compare_dir(self, label, d, snaps, scratch, repair=True, only_write_mode=False, ours=None):
        """Everything both implementations can say about directory d (left
        unmodified): read in both modes, verify at each snapshot in snaps,
        valid-snapshots, repair (+ a read after repair, in write mode as a
        server does: Repair, then Open + ReadAll)."""
        ours = ours or self.ours
        for snap in snaps:
            ctx = self.context(ours, d, snap, scratch)
            if not only_write_mode:
                self.check(ctx, label, "read-read", self.etcd.read(d, "read", snap), ours.read(d, "read", snap))
            ce, co = os.path.join(scratch, "rw-etcd"), os.path.join(scratch, "rw-ours")
            tools.copy_dir(d, ce)
            tools.copy_dir(d, co)
            e, o = self.etcd.read(ce, "write", snap), ours.read(co, "write", snap)
            self.check(ctx, label, "read-write", e, o)
            # write mode zeroes the tail after the last valid record, and
            # Close must leave no *.tmp behind: the bytes must match. (When
            # etcd panics, etcdwal never reaches Close, so etcd's prepared
            # 0.tmp stays, as it would in a crashing server: ignored then.)
            panic = equiv.err_class(e) == "Panic"
            diff = tools.diff_states(tools.dir_state(ce, include_tmp=not panic),
                                     tools.dir_state(co, include_tmp=not panic))
            if diff and tools.only_new_head_in_headless_tail(ce, co):
                self.ok("E10-headless-tail")
            elif diff:
                self.mismatch(label, "bytes after read-write snap=%s" % (snap,), diff, keep=d)
            else:
                self.ok()
            if not only_write_mode:
                self.check(ctx, label, "verify", self.etcd.verify(d, snap), ours.verify(d, snap))
        if only_write_mode:
            return
        ctx = self.context(ours, d, snaps[0], scratch)
        self.check(ctx, label, "valid-snapshots", self.etcd.valid_snapshots(d), ours.valid_snapshots(d))
        if not repair:
            return
        re_, ro = os.path.join(scratch, "rep-etcd"), os.path.join(scratch, "rep-ours")
        tools.copy_dir(d, re_)
        tools.copy_dir(d, ro)
        e, o = self.etcd.repair(re_), ours.repair(ro)
        v = ctx.compare_repair(e, o, re_, ro)
        if v.ok:
            self.ok(v.rule)
        else:
            self.mismatch(label, "repair", "etcd=%s ours=%s: %s%s" % (
                e, o, v.detail, (" [row %s]" % v.rule) if v.rule else ""), keep=d)
        # A read after repair, as a server does (Repair, then Open+ReadAll),
        # of every distinct repaired result.
        orig = tools.dir_state(d)
        seen = []
        for side, rd in (("etcd", re_), ("ours", ro)):
            st = tools.dir_state(rd)
            if st == orig or st in seen:
                continue
            seen.append(st)
            sub = os.path.join(scratch, "after-" + side)
            os.makedirs(sub, exist_ok=True)
            self.compare_dir(label + " after-%s-repair" % side, rd, snaps[:1], sub, repair=False,
                             only_write_mode=True, ours=ours)

    def compare_run(self, label, wl, workload_path, ed, od):
        """Runs wl through both; compares the outputs and the bytes."""
        e = self.etcd.run(workload_path, ed)
        o = self.ours.run(workload_path, od)
        ne, no = equiv.normalize("run", e), equiv.normalize("run", o)
        if ne != no:
            self.mismatch(label, "run", "etcd=%s ours=%s" % (e, o), keep=ed)
        else:
            self.ok()
        # After a close there must be no *.tmp; without one, the prepared
        # 0.tmp may or may not exist in either (racy in etcd too): ignore it.
        closed = wl.closed and e.get("ok") and o.get("ok")
        se = tools.dir_state(ed, include_tmp=closed)
        so = tools.dir_state(od, include_tmp=closed)
        diff = tools.diff_states(se, so)
        if diff:
            self.mismatch(label, "same bytes", diff, keep=ed)
        else:
            self.ok()
        if closed and se is not None and any(n.endswith(".tmp") for n in se):
            self.mismatch(label, "no .tmp after close", "etcd left %s" % [n for n in se if n.endswith(".tmp")])
        return e, o

    def expect_model(self, label, wl, d, who):
        """etcd reading directory d (written by `who`) returns exactly what the
        workload saved, and etcd's Verify passes at each saved snapshot."""
        for snap in wl.snaps[:1] + wl.snaps[-2:]:
            want = workloads.model_read(wl.ops, snap)
            got = self.etcd.read(d, "read", snap)
            if isinstance(want, str):
                ok = equiv.err_class(got) == want
            else:
                ok = got == want
            if ok:
                self.ok()
            else:
                self.mismatch(label, "etcd ReadAll of %s's WAL snap=%s" % (who, snap),
                              "want=%s got=%s" % (equiv.short(want), equiv.short(got)), keep=d)
            if isinstance(want, str) and want != "SnapshotNotFound":
                continue
            v = self.etcd.verify(d, snap)
            if equiv.err_class(v) is None:
                self.ok()
            else:
                self.mismatch(label, "etcd Verify of %s's WAL snap=%s" % (who, snap), str(v), keep=d)


# ---------------------------------------------------------------------------
# Tests on fixed workloads.

def _pool(h):
    return concurrent.futures.ThreadPoolExecutor(max_workers=h.args.jobs)


def _for_each(h, items, fn):
    with _pool(h) as pool:
        futs = [pool.submit(fn, it) for it in items]
        for f in futs:
            f.result()


def test_etcd_writes(h):
    wls = workloads.fixed_workloads(os.path.join(HERE, "etcd/testdata"))

    def one(wl):
        t = h.tmpdir("ew")
        path = os.path.join(t, "w.jsonl")
        workloads.write_workload(path, wl.ops)
        d = os.path.join(t, "wal")
        r = h.etcd.run(path, d)
        if not os.path.isdir(d):
            h.mismatch(wl.name, "etcd run", "no directory: %s" % r)
            return
        # A run without close may leave etcd's prepared 0.tmp (racy); the
        # edge case stale-0.tmp-from-a-crash covers what Open+Close do to it.
        tools.remove_tmp_files(d)
        h.compare_dir(wl.name, d, wl.read_snaps(), t)
        h.count("workloads")
        shutil.rmtree(t, ignore_errors=True)

    _for_each(h, wls, one)


def test_we_write(h):
    wls = workloads.fixed_workloads(os.path.join(HERE, "etcd/testdata"))

    def one(wl):
        t = h.tmpdir("ww")
        path = os.path.join(t, "w.jsonl")
        workloads.write_workload(path, wl.ops)
        d = os.path.join(t, "wal")
        r = h.ours.run(path, d)
        if not r.get("ok"):
            h.mismatch(wl.name, "our run", str(r))
            return
        h.ok()
        if wl.closed:
            h.expect_model(wl.name, wl, d, "our")
        else:
            # Without a close, only what was flushed is on disk: compare
            # with etcd reading etcd's own WAL of the same workload instead.
            d2 = os.path.join(t, "wal-etcd")
            h.etcd.run(path, d2)
            for snap in wl.snaps:
                a, b = h.etcd.read(d, "read", snap), h.etcd.read(d2, "read", snap)
                if a == b:
                    h.ok()
                else:
                    h.mismatch(wl.name, "etcd ReadAll of our unclosed WAL snap=%s" % (snap,),
                               "ours-written=%s etcd-written=%s" % (equiv.short(a), equiv.short(b)), keep=d)
        h.count("workloads")
        shutil.rmtree(t, ignore_errors=True)

    _for_each(h, wls, one)


def test_same_bytes(h):
    wls = workloads.fixed_workloads(os.path.join(HERE, "etcd/testdata"))

    def one(wl):
        t = h.tmpdir("sb")
        path = os.path.join(t, "w.jsonl")
        workloads.write_workload(path, wl.ops)
        ed, od = os.path.join(t, "etcd"), os.path.join(t, "ours")
        h.compare_run(wl.name, wl, path, ed, od)
        if wl.closed and os.path.isdir(od) and any(n.endswith(".tmp") for n in os.listdir(od)):
            h.mismatch(wl.name, "no .tmp after close", "ours left %s" % os.listdir(od))
        h.count("workloads")
        shutil.rmtree(t, ignore_errors=True)

    _for_each(h, wls, one)


# ---------------------------------------------------------------------------
# Edge cases: hand-made directories, one per known difference (and a few
# that must NOT differ). Each states which equivalence rows it must use.

def _write_segments(d, files):
    os.makedirs(d, exist_ok=True)
    for name, data in files:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def _log(md=b"md", n=5, first_index=1, crafted=None, padded=True, w=None):
    """File 0 with n entries and a state; crafted(w) may append raw frames."""
    w = w or walfmt.Writer()
    out = w.head(md) if padded else (w.record(walfmt.CRC, None, padded=False)
                                     + w.record(walfmt.METADATA, md, padded=False)
                                     + w.record(walfmt.SNAPSHOT, walfmt.snapshot_bytes(0, 0), padded=False))
    for i in range(first_index, first_index + n):
        out += w.record(walfmt.ENTRY, walfmt.entry_bytes(i, 1, 0, b"data-%d" % i), padded)
    out += w.record(walfmt.STATE, walfmt.state_bytes(1, 1, first_index + n - 1), padded)
    if crafted:
        out += crafted(w)
    return out, w


def edge_dirs(base):
    """(name, dir, snaps, must_use_rows) for hand-made WAL directories."""
    cases = []
    s0 = walfmt.seg_name(0, 0)
    s1 = walfmt.seg_name(1, 6)
    s2 = walfmt.seg_name(2, 9)

    def case(name, files, rows, snaps=((0, 0),), etcd_rule_rows=None):
        """rows: the equivalence rows the case must use with the library's
        default reader; etcd_rule_rows: with TornWriteRule::kEtcd (default:
        the same minus E8)."""
        d = os.path.join(base, name)
        _write_segments(d, files)
        if etcd_rule_rows is None:
            etcd_rule_rows = set(rows) - {"E8-damaged-last-record"}
        cases.append((name, d, list(snaps), set(rows), set(etcd_rule_rows)))

    # Same answers expected -------------------------------------------------
    data, _ = _log()
    case("clean", [(s0, data + b"\0" * 4096)], [])
    data, _ = _log(padded=False)
    case("unpadded-pre-v3.0-frames", [(s0, data)], [])
    data, _ = _log(crafted=lambda w: w.record(walfmt.ENTRY, walfmt.entry_bytes(6, 1, 0, b"x") + walfmt.vfield(9, 5)))
    case("entry-unknown-field", [(s0, data)], [])
    data, _ = _log(crafted=lambda w: w.record(walfmt.ENTRY, walfmt.vfield(2, 1) + walfmt.vfield(3, 6)))
    case("entry-without-type-field-v3.7", [(s0, data)], [])
    data, _ = _log(crafted=lambda w: w.record(
        walfmt.SNAPSHOT, walfmt.snapshot_bytes(3, 1) + walfmt.bfield(3, walfmt.vfield(1, 1))))
    case("snapshot-with-conf-state-v3.5", [(s0, data)], [], snaps=[(0, 0), (3, 1)])

    def reordered(w):
        d = walfmt.entry_bytes(6, 1, 0, b"r")
        w.crc = walfmt.crc32c(d, w.crc)
        return walfmt.frame(walfmt.bfield(3, d) + walfmt.vfield(2, w.crc) + walfmt.vfield(1, walfmt.ENTRY)
                            + walfmt.vfield(7, 1))
    data, _ = _log(crafted=reordered)
    case("record-fields-reordered-unknown-field", [(s0, data)], [])
    # metadata conflict across files (valid CRC chain)
    d0, w = _log(b"one")
    d1 = w.crc_record() + w.record(walfmt.METADATA, b"two") + w.record(walfmt.ENTRY, walfmt.entry_bytes(6, 1, 0, b"y"))
    case("metadata-conflict", [(s0, d0), (s1, d1)], [])
    # crc record that does not match the chain
    d1 = walfmt.Writer(w.crc ^ 1).crc_record() + walfmt.Writer(w.crc).record(walfmt.METADATA, b"one")
    # (Repair reads only the last file, where the first data record then fails
    # its CRC and nothing follows it: row E8.)
    case("crc-record-mismatch", [(s0, d0), (s1, d1)], ["E8-damaged-last-record"])
    # a gap right after seq 0 passes etcd's isValidSeq; the CRC chain catches it
    d0, w = _log(b"one")
    w2 = walfmt.Writer(w.crc ^ 0x5A5A)
    case("seq-gap-after-0", [(s0, d0), (s2, w2.crc_record() + w2.record(walfmt.METADATA, b"one"))], [])
    # a zero length word in the middle of a non-last file hides its tail
    d0, w = _log(b"one", n=3)
    lost = w.record(walfmt.ENTRY, walfmt.entry_bytes(4, 1, 0, b"lost"))
    w1 = walfmt.Writer(w.crc)
    d1 = w1.crc_record() + w1.record(walfmt.METADATA, b"one") + w1.record(walfmt.ENTRY, walfmt.entry_bytes(5, 1))
    case("zero-word-in-non-last-file", [(s0, d0 + b"\0" * 8 + lost), (walfmt.seg_name(1, 4), d1)], [])
    # snapshot with another term
    data, _ = _log(crafted=lambda w: w.record(walfmt.SNAPSHOT, walfmt.snapshot_bytes(3, 7)))
    # (at {3,7} the entries 4..5 of term 1 come after a snapshot of term 7:
    # etcd returns them, we do not: row E12)
    case("snapshot-mismatch", [(s0, data)], ["E12-term-below-snapshot-or-predecessor"],
         snaps=[(0, 0), (3, 1), (3, 7)])

    # Known differences ------------------------------------------------------
    # raft's reading rules (doc/recovery.md): an overwrite from below the
    # snapshot; a snapshot installed over a divergent log
    def overwrite_below(w):
        # 4..5 rewritten in term 3 (never committed), then a leader of a later
        # term sends 2..3 of term 2 and a snapshot {3,2}: the stale 4..5 have
        # a higher term than the snapshot, so only the overwrite rule drops them
        out = b"".join(w.record(walfmt.ENTRY, walfmt.entry_bytes(i, 3, 0, b"t3")) for i in (4, 5))
        out += b"".join(w.record(walfmt.ENTRY, walfmt.entry_bytes(i, 2, 0, b"t2")) for i in (2, 3))
        return out + w.record(walfmt.SNAPSHOT, walfmt.snapshot_bytes(3, 2))
    data, _ = _log(crafted=overwrite_below)
    case("overwrite-below-snapshot", [(s0, data)], ["E11-overwrite-below-snapshot"], snaps=[(0, 0), (3, 2)])
    data, _ = _log(crafted=lambda w: w.record(walfmt.SNAPSHOT, walfmt.snapshot_bytes(2, 4)))
    case("installed-snapshot", [(s0, data)], ["E12-term-below-snapshot-or-predecessor"], snaps=[(0, 0), (2, 4)])
    data, _ = _log(crafted=lambda w: w.record(9, b"unknown"))
    case("unknown-record-type", [(s0, data)], ["E3-unexpected-block-type"])
    data, _ = _log(crafted=lambda w: w.record(walfmt.ENTRY, b"\xff"))
    case("entry-payload-undecodable", [(s0, data)], ["E2-payload-panic"])
    data, _ = _log(crafted=lambda w: w.record(walfmt.STATE, b"\x0a\x05ab"))
    case("state-payload-undecodable", [(s0, data)], ["E2-payload-panic"])
    data, _ = _log(crafted=lambda w: w.record(walfmt.SNAPSHOT, b"\x08"))
    case("snapshot-payload-undecodable", [(s0, data)], ["E2-payload-panic"])
    # a walpb.Record whose bytes field is cut short (gogo: io.ErrUnexpectedEOF),
    # not a torn write (no zero sector): etcd repairs it away, we refuse.
    bad = walfmt.frame(walfmt.vfield(1, walfmt.ENTRY) + walfmt.vfield(2, 1) + b"\x1a\x40abc")
    data, _ = _log(crafted=lambda w: bad + b"\xaa" * 600)
    case("record-cut-short-last-file", [(s0, data)], ["E5-torn-vs-corruption"])
    # a record whose protobuf is invalid (gogo: proto: illegal tag 0)
    bad = walfmt.frame(b"\x00\x00\x08\x02")
    data, _ = _log(crafted=lambda w: bad + b"\xaa" * 600)
    case("record-illegal-tag", [(s0, data)], ["E4-record-proto-error"])
    # a frame that runs past the end of a NON-last file
    d0, w = _log(b"one", n=3)
    w1 = walfmt.Writer(w.crc)
    d1 = w1.crc_record() + w1.record(walfmt.METADATA, b"one") + w1.record(walfmt.ENTRY, walfmt.entry_bytes(4, 1))
    case("frame-past-end-of-non-last-file", [(s0, d0 + struct.pack("<Q", 5000) + b"\x01" * 100),
                                             (walfmt.seg_name(1, 4), d1)], ["E5-torn-vs-corruption"])
    case("partial-length-word-in-non-last-file", [(s0, d0 + b"\x01\x02\x03"), (walfmt.seg_name(1, 4), d1)],
         ["E5-torn-vs-corruption"])
    # length words >= 10 MiB: last file, and non-last file
    d0, w = _log(b"one", n=3)
    case("max-entry-size-last-file", [(s0, d0 + struct.pack("<Q", 10 << 20) + b"\x01" * 64)],
         ["E6-max-entry-size"])
    case("max-entry-size-non-last-file", [(s0, d0 + struct.pack("<Q", 20 << 20) + b"\x01" * 64),
                                          (walfmt.seg_name(1, 4), d1)], ["E6-max-entry-size"])
    # the last record of the last segment damaged (bad CRC; bytes cut
    # short), only zeros after it: etcd says corruption, we say torn write
    def damaged_last(w):
        good = w.record(walfmt.ENTRY, walfmt.entry_bytes(6, 1, 0, b"last one"))
        return good[:-12] + bytes([good[-12] ^ 0x10]) + good[-11:] + b"\0" * 4096
    data, _ = _log(crafted=damaged_last)
    case("crc-mismatch-last-record-then-zeros", [(s0, data)], ["E8-damaged-last-record"])
    bad = walfmt.frame(walfmt.vfield(1, walfmt.ENTRY) + walfmt.vfield(2, 1) + b"\x1b\x01")
    data, _ = _log(crafted=lambda w: bad + b"\0" * 1000)
    case("record-proto-error-last-record-then-zeros", [(s0, data)], ["E8-damaged-last-record"],
         etcd_rule_rows=["E4-record-proto-error"])
    # a missing directory, an empty one, one with no *.wal
    cases.append(("missing-directory", os.path.join(base, "does-not-exist"), [(0, 0)], {"E7-missing-directory"},
                  {"E7-missing-directory"}))
    case("empty-directory", [], [])
    case("no-wal-files", [("0000000000000000-0000000000000000.wal.broken", b"x"), ("notes.txt", b"y")], [])
    return cases


def test_edge_cases(h):
    t = h.tmpdir("edge")
    cases = edge_dirs(t)

    # Each case under both torn-write rules of our reader: the library
    # default (zero-tail, row E8 allowed) and etcd's rule (no E8).
    for ours, rule in ((h.ours, "default"), (h.ours_etcd_rule, "etcd-rule")):
        for name, d, snaps, rows, etcd_rule_rows in cases:
            if rule == "etcd-rule":
                rows = etcd_rule_rows
            before = dict(h.rules)
            scratch = os.path.join(t, "scratch-%s-%s" % (rule, name))
            os.makedirs(scratch, exist_ok=True)
            label = "%s (%s)" % (name, rule)
            h.compare_dir(label, d, snaps, scratch, ours=ours)
            h.count("workloads")
            used = {r for r in h.rules if h.rules[r] > before.get(r, 0)}
            if used != rows:
                h.mismatch(label, "equivalence rows", "expected rows %s, used %s" % (sorted(rows), sorted(used)))
            else:
                h.ok()
            print("edge %-56s rows used: %s" % (label, ", ".join(sorted(used)) or "none (identical answers)"),
                  flush=True)

    # A stale prepared segment left by a crash: etcd's Open + Close always
    # remove it (its file pipeline creates or reuses 0.tmp, then Close
    # deletes it). Whether ours does depends on a race, so try many times.
    data, _ = _log()
    trials = 100
    left = {"etcd": 0, "ours": 0}
    for i in range(trials):
        for side, drv in (("etcd", h.etcd), ("ours", h.ours)):
            d = os.path.join(t, "stale-%s-%d" % (side, i))
            _write_segments(d, [(walfmt.seg_name(0, 0), data + b"\0" * 4096), ("0.tmp", b"\x07" * 65536)])
            drv.read(d, "write", (0, 0))
            if os.path.exists(os.path.join(d, "0.tmp")):
                left[side] += 1
            shutil.rmtree(d, ignore_errors=True)
    print("edge stale-0.tmp-from-a-crash: Open+ReadAll+Close left it in etcd %d/%d, ours %d/%d times"
          % (left["etcd"], trials, left["ours"], trials), flush=True)
    if left["ours"] != left["etcd"]:
        h.mismatch("stale-0.tmp-from-a-crash", "write-mode open + close of a dir with a stale 0.tmp",
                   "etcd left it %d/%d times, ours %d/%d (library bug: SegmentPipeline::Close can win the race "
                   "against the first Prepare and then never touches the stale file)"
                   % (left["etcd"], trials, left["ours"], trials))
    else:
        h.ok()

    # Lock family: both use Linux OFD locks (fcntl F_OFD_SETLK, whole file).
    # A lock held through an OFD lock on the tail makes write-mode Open fail
    # with Locked on both sides; a flock() lock is invisible to both.
    data, _ = _log()
    for how in ("ofd", "flock"):
        d = os.path.join(t, "lock-" + how)
        seg = walfmt.seg_name(0, 0)
        _write_segments(d, [(seg, data + b"\0" * 4096)])
        fd = os.open(os.path.join(d, seg), os.O_RDWR)
        try:
            if how == "ofd":
                # struct flock on x86-64/aarch64: l_type, l_whence, l_start, l_len, l_pid
                fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhxxxxqqixxxx", fcntl.F_WRLCK, 0, 0, 0, 0))
            else:
                fcntl.flock(fd, fcntl.LOCK_EX)
            answers = {}
            for side, drv in (("etcd", h.etcd), ("ours", h.ours)):
                # A copy would not carry the lock: both read the locked dir
                # itself (write mode only rewrites the zeros after the records).
                answers[side] = equiv.err_class(drv.read(d, "write", (0, 0)))
            want = "Locked" if how == "ofd" else None
            ok = answers["etcd"] == want and answers["ours"] == want
            print("edge lock held with %-5s: write-mode open gives etcd %s, ours %s" % (
                how, answers["etcd"], answers["ours"]), flush=True)
            if ok:
                h.ok()
            else:
                h.mismatch("lock-" + how, "write-mode open of a locked tail", "want %s, got %s" % (want, answers))
            if how == "ofd":
                # etcd's Repair blocks on the lock (LockFile); ours refuses
                # at once (non-blocking) and reports false: only ours is run.
                r = h.ours.repair(d)
                if r["repaired"] is False:
                    h.ok()
                else:
                    h.mismatch("lock-ofd", "our repair of a locked WAL", str(r))
        finally:
            os.close(fd)

    # A genuine record over 10 MiB (row E6): both write it (same bytes);
    # etcd v3.4 cannot read it back (ErrMaxWALEntrySizeLimitExceeded, etcd
    # #14025), we can: ours must return exactly what was saved.
    big = bytes(random.Random(7).randbytes(1 << 16)) * 176  # 11 MiB
    ops = [workloads.create(b"big", 1 << 20), save([ent(1, 1, b"small")], (1, 0, 1)),
           save([ent(2, 1, big)], (1, 0, 2)), save([ent(3, 1, b"after")], (1, 0, 3)), {"op": "close"}]
    wl = workloads.Workload("record-over-10MiB", ops)
    d = os.path.join(t, "run-big")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "w.jsonl")
    workloads.write_workload(path, ops)
    ed, od = os.path.join(d, "etcd"), os.path.join(d, "ours")
    h.compare_run(wl.name, wl, path, ed, od)
    want = workloads.model_read(ops)
    answers = {
        "etcd read-read": equiv.err_class(h.etcd.read(ed, "read", (0, 0))),
        "etcd verify": equiv.err_class(h.etcd.verify(ed, (0, 0))),
        "etcd valid-snapshots": equiv.err_class(h.etcd.valid_snapshots(ed)),
    }
    ok = all(v == "MaxEntrySizeExceeded" for v in answers.values())
    got = h.ours.read(ed, "read", (0, 0))
    ok = ok and got == want and equiv.err_class(h.ours.verify(ed, (0, 0))) is None
    print("edge record-over-10MiB: etcd %s; ours reads it back: %s" % (answers, got == want), flush=True)
    if ok:
        h.ok("E6-max-entry-size")
    else:
        h.mismatch(wl.name, "record over 10 MiB (row E6)", "etcd %s; ours %s" % (answers, equiv.short(got)))

    # Use after close (row E9): etcd fails with an os error, we refuse
    # (FailedPrecondition) or, for a second Close, do nothing.
    md = workloads.create(b"a")
    e1 = save([ent(1, 1)], (1, 0, 1))
    for name, ops, want_ours in (
            ("save-after-close", [md, e1, {"op": "close"}, save(None, (1, 0, 1))], "FailedPrecondition"),
            ("save-entries-after-close", [md, {"op": "close"}, save([ent(1, 1)])], "FailedPrecondition"),
            ("close-twice", [md, {"op": "close"}, {"op": "close"}], None)):
        d = os.path.join(t, "run-" + name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "w.jsonl")
        workloads.write_workload(path, ops)
        e = h.etcd.run(path, os.path.join(d, "etcd"))
        o = h.ours.run(path, os.path.join(d, "ours"))
        ok_e = equiv.err_class(e) == "Other" and e.get("op_index") == len(ops) - 1 and (
            "file already closed" in equiv.err_msg(e) or "bad file descriptor" in equiv.err_msg(e))
        ok_o = (o.get("ok") is True) if want_ours is None else (
            equiv.err_class(o) == want_ours and o.get("op_index") == len(ops) - 1)
        print("run  %-42s etcd=%s ours=%s" % (name, equiv.normalize("run", e), equiv.normalize("run", o)),
              flush=True)
        if ok_e and ok_o:
            h.ok("E9-use-after-close")
        else:
            h.mismatch(name, "use after close (row E9)", "etcd=%s ours=%s" % (e, o))

    # `run` error paths: identical classes expected.
    runs = [
        ("save-before-create", [save([ent(1, 1)])]),
        ("create-twice", [workloads.create(b"a"), {"op": "close"}, workloads.create(b"b")]),
        ("open-while-open-is-locked", [workloads.create(b"a"), save([ent(1, 1)], (1, 0, 1)), {"op": "open"}]),
        ("open-missing-snapshot-in-write-mode", [workloads.create(b"a"), save([ent(1, 1)], (1, 0, 1)),
                                                  {"op": "close"}, {"op": "open", "snap_index": 1, "snap_term": 1},
                                                  save([ent(2, 1)], (1, 0, 2)), {"op": "close"}]),
        ("open-snapshot-mismatch", [workloads.create(b"a"), save([ent(1, 1)], (1, 0, 1)),
                                    {"op": "snapshot", "index": 1, "term": 1}, {"op": "close"},
                                    {"op": "open", "snap_index": 1, "snap_term": 2}]),
        ("open-index-beyond-files", [workloads.create(b"a", 4096)] +
         [save([ent(i, 1, b"q" * 500)], (1, 0, i)) for i in range(1, 30)] +
         [{"op": "close"}, {"op": "open", "snap_index": 0, "snap_term": 0}, {"op": "close"}]),
        ("release-lock-then-open", [workloads.create(b"a", 4096)] +
         [save([ent(i, 1, b"q" * 500)], (1, 0, i)) for i in range(1, 30)] +
         [{"op": "release_lock_to", "index": 25}, {"op": "close"}]),
    ]
    for name, ops in runs:
        d = os.path.join(t, "run-" + name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "w.jsonl")
        workloads.write_workload(path, ops)
        e, o = h.compare_run(name, workloads.Workload(name, ops), path, os.path.join(d, "etcd"),
                             os.path.join(d, "ours"))
        print("run  %-42s etcd=%s ours=%s" % (name, equiv.normalize("run", e), equiv.normalize("run", o)),
              flush=True)
        h.count("workloads")
    shutil.rmtree(t, ignore_errors=True)


# ---------------------------------------------------------------------------
# Random workloads with mutations.

def _mutations(seed, wl, d, trunc_step, all_trunc):
    """[(description, kind, apply(dst), snaps_extra)]: mutations of the WAL
    directory d (deterministic for the seed)."""
    rnd = random.Random(seed * 7919 + 17)
    names = tools.wal_names(d)
    if not names:
        return []
    out = []
    tail = names[-1]
    tail_data = tools.read_file(os.path.join(d, tail))
    end = walfmt.data_end(tail_data)

    def truncate(name, at):
        def f(dst):
            with open(os.path.join(dst, name), "r+b") as fh:
                fh.truncate(at)
        return f

    # Truncations at 8-byte boundaries of the last 4 KiB of the tail's data:
    # k = 0..511, cut at end - 8k. Each workload takes the k with
    # k = seed (mod step), about 512/step of them: any `step` consecutive
    # seeds cover all 512 (the generator makes tails longer than 4 KiB).
    step = 1 if all_trunc else trunc_step
    for k in range(seed % step, 512, step):
        at = end - 8 * k
        if at < 0:
            continue
        out.append(("truncate %s at %d (data end - %d)" % (tail, at, 8 * k), "truncate", truncate(tail, at), k))

    def weighted_file():
        sizes = [(n, walfmt.data_end(tools.read_file(os.path.join(d, n)))) for n in names]
        total = sum(s for _, s in sizes)
        if total == 0:
            return names[0], 0
        x = rnd.randrange(total)
        for n, s in sizes:
            if x < s:
                return n, s
            x -= s
        return sizes[-1]

    for i in range(2):
        name, size = weighted_file()
        if size == 0:
            continue
        off = rnd.randrange(size)
        mask = 1 << rnd.randrange(8) if i == 0 else rnd.randrange(1, 256)

        def flip(dst, name=name, off=off, mask=mask):
            p = os.path.join(dst, name)
            with open(p, "r+b") as fh:
                fh.seek(off)
                b = fh.read(1)
                fh.seek(off)
                fh.write(bytes([b[0] ^ mask]))
        out.append(("flip %s[%d] ^= 0x%02x" % (name, off, mask), "flip", flip, None))

    for _ in range(1):
        name, size = weighted_file()
        if size == 0:
            continue
        sector = rnd.randrange((size + 511) // 512) * 512

        def zero(dst, name=name, sector=sector):
            p = os.path.join(dst, name)
            n = min(512, os.path.getsize(p) - sector)
            with open(p, "r+b") as fh:
                fh.seek(sector)
                fh.write(b"\0" * n)
        out.append(("zero sector %s[%d:+512]" % (name, sector), "zero", zero, None))

    victim = rnd.choice(names)
    out.append(("remove %s" % victim, "remove", lambda dst, v=victim: os.remove(os.path.join(dst, v)), None))

    # A torn tail: zeros from an 8-byte boundary of the last 4 KiB to the data
    # end, file length kept (what a crash leaves in a preallocated file).
    at = max(0, end - 8 * rnd.randrange(1, 513))

    def tear(dst, at=at):
        p = os.path.join(dst, tail)
        with open(p, "r+b") as fh:
            fh.seek(at)
            fh.write(b"\0" * (end - at))
    out.append(("tear %s from %d to %d" % (tail, at, end), "tear", tear, None))
    return out


def test_random(h):
    a = h.args
    # Thousands of checks on fresh copies: the drivers serve them from
    # long-lived processes (tools.Driver.serve) instead of one process each.
    for drv in (h.etcd, h.ours, h.ours_etcd_rule):
        drv.serve = True
    single = os.environ.get("WAL_INTEROP_SEED")
    base = int(os.environ.get("WAL_INTEROP_BASE_SEED", "1"))
    all_trunc = os.environ.get("WAL_INTEROP_ALL_TRUNCATIONS") == "1"
    if single is not None:
        seeds = [int(single)] if a.shard == 0 else []
        if not seeds:
            print("interop: WAL_INTEROP_SEED=%s is run by shard 0 only" % single)
    else:
        per = (a.workloads + a.shards - 1) // a.shards
        seeds = list(range(base + a.shard * per, base + min(a.workloads, (a.shard + 1) * per)))
    covered = set()
    cov_lock = threading.Lock()

    def ours_for(seed):
        # Even seeds: our reader with etcd's torn-write rule (exact classes);
        # odd seeds: the library default (zero-tail rule, row E8).
        return h.ours_etcd_rule if seed % 2 == 0 else h.ours

    def label_of(seed, what):
        return "seed=%d%s %s" % (seed, " etcd-rule" if seed % 2 == 0 else "", what)

    def workload(seed):
        wl = workloads.random_workload(seed)
        t = h.tmpdir("rnd-%d" % seed)
        path = os.path.join(t, "w.jsonl")
        workloads.write_workload(path, wl.ops)
        ed, od = os.path.join(t, "etcd"), os.path.join(t, "ours")
        failed0 = h.failed
        e, _ = h.compare_run(label_of(seed, "run"), wl, path, ed, od)
        if not os.path.isdir(ed) or not tools.wal_names(ed):
            h.mismatch(label_of(seed, "run"), "etcd wrote no WAL", str(e))
            return t, wl, []
        if wl.closed and e.get("ok"):
            h.expect_model(label_of(seed, "we-write"), wl, od, "our")
        tools.remove_tmp_files(ed)
        scratch = os.path.join(t, "s-base")
        os.makedirs(scratch)
        h.compare_dir(label_of(seed, "unmutated"), ed, wl.read_snaps(), scratch, ours=ours_for(seed))
        h.count("workloads")
        if h.failed != failed0:
            print("  reproduce: WAL_INTEROP_SEED=%d %s" % (seed, _repro()), flush=True)
        return t, wl, _mutations(seed, wl, ed, a.truncation_step, all_trunc)

    def mutation(seed, t, wl, i, m):
        desc, kind, apply, k = m
        md = os.path.join(t, "m%d" % i)
        tools.copy_dir(os.path.join(t, "etcd"), md)
        apply(md)
        snap0 = wl.snaps[1] if wl.snaps[0] == (0, 0) and len(wl.snaps) > 1 and wl.snaps[1][0] >= 1 << 63 \
            else (0, 0)
        snaps = [snap0]
        if kind == "remove":
            extra = [s for s in wl.snaps if s != snap0]
            if extra:
                snaps.append(random.Random(seed + i).choice(extra))
        scratch = os.path.join(t, "s%d" % i)
        os.makedirs(scratch)
        failed0 = h.failed
        h.compare_dir(label_of(seed, desc), md, snaps, scratch, ours=ours_for(seed))
        if h.failed != failed0:
            print("  reproduce: WAL_INTEROP_SEED=%d %s" % (seed, _repro()), flush=True)
        h.count("mutations")
        h.count("mutations:" + kind)
        if k is not None:
            with cov_lock:
                covered.add(k)
        shutil.rmtree(md, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)

    def whole(seed):
        # One workload and its mutations, sequentially: workloads run in
        # parallel (--jobs).
        t, wl, muts = workload(seed)
        for i, m in enumerate(muts):
            mutation(seed, t, wl, i, m)
        shutil.rmtree(t, ignore_errors=True)

    _for_each(h, seeds, whole)
    if seeds:
        print("interop: seeds %d..%d; truncation offsets (data end - 8k, k=0..511) covered: %d/512"
              % (seeds[0], seeds[-1], len(covered)))


def _repro():
    return "python3 %s --etcdwal %s --ours %s random" % (
        os.path.abspath(__file__), ARGS.etcdwal, ARGS.ours) if ARGS else ""


# ---------------------------------------------------------------------------
# walctl against the library it reads through (pylib/walctl.py), on logs
# etcd wrote.

def _walctl_checks(h):
    if not h.args.walctl or not os.access(h.args.walctl, os.X_OK):
        raise tools.Fatal("interop: walctl not built (--walctl %s)" % h.args.walctl)
    return walctl.Checks(h, walctl.Walctl(os.path.abspath(h.args.walctl)), h.ours)


def _etcd_run(h, t, name, ops, d):
    path = os.path.join(t, name + ".jsonl")
    workloads.write_workload(path, ops)
    r = h.etcd.run(path, d)
    if not r.get("ok"):
        raise tools.Fatal("etcdwal run %s: %s" % (name, r))
    tools.remove_tmp_files(d)
    return r


def headless_tail_log(h, t):
    """etcd's own code builds the headless tail: it writes three segments,
    the last one is torn inside its head (a crash), etcd's Repair cuts that
    segment to nothing (keeping <seg>.broken), and etcd's Open + ReadAll +
    Save append to it: the last segment starts with an entry record whose
    CRC chains from the previous segment, with no crc/metadata record.
    Returns (dir, last segment name, first index appended there, its
    bytes, the snapshot saved)."""
    d = os.path.join(t, "headless")
    ops = [workloads.create(b"headless-md", 16384)]
    rnd = random.Random(12)
    idx = 0
    for i in range(14):
        es = [ent(idx + k + 1, 1, rnd.randbytes(rnd.randint(200, 900))) for k in range(5)]
        idx += 5
        ops.append(save(es, (1, 1, idx)))
        if i == 6:
            snap = (idx - 2, 1)
            ops.append({"op": "snapshot", "index": snap[0], "term": snap[1]})
    ops.append({"op": "close"})
    _etcd_run(h, t, "write", ops, d)
    names = tools.wal_names(d)
    if len(names) < 2:
        raise tools.Fatal("headless: etcd wrote %s, want >= 2 segments" % names)
    last = names[-1]
    with open(os.path.join(d, last), "r+b") as f:
        f.truncate(5)  # torn inside the length word of its crc record
    r = h.etcd.repair(d)
    size = os.path.getsize(os.path.join(d, last))
    if not r.get("repaired") or size != 0 or not os.path.exists(os.path.join(d, last + ".broken")):
        raise tools.Fatal("headless: etcd repair gave %s, %s is %d bytes" % (r, last, size))
    first = idx + 1
    es = [ent(first + k, 2, rnd.randbytes(rnd.randint(200, 900))) for k in range(4)]
    es2 = [ent(first + 4 + k, 2, rnd.randbytes(rnd.randint(200, 900))) for k in range(3)]
    _etcd_run(h, t, "append", [{"op": "open", "snap_index": 0, "snap_term": 0, "segment_size": 16384},
                               save(es, (2, 1, first + 3)), save(es2, (2, 1, first + 6)), {"op": "close"}], d)
    if tools.wal_names(d) != names:
        raise tools.Fatal("headless: etcd's append cut a new segment: %s" % tools.wal_names(d))
    data = tools.read_file(os.path.join(d, last))
    if data[8:10] != b"\x08\x02":  # walpb.Record field 1 (type) = 2, entryType
        raise tools.Fatal("headless: %s does not start with an entry record" % last)
    return d, last, first, data, snap


def test_walctl_headless(h):
    wc = _walctl_checks(h)
    h.ours.serve = True
    t = h.tmpdir("headless")
    d, last, first, data, snap = headless_tail_log(h, t)
    end = walfmt.data_end(data)
    frames = list(walfmt.frames(data))
    print("interop: headless tail: %s holds %d bytes, %d frames, entries from %d; etcd: verify=%s repair=%s"
          % (last, len(data), len(frames), first, h.etcd.verify(d, (0, 0)),
             h.etcd.repair(_copy(d, os.path.join(t, "etcd-repair")))), flush=True)

    def variant(name, fn):
        v = os.path.join(t, name)
        tools.copy_dir(d, v)
        fn(os.path.join(v, last))
        return v

    def no_broken(p):
        os.remove(p + ".broken")

    def truncate(at, drop_broken=True):
        def f(p):
            if drop_broken:
                no_broken(p)
            with open(p, "r+b") as fh:
                fh.truncate(at)
        return f

    def zero_from(at):
        def f(p):
            no_broken(p)
            with open(p, "r+b") as fh:
                fh.seek(at)
                fh.write(b"\0" * (end - at))
        return f

    def flip(off):
        def f(p):
            no_broken(p)
            with open(p, "r+b") as fh:
                fh.seek(off)
                b = fh.read(1)
                fh.seek(off)
                fh.write(bytes([b[0] ^ 0x01]))
        return f

    second = frames[1][0]
    last_frame = frames[-1][0]
    cases = [
        ("as-etcd-left-it", lambda p: None, walctl.OK),
        ("without-etcd-broken-copy", no_broken, walctl.OK),
        ("torn-last-record", truncate(last_frame + 11), walctl.REPAIRABLE),
        ("torn-last-record-etcd-broken-kept", truncate(last_frame + 11, drop_broken=False), walctl.REPAIRABLE),
        ("torn-first-record", truncate(13), walctl.REPAIRABLE),
        ("zeros-from-second-record", zero_from(second), None),
        ("flipped-bit-in-first-entry", flip(20), walctl.NOT_REPAIRABLE),
    ]
    for name, fn, want in cases:
        v = variant(name, fn)
        scratch = os.path.join(t, "s-" + name)
        os.makedirs(scratch)
        verdicts = wc.repair_agreement("headless " + name, v, scratch, want=want)
        print("interop: headless %s: %s" % (name, verdicts["library"]), flush=True)
        for s in ((0, 0), snap):
            wc.dump_equals_readall("headless " + name, v, s)
            wc.verify_not_looser("headless " + name, v, s)
        h.count("workloads")
    if h.failed == 0 and not h.args.keep:
        shutil.rmtree(t, ignore_errors=True)


def _copy(src, dst):
    tools.copy_dir(src, dst)
    return dst


def test_walctl_random(h):
    a = h.args
    wc = _walctl_checks(h)
    for drv in (h.etcd, h.ours):
        drv.serve = True
    single = os.environ.get("WAL_INTEROP_SEED")
    base = int(os.environ.get("WAL_INTEROP_BASE_SEED", "1"))
    seeds = [int(single)] if single is not None else list(range(base, base + a.workloads))
    if single is None and a.also_seeds:
        seeds += [int(x) for x in a.also_seeds.split(",") if int(x) not in seeds]
    print("interop: walctl-random seeds %s (WAL_INTEROP_SEED=S for one, WAL_INTEROP_BASE_SEED=B to shift)"
          % ("%d..%d" % (seeds[0], seeds[-1]) if seeds == list(range(seeds[0], seeds[-1] + 1))
             else ",".join(map(str, seeds))), flush=True)

    def check_dir(seed, label, d, snaps, scratch):
        failed0 = wc.failures()
        os.makedirs(scratch, exist_ok=True)
        wc.repair_agreement(label, d, scratch, require_same_verdict=False, snap=snaps[0])
        for snap in snaps:
            wc.verify_not_looser(label, d, snap)
            wc.dump_equals_readall(label, d, snap)
        if wc.failures() != failed0:
            print("  reproduce: WAL_INTEROP_SEED=%d %s" % (seed, _walctl_repro()), flush=True)

    def whole(seed):
        wl = workloads.random_workload(seed)
        t = h.tmpdir("wrnd-%d" % seed)
        path = os.path.join(t, "w.jsonl")
        workloads.write_workload(path, wl.ops)
        ed = os.path.join(t, "etcd")
        e = h.etcd.run(path, ed)
        if not os.path.isdir(ed) or not tools.wal_names(ed):
            # a workload etcd refuses to start is no WAL to compare
            h.count("workloads without a WAL")
            shutil.rmtree(t, ignore_errors=True)
            return
        tools.remove_tmp_files(ed)
        snaps = wl.read_snaps()
        if len(wl.snaps) > 1 and wl.snaps[1][0] >= 1 << 63:
            snaps = [wl.snaps[1]] + [s for s in snaps if s != wl.snaps[1]]  # the log starts far up
        check_dir(seed, "seed=%d unmutated" % seed, ed, snaps, os.path.join(t, "s-base"))
        h.count("workloads")
        for i, (desc, kind, apply, _) in enumerate(_mutations(seed, wl, ed, a.truncation_step, False)):
            md = os.path.join(t, "m%d" % i)
            tools.copy_dir(ed, md)
            apply(md)
            snap0 = wl.snaps[1] if wl.snaps[0] == (0, 0) and len(wl.snaps) > 1 and wl.snaps[1][0] >= 1 << 63 \
                else (0, 0)
            snaps = [snap0]
            extra = [s for s in wl.snaps if s != snap0]
            if extra:
                snaps.append(random.Random(seed + i).choice(extra))
            check_dir(seed, "seed=%d %s" % (seed, desc), md, snaps, os.path.join(t, "s%d" % i))
            h.count("mutations")
            h.count("mutations:" + kind)
            shutil.rmtree(md, ignore_errors=True)
            shutil.rmtree(os.path.join(t, "s%d" % i), ignore_errors=True)
        shutil.rmtree(t, ignore_errors=True)

    _for_each(h, seeds, whole)


def _walctl_repro():
    return "python3 %s --etcdwal %s --ours %s --walctl %s walctl-random" % (
        os.path.abspath(__file__), ARGS.etcdwal, ARGS.ours, ARGS.walctl) if ARGS else ""


# ---------------------------------------------------------------------------
# A real etcd server.

def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def _die_with_parent():
    # PR_SET_PDEATHSIG = 1: the server gets SIGKILL if this driver dies.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def test_etcd_server(h):
    etcd_bin, etcdctl = shutil.which("etcd"), shutil.which("etcdctl")
    if not etcd_bin or not etcdctl:
        raise tools.Fatal("interop: etcd server or etcdctl missing; install: " + tools.DEPS_HINT)
    t = h.tmpdir("server")
    data = os.path.join(t, "data")
    pc, pp = _free_port(), _free_port()
    while pp == pc:
        pp = _free_port()
    client = "http://127.0.0.1:%d" % pc
    peer = "http://127.0.0.1:%d" % pp
    log = open(os.path.join(t, "etcd.log"), "wb")
    cmd = [etcd_bin, "--name", "interop", "--data-dir", data,
           "--listen-client-urls", client, "--advertise-client-urls", client,
           "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
           "--initial-cluster", "interop=" + peer, "--initial-cluster-state", "new",
           "--snapshot-count", "100", "--logger", "zap", "--log-outputs", "stderr"]
    env = dict(os.environ, ETCDCTL_API="3")
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, preexec_fn=_die_with_parent)
    print("etcd server pid %d on %s (peer %s), data dir %s" % (proc.pid, client, peer, data), flush=True)

    def ctl(*args, timeout=20):
        return subprocess.run([etcdctl, "--endpoints", client, "--command-timeout=10s"] + list(args),
                              env=env, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def stop():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()

    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise tools.Fatal("etcd exited early (%s); log: %s" % (proc.returncode, _tail(t)))
            r = ctl("endpoint", "health", timeout=15)
            if r.returncode == 0:
                break
            if time.time() > deadline:
                raise tools.Fatal("etcd did not become healthy in 60 s: %s; log: %s" % (r.stderr, _tail(t)))
            time.sleep(0.3)
        rnd = random.Random(99)
        n_keys = 300
        for i in range(n_keys):
            val = "v%d-%s" % (i, "x" * rnd.choice([0, 10, 100, 2000, 60000]))
            r = ctl("put", "key-%04d" % (i % 250), val)
            if r.returncode != 0:
                raise tools.Fatal("etcdctl put failed: %s" % r.stderr)
        # other kinds of raft entries: deletes, a lease, a compaction
        for i in range(0, 20):
            ctl("del", "key-%04d" % i)
        ctl("lease", "grant", "600")
        ctl("compaction", "100")
    finally:
        stop()
    print("etcd server stopped (exit %s)" % proc.returncode, flush=True)

    wal = os.path.join(data, "member", "wal")
    names = tools.wal_names(wal)
    if not names:
        raise tools.Fatal("no WAL in %s" % wal)
    vs_e = h.etcd.valid_snapshots(wal)
    vs_o = h.ours.valid_snapshots(wal)
    snaps = [(0, 0)] + [(s["index"], s["term"]) for s in vs_e["snapshots"] if (s["index"], s["term"]) != (0, 0)]
    print("server WAL: %s; valid snapshots (etcd): %s; ours: %s" % (names, vs_e["snapshots"], vs_o["snapshots"]))
    e = h.etcd.read(wal, "read", (0, 0))
    o = h.ours.read(wal, "read", (0, 0))
    print("etcd read: %d entries, hard state %s, metadata %s; ours: %d entries, hard state %s" % (
        len(e["entries"]), e["hard_state"], e["metadata"], len(o["entries"]), o["hard_state"]))
    if len(e["entries"]) < n_keys or equiv.err_class(e) is not None:
        h.mismatch("etcd-server", "etcd's own read", "expected >= %d entries, got %d (%s)"
                   % (n_keys, len(e["entries"]), e["error"]))
    h.compare_dir("etcd-server", wal, snaps[:4], t)
    h.count("workloads")
    shutil.rmtree(t, ignore_errors=True)


def _tail(t):
    try:
        with open(os.path.join(t, "etcd.log"), "rb") as f:
            return f.read()[-1500:].decode("utf-8", "replace")
    except OSError:
        return ""


# ---------------------------------------------------------------------------

TESTS = {
    "etcd-writes": test_etcd_writes,
    "we-write": test_we_write,
    "same-bytes": test_same_bytes,
    "edge-cases": test_edge_cases,
    "random": test_random,
    "etcd-server": test_etcd_server,
    "walctl-headless": test_walctl_headless,
    "walctl-random": test_walctl_random,
}

ARGS = None


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--etcdwal", required=True)
    p.add_argument("--ours", required=True)
    p.add_argument("--walctl", help="the walctl binary (walctl-headless, walctl-random)")
    p.add_argument("--build-sh")
    p.add_argument("--gocache")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "wal-interop"))
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("test", choices=sorted(TESTS))
    p.add_argument("--workloads", type=int, default=200)
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--truncation-step", type=int, default=50)
    p.add_argument("--also-seeds", default="", help="walctl-random: comma-separated seeds run as well")
    args = p.parse_args()
    ARGS = args
    name = args.test if args.test != "random" else "random shard %d/%d" % (args.shard, args.shards)
    args.work_dir = os.path.join(args.work_dir, args.test + ("-%d" % args.shard if args.test == "random" else ""))
    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir, exist_ok=True)
    start = time.time()
    h = None
    try:
        args.etcdwal = tools.ensure_etcdwal(os.path.abspath(args.etcdwal), args.build_sh, args.gocache)
        if not os.access(args.ours, os.X_OK):
            raise tools.Fatal("interop: %s (wal_interop) not built" % args.ours)
        h = Harness(args)
        TESTS[args.test](h)
    except tools.Fatal as e:
        print("interop: FATAL: %s" % e, flush=True)
        if h is not None:
            h.close_drivers()
        print("interop[%s]: 0 passed, 1 failed" % name)
        print("interop: 0 passed, 1 failed")
        return 1
    h.close_drivers()
    secs = time.time() - start
    c = h.counts
    muts = ", ".join("%d %s" % (c[k], k.split(":")[1]) for k in sorted(c) if k.startswith("mutations:"))
    extra = ["%s: %d" % (k, c[k]) for k in sorted(c) if k != "workloads" and not k.startswith("mutations")]
    if extra:
        print("interop: " + "; ".join(extra))
    print("interop[%s]: %d workloads, %d mutations%s; %.1f s" % (
        name, c["workloads"], c["mutations"], (" (%s)" % muts) if muts else "", secs))
    if h.rules:
        print("interop: equivalence rows used: " + ", ".join("%s x%d" % kv for kv in sorted(h.rules.items())))
    print("interop: %d passed, %d failed" % (h.passed, h.failed))
    if not args.keep and h.failed == 0:
        shutil.rmtree(args.work_dir, ignore_errors=True)
    if h.passed == 0:
        print("interop: no check ran: a test that checks nothing fails", flush=True)
        return 1
    return 0 if h.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
