#!/usr/bin/env python3
"""walctl on a real etcd's data dir (CTest interop.walctl_etcd_server).

    walctl_server_test.py --walctl BIN [--work-dir DIR] [--keep]

Starts /usr/bin/etcd (Debian etcd-server 3.4) on 127.0.0.1 (free ports, a
temp data dir, --snapshot-count 10), drives it with etcdctl (ETCDCTL_API=3)
and the v3 JSON gateway: puts (a non-UTF-8 key, a UTF-8 one), a range
delete, a txn with compares and then/else ops (etcdctl txn, stdin), a txn
with a nested txn (gateway), a lease grant + put with it + revoke, a
compaction, 80 puts of 1 MiB (values on etcdctl's stdin: > 64 MB, so two
segments) and a member add (--learner: a voter added to a 1-node cluster
is accepted by etcd 3.4 and loses the quorum, so nothing after it would
commit). Then stops etcd (SIGTERM + wait; the server dies with this driver)
and checks walctl on the stopped data dir:

  1. `walctl dump DATA` (from {0,0}, up to the last small request) decodes
     every request: request=put with each key, delete_range, txn (compares,
     nested ops), lease_grant, lease_revoke, compaction, the ConfChange of
     the added learner (its peer URL in the member JSON) and of the first
     member (its name); `--format json` parses and has "kind": "put" with
     each key; without flags the stderr note names the newest .snap file.
  2. `--entry-type IRRPut` shows only request=put lines, >= the puts made.
  3. A purged copy (the oldest segments removed as etcd's purge would:
     every segment from the one holding the newest snapshot record is
     kept): `walctl dump` and `walctl verify` without flags exit 0, verify
     says "etcd: will start on this log", dump's note names the snapshot
     it starts from and its entries start right after it.

Prints each failed check, then `interop: N passed, M failed`; exits
non-zero on any failure, and when etcd/etcdctl/walctl are missing.
Stdlib only.
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from interop_test import _die_with_parent, _free_port  # noqa: E402
from pylib import tools, walfmt  # noqa: E402
from pylib.walctl import Walctl  # noqa: E402

NAME = "walctl-etcd-server"
SERVER_HINT = "apt-get install etcd-server etcd-client (etcd-server has /usr/bin/etcd, etcd-client etcdctl)"
BIG_PUTS = 80           # x 1 MiB: > one 64 MB segment
BIG_VALUE = 1 << 20
SNAPSHOT_COUNT = 10


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def expect(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            print("  ok: %s" % what, flush=True)
        else:
            self.failed += 1
            print("MISMATCH [%s] %s: %s" % (NAME, what, detail), flush=True)
        return cond


def show_bytes(b):
    """How walctl's text output shows bytes (tools/README.md): quoted JSON
    string when UTF-8 without control characters but tab/CR/LF, else hex."""
    try:
        s = b.decode("utf-8")
        if all(c in "\t\r\n" or ord(c) >= 0x20 for c in s):
            return json.dumps(s, ensure_ascii=False)
    except UnicodeDecodeError:
        pass
    return "hex:" + b.hex()


def json_bytes(b):
    try:
        s = b.decode("utf-8")
        if all(c in "\t\r\n" or ord(c) >= 0x20 for c in s):
            return s
    except UnicodeDecodeError:
        pass
    return {"hex": b.hex()}


class Server:
    """One etcd member on loopback (as interop_test.py's etcd-server test)."""

    def __init__(self, t):
        self.etcd, self.etcdctl = shutil.which("etcd"), shutil.which("etcdctl")
        missing = [n for n, p in (("etcd (package etcd-server)", self.etcd),
                                  ("etcdctl (package etcd-client)", self.etcdctl)) if not p]
        if missing:
            raise tools.Fatal("interop: %s missing; install: %s" % (", ".join(missing), SERVER_HINT))
        self.t = t
        self.data = os.path.join(t, "data")
        pc, pp = _free_port(), _free_port()
        while pp == pc:
            pp = _free_port()
        self.client = "http://127.0.0.1:%d" % pc
        peer = "http://127.0.0.1:%d" % pp
        self.logpath = os.path.join(t, "etcd.log")
        self.log = open(self.logpath, "wb")
        cmd = [self.etcd, "--name", "interop", "--data-dir", self.data,
               "--listen-client-urls", self.client, "--advertise-client-urls", self.client,
               "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
               "--initial-cluster", "interop=" + peer, "--initial-cluster-state", "new",
               "--snapshot-count", str(SNAPSHOT_COUNT), "--logger", "zap", "--log-outputs", "stderr"]
        self.env = dict(os.environ, ETCDCTL_API="3")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, preexec_fn=_die_with_parent)
        print("etcd server pid %d on %s (peer %s), data dir %s, --snapshot-count %d"
              % (self.proc.pid, self.client, peer, self.data, SNAPSHOT_COUNT), flush=True)

    def tail(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read()[-1500:].decode("utf-8", "replace")
        except OSError:
            return ""

    def ctl(self, *args, stdin=b"", timeout=20, check=True):
        try:
            r = subprocess.run([self.etcdctl, "--endpoints", self.client, "--command-timeout=10s"] + list(args),
                               env=self.env, capture_output=True, timeout=timeout, input=stdin)
        except subprocess.TimeoutExpired:
            raise tools.Fatal("etcdctl %r timed out after %ds" % (args, timeout))
        if check and r.returncode != 0:
            raise tools.Fatal("etcdctl %r failed (%d): %s" % (args, r.returncode, r.stderr.decode("utf-8", "replace")))
        return r

    def gateway(self, path, body, timeout=15):
        req = urllib.request.Request(self.client + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())

    def wait_healthy(self, secs=60):
        deadline = time.time() + secs
        while True:
            if self.proc.poll() is not None:
                raise tools.Fatal("etcd exited early (%s); log: %s" % (self.proc.returncode, self.tail()))
            r = self.ctl("endpoint", "health", timeout=15, check=False)
            if r.returncode == 0:
                return
            if time.time() > deadline:
                raise tools.Fatal("etcd did not become healthy in %d s: %s; log: %s" % (secs, r.stderr, self.tail()))
            time.sleep(0.3)

    def status(self):
        return json.loads(self.ctl("endpoint", "status", "-w", "json").stdout)[0]["Status"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def b64(b):
    return base64.b64encode(b).decode()


def drive(srv):
    """The requests; returns what the checks look for."""
    w = {"puts": []}

    def put(key, value, *flags):
        srv.ctl("put", *flags, key, value)
        w["puts"].append(key if isinstance(key, bytes) else key.encode())

    for i in range(5):
        put("key-%d" % i, "value-%d" % i)
    put(b"odd/\xff\xfe\x01key", "binary-ish key")   # not UTF-8, a control byte
    put("unicode/ключ", "значение")
    put("del/a", "1")
    put("del/b", "2")
    srv.ctl("del", "--prefix", "del/")                 # a range delete
    w["delete_range"] = (b"del/", b"del0")
    # etcdctl txn reads: compares, blank line, success ops, blank line, failure ops.
    txn = ('mod("key-0") > "0"\nvalue("unicode/ключ") = "значение"\n\n'
           'put txn/then "yes"\nget key-1\ndel key-2\n\nput txn/else "no"\n\n')
    r = srv.ctl("txn", stdin=txn.encode())
    w["txn_out"] = r.stdout.decode("utf-8", "replace").split()
    # A nested txn (RequestOp.request_txn): etcdctl cannot write one, the gateway can.
    nested = {"compare": [{"key": b64(b"key-3"), "target": "VERSION", "result": "GREATER", "version": "0"}],
              "success": [{"request_txn": {"compare": [], "success": [
                  {"request_put": {"key": b64(b"txn/nested"), "value": b64(b"inner")}}]}}]}
    try:
        w["nested_answer"] = srv.gateway("/v3/kv/txn", nested)
    except Exception as e:  # reported by the checks
        w["nested_answer"] = {"error": repr(e)}
    r = srv.ctl("lease", "grant", "600")
    m = re.search(r"lease ([0-9a-f]+) granted", r.stdout.decode())
    if not m:
        raise tools.Fatal("etcdctl lease grant: %r" % r.stdout)
    w["lease"] = m.group(1)
    put("leased/k", "with a lease", "--lease=" + w["lease"])
    srv.ctl("lease", "revoke", w["lease"])
    rev = json.loads(srv.ctl("get", "key-0", "-w", "json").stdout)["header"]["revision"]
    w["compact_rev"] = rev - 2
    srv.ctl("compaction", str(w["compact_rev"]))
    w["small_puts"] = len(w["puts"])
    w["small_last_index"] = srv.status()["raftIndex"]
    print("drove %d puts, a range delete, 2 txns, a lease grant/put/revoke (lease %s), compaction at "
          "revision %d; raft index now %d" % (len(w["puts"]), w["lease"], w["compact_rev"], w["small_last_index"]),
          flush=True)
    start = time.time()
    for i in range(BIG_PUTS):
        key = "big/%03d" % i
        value = (b"%04d-" % i) * (BIG_VALUE // 5) + b"x" * (BIG_VALUE % 5)
        srv.ctl("put", key, stdin=value, timeout=30)          # value on stdin: argv is limited to 128 KiB
        w["puts"].append(key.encode())
        if time.time() - start > 60:
            raise tools.Fatal("80 puts of 1 MiB took over 60 s (%d done)" % (i + 1))
    print("%d puts of %d bytes (value on etcdctl's stdin) in %.1f s" % (BIG_PUTS, BIG_VALUE, time.time() - start),
          flush=True)
    w["peer"] = "http://127.0.0.1:%d" % _free_port()
    r = srv.ctl("member", "add", "learner1", "--learner", "--peer-urls=" + w["peer"])
    # etcdctl prints the IDs with %16x: padded with spaces, not zeros.
    m = re.search(r"Member\s+([0-9a-f]+)\s+added", r.stdout.decode())
    w["member_id"] = m.group(1) if m else None
    print("member add learner1 --learner --peer-urls=%s: id %s" % (w["peer"], w["member_id"]), flush=True)
    w["status"] = srv.status()
    return w


def snapshot_records(path):
    """(index, term) of the snapshot records in one segment (frames only)."""
    data = tools.read_file(path)
    out = []
    for off, rec_len, _pad in walfmt.frames(data):
        rec = walfmt._fields(data[off + 8:off + 8 + rec_len])
        if rec.get(1) == walfmt.SNAPSHOT:
            s = walfmt._fields(rec.get(3, b""))
            out.append((s.get(1, 0), s.get(2, 0)))
    return out


def snap_files(data):
    d = os.path.join(data, "member", "snap")
    out = []
    for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        m = re.match(r"^([0-9a-f]{16})-([0-9a-f]{16})\.snap$", n)
        if m:
            out.append((int(m.group(2), 16), int(m.group(1), 16), n))
    return sorted(out)


def entry_lines(out):
    return [ln for ln in out.splitlines() if ln.startswith("index=")]


NOTE_DATA_DIR = "walctl: note: etcd data dir: reading its WAL in "
NOTE_SNAP = re.compile(r"walctl: note: reading from snapshot \{index=(\d+) term=(\d+)\}: (.*)")


def check_full(c, wc, data, w):
    lim = ["--to", w["small_last_index"]]
    z = ["--snapshot-index", 0, "--snapshot-term", 0]
    r = wc.call("dump", data, *z, *lim)
    lines = entry_lines(r.out)
    print("walctl dump %s --snapshot-index 0 --snapshot-term 0 --to %d: exit %d, %d entry lines"
          % (data, w["small_last_index"], r.rc, len(lines)), flush=True)
    c.expect("dump exit 0", r.rc == 0, r.text())
    c.expect("dump's note: the data dir's member/wal",
             NOTE_DATA_DIR + os.path.join(data, "member", "wal") in r.err, r.err)

    def find(pred):
        return [ln for ln in lines if pred(ln)]

    for key in w["puts"][:w["small_puts"]]:
        want = "put={key=%s " % show_bytes(key)
        got = find(lambda ln: "request=put " in ln and want in ln)
        c.expect("request=put with key %s" % show_bytes(key), len(got) >= 1,
                 "no entry line has request=put and %r" % want)
    lo, hi = w["delete_range"]
    want = "delete_range={key=%s range_end=%s" % (show_bytes(lo), show_bytes(hi))
    got = find(lambda ln: "request=delete_range " in ln)
    c.expect("request=delete_range del/..del0", any(want in ln for ln in got), "want %r in %s" % (want, got))
    got = find(lambda ln: "request=txn " in ln)
    plain = [ln for ln in got if 'key="txn/then"' in ln]
    c.expect("request=txn (etcdctl): compares and then/else ops",
             len(plain) == 1 and all(s in plain[0] for s in (
                 'target=MOD', 'result=GREATER', 'key="key-0"', 'target=VALUE', 'value="значение"',
                 'request_put={key="txn/then" value="yes"}', 'request_range={key="key-1"}',
                 'request_delete_range={key="key-2"}', 'request_put={key="txn/else" value="no"}')),
             "txn lines: %s" % got)
    print("  etcdctl txn answered %s" % w["txn_out"][:1])
    na = w["nested_answer"]
    c.expect("gateway accepted the nested txn", "error" not in na and na.get("succeeded") is True, na)
    nested = [ln for ln in got if 'key="txn/nested"' in ln]
    c.expect("request=txn with a nested txn (request_txn)",
             len(nested) == 1 and "request_txn={" in nested[0] and 'request_put={key="txn/nested" value="inner"}' in nested[0],
             "txn lines: %s" % got)
    lease = "%x" % int(w["lease"], 16)
    got = find(lambda ln: "request=lease_grant " in ln)
    c.expect("request=lease_grant with the lease's ID and TTL",
             any("ID=%s" % lease in ln and "TTL=600" in ln for ln in got), "lease %s; lines %s" % (lease, got))
    got = find(lambda ln: "request=put " in ln and 'key="leased/k"' in ln)
    c.expect("the leased put names the lease", any("lease=%s" % lease in ln for ln in got), got)
    got = find(lambda ln: "request=lease_revoke " in ln)
    c.expect("request=lease_revoke with the lease's ID", any("ID=%s" % lease in ln for ln in got), got)
    got = find(lambda ln: "request=compaction " in ln)
    c.expect("request=compaction at revision %d" % w["compact_rev"],
             any("compaction={revision=%d" % w["compact_rev"] in ln for ln in got), got)
    got = find(lambda ln: "type=ConfChange " in ln)
    c.expect("ConfChange of the first member with its name in the member JSON",
             any("type=ConfChangeAddNode" in ln and 'name="interop"' in ln for ln in got), got)
    # (an empty entry, a new leader's no-op, prints data="")
    undecoded = [ln for ln in lines if "type=Normal" in ln and "request=" not in ln and 'data=""' not in ln]
    c.expect("every non-empty Normal entry is decoded", not undecoded, undecoded[:5])

    # The learner's ConfChange comes after the big puts: its own range.
    r2 = wc.call("dump", data, *z, "--entry-type", "ConfigChange")
    got = entry_lines(r2.out)
    mid = "%x" % int(w["member_id"] or "0", 16)
    learner = [ln for ln in got if "ConfChangeAddLearnerNode" in ln]
    c.expect("ConfChange (AddLearnerNode) of the added member: its ID and peer URL in the member JSON",
             r2.rc == 0 and len(learner) == 1 and "node_id=%s" % mid in learner[0]
             and 'member={id=%s peerURLs=["%s"]' % (mid, w["peer"]) in learner[0] and "isLearner=true" in learner[0],
             "%s; lines %s" % (r2.text()[:300], got))
    print("  ConfChange lines: %s" % got, flush=True)
    if learner and "name=" not in learner[0]:
        print("  note: the added member's JSON has no name: etcd's MemberAddRequest carries only peer URLs "
              "(the name arrives when the member first starts)", flush=True)

    # --format json
    r = wc.call("dump", data, "--format", "json", *z, *lim)
    try:
        j = json.loads(r.out)
    except ValueError as e:
        j = None
        c.expect("dump --format json parses", False, "%s: %s" % (e, r.text()))
    if j is not None:
        c.expect("dump --format json parses", True)
        puts = [e["request"]["put"]["key"] for e in j.get("entries", [])
                if isinstance(e.get("request"), dict) and e["request"].get("kind") == "put"]
        for key in w["puts"][:w["small_puts"]]:
            c.expect('json: "kind": "put" with key %s' % json.dumps(json_bytes(key), ensure_ascii=False),
                     json_bytes(key) in puts, "put keys in json: %s" % puts)
        kinds = sorted({e["request"]["kind"] for e in j.get("entries", []) if isinstance(e.get("request"), dict)})
        print("  json request kinds: %s" % kinds, flush=True)
        c.expect("json has every kind driven", {"put", "delete_range", "txn", "lease_grant", "lease_revoke",
                                                 "compaction"} <= set(kinds), kinds)

    # 3. --entry-type IRRPut
    r = wc.call("dump", data, *z, *lim, "--entry-type", "IRRPut")
    got = entry_lines(r.out)
    bad = [ln for ln in got if "request=put " not in ln]
    print("walctl dump --entry-type IRRPut: exit %d, %d entry lines, %d not request=put; %s"
          % (r.rc, len(got), len(bad), [ln for ln in r.out.splitlines() if ln.startswith("shown:")]), flush=True)
    c.expect("--entry-type IRRPut shows only request=put", r.rc == 0 and not bad, bad[:5] or r.text())
    c.expect("--entry-type IRRPut shows >= %d puts" % w["small_puts"], len(got) >= w["small_puts"], len(got))
    r = wc.call("dump", data, *z, "--entry-type", "IRRPut", "--format", "json")
    try:
        ents = [e for e in json.loads(r.out)["entries"] if e.get("request", {}).get("kind") == "put"]
        c.expect("--entry-type IRRPut (whole log, json): all %d puts" % len(w["puts"]),
                 r.rc == 0 and len(ents) == len(w["puts"]), "%d puts; exit %d" % (len(ents), r.rc))
        big = [e["request"]["put"] for e in ents if str(e["request"]["put"].get("key")).startswith("big/")]
        c.expect("json: the %d big puts, each value %d bytes" % (BIG_PUTS, BIG_VALUE),
                 len(big) == BIG_PUTS and all(len(b.get("value", "")) == BIG_VALUE for b in big),
                 "%d big puts, value sizes %s" % (len(big), sorted({len(b.get("value", "")) for b in big})))
    except (ValueError, KeyError) as e:
        c.expect("--entry-type IRRPut (whole log, json)", False, "%s: %s" % (e, r.text()))

    # Without flags: where etcd would start (after the newest .snap file the WAL records).
    snaps = snap_files(data)
    r = wc.call("dump", data)
    m = NOTE_SNAP.search(r.err)
    print("walctl dump %s (no flags): exit %d; note %r; snap files %s"
          % (data, r.rc, m.group(0) if m else None, [s[2] for s in snaps]), flush=True)
    c.expect("there are .snap files (--snapshot-count %d)" % SNAPSHOT_COUNT, len(snaps) >= 1, snaps)
    if snaps:
        idx, term, fname = snaps[-1]
        c.expect("no flags: exit 0, the note names the newest .snap %s" % fname,
                 r.rc == 0 and m is not None and (int(m.group(1)), int(m.group(2))) == (idx, term) and fname in m.group(3),
                 r.text())
    r = wc.call("verify", data)
    c.expect("walctl verify %s: exit 0, etcd: will start on this log" % data,
             r.rc == 0 and "etcd: will start on this log" in r.out, r.text())
    # info reads the newest .snap file's header as etcd's snapshotter wrote it.
    if snaps:
        idx, term, fname = snaps[-1]
        r = wc.call("info", data)
        want = re.compile(r"^  %s index=%d term=%d voters=\[[0-9a-f]+\] learners=\[" % (re.escape(fname), idx, term), re.M)
        c.expect("walctl info: the header of %s (index, term, voters)" % fname, r.rc == 0 and want.search(r.out),
                 r.text())


def check_purged(c, wc, data, t):
    wal = os.path.join(data, "member", "wal")
    names = tools.wal_names(wal)
    recs = [(n, snapshot_records(os.path.join(wal, n))) for n in names]
    print("segments: %s" % ", ".join("%s (%d bytes, %d snapshot records)" % (
        n, os.path.getsize(os.path.join(wal, n)), len(s)) for n, s in recs), flush=True)
    c.expect(">= 2 segments", len(names) >= 2, names)
    holder = max((i for i, (_n, s) in enumerate(recs) if s), default=None)
    c.expect("the newest snapshot record is past the first segment", holder is not None and holder >= 1, recs)
    if holder is None or holder < 1:
        return
    newest = recs[holder][1][-1]
    cp = os.path.join(t, "purged")
    os.makedirs(os.path.join(cp, "member", "wal"))
    os.makedirs(os.path.join(cp, "member", "snap"))
    for n in names[holder:]:
        shutil.copyfile(os.path.join(wal, n), os.path.join(cp, "member", "wal", n))
    for _i, _t, n in snap_files(data):
        shutil.copyfile(os.path.join(data, "member", "snap", n), os.path.join(cp, "member", "snap", n))
    snaps = snap_files(cp)
    print("purged copy %s: removed %s, kept %s (newest snapshot record {index=%d term=%d}); snap files %s"
          % (cp, names[:holder], names[holder:], newest[0], newest[1], [s[2] for s in snaps]), flush=True)
    want = max(((i, tm) for i, tm, _n in snaps if (i, tm) in
                {s for _n, ss in recs[holder:] for s in ss}), default=None)
    r = wc.call("dump", cp)
    m = NOTE_SNAP.search(r.err)
    print("walctl dump %s: exit %d; note %r; %s" % (cp, r.rc, m.group(0) if m else None,
          [ln for ln in r.out.splitlines() if ln.startswith("entries:")]), flush=True)
    c.expect("purged: dump exit 0", r.rc == 0, r.text())
    c.expect("purged: dump's note names the snapshot it starts from {index=%s term=%s}" % want,
             m is not None and want is not None and (int(m.group(1)), int(m.group(2))) == want, r.err)
    em = re.search(r"^entries: \d+ \(index (\d+)\.\.(\d+)\)", r.out, re.M)
    c.expect("purged: entries start right after that snapshot",
             em is not None and want is not None and int(em.group(1)) == want[0] + 1, r.out[:400])
    c.expect("purged: dump shows the learner's ConfChange (the last entry)",
             any("ConfChangeAddLearnerNode" in ln for ln in entry_lines(r.out)), r.out[-600:])
    r = wc.call("verify", cp)
    print("walctl verify %s: exit %d; %s" % (cp, r.rc, r.out.strip().splitlines()[-1:] if r.out.strip() else r.err),
          flush=True)
    c.expect("purged: verify exit 0, etcd: will start on this log",
             r.rc == 0 and "etcd: will start on this log" in r.out, r.text())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--walctl", required=True)
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "wal-interop"))
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    start = time.time()
    work = os.path.join(args.work_dir, "walctl-etcd-server")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    c = Checks()
    try:
        if not os.access(args.walctl, os.X_OK):
            raise tools.Fatal("interop: walctl not built (--walctl %s)" % args.walctl)
        wc = Walctl(os.path.abspath(args.walctl))
        srv = Server(work)
        try:
            srv.wait_healthy()
            w = drive(srv)
        finally:
            srv.stop()
        print("etcd server stopped (exit %s) after %.1f s" % (srv.proc.returncode, time.time() - start), flush=True)
        check_full(c, wc, srv.data, w)
        check_purged(c, wc, srv.data, work)
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
