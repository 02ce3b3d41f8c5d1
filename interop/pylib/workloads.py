"""Workloads (JSON lines, interop/etcd/README.md) for the interop tests: a
fixed set covering the API surface, a seeded random generator, and a model of
what ReadAll must return for a workload."""

import base64
import json
import random

from pylib import tools

U64 = (1 << 64) - 1


def b64(b):
    return base64.b64encode(b).decode()


def ent(index, term, data=b"", etype=0):
    e = {"index": index, "term": term}
    if etype:
        e["type"] = etype
    if data:
        e["data"] = b64(data)
    return e


def save(entries=None, state=None):
    op = {"op": "save"}
    if state is not None:
        op["state"] = {"term": state[0], "vote": state[1], "commit": state[2]}
    if entries:
        op["entries"] = entries
    return op


def create(metadata=None, segment_size=None, nil=False):
    op = {"op": "create"}
    if not nil:
        op["metadata"] = b64(metadata) if metadata is not None else None
    if segment_size:
        op["segment_size"] = segment_size
    return op


def write_workload(path, ops):
    with open(path, "w") as f:
        for op in ops:
            f.write(json.dumps(op, separators=(",", ":")) + "\n")


class Workload:
    """ops plus what the tests need to know about them."""

    def __init__(self, name, ops, snaps=None, closed=None):
        self.name = name
        self.ops = ops
        # snapshots saved by the workload ({0,0} is written by create)
        self.snaps = snaps if snaps is not None else [(0, 0)] + [
            (o["index"], o["term"]) for o in ops if o["op"] == "snapshot"]
        self.closed = closed if closed is not None else bool(ops) and ops[-1]["op"] == "close"

    def read_snaps(self):
        """Snapshots to read at: {0,0}, the last saved one, one that was never
        saved, one with the wrong term."""
        out = [(0, 0)]
        saved = [s for s in self.snaps if s != (0, 0)]
        out += saved[-1:]
        last = max([s[0] for s in self.snaps] + [e["index"] for o in self.ops if o["op"] == "save"
                                                   for e in o.get("entries", [])] + [0])
        if last + 5 <= U64:
            out.append((last + 5, 1))
        if saved and saved[-1][1] < U64:
            out.append((saved[-1][0], saved[-1][1] + 1))
        seen, uniq = set(), []
        for s in out:
            if s not in seen:
                seen.add(s)
                uniq.append(s)
        return uniq


# ---------------------------------------------------------------------------
# Model: what etcd's ReadAll returns at snapshot `snap` for a workload that
# ran to completion and was closed (read at {0,0} unless given).

def model_read(ops, snap=(0, 0)):
    """Returns the expected etcdwal read output (error null), or an error
    class string (e.g. "SliceOutOfRange")."""
    metadata = None
    state = (0, 0, 0)
    ents = []
    matched = snap == (0, 0)
    for op in ops:
        kind = op["op"]
        if kind == "create":
            md = op.get("metadata")
            metadata = base64.b64decode(md) if md else None
        elif kind == "save":
            for e in op.get("entries") or []:
                idx = e["index"]
                if idx > snap[0]:
                    up = idx - snap[0] - 1
                    if up > len(ents):
                        return "SliceOutOfRange"
                    del ents[up:]
                    ents.append({"index": idx, "term": e.get("term", 0), "type": e.get("type", 0),
                                 "data": tools.digest_data(e.get("data"))})
            st = op.get("state")
            if st:
                s = (st.get("term", 0), st.get("vote", 0), st.get("commit", 0))
                if s != (0, 0, 0):
                    state = s
        elif kind == "snapshot":
            if op["index"] == snap[0]:
                if op["term"] != snap[1]:
                    return "SnapshotMismatch"
                matched = True
    if not matched:
        return "SnapshotNotFound"
    return {"metadata": b64(metadata) if metadata else None,
            "hard_state": {"term": state[0], "vote": state[1], "commit": state[2]},
            "entries": ents, "error": None}


# ---------------------------------------------------------------------------
# Fixed workloads.

def _rand_bytes(rnd, n):
    return rnd.randbytes(n) if n else b""


