"""Comparing etcd's answers with ours, and the table of known, deliberate
differences (doc/compatibility.md, "Equivalence table").

A difference is accepted only through a named row of EQUIVALENCES, and most
rows must be *confirmed* by re-running etcd on a reference copy of the
directory (cut at the offset our error names), so that a row can never hide
a reader that stops at a different record than etcd's.
"""

import os
import re
import shutil
import threading

from . import tools, walfmt

# Row id -> description. Tests count how often each row was used.
EQUIVALENCES = {
    "E1-snapshot-not-found-data":
        "read --mode read, SnapshotNotFound on both sides: etcd returns the data read together with the error, "
        "our ReadAll cannot (Result<T> holds a value or an error); only the classes are compared.",
    "E2-payload-panic":
        "etcd Panic ('pbutil: unmarshal should never fail') <-> our Corruption for an entry/state/snapshot record "
        "whose CRC is right but whose payload does not decode. Confirmed: etcd accepts everything before our "
        "offset and panics on the copy cut just after that record.",
    "E3-unexpected-block-type":
        "etcd UnexpectedBlockType ('unexpected block type N') <-> our Corruption with the same N. Confirmed as E2.",
    "E4-record-proto-error":
        "etcd Other (a 'proto: ...' error from gogo's Record.Unmarshal) <-> our Corruption (malformed "
        "walpb.Record). Confirmed as E2.",
    "E5-torn-vs-corruption":
        "etcd treats as a torn tail (io.ErrUnexpectedEOF: tolerated by read mode, Verify and "
        "ValidSnapshotEntries, repaired by Repair) a frame that runs past the end of a NON-last file, a partial "
        "length word in a non-last file, and a walpb.Record whose protobuf is cut short (anywhere); we report "
        "Corruption, because truncating there would drop later segments or acknowledged records. Confirmed: "
        "etcd's answer equals its answer on a copy that ends exactly at our offset.",
    "E6-max-entry-size":
        "etcd v3.4 rejects a length word >= 10 MiB - pad with MaxEntrySizeExceeded (not tolerated, not "
        "repairable); we bound a record by the bytes left in the file, so in the last file it is a torn tail "
        "(UnexpectedEof: tolerated in read mode, repaired by Repair, as etcd >= v3.5.7 does) and in a "
        "non-last file Corruption. Confirmed: the first over-limit length word is at our offset, and our "
        "tolerant answers equal etcd's on a copy that ends there.",
    "E8-damaged-last-record":
        "a record in the LAST segment that fails to decode (CRC mismatch, or a walpb.Record that does not parse) "
        "and is followed, from the next 512-byte boundary after its frame, only by zeros: etcd v3.4 calls it "
        "corruption (CrcMismatch / Other), we call it a torn write (UnexpectedEof: tolerated by read mode, "
        "Verify and ValidSnapshotEntries, cut off by Repair), since nothing was ever written after it. "
        "Confirmed: the zeros, etcd failing exactly at that record, and our tolerant answers equal etcd's on a "
        "copy that ends there.",
    "E9-use-after-close":
        "an op on a closed WAL (a Save after Close, a second Close): etcd v3.4 touches the closed file and fails "
        "with an os error (Other: 'file already closed', 'bad file descriptor'); we refuse with "
        "FailedPrecondition ('wal: closed') and a second Close is a no-op returning OK.",
    "E11-overwrite-below-snapshot":
        "an entry record at or below the snapshot index after entries above it (a raft overwrite from below the "
        "snapshot): etcd v3.4 skips the record and returns the stale entries above it (etcd-io/etcd#22442); we "
        "drop everything collected at >= its index. Confirmed: our entries are a strict prefix of etcd's and "
        "equal an independent replay of the record stream with raft's rules (walfmt.raft_replay).",
    "E12-term-below-snapshot-or-predecessor":
        "entries after the snapshot whose term is below the snapshot's or a preceding entry's (a snapshot "
        "installed over a divergent log): etcd returns them, we cut the result before the first one. Confirmed "
        "as E11.",
    "E7-missing-directory":
        "a WAL directory that does not exist: etcd Other ('open DIR: no such file or directory') <-> our "
        "FileNotFound.",
}

