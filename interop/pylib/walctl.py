"""walctl (tools/, the command-line tool) against the library it reads
through (wal_interop: wal::Verify, wal::Repair, WAL::ReadAll): running it,
parsing what it prints, and the agreement checks of the walctl-headless and
walctl-random tests (interop_test.py). Stdlib only.

walctl's contract (tools/README.md): exit 0 ok; 1 usage; 2 corruption (not
repairable); 3 I/O error; 4 locked; 5 no such path; 6 not a WAL directory;
7 no usable snapshot; 8 a torn tail (repairable). The checks pass snapshot
flags always, {0,0} included: without them walctl starts where etcd would. `verify` says
"verdict: torn tail (repairable ...)" or "verdict: corruption in synced data
(not repairable)"; `repair [--dry-run]` says "nothing to repair", "(would)
cut at offset N" or "not repairable".
"""

import base64
import json
import os
import re
import subprocess
import threading

from . import tools

OK, REPAIRABLE, NOT_REPAIRABLE = "ok", "repairable", "not-repairable"


class Result:
    def __init__(self, args, rc, out, err):
        self.args, self.rc, self.out, self.err = args, rc, out, err

    def text(self):
        return "exit %s; stdout %r; stderr %r" % (self.rc, self.out[-1500:], self.err[-1500:])