def fixed_workloads(testdata_dir):
    rnd = random.Random(4242)
    w = []

    def from_file(name):
        with open("%s/%s" % (testdata_dir, name)) as f:
            ops = [json.loads(l) for l in f if l.strip()]
        return Workload("testdata/" + name, ops)

    w.append(from_file("basic.jsonl"))
    w.append(from_file("segments.jsonl"))

    # nil vs empty metadata (different bytes on disk)
    w.append(Workload("nil-metadata", [create(nil=True, segment_size=8192),
                                       save([ent(1, 1, b"a"), ent(2, 1)], (1, 1, 1)), {"op": "close"}]))
    w.append(Workload("null-metadata", [create(None, segment_size=8192),
                                        save([ent(1, 1, b"a")], (1, 0, 1)), {"op": "close"}]))
    w.append(Workload("empty-metadata", [create(b"", segment_size=8192),
                                         save([ent(1, 1, b"a")], (1, 0, 1)), {"op": "close"}]))
    w.append(Workload("binary-metadata", [create(b"<>&\0\xff\n\"\\" + _rand_bytes(rnd, 300), segment_size=4096)]
                      + [save([ent(i, 1, _rand_bytes(rnd, 200))], (1, 1, i)) for i in range(1, 60)]
                      + [{"op": "close"}]))

    # entry types (0, 1, 2, unknown, negative, extremes) and empty data
    types = [0, 1, 2, 7, -1, 2147483647, -2147483648]
    w.append(Workload("entry-types", [create(b"md")]
                      + [save([ent(i + 1, 1, b"x" * i, t)]) for i, t in enumerate(types)]
                      + [save([{"index": 8, "term": 1, "data": None}, {"index": 9, "term": 1, "data": ""}],
                              (1, 0, 9)), {"op": "close"}]))

    # values near 2^64: a snapshot far up, entries after it, max hard state
    base = U64 - 100
    w.append(Workload("u64-extremes", [create(b"big"), {"op": "snapshot", "index": base, "term": U64 - 1}]
                      + [save([ent(base + i, U64 - 1, b"v")], (U64 - 1, U64, base + i)) for i in range(1, 5)]
                      + [save(None, (U64, U64, U64)), {"op": "close"}]))

    # raft log overwrites with higher terms
    ops = [create(b"ow", segment_size=16384), save([ent(i, 1, b"t1-%d" % i) for i in range(1, 11)], (1, 1, 2))]
    ops += [save([ent(i, 2, b"t2-%d" % i) for i in range(5, 8)], (2, 2, 4))]
    ops += [save([ent(i, 3, b"t3-%d" % i) for i in range(3, 5)], (3, 3, 3))]
    ops += [save([ent(i, 3, b"more-%d" % i) for i in range(5, 300)], (3, 3, 100)), {"op": "close"}]
    w.append(Workload("overwrite", ops))

    # a raft overwrite from below the snapshot (etcd-io/etcd#22442): etcd reads
    # the stale 94..150 back at {93,2}, we read nothing after 93 (row E11);
    # then, reopened at the snapshot, appends read back exactly on both sides
    ops = [create(b"owsnap", segment_size=16384)]
    ops += [save([ent(i, 1, b"t1-%d" % i) for i in range(1, 151)], (1, 1, 80))]
    ops += [save([ent(i, 2, b"t2-%d" % i) for i in range(90, 94)], (2, 2, 90)),
            {"op": "snapshot", "index": 93, "term": 2}, {"op": "close"}]
    w.append(Workload("overwrite-below-snapshot", ops))
    # a snapshot installed over a divergent log, no append after it: etcd
    # returns 26..30 of term 1 at {25,5}, we return none of them (row E12)
    ops = [create(b"install"), save([ent(i, 1, b"t1-%d" % i) for i in range(1, 31)], (1, 1, 20)),
           save(None, (5, 0, 25)), {"op": "snapshot", "index": 25, "term": 5}, {"op": "close"}]
    w.append(Workload("installed-snapshot", ops))

    # many segments, snapshots, release_lock_to, a 1000-entry batch
    ops = [create(b"segs", segment_size=16384)]
    idx = 0
    for k in range(40):
        n = 1000 if k == 20 else rnd.randint(1, 30)
        batch = [ent(idx + j + 1, 1, _rand_bytes(rnd, 0 if n == 1000 else rnd.randint(0, 400))) for j in range(n)]
        idx += n
        ops.append(save(batch, (1, 1, idx)))
        if k % 9 == 8:
            ops.append({"op": "snapshot", "index": idx - 3, "term": 1})
            ops.append({"op": "release_lock_to", "index": idx - 3})
    ops.append({"op": "close"})
    w.append(Workload("many-segments", ops))

    # entries larger than 1 MiB and a segment much smaller than them
    w.append(Workload("big-entries", [create(b"bigent", segment_size=65536),
                                      save([ent(1, 1, _rand_bytes(rnd, 1 << 20 | 12345))], (1, 1, 1)),
                                      save([ent(2, 1, _rand_bytes(rnd, 10000)), ent(3, 1, b"")], (1, 1, 3)),
                                      save([ent(4, 1, _rand_bytes(rnd, 1500000))], (1, 1, 4)),
                                      {"op": "close"}]))

    # close, reopen at a snapshot, continue, close
    ops = [create(b"re", segment_size=8192)]
    ops += [save([ent(i, 1, _rand_bytes(rnd, 100))], (1, 1, i)) for i in range(1, 80)]
    ops += [{"op": "snapshot", "index": 50, "term": 1}, {"op": "close"},
            {"op": "open", "snap_index": 50, "snap_term": 1}]
    ops += [save([ent(i, 2, _rand_bytes(rnd, 100))], (2, 1, i)) for i in range(80, 160)]
    ops += [{"op": "close"}, {"op": "open", "segment_size": 4096}]
    ops += [save([ent(i, 2, _rand_bytes(rnd, 50))], (2, 1, i)) for i in range(160, 200)]
    ops += [{"op": "close"}]
    w.append(Workload("reopen", ops))

    # a crash: no close; the last commit-only states stay in etcd's buffer
    ops = [create(b"crash", segment_size=8192)]
    ops += [save([ent(i, 1, _rand_bytes(rnd, 64))], (1, 1, i - 1)) for i in range(1, 40)]
    ops += [save(None, (1, 1, 39)), save(None, (1, 1, 39))]
    w.append(Workload("crash-unclosed", ops, closed=False))

    # commit-only states then close (flushed by Close), empty saves, state-only saves
    ops = [create(b"st"), save([ent(1, 1)], (1, 0, 0)), save(None, (1, 0, 1)), save(), save(None, None),
           save(None, (2, 0, 1)), save(None, (2, 5, 1)), save([], (2, 5, 1)), {"op": "sync"}, {"op": "close"}]
    w.append(Workload("states", ops))

    # segment size not a multiple of 4096; a single unsynced save much larger
    # than a segment (etcd cuts only after Save)
    ops = [create(b"odd", segment_size=10000)]
    ops += [save([ent(i, 1, _rand_bytes(rnd, 333))], (1, 1, i)) for i in range(1, 120)]
    ops += [save([ent(i, 1, _rand_bytes(rnd, 700)) for i in range(120, 620)], (1, 1, 619))]
    ops += [save([ent(620, 1, b"z")], (1, 1, 620)), {"op": "close"}]
    w.append(Workload("odd-segment-size", ops))

    # exactly filling pages: entries sized to land flushes on 4096 multiples
    ops = [create(None, segment_size=4096 * 3)]
    ops += [save([ent(i, 1, b"p" * (4096 - 48))], (1, 1, i)) for i in range(1, 30)]
    ops += [{"op": "close"}]
    w.append(Workload("page-sized", ops))

    # a gap in the indexes: ReadAll fails with ErrSliceOutOfRange
    w.append(Workload("gap", [create(b"gap"), save([ent(1, 1), ent(2, 1), ent(3, 1)], (1, 0, 3)),
                              save([ent(5, 1)], (1, 0, 5)), {"op": "close"}]))

    # entries at index 0 and below the snapshot are dropped by ReadAll
    w.append(Workload("index-zero", [create(b"z"), save([ent(0, 0, b"zero")]), save([ent(1, 1)], (1, 0, 1)),
                                     {"op": "close"}]))
    return w