_LOC_RE = re.compile(r"in ([0-9a-f]{16}-[0-9a-f]{16}\.wal) at offset (\d+)")


def err_class(out):
    e = out.get("error") if isinstance(out, dict) else None
    return e["class"] if e else None


def err_msg(out):
    e = out.get("error") if isinstance(out, dict) else None
    return e["message"] if e else ""


def normalize(kind, out):
    """The comparable part of an output: the data and the error *class*."""
    if kind in ("read-read", "read-write"):
        return {"metadata": out["metadata"], "hard_state": out["hard_state"], "entries": out["entries"],
                "error": err_class(out)}
    if kind == "verify":
        return {"error": err_class(out)}
    if kind == "valid-snapshots":
        return {"snapshots": out["snapshots"], "error": err_class(out)}
    if kind == "repair":
        return {"repaired": out["repaired"]}
    if kind == "run":
        return {"ok": out["ok"], "op_index": out.get("op_index"), "error": err_class(out)}
    raise ValueError(kind)


def our_location(out):
    """(segment, offset) named by our error message, or None."""
    m = _LOC_RE.findall(err_msg(out))
    if not m:
        return None
    seg, off = m[-1]
    return seg, int(off)


def same_answer(kind, etcd_out, our_out):
    """Equal data and class; for read-read with SnapshotNotFound on both
    sides only the class (row E1)."""
    if kind == "read-read" and err_class(etcd_out) == err_class(our_out) == "SnapshotNotFound":
        return True
    return normalize(kind, etcd_out) == normalize(kind, our_out)


def short(out, limit=600):
    s = repr(out)
    return s if len(s) <= limit else s[:limit] + "..."


class Verdict:
    def __init__(self, ok, rule=None, detail=""):
        self.ok = ok
        self.rule = rule  # None = equal; else an EQUIVALENCES key
        self.detail = detail


_FRAME_MSGS = ("exceeds the", "partial length word", "file ended while reading")
_RECORD_MSG = "malformed walpb.Record"
_PAYLOAD_MSGS = ("malformed raftpb.Entry", "malformed raftpb.HardState", "malformed walpb.Snapshot")

TOLERANT = ("read-read", "verify", "valid-snapshots")


