"""Running the two drivers (etcdwal = etcd v3.4's wal package, wal_interop =
this library) and handling WAL directories."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import zlib

DEPS_HINT = ("apt-get install golang-go golang-etcd-server-dev etcd-server etcd-client "
             "(scripts/deps.sh installs them)")


class Fatal(Exception):
    """A setup problem or a driver that misbehaved (not a comparison result)."""


def ensure_etcdwal(path, build_sh, gocache):
    """Returns the etcdwal binary, building it with build.sh if it is missing
    (the CMake target normally builds it). Raises Fatal with the install hint
    when Go or the etcd sources are missing."""
    if path and os.access(path, os.X_OK):
        return path
    go = shutil.which(os.environ.get("GO", "go"))
    gopath = os.environ.get("ETCDWAL_GOPATH", "/usr/share/gocode")
    if not go:
        raise Fatal("interop: Go toolchain missing, cannot build etcdwal; install: " + DEPS_HINT)
    if not os.path.isdir(os.path.join(gopath, "src/go.etcd.io/etcd/wal")):
        raise Fatal("interop: etcd v3.4 sources missing under %s, cannot build etcdwal; install: %s"
                    % (gopath, DEPS_HINT))
    if not build_sh:
        raise Fatal("interop: %s not found and no --build-sh given" % path)
    r = subprocess.run(["sh", build_sh, path] + ([gocache] if gocache else []),
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0 or not os.access(path, os.X_OK):
        raise Fatal("interop: building etcdwal failed (%d): %s\ninstall: %s"
                    % (r.returncode, r.stderr.strip(), DEPS_HINT))
    return path


DIGEST_OVER = 256


def digest_data(b64data):
    """The drivers' `read --data digest` form of an entry's base64 data."""
    raw = base64.b64decode(b64data) if b64data else b""
    if len(raw) <= DIGEST_OVER:
        return b64data or ""
    return "crc32:%08x:len:%d" % (zlib.crc32(raw), len(raw))


class _Server:
    """One `DRIVER serve` process: requests are JSON arrays of arguments, one
    per line; each answer is the command's output lines and then "#rc N"."""

    def __init__(self, path, env):
        self.requests = 0
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([path, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, env=env)

    def dead(self):
        return self.proc.poll() is not None

    def stderr_tail(self):
        try:
            self.err.seek(0)
            return self.err.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def request(self, args, timeout):
        """(rc or None if the process died or timed out, output lines, stderr)."""
        self.requests += 1
        timer = threading.Timer(timeout, self.proc.kill)
        timer.start()
        lines = []
        try:
            self.err.seek(0)
            self.err.truncate()
            self.proc.stdin.write((json.dumps(args) + "\n").encode())
            self.proc.stdin.flush()
            while True:
                raw = self.proc.stdout.readline()
                if not raw:
                    return None, lines, self.stderr_tail()
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if line.startswith("#rc "):
                    return int(line[4:]), lines, self.stderr_tail()
                lines.append(line)
        except (BrokenPipeError, OSError):
            return None, lines, self.stderr_tail()
        finally:
            timer.cancel()

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


class Driver:
    """One implementation's driver binary. Every call returns the parsed
    JSON line; a usage error or a crash raises Fatal."""

    # A served driver process answers at most this many commands, then a
    # fresh one starts (bounds what a long-lived process could accumulate).
    SERVE_MAX_REQUESTS = 300

    def __init__(self, name, path, env=None):
        self.name = name
        self.path = path
        self.env = env
        # serve=True: commands other than `run` go to a long-lived
        # `DRIVER serve` process per thread (one process start per check
        # dominated the random shards). Each answer is checked as before.
        self.serve = False
        self._local = threading.local()
        self._servers = []
        self._servers_lock = threading.Lock()

    def close(self):
        with self._servers_lock:
            servers, self._servers = self._servers, []
        for srv in servers:
            srv.close()

    def _server(self):
        srv = getattr(self._local, "server", None)
        if srv is None or srv.dead() or srv.requests >= self.SERVE_MAX_REQUESTS:
            if srv is not None:
                srv.close()
            srv = _Server(self.path, self.env)
            self._local.server = srv
            with self._servers_lock:
                self._servers.append(srv)
        return srv

    def _call(self, args, allow_exit1=False, timeout=300):
        if self.serve and args[0] != "run":
            return self._call_served(args, allow_exit1, timeout)
        try:
            r = subprocess.run([self.path] + [str(a) for a in args], capture_output=True, timeout=timeout,
                               env=self.env)
        except subprocess.TimeoutExpired:
            raise Fatal("%s %s: timed out after %ds" % (self.name, " ".join(map(str, args)), timeout))
        ok_codes = (0, 1) if allow_exit1 else (0,)
        lines = r.stdout.decode("utf-8", "replace").splitlines()
        if r.returncode not in ok_codes or len(lines) != 1:
            raise Fatal("%s %s: exit %d, stdout %r, stderr %r" % (
                self.name, " ".join(map(str, args)), r.returncode, r.stdout[:2000], r.stderr[-2000:]))
        try:
            return json.loads(lines[0])
        except ValueError as e:
            raise Fatal("%s %s: bad JSON %r: %s" % (self.name, " ".join(map(str, args)), lines[0][:2000], e))

    def _call_served(self, args, allow_exit1, timeout):
        args = [str(a) for a in args]
        srv = self._server()
        rc, lines, err = srv.request(args, timeout)
        ok_codes = (0, 1) if allow_exit1 else (0,)
        if rc is None or rc not in ok_codes or len(lines) != 1:
            srv.close()
            self._local.server = None
            raise Fatal("%s %s (served): exit %s, stdout %r, stderr %r" % (
                self.name, " ".join(args), rc, "\n".join(lines)[:2000], err[-2000:]))
        try:
            out = json.loads(lines[0])
        except ValueError as e:
            raise Fatal("%s %s: bad JSON %r: %s" % (self.name, " ".join(args), lines[0][:2000], e))
        if isinstance(out, dict) and isinstance(out.get("error"), dict) and out["error"].get("class") == "Panic":
            # A recovered panic may have skipped cleanup (open files, locks): start afresh.
            srv.close()
            self._local.server = None
        return out

    def run(self, workload, d):
        return self._call(["run", workload, d], allow_exit1=True, timeout=600)

    def read(self, d, mode, snap):
        # Payloads over 256 bytes come back as digests (digest_data): the
        # comparisons stay exact in practice and the JSON stays small (a
        # full dump made the random shards spend most of their time in it).
        return self._call(["read", d, "--mode", mode, "--snap-index", snap[0], "--snap-term", snap[1],
                           "--data", "digest"])

    def verify(self, d, snap):
        return self._call(["verify", d, "--snap-index", snap[0], "--snap-term", snap[1]])

    def repair(self, d):
        return self._call(["repair", d])

    def valid_snapshots(self, d):
        return self._call(["valid-snapshots", d])

    def command(self, kind, d, snap):
        """kind: read-read, read-write, verify, valid-snapshots, repair."""
        if kind == "read-read":
            return self.read(d, "read", snap)
        if kind == "read-write":
            return self.read(d, "write", snap)
        if kind == "verify":
            return self.verify(d, snap)
        if kind == "valid-snapshots":
            return self.valid_snapshots(d)
        if kind == "repair":
            return self.repair(d)
        raise ValueError(kind)


def copy_dir(src, dst):
    if os.path.exists(dst):
        shutil.rmtree(dst)
    if os.path.isdir(src):
        shutil.copytree(src, dst, copy_function=shutil.copyfile)
    # a missing src stays missing


def dir_state(d, include_tmp=True):
    """{name: (size, digest)} of the regular files in d (None if d is missing)."""
    if not os.path.isdir(d):
        return None
    out = {}
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if not os.path.isfile(p):
            out[name] = ("non-file", "")
            continue
        if not include_tmp and name.endswith(".tmp"):
            continue
        h = hashlib.blake2b(digest_size=16)
        with open(p, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                h.update(b)
        out[name] = (os.path.getsize(p), h.hexdigest())
    return out


def diff_states(a, b):
    """Human-readable difference of two dir_state results ('' if equal)."""
    if a == b:
        return ""
    if a is None or b is None:
        return "directory exists on one side only"
    parts = []
    for name in sorted(set(a) | set(b)):
        if name not in a:
            parts.append("only ours/right: %s" % name)
        elif name not in b:
            parts.append("only etcd/left: %s" % name)
        elif a[name] != b[name]:
            parts.append("%s differs (size %d vs %d)" % (name, a[name][0], b[name][0]))
    return "; ".join(parts)


def remove_tmp_files(d):
    """Removes *.tmp left by a run that did not close its WAL (etcd's
    prepared segment may or may not exist then: a race in etcd too)."""
    if os.path.isdir(d):
        for n in os.listdir(d):
            if n.endswith(".tmp"):
                os.remove(os.path.join(d, n))


def wal_names(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".wal")) if os.path.isdir(d) else []


def read_file(p):
    with open(p, "rb") as f:
        return f.read()


def only_new_head_in_headless_tail(etcd_dir, ours_dir):
    """Equivalence row E10: after a write-mode open of a log whose last
    segment held no valid record, or only a crc record (a head torn before
    its metadata record), we write a crc and a metadata record at its start
    (etcd leaves zeros there, after that crc record). True when that is the
    only difference: same file names, every other file identical, and in the
    last segment etcd's bytes are zero where ours differ, all within the
    first 4 KiB, before which etcd's segment holds nothing or one crc frame."""
    names = sorted(n for n in os.listdir(etcd_dir) if not n.endswith(".tmp"))
    if names != sorted(n for n in os.listdir(ours_dir) if not n.endswith(".tmp")):
        return False
    segs = [n for n in names if n.endswith(".wal")]
    if not segs:
        return False
    for n in names:
        with open(os.path.join(etcd_dir, n), "rb") as f:
            a = f.read()
        with open(os.path.join(ours_dir, n), "rb") as f:
            b = f.read()
        if n != segs[-1]:
            if a != b:
                return False
            continue
        if len(a) != len(b):
            return False
        diffs = [i for i in range(min(len(a), 8192)) if a[i] != b[i]]
        if a[8192:] != b[8192:] or not diffs or diffs[-1] >= 4096:
            return False
        start = 0
        if diffs[0] >= 16 and a[8:10] == b"\x08\x04" and a[:16] == b[:16]:
            start = 16  # a lone crc frame (16 bytes: our writer's and etcd's) that both keep
        if any(a[i] != 0 for i in range(start, diffs[-1] + 1)):
            return False
    return True
