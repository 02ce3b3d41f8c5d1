// walraft: a canonical raft (0.15) `struct raft_io` whose storage is this
// library's WAL. Built as the target wal::raft when pkg-config finds `raft`
// and `libuv` (see doc/raft.md for the mapping, the entry-type encoding and
// the crash arguments).
//
// Storage (load, bootstrap, recover, set_term, set_vote, append, truncate,
// snapshot_put, snapshot_get) goes to a WAL in DIR/wal and to checksummed
// snapshot side files in DIR/snap. The network half (start and its tick,
// send, time, random, async_work) is delegated to an inner, unmodified
// raft_uv instance over the caller's transport; its own data directory,
// DIR/uv, is never written to.
//
// Threading: every raft_io call, every completion callback and
// RaftIoGetStats run on the thread that runs `loop` (raft's contract). The
// WAL's syncer thread only queues durability reports and wakes the loop with
// uv_async_send; callbacks are delivered from the loop, in submission order,
// never from inside the call that started the request.
//
// Durability: an append's callback reports success only once its entries
// are durable (fdatasync); set_term, set_vote, bootstrap and recover return
// only once their records are durable; snapshot_put's callback only once the
// side file, the WAL up to that point and the snapshot record are durable.
//
// Fail-stop: after any storage error, every later call (storage and
// network) returns RAFT_IOERR with io->errmsg naming the original error, and
// every request not yet completed fails. Nothing is retried; restart the
// process (a torn WAL tail left by a crash is repaired at the next init).
//
// SIGPIPE: a peer that dies mid-write makes the kernel raise SIGPIPE in the
// writer. raft_uv does not ignore it; the application must (e.g.
// signal(SIGPIPE, SIG_IGN) in main), or a node dies silently when a peer is
// killed.
#ifndef WAL_RAFT_IO_H_
#define WAL_RAFT_IO_H_

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" {
#include <raft.h>
#include <raft/uv.h>
}

#include "wal/options.h"

namespace wal {

struct RaftIoOptions {
  // The WAL's options (segment_size_bytes, file_system, ...). The snapshot
  // side files go through the same file_system; DIR/uv always lives on the
  // real file system (raft_uv needs it to exist).
  Options wal;
  // After each snapshot: ReleaseLockTo + Purge down to this many segments
  // (never one the WAL still locks, i.e. still needs).
  size_t keep_segments = 2;
  // Snapshot side files kept (newest first). Must be >= 1.
  size_t keep_snapshots = 2;
};

// Initialises `io` (the caller zeroes it) as a raft_io whose storage is our
// WAL and whose network (send, start/tick, time, random, async_work) is an
// inner, unmodified raft_uv on `loop` over `transport`. `dir` holds wal/
// (the WAL), snap/ (snapshot side files) and uv/ (the inner raft_uv's own
// directory, which stays empty). Nothing is opened until raft calls
// io->init (from raft_init). `transport` must outlive the io (raft_uv closes
// it from io->close; the caller frees it after that, e.g. raft_uv_tcp_close).
// Returns 0 or a RAFT_* code (io->errmsg set).
int RaftIoInit(struct raft_io* io, struct uv_loop_s* loop, const std::string& dir,
               struct raft_uv_transport* transport, const RaftIoOptions& options = {});

// Frees what RaftIoInit allocated. Call only after raft_close's callback has
// run (io->close's callback), or when io->init was never called or failed.
void RaftIoRelease(struct raft_io* io);

struct RaftIoStats {
  uint64_t wal_segments = 0;    // *.wal files in dir/wal now
  uint64_t snapshot_index = 0;  // newest snapshot stored
  uint64_t last_index = 0;      // last raft index appended
  uint64_t durable_index = 0;   // last raft index durable
};

// Loop thread only.
RaftIoStats RaftIoGetStats(const struct raft_io* io);

}  // namespace wal

#endif  // WAL_RAFT_IO_H_