class Context:
    """One directory (never modified) compared at one snapshot. Makes
    reference copies for the confirmations."""

    _counter = 0
    _lock = threading.Lock()

    def __init__(self, etcd, ours, dir_, snap, scratch, zero_tail=True):
        self.etcd = etcd
        self.ours = ours
        # ours runs with TornWriteRule::kZeroTail (the library default): row
        # E8 may apply. With kEtcd it must not.
        self.zero_tail = zero_tail
        self.dir = dir_
        self.snap = snap
        self.scratch = scratch

    def _tmp(self, tag):
        with Context._lock:
            Context._counter += 1
            n = Context._counter
        return os.path.join(self.scratch, "ref-%d-%s" % (n, tag))

    def selected(self, kind):
        """Names of the files the reader of `kind` reads, in order."""
        names = [n for n in tools.wal_names(self.dir) if walfmt.parse_seg_name(n)]
        if kind == "valid-snapshots" or not names:
            return names
        start = None
        for i, n in enumerate(names):
            if walfmt.parse_seg_name(n)[1] <= self.snap[0]:
                start = i
        return names[start:] if start is not None else []

    def ref_copy(self, loc, include_frame, keep_next=False):
        """A copy of dir that ends at loc=(seg, off): later segments removed,
        seg cut at off (or just after the frame at off if include_frame).
        keep_next keeps the segment after seg, so that seg stays a non-last
        file (etcd's torn-write check applies to the last file only)."""
        seg, off = loc
        dst = self._tmp("cut")
        tools.copy_dir(self.dir, dst)
        later = [n for n in tools.wal_names(dst) if n > seg]
        for n in later[1:] if keep_next else later:
            os.remove(os.path.join(dst, n))
        p = os.path.join(dst, seg)
        cut = off
        if include_frame:
            data = tools.read_file(p)
            h = walfmt.header_at(data, off)
            cut = len(data) if h is None else min(len(data), off + 8 + h[0] + h[1])
        with open(p, "r+b") as f:
            f.truncate(cut)
        return dst

    def etcd_on(self, kind, d):
        """etcd's answer on d (on a private copy if the command writes)."""
        if kind in ("read-write", "repair"):
            c = self._tmp("w")
            tools.copy_dir(d, c)
            try:
                return self.etcd.command(kind, c, self.snap)
            finally:
                shutil.rmtree(c, ignore_errors=True)
        return self.etcd.command(kind, d, self.snap)

    def cleanup_ref(self, d):
        shutil.rmtree(d, ignore_errors=True)

    # -- confirmations ------------------------------------------------------

    def confirm_stops_at(self, kind, loc, etcd_cls):
        """etcd accepts everything before loc and fails with etcd_cls on the
        copy that ends just after the record at loc. If loc is not in the
        last file, the next file is kept (so the torn-write rule does not
        start to apply); etcd then reaches it and may only fail on its crc
        record (wal.ErrCRCMismatch, "wal: crc mismatch")."""
        sel = self.selected(kind)
        keep_next = bool(sel) and loc[0] != sel[-1]
        before = self.ref_copy(loc, False, keep_next)
        with_rec = self.ref_copy(loc, True, keep_next)
        try:
            k = "read-read" if kind == "read-write" else kind
            b = self.etcd_on(k, before)
            w = self.etcd_on(kind, with_rec)
            okb = err_class(b) in (None, "SnapshotNotFound") or (
                keep_next and err_class(b) == "CrcMismatch" and err_msg(b) == "wal: crc mismatch")
            okw = err_class(w) == etcd_cls
            return okb and okw, "etcd before=%s with=%s" % (err_class(b), err_class(w))
        finally:
            self.cleanup_ref(before)
            self.cleanup_ref(with_rec)

    def confirm_torn_at(self, kind, loc, e_out):
        """etcd's (tolerant) answer equals its answer on the copy ending at loc."""
        before = self.ref_copy(loc, False)
        try:
            k = "read-read" if kind == "read-write" else kind
            ref = self.etcd_on(k, before)
            orig = e_out if k == kind else self.etcd_on(k, self.dir)
            return normalize(k, ref) == normalize(k, orig), "etcd on cut copy: %s" % short(normalize(k, ref))
        finally:
            self.cleanup_ref(before)

    def zeros_after_frame(self, loc):
        """True if, in the file of loc, only zeros follow the 512-byte sector
        in which the frame at loc ends (our torn-write rule)."""
        seg, off = loc
        data = tools.read_file(os.path.join(self.dir, seg))
        h = walfmt.header_at(data, off)
        if h is None:
            return False
        end = min(len(data), off + 8 + h[0] + h[1])
        start = (end + 511) // 512 * 512
        return not any(data[start:])

    def our_torn_location(self):
        """Where our Repair would cut the last segment (None if it would not)."""
        c = self._tmp("our-repair")
        tools.copy_dir(self.dir, c)
        try:
            names = tools.wal_names(c)
            if not names:
                return None
            before = os.path.getsize(os.path.join(c, names[-1]))
            r = self.ours.repair(c)
            after = os.path.getsize(os.path.join(c, names[-1]))
            if not r["repaired"] or after == before:
                return None
            return names[-1], after
        finally:
            shutil.rmtree(c, ignore_errors=True)

    def confirm_damaged_last_record(self, kind, e, o, etcd_cls, loc):
        """Row E8. Returns a Verdict, or None if the row does not apply."""
        if loc is None:
            loc = self.our_torn_location()
        if loc is None:
            return None
        sel = self.selected(kind)
        if not sel or loc[0] != sel[-1]:
            return None
        if not self.zeros_after_frame(loc):
            return Verdict(False, "E8-damaged-last-record", "bytes other than zeros follow %s" % (loc,))
        ok, why = self.confirm_stops_at(kind, loc, etcd_cls)
        if not ok:
            return Verdict(False, "E8-damaged-last-record", why)
        if kind in TOLERANT:
            before = self.ref_copy(loc, False)
            try:
                ref = self.etcd_on(kind, before)
            finally:
                self.cleanup_ref(before)
            ok = same_answer(kind, ref, o)
            return Verdict(ok, "E8-damaged-last-record", "etcd on cut copy: %s" % short(normalize(kind, ref)))
        return Verdict(True, "E8-damaged-last-record", "at %s" % (loc,))

    # -- the table ------------------------------------------------------------

    def confirm_raft_rules(self, kind, etcd_ents, our_ents):
        """Rows E11/E12: ours is what raft's rules make of the record stream,
        and etcd's differs only by the stale entries after it."""
        if len(our_ents) >= len(etcd_ents) or etcd_ents[:len(our_ents)] != our_ents:
            return None
        datas = [(n, tools.read_file(os.path.join(self.dir, n))) for n in self.selected(kind)]
        try:
            want = walfmt.raft_replay(datas, self.snap)
        except ValueError:
            return None
        if want is None or want != [(e["index"], e["term"]) for e in our_ents]:
            return None
        first_dropped = etcd_ents[len(our_ents)]
        # E11 when the overwrite rule alone explains it, else E12.
        rule = "E11-overwrite-below-snapshot" if walfmt.raft_replay(datas, self.snap, term_rule=False) == want \
            else "E12-term-below-snapshot-or-predecessor"
        return Verdict(True, rule, "etcd returns %d stale entries from index %d" %
                       (len(etcd_ents) - len(our_ents), first_dropped["index"]))

    def compare(self, kind, e, o):
        ne, no = normalize(kind, e), normalize(kind, o)
        if ne == no:
            return Verdict(True)
        ec, oc = err_class(e), err_class(o)
        em, om = err_msg(e), err_msg(o)
        loc = our_location(o)

        if kind == "read-read" and ec == oc == "SnapshotNotFound":
            return Verdict(True, "E1-snapshot-not-found-data")

        if kind in ("read-read", "read-write") and ec == oc and ec in (None, "UnexpectedEof") \
                and (ne["metadata"], ne["hard_state"]) == (no["metadata"], no["hard_state"]):
            v = self.confirm_raft_rules(kind, ne["entries"], no["entries"])
            if v is not None:
                return v

        if ec == "Other" and oc == "FileNotFound" and not os.path.exists(self.dir) \
                and "no such file or directory" in em:
            return Verdict(True, "E7-missing-directory")

        if ec == "MaxEntrySizeExceeded":
            sel = self.selected(kind)
            datas = [(n, tools.read_file(os.path.join(self.dir, n))) for n in sel]
            huge = walfmt.first_huge_frame(datas)
            if huge is None:
                return Verdict(False, "E6-max-entry-size", "no over-limit length word found")
            last = huge[0] == sel[-1]
            if last and kind in TOLERANT:
                before = self.ref_copy(huge, False)
                try:
                    ref = self.etcd_on(kind, before)
                finally:
                    self.cleanup_ref(before)
                ok = same_answer(kind, ref, o)
                return Verdict(ok, "E6-max-entry-size", "etcd on cut copy: %s" % short(normalize(kind, ref)))
            want = "UnexpectedEof" if last else "Corruption"
            ok = oc == want and loc == huge
            return Verdict(ok, "E6-max-entry-size", "want ours %s at %s, got %s at %s" % (want, huge, oc, loc))

        if self.zero_tail and ec in ("CrcMismatch", "Other") and (oc in (None, "SnapshotNotFound") or
                                                (oc == "UnexpectedEof" and "torn" in om)):
            if ec == "Other" and not em.startswith("proto:"):
                return Verdict(False, None, "")
            v = self.confirm_damaged_last_record(kind, e, o, ec, loc if oc == "UnexpectedEof" else None)
            if v is not None:
                return v

        if oc == "Corruption" and loc is not None:
            if ec == "Panic" and "unmarshal should never fail" in em and any(m in om for m in _PAYLOAD_MSGS):
                ok, why = self.confirm_stops_at(kind, loc, "Panic")
                return Verdict(ok, "E2-payload-panic", why)
            m1 = re.search(r"unexpected block type (-?\d+)", em)
            m2 = re.search(r"unexpected block type (-?\d+)", om)
            if ec == "UnexpectedBlockType" and m1 and m2 and m1.group(1) == m2.group(1):
                ok, why = self.confirm_stops_at(kind, loc, "UnexpectedBlockType")
                return Verdict(ok, "E3-unexpected-block-type", why)
            if ec == "Other" and em.startswith("proto:") and _RECORD_MSG in om:
                ok, why = self.confirm_stops_at(kind, loc, "Other")
                return Verdict(ok, "E4-record-proto-error", why)
            structural = any(m in om for m in _FRAME_MSGS) or _RECORD_MSG in om
            if structural and (ec == "UnexpectedEof" or kind in TOLERANT):
                if kind == "read-write" and ec != "UnexpectedEof":
                    return Verdict(False, "E5-torn-vs-corruption", "etcd class %s" % ec)
                ok, why = self.confirm_torn_at(kind, loc, e)
                return Verdict(ok, "E5-torn-vs-corruption", why)

        return Verdict(False, None, "")

    def compare_repair(self, e, o, e_dir, o_dir):
        """Repair outputs and what it left behind (each side repaired its own
        copy of self.dir)."""
        orig = tools.dir_state(self.dir)
        es, os_ = tools.dir_state(e_dir), tools.dir_state(o_dir)
        # Repair's backup is <name>.broken; etcd v3.4 creates it 0666&~umask,
        # we 0600: only names and bytes are compared.
        if e["repaired"] == o["repaired"] and es == os_:
            return Verdict(True)
        names = tools.wal_names(self.dir)
        if not names:
            return Verdict(False, None, "repair differs on a dir without segments")
        last = names[-1]
        data = tools.read_file(os.path.join(self.dir, last))

        def cut_state(at):
            d = self._tmp("rep")
            tools.copy_dir(self.dir, d)
            with open(os.path.join(d, last + ".broken"), "wb") as f:
                f.write(data)
            with open(os.path.join(d, last), "r+b") as f:
                f.truncate(at)
            st = tools.dir_state(d)
            shutil.rmtree(d, ignore_errors=True)
            return st

        if e["repaired"] and not o["repaired"] and os_ == orig and es != orig:
            # E5: etcd cut a record whose protobuf is cut short; we refuse.
            at = os.path.getsize(os.path.join(e_dir, last))
            h = walfmt.header_at(data, at)
            if h and es == cut_state(at) and at + 8 + h[0] <= len(data):
                kind = walfmt.proto_walk(data[at + 8:at + 8 + h[0]])
                if kind == "truncated":
                    return Verdict(True, "E5-torn-vs-corruption", "etcd repaired at %d" % at)
            return Verdict(False, "E5-torn-vs-corruption", "etcd repaired at %d, not confirmed" % at)
        if o["repaired"] and not e["repaired"] and es == orig and os_ != orig:
            # E6: we cut an over-limit length word in the last file; etcd refuses.
            at = os.path.getsize(os.path.join(o_dir, last))
            h = walfmt.header_at(data, at)
            if h and h[0] >= walfmt.MAX_RECORD_V34 - h[1] and os_ == cut_state(at):
                return Verdict(True, "E6-max-entry-size", "we repaired at %d" % at)
            if h and self.zero_tail and self.zeros_after_frame((last, at)) and os_ == cut_state(at):
                # E8: a damaged record followed only by zeros: we cut it, etcd
                # refuses. Confirm etcd's Repair fails exactly there.
                with_rec = self.ref_copy((last, at), True)
                try:
                    r = self.etcd_on("repair", with_rec)
                finally:
                    self.cleanup_ref(with_rec)
                if not r["repaired"]:
                    return Verdict(True, "E8-damaged-last-record", "we repaired at %d" % at)
            return Verdict(False, "E6-max-entry-size/E8-damaged-last-record",
                           "we repaired at %d, not confirmed" % at)
        return Verdict(False, None, tools.diff_states(es, os_))