class Walctl:
    def __init__(self, path):
        self.path = path

    def call(self, *args, timeout=120):
        args = [str(a) for a in args]
        try:
            r = subprocess.run([self.path] + args, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise tools.Fatal("walctl %s: timed out after %ds" % (" ".join(args), timeout))
        res = Result(args, r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace"))
        if res.rc not in range(0, 9):
            # a crash (negative: a signal) is never an answer
            raise tools.Fatal("walctl %s: %s" % (" ".join(args), res.text()))
        return res

    def verify(self, d, snap=(0, 0)):
        return self.call("verify", d, "--snapshot-index", snap[0], "--snapshot-term", snap[1])

    def repair(self, d, dry_run=False):
        return self.call("repair", d, *(["--dry-run"] if dry_run else []))

    def dump(self, d, snap=(0, 0)):
        # --decode none: the raw view (numbers as numbers, data as base64),
        # which is what is compared with ReadAll; decoding has its own tests.
        args = ["dump", d, "--format", "json", "--decode", "none", "--snapshot-index", snap[0], "--snapshot-term", snap[1]]
        return self.call(*args)


# -- verdicts -------------------------------------------------------------

def verify_verdict(r):
    """walctl verify's verdict (ok / repairable / not-repairable), or
    'exit-N' for an exit code that is none of these."""
    if r.rc == 0:
        return OK
    if r.rc == 8 and "verdict: torn tail" in r.out:
        return REPAIRABLE
    if r.rc in (2, 6, 7):  # corruption; no WAL left; the snapshot's record is gone
        return NOT_REPAIRABLE
    return "exit-%d" % r.rc


_FILE = re.compile(r"^  file: (.*) \(size (\d+)\)$")
_TORN = re.compile(r"^  torn record at offset (\d+): (.*)$")
_CUT = re.compile(r"^  (cut|would cut) at offset (\d+), (removed|removing) (\d+) bytes$")
_LOST = re.compile(r"^  entries lost: (\d+)(?: \(index (\d+)\.\.(\d+)\))? ")
_LAST_GOOD = re.compile(r"^  last good entry index in this segment: (\S+)$")
_KEPT = re.compile(r"^  (?:the original is kept at|the original would be kept at) (.*)$")
_NOTHING = re.compile(r"^ *nothing to repair: (.*) ends cleanly$")
_REFUSE = re.compile(r"^not repairable: (.*)$")
_OFFSET = re.compile(r"^  offset: (\d+)$")


def parse_repair(r):
    """The plan walctl repair [--dry-run] printed: a dict with action
    (nothing / cut / refuse / None when none was printed), segment and, for a
    cut, size, offset, removed, lost, lost_range, last_good, broken."""
    p = {"action": None}
    for line in r.out.splitlines():
        m = _NOTHING.match(line)
        if m:
            p.update(action="nothing", segment=m.group(1))
            continue
        m = _REFUSE.match(line)
        if m:
            p.update(action="refuse", segment=m.group(1))
            continue
        m = _FILE.match(line)
        if m:
            p.update(action="cut", segment=m.group(1), size=int(m.group(2)))
            continue
        m = _TORN.match(line)
        if m:
            p["torn_at"] = int(m.group(1))
            continue
        m = _CUT.match(line)
        if m:
            p.update(offset=int(m.group(2)), removed=int(m.group(4)))
            continue
        m = _LOST.match(line)
        if m:
            p["lost"] = int(m.group(1))
            p["lost_range"] = (int(m.group(2)), int(m.group(3))) if m.group(2) else None
            continue
        m = _LAST_GOOD.match(line)
        if m:
            p["last_good"] = m.group(1)
            continue
        m = _KEPT.match(line)
        if m:
            p["broken"] = m.group(1)
            continue
        m = _OFFSET.match(line)
        if m and p["action"] == "refuse":
            p["offset"] = int(m.group(1))
    return p


def repair_verdict(r, plan):
    """walctl repair [--dry-run]'s verdict: ok (nothing to do, exit 0),
    repairable (a cut, exit 0), not-repairable (exit 2: refused, or the log is
    corrupt elsewhere too)."""
    if r.rc == 2:
        return NOT_REPAIRABLE
    if r.rc != 0:
        return "exit-%d" % r.rc
    if plan["action"] == "nothing":
        return OK
    if plan["action"] == "cut":
        return REPAIRABLE
    return "exit-0-without-plan"


def named_paths(text, d):
    """The paths inside directory d that text names."""
    out = set()
    prefix = os.path.join(d, "")
    for tok in re.split(r"[\s,;()]+", text):
        i = tok.find(prefix)
        if i < 0:
            continue
        p = tok[i:].rstrip(":.,")
        if p != prefix.rstrip("/"):
            out.add(p)
    return out


# -- the library's side ------------------------------------------------------

def library_verdict(ours, d, scratch, snap=(0, 0)):
    """(verdict, Repair's action, repaired dir, details) from the library
    alone, through
    wal_interop: ok = Verify and read-mode ReadAll succeed and Repair changes
    nothing; repairable = Repair says true, changes the log, and Verify and
    ReadAll succeed after it; not-repairable otherwise. The action is what
    wal::Repair did (refuse: false; cut: true and the log changed; nothing:
    true and unchanged); it does not depend on snap. `repaired dir` is a
    copy of d that wal_interop repair repaired (under scratch)."""
    v = ours.verify(d, snap)
    rd = ours.read(d, "read", snap)
    rep = os.path.join(scratch, "lib-repaired")
    tools.copy_dir(d, rep)
    rr = ours.repair(rep)
    changed = tools.dir_state(rep) != tools.dir_state(d)
    v2 = ours.verify(rep, snap) if changed else v
    rd2 = ours.read(rep, "read", snap) if changed else rd
    sound_before = v.get("error") is None and rd.get("error") is None
    sound_after = v2.get("error") is None and rd2.get("error") is None
    if sound_before and not changed and rr.get("repaired"):
        verdict = OK
    elif changed and rr.get("repaired") and sound_after:
        verdict = REPAIRABLE
    else:
        verdict = NOT_REPAIRABLE
    detail = "Verify=%s ReadAll=%s Repair=%s changed=%s after: Verify=%s ReadAll=%s" % (
        _cls(v), _cls(rd), rr.get("repaired"), changed, _cls(v2), _cls(rd2))
    action = "refuse" if not rr.get("repaired") else "cut" if changed else "nothing"
    return verdict, action, rep, detail


def _cls(out):
    e = out.get("error")
    return "ok" if e is None else e.get("class")


# -- the checks --------------------------------------------------------------

class Checks:
    """Runs one check family on a directory, reporting to the harness
    (h.ok / h.mismatch) under `label`."""

    def __init__(self, h, wc, ours):
        self.h, self.wc, self.ours = h, wc, ours
        self._local = threading.local()

    def failures(self):
        """Mismatches reported by this thread so far."""
        return getattr(self._local, "failures", 0)

    def expect(self, label, what, cond, detail, keep=None):
        if cond:
            self.h.ok()
        else:
            self._local.failures = self.failures() + 1
            self.h.mismatch(label, what, detail, keep=keep)
        return cond

    def repair_agreement(self, label, d, scratch, want=None, require_same_verdict=True, snap=(0, 0)):
        """walctl verify, repair --dry-run, repair and the library's Repair
        on copies of d: the same verdict (and `want`, if given), the dry run's
        plan = what the real run did, walctl repair's files = wal_interop
        repair's files, and repair's output names only files that exist
        afterwards (a .broken copy it names holds the original segment).
        Verify and ReadAll run at snap (a log that starts at a snapshot far
        up reads only from there). Returns the verdicts."""
        names = tools.wal_names(d)
        last = os.path.join(d, names[-1]) if names else None
        orig = tools.dir_state(d)
        lib, lib_action, lib_dir, lib_detail = library_verdict(self.ours, d, scratch, snap)

        vr = self.wc.verify(d, snap)
        dry_dir = os.path.join(scratch, "walctl-dry")
        tools.copy_dir(d, dry_dir)
        dry = self.wc.repair(dry_dir, dry_run=True)
        real_dir = os.path.join(scratch, "walctl-repaired")
        tools.copy_dir(d, real_dir)
        seg_before = tools.read_file(os.path.join(real_dir, names[-1])) if names else None
        real = self.wc.repair(real_dir)
        dplan, rplan = parse_repair(dry), parse_repair(real)
        verdicts = {"library": lib, "walctl verify": verify_verdict(vr),
                    "walctl repair --dry-run": repair_verdict(dry, dplan),
                    "walctl repair": repair_verdict(real, rplan)}
        outputs = ("library: %s\n    walctl verify: %s\n    walctl repair --dry-run: %s\n    walctl repair: %s"
                   % (lib_detail, vr.text(), dry.text(), real.text()))
        # walctl verify = the library's Verify + ReadAll (+ Repair for
        # repairable); walctl repair's plan = what wal::Repair did. Whether
        # the two commands agree with each other depends on snap (a log
        # purged from below fails verify at {0,0}, repair has nothing to
        # do); require_same_verdict: all four must say the same.
        self.expect(label, "walctl verify verdict = library verdict", verdicts["walctl verify"] == lib,
                    "%s\n    %s" % (verdicts, outputs), keep=d)
        # (no plan printed, exit 2/3: walctl refused the directory itself,
        # e.g. no *.wal file left, where wal::Repair fails too)
        actions = tuple(p["action"] or ("refuse" if r.rc in (2, 3, 6) else None) for p, r in ((dplan, dry), (rplan, real)))
        self.h.count("verdict:" + lib)
        self.expect(label, "walctl repair's plan = wal::Repair's action", actions == (lib_action, lib_action),
                    "dry run %s, real run %s, wal::Repair %s\n    %s" % (actions + (lib_action, outputs)), keep=d)
        if require_same_verdict:
            self.expect(label, "same verdict", len(set(verdicts.values())) == 1,
                        "%s\n    %s" % (verdicts, outputs), keep=d)
        if want is not None:
            self.expect(label, "verdict is %s" % want, lib == want and verdicts["walctl repair"] == want,
                        "%s\n    %s" % (verdicts, outputs), keep=d)

        # The dry run changed nothing and planned what the real run did.
        self.expect(label, "dry run changes nothing", tools.dir_state(dry_dir) == orig,
                    tools.diff_states(orig, tools.dir_state(dry_dir)), keep=d)

        def comparable(p, base):
            q = dict(p)
            for k in ("segment", "broken"):
                if k in q:
                    q[k] = os.path.relpath(q[k], base)
            return q
        dp, rp = comparable(dplan, dry_dir), comparable(rplan, real_dir)
        self.expect(label, "dry-run plan = real run", dp == rp and (dry.rc == real.rc),
                    "dry-run plan %s (exit %d), real run %s (exit %d)\n    %s" % (dp, dry.rc, rp, real.rc, outputs),
                    keep=d)

        # What the real run did is what it says it did.
        after = tools.dir_state(real_dir)
        if rplan["action"] == "cut" and names:
            seg = os.path.join(real_dir, names[-1])
            size = os.path.getsize(seg)
            broken = rplan.get("broken")
            ok = (size == rplan.get("offset") and seg_before[:size] == tools.read_file(seg)
                  and rplan.get("size") == len(seg_before)
                  and rplan.get("removed") == len(seg_before) - size
                  and broken == seg + ".broken" and os.path.isfile(broken)
                  and tools.read_file(broken) == seg_before)
            self.expect(label, "repair did what it printed", ok,
                        "segment now %d bytes; plan %s; .broken %s\n    %s" % (
                            size, rplan, "exists" if broken and os.path.isfile(broken) else "missing", real.text()),
                        keep=d)
        else:
            self.expect(label, "repair without a cut changes nothing", after == orig,
                        "%s\n    %s" % (tools.diff_states(orig, after), real.text()), keep=d)

        # Every file named exists, and a .broken named was written by this run.
        bad = []
        for p in sorted(named_paths(real.out + "\n" + real.err, real_dir)):
            if not os.path.exists(p):
                bad.append("%s (missing)" % p)
            elif p.endswith(".broken") and seg_before is not None and tools.read_file(p) != seg_before:
                bad.append("%s (not a copy of the segment this run repaired)" % p)
        for p in sorted(named_paths(dry.out + "\n" + dry.err, dry_dir)):
            if not p.endswith(".broken") and not os.path.exists(p):
                bad.append("dry run: %s (missing)" % p)
        self.expect(label, "repair names only files it wrote or found", not bad,
                    "%s\n    %s" % (bad, real.text()), keep=d)

        # walctl repair leaves exactly what wal::Repair leaves.
        ls = tools.dir_state(lib_dir)
        self.expect(label, "walctl repair files = wal::Repair files", after == ls,
                    "%s\n    walctl repair: %s\n    library: %s" % (
                        tools.diff_states(after, ls), real.text(), lib_detail), keep=d)
        # A repair that claims success leaves a log walctl verify passes.
        if verdicts["walctl repair"] == REPAIRABLE:
            v2 = self.wc.verify(real_dir, snap)
            self.expect(label, "walctl verify after walctl repair", v2.rc == 0, v2.text(), keep=d)
        return verdicts

    def verify_not_looser(self, label, d, snap):
        """If wal::Verify fails, walctl verify fails. Returns (library error
        class or None, walctl exit code)."""
        lib = self.ours.verify(d, snap)
        r = self.wc.verify(d, snap)
        cls = _cls(lib)
        if cls != "ok":
            self.expect(label, "walctl verify not looser than wal::Verify snap=%s" % (snap,), r.rc != 0,
                        "wal::Verify=%s, walctl verify: %s" % (lib, r.text()), keep=d)
        else:
            self.h.ok()
        return cls, r.rc

    def dump_equals_readall(self, label, d, snap):
        """walctl dump --format json = wal_interop read --mode read (the
        library's OpenForRead + ReadAll) at snap: same metadata, hard state
        and entries, or both fail with the same status code."""
        lib = self.ours.read(d, "read", snap)
        r = self.wc.dump(d, snap)
        try:
            got = json.loads(r.out) if r.out.strip() else None
        except ValueError:
            got = None
        what = "walctl dump = ReadAll snap=%s" % (snap,)
        if got is None:
            return self.expect(label, what, False, "walctl dump printed no JSON: %s" % r.text(), keep=d)
        if lib.get("error") is not None:
            code = (got.get("error") or {}).get("code")
            want = {lib["error"]["class"]}
            if lib["error"]["class"] == "FileNotFound":
                # walctl names what the library's ErrFileNotFound means here
                # (tools/common.h SelectFrom): no segment can hold the index
                # (SnapshotNotFound, exit 7) or a segment is missing from the
                # run (Corruption, exit 2).
                want = {"SnapshotNotFound", "Corruption"}
            return self.expect(label, what, r.rc != 0 and code in want,
                               "ReadAll error %s; walctl dump: %s" % (lib["error"], r.text()), keep=d)
        if r.rc != 0 or "error" in got:
            return self.expect(label, what, False, "ReadAll ok (%s); walctl dump: %s" % (
                _summary(lib), r.text()), keep=d)
        mine = {"metadata": got.get("metadata"), "hard_state": got.get("hard_state"),
                "entries": [dict(e, data=tools.digest_data(e.get("data"))) for e in got.get("entries", [])],
                "error": None}
        if mine == lib:
            self.h.ok()
            if tuple(snap) != (0, 0):
                self.h.count("dump = ReadAll at a snapshot other than {0,0}")
            return True
        return self.expect(label, what, False, "ReadAll %s; walctl dump %s; first difference: %s" % (
            _summary(lib), _summary(mine), _first_diff(lib, mine)), keep=d)


def _summary(out):
    ents = out.get("entries") or []
    return "metadata=%s hard_state=%s entries=%d%s" % (
        (out.get("metadata") or "null")[:40], out.get("hard_state"), len(ents),
        " (index %s..%s)" % (ents[0].get("index"), ents[-1].get("index")) if ents else "")


def _first_diff(a, b):
    for k in ("metadata", "hard_state"):
        if a.get(k) != b.get(k):
            return "%s: %r vs %r" % (k, a.get(k), b.get(k))
    ea, eb = a.get("entries") or [], b.get("entries") or []
    for i, (x, y) in enumerate(zip(ea, eb)):
        if x != y:
            return "entry #%d: %s vs %s" % (i, json.dumps(x)[:300], json.dumps(y)[:300])
    return "entry count %d vs %d" % (len(ea), len(eb))


def b64(b):
    return base64.b64encode(b).decode()