# ---------------------------------------------------------------------------
# Random workloads.

def random_workload(seed):
    """A seeded random workload: saves with batches of 1..1000 entries of 0
    to >1 MiB bytes (big ones rare), raft overwrites with higher terms,
    snapshots, hard states (incl. commit-only ones that are not synced),
    syncs, release_lock_to, close/reopen, small segments (several per
    workload), sometimes indexes near 2^63, sometimes a gap, sometimes no
    final close (a crash)."""
    rnd = random.Random(seed)
    seg = rnd.choice([16384, 16384, 20000, 24576, 32768, 40000, 49152, 65536])
    r = rnd.random()
    md = None if r < 0.25 else b"" if r < 0.35 else rnd.randbytes(rnd.randint(1, 120))
    ops = [create(md, seg, nil=md is None and rnd.random() < 0.5)]
    base = 0
    term = 1
    snaps = [(0, 0)]
    if rnd.random() < 0.05:
        base = (1 << 63) + rnd.randint(0, 1 << 40)
        term = rnd.randint(1, 1 << 62)
        ops.append({"op": "snapshot", "index": base, "term": term})
        snaps.append((base, term))
    terms = {}  # index -> term of the entry currently at that index
    last = base
    commit = base
    vote = rnd.randint(0, 5)
    big_left = 1 if rnd.random() < 0.07 else 0
    open_ = True
    gap_done = False

    def batch_size():
        x = rnd.random()
        if x < 0.70:
            return rnd.randint(1, 5)
        if x < 0.90:
            return rnd.randint(6, 50)
        if x < 0.98:
            return rnd.randint(51, 300)
        return rnd.randint(301, 1000)

    def data_size(n):
        nonlocal big_left
        if big_left and rnd.random() < 0.2:
            big_left -= 1
            return rnd.randint((1 << 20) + 1, (1 << 20) + 300000)
        if n > 300:
            return rnd.choice([0, 0, 1, 5, 16])
        x = rnd.random()
        if x < 0.15:
            return 0
        if x < 0.70:
            return rnd.randint(1, 100)
        if x < 0.93:
            return rnd.randint(101, 1500)
        return rnd.randint(1501, 9000)

    def etype():
        x = rnd.random()
        return 0 if x < 0.9 else 1 if x < 0.96 else 2 if x < 0.99 else rnd.choice([3, 100, -1])

    def state_for(new_commit):
        nonlocal commit
        commit = max(commit, min(new_commit, last))
        return (term, vote, commit)

    n_ops = rnd.randint(8, 60)
    for _ in range(n_ops):
        x = rnd.random()
        if not open_:
            # reopen after a close, at a saved snapshot or {0,0}
            s = rnd.choice(snaps)
            op = {"op": "open", "snap_index": s[0], "snap_term": s[1]}
            if rnd.random() < 0.1:
                op["segment_size"] = rnd.choice([16384, 32768])
            ops.append(op)
            open_ = True
            continue
        if x < 0.60 or last == base:
            start = last + 1
            if x < 0.08 and last > base + 1:
                # raft overwrite: a new leader replaces a suffix with a higher term
                start = rnd.randint(max(base + 1, last - 20), last)
                term += 1
            elif x < 0.12:
                term += 1  # new term, no conflict
            if not gap_done and rnd.random() < 0.002:
                start += 2  # a gap: ReadAll reports ErrSliceOutOfRange
                gap_done = True
            n = batch_size()
            entries = []
            for i in range(start, start + n):
                entries.append(ent(i, term, rnd.randbytes(data_size(n)), etype()))
                terms[i] = term
            for i in list(terms):
                if i >= start + n:
                    del terms[i]
            last = start + n - 1
            commit = min(commit, last)
            st = state_for(rnd.randint(commit, last)) if rnd.random() < 0.75 else None
            ops.append(save(entries, st))
        elif x < 0.68:
            if commit > base and (commit in terms):
                i = rnd.randint(max(base + 1, commit - 30), commit)
                if i in terms:
                    ops.append({"op": "snapshot", "index": i, "term": terms[i]})
                    snaps.append((i, terms[i]))
        elif x < 0.73:
            ops.append({"op": "sync"})
        elif x < 0.78:
            ops.append({"op": "release_lock_to", "index": rnd.randint(0, last + 2)})
        elif x < 0.84:
            ops.append(save(None, state_for(commit + rnd.randint(1, 10))))  # commit-only: not synced
        elif x < 0.87:
            if rnd.random() < 0.5:
                term += 1
            else:
                vote = rnd.randint(0, 5)
            ops.append(save(None, state_for(commit)))
        elif x < 0.90:
            ops.append(save(None, None) if rnd.random() < 0.5 else save([], None))
        elif x < 0.93:
            ops.append({"op": "close"})
            open_ = False
        else:
            ops.append(save([ent(last + 1, term, rnd.randbytes(data_size(1)))], state_for(last + 1)))
            terms[last + 1] = term
            last += 1
    if open_:
        # End with a tail that holds more than 4 KiB of records, so that the
        # truncation mutations (the last 4 KiB of the tail) all apply: one
        # Save of >= a segment (synced, not cut: the cut is decided before
        # the sync, on the flushed size), one small Save (now cut), then
        # 5-8 KiB of entries (no cut: less than a segment after the cut).
        big = []
        size = 0
        while size < seg + 1024:
            n = rnd.randint(500, 3000)
            last += 1
            big.append(ent(last, term, rnd.randbytes(n), etype()))
            terms[last] = term
            size += n + 24
        ops.append(save(big, state_for(last)))
        last += 1
        ops.append(save([ent(last, term, b"cut")], state_for(last)))
        tail = []
        size = 0
        target = rnd.randint(5 * 1024, 8 * 1024)
        while size < target:
            n = rnd.randint(0, 700)
            last += 1
            tail.append(ent(last, term, rnd.randbytes(n), etype()))
            size += n + 24
        ops.append(save(tail, state_for(last - rnd.randint(0, 3))))
        if rnd.random() < 0.3:
            ops.append(save(None, state_for(last)))  # commit-only: buffered
    closed = rnd.random() < 0.8
    if closed and open_:
        ops.append({"op": "close"})
    return Workload("random-%d" % seed, ops, snaps=snaps, closed=(ops[-1]["op"] == "close"))
