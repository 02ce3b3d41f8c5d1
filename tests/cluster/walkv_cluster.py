#!/usr/bin/env python3
"""Cluster tests of walkv: three real walkv processes on 127.0.0.1, SIGKILLed and restarted.

Scenarios (one per run, --scenario):
  leader_kill        SIGKILL the leader under a bounded PUT load; a new leader takes over and the
                     load gets 200s again; the old leader restarts and catches up.
  follower_snapshot  SIGKILL a follower; PUT until the leader's log starts after the follower's
                     last entry (so only a snapshot install can catch it up); restart it; it
                     converges.
  kill_all           Rounds of: load, SIGKILL all three mid-load, restart all. Every PUT that got
                     200 reads back (or a value of a later PUT whose outcome was unknown), all nodes
                     converge to the same applied index and state hash, and every data dir stays
                     bounded (segment count and bytes) whatever the number of PUTs.
Every scenario ends with SIGTERM to every node and requires exit status 0.

Randomised choices (kill times, victims, keys) come from one seed: printed, and taken from the
environment variable WAL_TEST_SEED when set. Every loop is bounded in count and in time.
Python 3 standard library only.
"""
import argparse
import collections
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

VALUE_BYTES = 100


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def request(addr, method, path, body=None, timeout=5.0):
    """Returns (status or None on a connection error, headers, body bytes)."""
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    except (OSError, http.client.HTTPException) as e:
        return None, {}, str(e).encode()
    finally:
        conn.close()


def dir_usage(path):
    files, size = 0, 0
    for root, _, names in os.walk(path):
        for n in names:
            try:
                st = os.stat(os.path.join(root, n))
            except FileNotFoundError:
                continue
            files += 1
            size += st.st_size
    return files, size


