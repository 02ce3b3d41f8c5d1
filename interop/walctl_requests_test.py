#!/usr/bin/env python3
"""walctl's etcd decoding against etcd's OWN Go types (CTest
interop.walctl_etcd_requests).

    walctl_requests_test.py --etcdwal BIN --walctl BIN [--build-sh SH] [--gocache DIR]
                            [--work-dir DIR] [--keep]

walctl decodes etcd's payloads with its own copies of etcd's .proto
declarations (tools/etcd/*.proto); its other tests build inputs with those
same copies. Here `etcdwal requests DIR` builds one entry per request kind
etcd v3.4 proposes with etcd 3.4.23's Go types (etcdserverpb, raftpb,
authpb, membership; every field at a distinctive non-default value), writes
them with etcd's wal.Create + Save and prints what it wrote (proto field
names, zero values left out, enums as names, []byte as {"hex"}, strings as
strings, integers as numbers). Then `walctl dump DIR --format json
--snapshot-index 0 --snapshot-term 0` must show, for every entry, the same
kind and the same fields with the same values, and the metadata's node and
cluster ID and the hard state.

Normalised: IDs (walctl's hex strings) vs integers; integers beyond 2^53
(walctl's decimal strings); bytes (a string when text, else {"hex"}) vs
etcd's []byte and string fields; secrets (passwords, tokens) only checked
to be present, as "<redacted>" or the value. A field walctl shows that etcd
did not set is a mismatch, as is one it misses or gets wrong.

Prints each failed check (MISMATCH, with the path, etcd's value and
walctl's), then `interop: N passed, M failed`; exits non-zero on any
failure. Stdlib only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pylib import tools  # noqa: E402
from pylib.walctl import Walctl  # noqa: E402

NAME = "walctl-etcd-requests"

# Fields etcd prints as IDs (types.ID, "%x"): walctl shows them as hex
# strings. Named from etcd's semantics, not from walctl's declarations.
ID_FIELDS = {"ID", "lease", "memberID", "node_id", "id", "NodeID", "ClusterID", "node_id", "cluster_id", "vote"}
# Passwords and tokens: walctl may print "<redacted>".
SECRET_FIELDS = {"password", "simple_token", "hashedPassword"}
REDACTED = "<redacted>"


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def expect(self, what, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("MISMATCH [%s] %s: %s" % (NAME, what, detail), flush=True)
        return cond


def as_bytes(v):
    """walctl's or etcd's bytes/string value as bytes, or None."""
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, dict) and set(v) == {"hex"} and isinstance(v["hex"], str):
        try:
            return bytes.fromhex(v["hex"])
        except ValueError:
            return None
    return None


def is_text(b):
    """tools/README.md: bytes are a JSON string when they are text."""
    try:
        t = b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch in "\t\r\n" or ord(ch) >= 0x20 for ch in t)


def same_int(key, want, got):
    if isinstance(got, bool):
        return False
    if isinstance(got, int):
        return got == want
    if isinstance(got, str):
        try:
            if key in ID_FIELDS:
                return int(got, 16) == want & ((1 << 64) - 1)
            return int(got) == want
        except ValueError:
            return False
    return False


def compare(path, key, want, got, diffs):
    """Appends (path, etcd's value, walctl's value) for every difference."""
    if isinstance(want, bool):
        if got is not want:
            diffs.append((path, want, got))
    elif isinstance(want, int):
        if not same_int(key, want, got):
            diffs.append((path, want, got))
    elif key in SECRET_FIELDS and isinstance(want, str):
        if got != REDACTED and as_bytes(got) != want.encode("utf-8"):
            diffs.append((path, want, got))
    elif isinstance(want, str) or (isinstance(want, dict) and set(want) == {"hex"}):
        if as_bytes(got) != as_bytes(want):
            diffs.append((path, want, got))
        elif isinstance(got, str) != is_text(as_bytes(want)):
            diffs.append((path + " (shown as text iff UTF-8 without control characters but tab/CR/LF)", want, got))
    elif isinstance(want, dict):
        if not isinstance(got, dict):
            diffs.append((path, want, got))
            return
        for k in want:
            if k not in got:
                diffs.append(("%s.%s" % (path, k), want[k], "(missing)"))
            else:
                compare("%s.%s" % (path, k), k, want[k], got[k], diffs)
        for k in got:
            if k not in want:
                diffs.append(("%s.%s" % (path, k), "(not set by etcd)", got[k]))
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            diffs.append((path, want, got))
            return
        for i, (w, g) in enumerate(zip(want, got)):
            compare("%s[%d]" % (path, i), key, w, g, diffs)
    else:
        if want != got:
            diffs.append((path, want, got))


def member_want(m):
    """etcd's member JSON (membership.Member / ConfigChangeContext) with the
    zero values left out, as walctl shows the fields it has."""
    return {k: v for k, v in m.items() if v not in (False, None, "", [], 0)}


def fmt_diffs(diffs):
    return "; ".join("%s: etcd %s, walctl %s" % (p, json.dumps(w, ensure_ascii=False), json.dumps(g, ensure_ascii=False))
                     for p, w, g in diffs)


def check(c, etcd, wc, d):
    r = wc.call("dump", d, "--format", "json", "--snapshot-index", 0, "--snapshot-term", 0)
    c.expect("walctl dump exit 0", r.rc == 0, r.text())
    try:
        j = json.loads(r.out)
    except ValueError as e:
        c.expect("walctl dump --format json parses", False, "%s: %s" % (e, r.text()[:500]))
        return
    em = j.get("etcd_metadata")
    md = etcd["metadata"]
    diffs = []
    compare("etcd_metadata", "", {"node_id": md["NodeID"], "cluster_id": md["ClusterID"]}, em, diffs)
    c.expect("metadata: node_id %x, cluster_id %x" % (md["NodeID"], md["ClusterID"]), not diffs, fmt_diffs(diffs))
    hs = j.get("hard_state", j.get("state"))
    diffs = []
    compare("hard_state", "", etcd["hard_state"], hs, diffs)
    c.expect("hard state %s" % etcd["hard_state"], not diffs, fmt_diffs(diffs) + " (walctl keys %s)" % sorted(j))
    got_entries = {e.get("index"): e for e in j.get("entries", [])}
    c.expect("walctl shows %d entries" % len(etcd["entries"]), len(got_entries) == len(etcd["entries"]),
             "walctl: %d" % len(got_entries))
    kinds = set()
    for w in etcd["entries"]:
        idx = w["index"]
        label = "entry %d (%s%s)" % (idx, w["message"], " " + w["kind"] if w.get("kind") else "")
        g = got_entries.get(idx)
        if g is None:
            c.expect(label + " present", False, "walctl has no entry %d" % idx)
            continue
        diffs = []
        if g.get("term") != w["term"] or g.get("type") != w["type"]:
            diffs.append(("term/type", [w["term"], w["type"]], [g.get("term"), g.get("type")]))
        if w["message"] in ("InternalRaftRequest", "Request"):
            req = g.get("request")
            if not isinstance(req, dict):
                diffs.append(("request", "decoded as %s %s" % (w["message"], w["kind"]), req))
            else:
                if req.get("kind") != w["kind"]:
                    diffs.append(("request.kind", w["kind"], req.get("kind")))
                if req.get("message") != w["message"]:
                    diffs.append(("request.message", w["message"], req.get("message")))
                fields = {k: v for k, v in req.items() if k not in ("kind", "message")}
                compare("request", "", w["fields"], fields, diffs)
                kinds.add(w["kind"])
        else:
            compare("conf_change", "", w["fields"], g.get("conf_change"), diffs)
            if "member" in w:
                compare("member", "", member_want(w["member"]), g.get("member"), diffs)
            elif "member" in g:
                diffs.append(("member", "(no context)", g["member"]))
            kinds.add(w["message"])
        c.expect(label, not diffs, fmt_diffs(diffs))
    print("  compared %d entries; kinds: %s" % (len(etcd["entries"]), sorted(kinds)), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--etcdwal", required=True)
    p.add_argument("--walctl", required=True)
    p.add_argument("--build-sh")
    p.add_argument("--gocache")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "wal-interop"))
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    start = time.time()
    work = os.path.join(args.work_dir, "walctl-etcd-requests")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    c = Checks()
    try:
        if not os.access(args.walctl, os.X_OK):
            raise tools.Fatal("interop: walctl not built (--walctl %s)" % args.walctl)
        etcdwal = tools.ensure_etcdwal(args.etcdwal, args.build_sh, args.gocache)
        d = os.path.join(work, "wal")
        r = subprocess.run([etcdwal, "requests", d], capture_output=True, timeout=120)
        if r.returncode != 0:
            raise tools.Fatal("etcdwal requests %s: exit %d: %s" % (d, r.returncode, r.stderr.decode("utf-8", "replace")))
        etcd = json.loads(r.stdout)
        print("etcdwal requests %s: %d entries (etcd's own Go types, wal.Create + Save)" % (d, len(etcd["entries"])),
              flush=True)
        check(c, etcd, Walctl(os.path.abspath(args.walctl)), d)
    except tools.Fatal as e:
        print("interop: FATAL: %s" % e, flush=True)
        c.failed += 1
    print("interop[%s]: %.1f s" % (NAME, time.time() - start))
    print("interop: %d passed, %d failed" % (c.passed, c.failed))
    if c.failed == 0 and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    elif c.failed:
        print("interop: work directory kept at %s" % work)
    if c.passed == 0:
        print("interop: no check ran: a test that checks nothing fails", flush=True)
        return 1
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