class Cluster:
    def __init__(self, walkv, workdir, storage, snapshot_every, segment_bytes, n=3):
        self.walkv = walkv
        self.workdir = workdir
        self.storage = storage
        self.snapshot_every = snapshot_every
        self.segment_bytes = segment_bytes
        self.ids = list(range(1, n + 1))
        ports = free_ports(2 * n)
        self.raft = {i: f"127.0.0.1:{ports[i - 1]}" for i in self.ids}
        self.http = {i: f"127.0.0.1:{ports[n + i - 1]}" for i in self.ids}
        self.procs = {}

    def data_dir(self, i):
        return os.path.join(self.workdir, f"node{i}")

    def log_path(self, i):
        return os.path.join(self.workdir, f"node{i}.log")

    def start(self, i):
        peers = ",".join(f"{j}={self.raft[j]}" for j in self.ids)
        peers_http = ",".join(f"{j}={self.http[j]}" for j in self.ids)
        args = [self.walkv, "--id", str(i), "--data", self.data_dir(i), "--raft", self.raft[i],
                "--http", self.http[i], "--peers", peers, "--peers-http", peers_http,
                "--storage", self.storage, "--snapshot-every", str(self.snapshot_every),
                "--segment-bytes", str(self.segment_bytes), "--timeout-ms", "3000"]
        out = open(self.log_path(i), "ab")
        self.procs[i] = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.procs[i].poll() is not None:
                raise Failure(f"node {i} exited with {self.procs[i].returncode} at start:\n"
                              + self.tail(i))
            if self.status(i) is not None:
                return
            time.sleep(0.05)
        raise Failure(f"node {i} does not answer /v1/status 10 s after start:\n" + self.tail(i))

    def alive(self):
        return [i for i, p in self.procs.items() if p.poll() is None]

    def kill(self, i, sig=signal.SIGKILL):
        p = self.procs[i]
        p.send_signal(sig)
        try:
            return p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise Failure(f"node {i} did not exit within 15 s of signal {sig}:\n" + self.tail(i))

    def stop_all_cleanly(self):
        for i in self.alive():
            rc = self.kill(i, signal.SIGTERM)
            check(rc == 0, f"node {i} exited with {rc} after SIGTERM (want 0):\n" + self.tail(i))

    def kill_everything(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()

    def status(self, i, timeout=2.0):
        st, _, body = request(self.http[i], "GET", "/v1/status", timeout=timeout)
        if st != 200:
            return None
        return json.loads(body)

    def statuses(self, ids=None):
        return {i: self.status(i) for i in (ids or self.alive())}

    def wait_leader(self, timeout=20.0, not_id=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leaders = [(s["term"], i) for i, s in self.statuses().items()
                       if s is not None and s["role"] == "leader" and i != not_id]
            if leaders:
                return max(leaders)[1]
            time.sleep(0.1)
        raise Failure(f"no leader (other than {not_id}) within {timeout} s: {self.statuses()}")

    def wait_converged(self, timeout=30.0):
        """Waits until every node reports the same applied index and state hash."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.statuses(self.ids)
            if all(s is not None for s in last.values()):
                applied = {s["applied_index"] for s in last.values()}
                hashes = {s["state_hash"] for s in last.values()}
                if len(applied) == 1 and len(hashes) == 1:
                    return last
            time.sleep(0.2)
        raise Failure(f"nodes did not converge within {timeout} s: {last}")

    def tail(self, i, lines=15):
        try:
            with open(self.log_path(i), "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return "(no log)"


class Client:
    """Sends each request to the node it believes leads, following 503s' leader_id."""

    def __init__(self, cluster, rng, stop_event=None):
        self.cluster = cluster
        self.rng = rng
        self.leader = None
        self.stop_event = stop_event or threading.Event()

    def _call(self, method, key, body, deadline):
        while time.monotonic() < deadline and not self.stop_event.is_set():
            node = self.leader or self.rng.choice(self.cluster.ids)
            st, _, data = request(self.cluster.http[node], method, f"/v1/kv/{key}", body=body,
                                  timeout=max(0.1, min(4.0, deadline - time.monotonic())))
            if st == 200 or (st == 404 and method == "GET"):
                self.leader = node
                return st, data
            hint = 0
            if st == 503:
                try:
                    hint = json.loads(data).get("leader_id", 0)
                except ValueError:
                    hint = 0
            self.leader = hint if hint in self.cluster.ids and hint != node else None
            if self.leader is None:
                time.sleep(0.05)
        return None, b""

    def put(self, key, value, timeout=8.0):
        """True when some node answered 200 (committed and applied); False = outcome unknown."""
        st, _ = self._call("PUT", key, value.encode(), time.monotonic() + timeout)
        return st == 200

    def get(self, key, timeout=15.0):
        st, data = self._call("GET", key, None, time.monotonic() + timeout)
        check(st is not None, f"GET {key}: no leader answered within {timeout} s")
        return data.decode() if st == 200 else None


class History:
    """Per key, the PUTs in issue order with their outcome (one writer thread per key)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.puts = collections.defaultdict(list)
        self.acked = 0
        self.unknown = 0

    def record(self, key, value, ok):
        with self.lock:
            self.puts[key].append((value, ok))
            if ok:
                self.acked += 1
            else:
                self.unknown += 1

    def allowed(self, key):
        """Values a linearizable read may return: the last acknowledged one, or one of a later
        PUT whose outcome is unknown; None (404) only when no PUT was acknowledged."""
        puts = self.puts[key]
        last_ok = max((n for n, (_, ok) in enumerate(puts) if ok), default=-1)
        allowed = {v for v, _ in puts[last_ok + 1:]}
        if last_ok >= 0:
            allowed.add(puts[last_ok][0])
        else:
            allowed.add(None)
        return allowed


class Load:
    """Writer threads, each on its own keys, until stopped or a count/time bound is reached."""

    def __init__(self, cluster, history, rng, threads, keys_per_thread, max_puts, max_seconds):
        self.cluster, self.history = cluster, history
        self.stop_event = threading.Event()
        self.deadline = time.monotonic() + max_seconds
        self.per_thread = max(1, max_puts // threads)
        self.seeds = [rng.randrange(1 << 30) for _ in range(threads)]
        self.keys_per_thread = keys_per_thread
        self.acks_at = []  # monotonic times of 200s
        self.round = rng.randrange(1 << 20)
        self.workers = [threading.Thread(target=self._run, args=(t,), daemon=True)
                        for t in range(threads)]
        for w in self.workers:
            w.start()

    def _run(self, t):
        rng = random.Random(self.seeds[t])
        client = Client(self.cluster, rng, self.stop_event)
        for seq in range(self.per_thread):
            if self.stop_event.is_set() or time.monotonic() > self.deadline:
                return
            key = f"t{t}-k{rng.randrange(self.keys_per_thread)}"
            value = f"{self.round}-{t}-{seq}-".ljust(VALUE_BYTES, "v")
            ok = client.put(key, value, timeout=min(8.0, max(0.5, self.deadline - time.monotonic())))
            self.history.record(key, value, ok)
            if ok:
                self.acks_at.append(time.monotonic())

    def stop(self):
        self.stop_event.set()
        for w in self.workers:
            w.join(timeout=20)
            check(not w.is_alive(), "a load thread did not stop within 20 s")


def verify_reads(cluster, history, rng):
    client = Client(cluster, rng)
    bad = []
    for key in sorted(history.puts):
        got = client.get(key)
        if got not in history.allowed(key):
            bad.append((key, got, history.puts[key][-3:]))
    check(not bad, f"{len(bad)} keys read back wrong, e.g. {bad[:3]}")
    log(f"read back {len(history.puts)} keys: every acknowledged PUT is there "
        f"({history.acked} acknowledged, {history.unknown} unknown outcomes)")


def check_bounded(cluster, statuses, max_segments, max_bytes):
    for i in cluster.ids:
        files, size = dir_usage(cluster.data_dir(i))
        segs = statuses[i]["wal_segments"]
        log(f"node {i}: {segs} segments, {files} files, {size} bytes in its data dir")
        check(segs <= max_segments, f"node {i} holds {segs} segments (bound {max_segments})")
        check(size <= max_bytes, f"node {i}'s data dir holds {size} bytes (bound {max_bytes})")


def scenario_leader_kill(cluster, rng, args):
    for i in cluster.ids:
        cluster.start(i)
    leader = cluster.wait_leader()
    log(f"leader is {leader}")
    history = History()
    # The kill comes after a random number of acknowledged PUTs (or 3 s), far below the load's
    # own bound, so that the load is still running when the leader dies: a faster storage must
    # not finish the whole load before the kill (it did, at 4000 PUTs in under 3 s).
    kill_after = rng.randrange(500, 2000)
    load = Load(cluster, history, rng, threads=8, keys_per_thread=40, max_puts=40000, max_seconds=30)
    wait_until = time.monotonic() + 3
    while time.monotonic() < wait_until and len(load.acks_at) < kill_after:
        time.sleep(0.02)
    acks_before = len(load.acks_at)
    check(acks_before > 0, "no PUT got 200 before the kill")
    killed_at = time.monotonic()
    cluster.kill(leader)
    log(f"SIGKILLed leader {leader} after {acks_before} acknowledged PUTs")
    new_leader = cluster.wait_leader(timeout=15, not_id=leader)
    log(f"new leader {new_leader} after {time.monotonic() - killed_at:.1f} s")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and sum(t > killed_at for t in load.acks_at) < 50:
        time.sleep(0.1)
    after = sum(t > killed_at for t in load.acks_at)
    check(after >= 50, f"only {after} PUTs got 200 in the 15 s after the leader was killed")
    log(f"{after} PUTs got 200 after the kill")
    cluster.start(leader)
    time.sleep(1)
    load.stop()
    verify_reads(cluster, history, rng)
    st = cluster.wait_converged()
    log(f"converged: applied {st[1]['applied_index']}, hash {st[1]['state_hash']}")


def scenario_follower_snapshot(cluster, rng, args):
    for i in cluster.ids:
        cluster.start(i)
    leader = cluster.wait_leader()
    follower = rng.choice([i for i in cluster.ids if i != leader])
    history = History()
    # Some PUTs first, so that the follower has a log (and a snapshot) of its own to restart from.
    warmup = Load(cluster, history, rng, threads=4, keys_per_thread=40,
                  max_puts=3 * cluster.snapshot_every, max_seconds=20)
    for w in warmup.workers:
        w.join(timeout=25)
    warmup.stop()
    cluster.wait_converged()
    cluster.kill(follower)
    before = None
    # Its last index as of the kill is at most the leader's at the kill.
    follower_last = cluster.status(leader)["last_index"]
    log(f"leader {leader}; SIGKILLed follower {follower} (last index <= {follower_last})")
    load = Load(cluster, history, rng, threads=8, keys_per_thread=40, max_puts=3000, max_seconds=40)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        before = cluster.status(cluster.wait_leader(timeout=10))
        if before is not None and before["first_index"] > follower_last + 1 and \
                before["snapshot_index"] >= follower_last + 3 * cluster.snapshot_every:
            break
        time.sleep(0.2)
    load.stop()
    check(before is not None and before["first_index"] > follower_last + 1,
          f"the leader's log never moved past the follower's last entry: {before}")
    log(f"leader's log now starts at {before['first_index']} (snapshot {before['snapshot_index']}), "
        f"past the follower's {follower_last}: only a snapshot install can catch it up")
    cluster.start(follower)
    st = cluster.wait_converged(timeout=30)
    fs = st[follower]
    check(fs["snapshot_index"] > follower_last,
          f"follower {follower} converged without a snapshot past {follower_last}: {fs}")
    log(f"follower {follower} caught up: applied {fs['applied_index']}, "
        f"snapshot {fs['snapshot_index']}, hash {fs['state_hash']}")
    verify_reads(cluster, history, rng)


def scenario_kill_all(cluster, rng, args):
    for i in cluster.ids:
        cluster.start(i)
    history = History()
    # Bounds for the data dirs: the WAL keeps a couple of segments and snapshots after each
    # snapshot; raft_uv keeps its trailing entries' segments. Neither may grow with the PUT count.
    max_segments = 8
    max_bytes = 24 * cluster.segment_bytes + (1 << 20)
    for rnd in range(args.rounds):
        cluster.wait_leader()
        load = Load(cluster, history, rng, threads=8, keys_per_thread=40, max_puts=6000,
                    max_seconds=30)
        run_for = rng.uniform(2.0, 5.0)
        deadline = time.monotonic() + 20
        # Let at least a few snapshots' worth of PUTs through before the kill.
        while time.monotonic() < deadline and (len(load.acks_at) < 4 * cluster.snapshot_every
                                               or time.monotonic() < load.deadline - 30 + run_for):
            time.sleep(0.05)
        order = list(cluster.ids)
        rng.shuffle(order)
        for i in order:
            cluster.kill(i)
        log(f"round {rnd + 1}: SIGKILLed all three (order {order}) after "
            f"{len(load.acks_at)} acknowledged PUTs this round")
        load.stop()
        rng.shuffle(order)
        t0 = time.monotonic()
        for i in order:
            cluster.start(i)
        log(f"round {rnd + 1}: all three answer again after {time.monotonic() - t0:.1f} s")
        leader = cluster.wait_leader()
        log(f"round {rnd + 1}: restarted; leader {leader}")
        verify_reads(cluster, history, rng)
        st = cluster.wait_converged()
        log(f"round {rnd + 1}: converged: applied {st[1]['applied_index']}, "
            f"hash {st[1]['state_hash']}")
        check_bounded(cluster, st, max_segments, max_bytes)
    check(history.acked >= args.rounds * 4 * cluster.snapshot_every,
          f"only {history.acked} PUTs acknowledged in {args.rounds} rounds")


SCENARIOS = {
    "leader_kill": scenario_leader_kill,
    "follower_snapshot": scenario_follower_snapshot,
    "kill_all": scenario_kill_all,
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--walkv", required=True)
    p.add_argument("--workdir", required=True, help="scratch dir (wiped first; removed on success)")
    p.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    p.add_argument("--storage", default="wal", choices=["wal", "uv"])
    p.add_argument("--snapshot-every", type=int, default=64)
    p.add_argument("--segment-bytes", type=int, default=65536)
    p.add_argument("--rounds", type=int, default=2, help="kill_all: rounds of kill-all + restart")
    p.add_argument("--keep", action="store_true", help="keep the workdir on success")
    args = p.parse_args()

    seed = int(os.environ.get("WAL_TEST_SEED", random.SystemRandom().randrange(1 << 31)))
    print(f"WAL_TEST_SEED={seed}", flush=True)
    rng = random.Random(seed)
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    cluster = Cluster(args.walkv, args.workdir, args.storage, args.snapshot_every,
                      args.segment_bytes)
    started = time.monotonic()
    log(f"scenario {args.scenario}, storage {args.storage}, raft {cluster.raft}, "
        f"http {cluster.http}")
    try:
        SCENARIOS[args.scenario](cluster, rng, args)
        cluster.stop_all_cleanly()
    except Failure as e:
        cluster.kill_everything()
        print(f"FAIL ({args.scenario}, storage {args.storage}, WAL_TEST_SEED={seed}): {e}")
        for i in cluster.ids:
            print(f"--- node {i} log tail ---\n{cluster.tail(i)}")
        print(f"workdir kept: {args.workdir}")
        return 1
    finally:
        cluster.kill_everything()
    log(f"PASS {args.scenario} on {args.storage} in {time.monotonic() - started:.1f} s "
        f"(WAL_TEST_SEED={seed})")
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
