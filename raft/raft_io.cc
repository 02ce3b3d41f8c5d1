// walraft: canonical raft's raft_io on our WAL. The contract is in
// include/wal/raft_io.h; the mapping and the crash arguments in doc/raft.md.
#include "wal/raft_io.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "raft/snapshot_store.h"
#include "src/mutex.h"
#include "src/segment_names.h"
#include "wal/wal.h"

namespace wal {

namespace {

using internal::SnapshotId;
using internal::SnapshotMeta;
using internal::SnapshotStore;
using internal::StoredSnapshot;

// Raft's entry types (RAFT_COMMAND 1, RAFT_BARRIER 2, RAFT_CHANGE 3) are
// stored as 100 + type in the WAL entry's Type field. Storing them as-is
// would make a raft command read as etcd's EntryConfChange (1) and a barrier
// as EntryConfChangeV2 (2) in any etcd-aware tool (walctl dump, etcd's own
// decoder); a range of our own keeps the data bytes untouched (appends stay
// zero-copy, unlike a prefix byte) and makes a foreign log fail loudly at
// load instead of being misread. See doc/raft.md.
constexpr int32_t kRaftTypeBase = 100;

constexpr char kMetadataPrefix[] = "walraft v1 id=";

bool ValidRaftType(unsigned t) { return t == RAFT_COMMAND || t == RAFT_BARRIER || t == RAFT_CHANGE; }

EntryType ToWalType(unsigned short raft_type) { return static_cast<EntryType>(kRaftTypeBase + raft_type); }

int ToRaftCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNoSpace:
      return RAFT_NOSPACE;
    case StatusCode::kCorruption:
    case StatusCode::kCrcMismatch:
    case StatusCode::kSliceOutOfRange:
    case StatusCode::kSnapshotMismatch:
    case StatusCode::kMetadataConflict:
      return RAFT_CORRUPT;
    default:
      return RAFT_IOERR;
  }
}

// One request raft is waiting for, in submission order.
struct Op {
  enum class Kind { kAppend, kPut, kGet };
  Kind kind = Kind::kAppend;
  uint64_t ticket = 0;  // kAppend: the WAL's durability ticket
  bool ready = false;   // its outcome is known
  int status = 0;
  uint64_t last_index = 0;  // kAppend: the last raft index it wrote
  raft_io_append* append = nullptr;
  raft_io_append_cb append_cb = nullptr;
  raft_io_snapshot_put* put = nullptr;
  raft_io_snapshot_put_cb put_cb = nullptr;
  raft_io_snapshot_get* get = nullptr;
  raft_io_snapshot_get_cb get_cb = nullptr;
  raft_snapshot* snapshot = nullptr;  // kGet: handed to raft with the callback
};

struct Report {
  uint64_t ticket;
  Status status;
};

}  // namespace

struct RaftIoImpl {
  raft_io* io = nullptr;
  uv_loop_t* loop = nullptr;
  std::string dir, wal_dir, snap_dir, uv_dir;
  RaftIoOptions options;
  FileSystem* fs = nullptr;
  std::unique_ptr<SnapshotStore> store;

  raft_io inner{};  // the raft_uv that does the network
  bool inner_initialised = false;
  bool inner_closed = false;
  uv_async_t async{};
  bool async_initialised = false;

  raft_id id = 0;
  std::unique_ptr<WAL> wal;

  // The persistent state as written (loop thread only).
  uint64_t term = 0;
  uint64_t vote = 0;
  // The HardState's commit field: the newest snapshot's index (a snapshot
  // only ever covers committed entries). Raft's io never learns the commit
  // index; this is the part of it we know, and what etcd's rule "load only
  // snapshots at or below the recorded commit" (ValidSnapshotEntries) needs.
  uint64_t commit = 0;
  uint64_t next_index = 1;      // the raft index the next appended entry gets
  uint64_t max_entry_term = 0;  // highest term of any entry or snapshot written
  uint64_t durable_index = 0;
  uint64_t snapshot_index = 0;
  uint64_t snapshot_term = 0;

  // What init read, handed over (and dropped) by load.
  std::optional<ReadAllArenaResult> loaded;
  std::optional<StoredSnapshot> loaded_snapshot;
  bool written_since_read = false;  // bootstrap/recover wrote after init's read
  bool load_done = false;

  std::deque<Op> ops;
  std::vector<EntryView> views;  // append's scratch

  wal::internal::Mutex mu;
  std::vector<Report> reports WAL_GUARDED_BY(mu);  // from the WAL's syncer

  Status failed;  // sticky: fail-stop
  bool closing = false;
  raft_io_close_cb close_cb = nullptr;
  raft_io_tick_cb tick_cb = nullptr;
  raft_io_recv_cb recv_cb = nullptr;
};

namespace {

RaftIoImpl* ImplOf(raft_io* io) { return static_cast<RaftIoImpl*>(io->impl); }

void SetErrmsg(raft_io* io, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void SetErrmsg(raft_io* io, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(io->errmsg, RAFT_ERRMSG_BUF_SIZE, fmt, ap);
  va_end(ap);
}

void Wake(RaftIoImpl* m) {
  if (m->async_initialised) uv_async_send(&m->async);
}

// Fail-stop: remember the first error, fail every request still waiting,
// and refuse everything from now on. Nothing is retried: after a failed
// fsync the state of the file is unknown (the WAL itself has stopped).
int Fail(RaftIoImpl* m, const Status& s, std::string_view what) {
  if (m->failed.ok()) m->failed = s.WithContext(what);
  SetErrmsg(m->io, "walraft: %s", m->failed.ToString().c_str());
  for (Op& op : m->ops) {
    if (!op.ready) {
      op.ready = true;
      op.status = RAFT_IOERR;
    }
  }
  Wake(m);
  return ToRaftCode(s);
}

// The answer to any call once the io has failed.
int Refuse(RaftIoImpl* m) {
  SetErrmsg(m->io, "walraft: stopped after an earlier storage error: %s", m->failed.ToString().c_str());
  return RAFT_IOERR;
}

#define WALRAFT_GUARD(m)                     \
  do {                                       \
    if (!(m)->failed.ok()) return Refuse(m); \
  } while (0)

void FreeSnapshot(raft_snapshot* s) {
  if (s == nullptr) return;
  raft_configuration_close(&s->configuration);
  for (unsigned i = 0; i < s->n_bufs; ++i) raft_free(s->bufs[i].base);
  raft_free(s->bufs);
  raft_free(s);
}

// A raft_snapshot from a side file, every piece allocated with raft_malloc
// (raft frees it with raft_free / raft_configuration_close).
int BuildRaftSnapshot(const StoredSnapshot& in, raft_snapshot** out) {
  auto* s = static_cast<raft_snapshot*>(raft_malloc(sizeof(raft_snapshot)));
  if (s == nullptr) return RAFT_NOMEM;
  std::memset(s, 0, sizeof *s);
  s->index = in.meta.index;
  s->term = in.meta.term;
  s->configuration_index = in.meta.configuration_index;
  raft_configuration_init(&s->configuration);
  for (const auto& srv : in.meta.servers) {
    int rv =
        raft_configuration_add(&s->configuration, srv.id, srv.address.c_str(), static_cast<int>(srv.role));
    if (rv != 0) {
      FreeSnapshot(s);
      return rv;
    }
  }
  s->bufs = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  if (s->bufs == nullptr) {
    FreeSnapshot(s);
    return RAFT_NOMEM;
  }
  s->n_bufs = 1;
  // At least one byte, so that an empty payload still has a base pointer.
  s->bufs[0].base = raft_malloc(std::max<size_t>(in.payload.size(), 1));
  s->bufs[0].len = in.payload.size();
  if (s->bufs[0].base == nullptr) {
    s->n_bufs = 0;
    FreeSnapshot(s);
    return RAFT_NOMEM;
  }
  if (!in.payload.empty()) std::memcpy(s->bufs[0].base, in.payload.data(), in.payload.size());
  *out = s;
  return 0;
}

std::string MetadataFor(raft_id id) { return kMetadataPrefix + std::to_string(id); }

// Opens (or creates) the WAL at the newest snapshot that is both stored as a
// side file and recorded in the WAL, and reads it. A torn tail (the crash of
// an unacknowledged write) is repaired once, as etcd's server does.
Status OpenLog(RaftIoImpl* m) {
  const Options& wo = m->options.wal;
  m->loaded.reset();
  m->loaded_snapshot.reset();
  m->snapshot_index = m->snapshot_term = 0;
  if (!Exist(m->wal_dir, wo)) {
    WAL_ASSIGN_OR_RETURN(m->wal, WAL::Create(m->wal_dir, MetadataFor(m->id), wo));
    m->term = m->vote = m->commit = 0;
    m->next_index = 1;
    m->max_entry_term = 0;
    m->durable_index = 0;
    m->loaded.emplace();
    return Status::Ok();
  }
  for (int attempt = 0;; ++attempt) {
    // Snapshots the WAL recorded at or below its recorded commit; a side file
    // whose record never made it (a crash between the two) is skipped.
    WAL_ASSIGN_OR_RETURN(auto recorded, ValidSnapshotEntries(m->wal_dir, wo));
    WAL_ASSIGN_OR_RETURN(auto stored, m->store->List());
    std::optional<SnapshotId> chosen;
    for (const SnapshotId& id : stored) {
      if (std::find(recorded.begin(), recorded.end(), Snapshot{id.index, id.term}) != recorded.end()) {
        chosen = id;
        break;
      }
    }
    Snapshot at{};
    if (chosen) {
      WAL_ASSIGN_OR_RETURN(auto snap, m->store->Load(*chosen));
      m->loaded_snapshot = std::move(snap);
      at = Snapshot{chosen->index, chosen->term};
    }
    WAL_ASSIGN_OR_RETURN(auto w, WAL::Open(m->wal_dir, at, wo));
    auto read = w->ReadAllArena();
    if (!read.has_value() && read.error().code() == StatusCode::kUnexpectedEof && attempt == 0) {
      w.reset();
      WAL_ASSIGN_OR_RETURN(bool clean, Repair(m->wal_dir, wo));
      if (!clean) return read.error();
      continue;
    }
    if (!read.has_value()) return read.error();
    const std::string want = MetadataFor(m->id);
    if (read->metadata != want) {
      return Status(StatusCode::kMetadataConflict, "walraft: " + m->wal_dir + " holds metadata \"" +
                                                       read->metadata + "\", not \"" + want + "\"");
    }
    for (const EntryView& e : read->entries()) {
      const int32_t t = static_cast<int32_t>(e.type) - kRaftTypeBase;
      if (t < 0 || !ValidRaftType(static_cast<unsigned>(t))) {
        return Status(StatusCode::kCorruption, "walraft: entry " + std::to_string(e.index) + " has type " +
                                                   std::to_string(static_cast<int32_t>(e.type)) +
                                                   ", not a walraft type (101..103)");
      }
    }
    m->snapshot_index = at.index;
    m->snapshot_term = at.term;
    m->term = read->state.term;
    m->vote = read->state.vote;
    m->commit = std::max(read->state.commit, at.index);
    // The last index is that of the last entry returned, or the snapshot's
    // (what WAL::last_index() also says after the read).
    const uint64_t last = read->empty() ? at.index : read->entries().back().index;
    m->next_index = last + 1;
    m->durable_index = last;  // everything read back is on disk
    m->max_entry_term = std::max(m->term, at.term);
    if (!read->empty()) m->max_entry_term = std::max(m->max_entry_term, read->entries().back().term);
    m->wal = std::move(w);
    m->loaded = std::move(read).value();
    return Status::Ok();
  }
}

void InstallTicketCallback(RaftIoImpl* m) {
  m->wal->SetTicketCallback([m](uint64_t ticket, const Status& status) {
    // The WAL's syncer thread: queue and wake the loop, nothing else.
    {
      wal::internal::MutexLock l(&m->mu);
      m->reports.push_back(Report{ticket, status});
    }
    uv_async_send(&m->async);
  });
}

void AsyncClosed(uv_handle_t* handle) {
  auto* m = static_cast<RaftIoImpl*>(handle->data);
  m->async_initialised = false;
  if (m->close_cb != nullptr) m->close_cb(m->io);
}

// The loop-thread side of every completion: applies the WAL's reports, then
// fires callbacks from the front of the queue while they are ready, so that
// raft sees them in submission order.
void AsyncCb(uv_async_t* handle) {
  auto* m = static_cast<RaftIoImpl*>(handle->data);
  std::vector<Report> reports;
  {
    wal::internal::MutexLock l(&m->mu);
    reports.swap(m->reports);
  }
  for (Report& r : reports) {
    for (Op& op : m->ops) {
      if (op.kind == Op::Kind::kAppend && op.ticket == r.ticket) {
        if (!op.ready) {
          op.ready = true;
          op.status = r.status.ok() ? 0 : ToRaftCode(r.status);
        }
        break;
      }
    }
    if (!r.status.ok()) Fail(m, r.status, "append");
  }
  if (m->closing && m->wal == nullptr && m->inner_closed) {
    // The WAL is closed (every report delivered): anything still waiting
    // will never complete.
    for (Op& op : m->ops) {
      if (!op.ready) {
        op.ready = true;
        op.status = RAFT_CANCELED;
      }
    }
  }
  while (!m->ops.empty() && m->ops.front().ready) {
    Op op = m->ops.front();
    m->ops.pop_front();
    // Callbacks may call back into the io (raft appends from inside an
    // append callback): the op is off the queue before it fires.
    switch (op.kind) {
      case Op::Kind::kAppend:
        if (op.status == 0)
          m->durable_index = std::max(m->durable_index, std::min(op.last_index, m->next_index - 1));
        op.append_cb(op.append, op.status);
        break;
      case Op::Kind::kPut:
        op.put_cb(op.put, op.status);
        break;
      case Op::Kind::kGet:
        if (op.status != 0) {
          FreeSnapshot(op.snapshot);
          op.snapshot = nullptr;
        }
        op.get_cb(op.get, op.snapshot, op.status);
        break;
    }
  }
  if (m->closing && m->wal == nullptr && m->inner_closed && m->ops.empty() && m->async_initialised &&
      !uv_is_closing(reinterpret_cast<uv_handle_t*>(&m->async))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&m->async), AsyncClosed);
  }
}

// ---- raft_io ---------------------------------------------------------------

int IoInit(raft_io* io, raft_id id, const char* address) {
  RaftIoImpl* m = ImplOf(io);
  m->id = id;
  // DIR/uv is the inner raft_uv's directory, always on the real file system.
  Status s = CreateDirAll(FileSystem::Default(), m->uv_dir, 0700, /*sync_parents=*/true);
  if (!s.ok()) return Fail(m, s, "create the raft_uv dir");
  s = CreateDirAll(m->fs, m->dir, 0700, /*sync_parents=*/!m->options.wal.unsafe_no_fsync);
  if (!s.ok()) return Fail(m, s, "create data dir");
  s = m->store->Init();
  if (!s.ok()) return Fail(m, s, "snapshot store");
  s = OpenLog(m);
  if (!s.ok()) return Fail(m, s, "open wal");
  int rv = m->inner.init(&m->inner, id, address);
  if (rv != 0) {
    SetErrmsg(io, "raft_uv init: %s", m->inner.errmsg);
    m->wal->Close().IgnoreError();  // nothing was written since the read
    m->wal.reset();
    return rv;
  }
  m->inner_initialised = true;
  uv_async_init(m->loop, &m->async, AsyncCb);
  m->async.data = m;
  m->async_initialised = true;
  InstallTicketCallback(m);
  return 0;
}

void InnerClosed(raft_io* inner) {
  auto* m = static_cast<RaftIoImpl*>(inner->data);
  m->inner_closed = true;
  Wake(m);
}

void IoClose(raft_io* io, raft_io_close_cb cb) {
  RaftIoImpl* m = ImplOf(io);
  m->closing = true;
  m->close_cb = cb;
  if (m->wal != nullptr) {
    // Close syncs and delivers every outstanding ticket report (to the
    // queue) before it returns; no callback comes from the WAL after it.
    Status s = m->wal->Close();
    if (!s.ok() && m->failed.ok()) m->failed = s.WithContext("close");
    m->wal.reset();
  }
  if (m->inner_initialised) {
    m->inner.close(&m->inner, InnerClosed);
  } else {
    m->inner_closed = true;
  }
  Wake(m);
}

int IoLoad(raft_io* io, raft_term* term, raft_id* voted_for, raft_snapshot** snapshot,
           raft_index* start_index, raft_entry* entries[], size_t* n_entries) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  *snapshot = nullptr;
  *entries = nullptr;
  *n_entries = 0;
  if (m->load_done) {
    SetErrmsg(io, "walraft: load called twice");
    return RAFT_INVALID;
  }
  if (m->written_since_read) {
    // bootstrap or recover appended after init's read: read the log again
    // (a close and reopen, which is also what a restart would see).
    Status s = m->wal->Close();
    m->wal.reset();
    if (!s.ok()) return Fail(m, s, "close before reload");
    s = OpenLog(m);
    if (!s.ok()) return Fail(m, s, "reload");
    InstallTicketCallback(m);
    m->written_since_read = false;
  }
  m->load_done = true;
  if (m->loaded_snapshot) {
    int rv = BuildRaftSnapshot(*m->loaded_snapshot, snapshot);
    if (rv != 0) return rv;
  }
  *term = m->term;
  *voted_for = m->vote;
  *start_index = m->snapshot_index + 1;
  const auto ents = m->loaded->entries();
  if (!ents.empty()) {
    // One batch for all entries' data (raft frees each distinct batch once
    // and asserts on a NULL one, so allocate at least one byte).
    size_t bytes = 0;
    for (const EntryView& e : ents) bytes += e.data.size();
    auto* batch = static_cast<char*>(raft_malloc(std::max<size_t>(bytes, 1)));
    auto* out = static_cast<raft_entry*>(raft_malloc(ents.size() * sizeof(raft_entry)));
    if (batch == nullptr || out == nullptr) {
      raft_free(batch);
      raft_free(out);
      FreeSnapshot(*snapshot);
      *snapshot = nullptr;
      return RAFT_NOMEM;
    }
    size_t off = 0;
    for (size_t i = 0; i < ents.size(); ++i) {
      const EntryView& e = ents[i];
      out[i].term = e.term;
      out[i].type = static_cast<unsigned short>(static_cast<int32_t>(e.type) - kRaftTypeBase);
      out[i].buf.base = batch + off;
      out[i].buf.len = e.data.size();
      out[i].batch = batch;
      if (!e.data.empty()) std::memcpy(batch + off, e.data.data(), e.data.size());
      off += e.data.size();
    }
    *entries = out;
    *n_entries = ents.size();
  }
  m->loaded.reset();
  m->loaded_snapshot.reset();
  return 0;
}

void TickTrampoline(raft_io* inner) {
  auto* m = static_cast<RaftIoImpl*>(inner->data);
  if (m->tick_cb != nullptr) m->tick_cb(m->io);
}

void RecvTrampoline(raft_io* inner, raft_message* msg) {
  auto* m = static_cast<RaftIoImpl*>(inner->data);
  if (m->recv_cb != nullptr) m->recv_cb(m->io, msg);
}

int IoStart(raft_io* io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  m->tick_cb = tick;
  m->recv_cb = recv;
  // Raft's tick and receive callbacks find the raft instance through the io
  // they are given: the trampolines hand them ours, not the inner one.
  int rv = m->inner.start(&m->inner, msecs, TickTrampoline, RecvTrampoline);
  if (rv != 0) {
    // raft_uv leaves the message empty when the port is taken.
    SetErrmsg(io, "raft_uv start: %s (%s)",
              m->inner.errmsg[0] ? m->inner.errmsg : "no message; address in use?", raft_strerror(rv));
  }
  return rv;
}

// Writes a synced hard state (term or vote changed: WAL::Save fsyncs).
int SaveHardState(RaftIoImpl* m, uint64_t term, uint64_t vote, std::string_view what) {
  Status s = m->wal->Save(HardState{term, vote, m->commit}, std::span<const Entry>{});
  if (!s.ok()) return Fail(m, s, what);
  m->term = term;
  m->vote = vote;
  return 0;
}

// Appends one configuration entry synchronously (bootstrap, recover).
int SaveConfigurationEntry(RaftIoImpl* m, const raft_configuration* conf, uint64_t term,
                           const HardState& state, const char* what) {
  raft_buffer buf{};
  int rv = raft_configuration_encode(conf, &buf);
  if (rv != 0) {
    SetErrmsg(m->io, "walraft: %s: encode configuration: %s", what, raft_strerror(rv));
    return rv;
  }
  const EntryView e{term, m->next_index, ToWalType(RAFT_CHANGE),
                    std::string_view(static_cast<const char*>(buf.base), buf.len)};
  Status s = m->wal->Save(state, std::span<const EntryView>(&e, 1));  // synced: an entry
  raft_free(buf.base);
  if (!s.ok()) return Fail(m, s, what);
  m->durable_index = m->next_index;
  m->next_index++;
  m->max_entry_term = std::max(m->max_entry_term, term);
  m->written_since_read = true;
  return 0;
}

int IoBootstrap(raft_io* io, const raft_configuration* conf) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  if (m->next_index != 1 || m->term != 0 || m->snapshot_index != 0) {
    SetErrmsg(io, "walraft: bootstrap: the log is not empty (term %" PRIu64 ", last index %" PRIu64 ")",
              m->term, m->next_index - 1);
    return RAFT_CANTBOOTSTRAP;
  }
  // Term 1 and entry 1 (the configuration) in one synced write.
  int rv = SaveConfigurationEntry(m, conf, 1, HardState{1, 0, m->commit}, "bootstrap");
  if (rv != 0) return rv;
  m->term = 1;
  m->vote = 0;
  return 0;
}

int IoRecover(raft_io* io, const raft_configuration* conf) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  // raft_uv writes this entry with term 1. Terms never decrease along a log
  // (the WAL cuts a log where they do), so ours takes the highest term the
  // log has seen instead: the entry then reads back after the others.
  const uint64_t term = std::max<uint64_t>({m->term, m->max_entry_term, 1});
  return SaveConfigurationEntry(m, conf, term, HardState{}, "recover");
}

int IoSetTerm(raft_io* io, raft_term term) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  return SaveHardState(m, term, 0, "set_term");
}

int IoSetVote(raft_io* io, raft_id server_id) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  return SaveHardState(m, m->term, server_id, "set_vote");
}

int IoSend(raft_io* io, raft_io_send* req, const raft_message* message, raft_io_send_cb cb) {
  RaftIoImpl* m = ImplOf(io);
  // A node whose storage failed takes no further part (fail-stop).
  WALRAFT_GUARD(m);
  int rv = m->inner.send(&m->inner, req, message, cb);
  if (rv != 0) SetErrmsg(io, "raft_uv send: %s", m->inner.errmsg);
  return rv;
}

int IoAppend(raft_io* io, raft_io_append* req, const raft_entry entries[], unsigned n, raft_io_append_cb cb) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  if (m->closing) return RAFT_CANCELED;
  m->views.resize(n);
  for (unsigned i = 0; i < n; ++i) {
    if (!ValidRaftType(entries[i].type)) {
      SetErrmsg(io, "walraft: append: entry type %u", entries[i].type);
      return RAFT_INVALID;
    }
    // Raft entries carry no index: the io numbers them from next_index.
    m->views[i] =
        EntryView{entries[i].term, m->next_index + i, ToWalType(entries[i].type),
                  std::string_view(static_cast<const char*>(entries[i].buf.base), entries[i].buf.len)};
  }
  // Zero-copy: the data is encoded straight from raft's buffers. When
  // next_index is below the WAL's last index (after truncate), this write is
  // the truncation (see IoTruncate).
  auto ticket = m->wal->SaveAsync(HardState{}, std::span<const EntryView>(m->views));
  if (!ticket.has_value()) return Fail(m, ticket.error(), "append");
  req->cb = cb;
  Op op;
  op.kind = Op::Kind::kAppend;
  op.ticket = *ticket;
  op.last_index = m->next_index + n - 1;
  op.append = req;
  op.append_cb = cb;
  m->ops.push_back(op);
  m->next_index += n;
  for (unsigned i = 0; i < n; ++i) m->max_entry_term = std::max<uint64_t>(m->max_entry_term, entries[i].term);
  return 0;
}

int IoTruncate(raft_io* io, raft_index index) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  if (index == 0 || index > m->next_index) {
    SetErrmsg(io, "walraft: truncate at %llu, next index is %" PRIu64, index, m->next_index);
    return RAFT_INVALID;
  }
  // Nothing is written here: the next append, at `index`, is the truncation
  // (an entry record at index i drops every entry at >= i when the log is
  // read). Raft always follows truncate with that append and acknowledges
  // nothing (no AppendEntries result, no commit) until the append is
  // durable, so a crash in between brings back entries that are still on
  // disk but were never acknowledged at their new position: the truncated
  // ones were uncommitted, the leader truncates them again on contact, and
  // every acknowledged entry is still there.
  m->next_index = index;
  m->durable_index = std::min<uint64_t>(m->durable_index, index - 1);
  return 0;
}

int IoSnapshotPut(raft_io* io, unsigned trailing, raft_io_snapshot_put* req, const raft_snapshot* snapshot,
                  raft_io_snapshot_put_cb cb) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  if (m->closing) return RAFT_CANCELED;
  // A leader may commit (and so snapshot) an entry before its own fsync of
  // it, on a quorum of followers' acknowledgements: the snapshot may cover
  // entries that are not durable here. Make the whole WAL durable first, so
  // that no crash leaves a snapshot record over entries that are gone.
  Status s = m->wal->Sync();
  if (!s.ok()) return Fail(m, s, "snapshot_put: sync");

  SnapshotMeta meta;
  meta.index = snapshot->index;
  meta.term = snapshot->term;
  meta.configuration_index = snapshot->configuration_index;
  for (unsigned i = 0; i < snapshot->configuration.n; ++i) {
    const raft_server& srv = snapshot->configuration.servers[i];
    meta.servers.push_back({srv.id, static_cast<uint64_t>(srv.role), srv.address ? srv.address : ""});
  }
  std::vector<std::string_view> payload;
  for (unsigned i = 0; i < snapshot->n_bufs; ++i) {
    payload.emplace_back(static_cast<const char*>(snapshot->bufs[i].base), snapshot->bufs[i].len);
  }
  // The side file first (durable, renamed, directory synced), then the WAL's
  // record: a crash between them leaves a side file the WAL never recorded,
  // which load skips.
  s = m->store->Put(meta, payload);
  if (!s.ok()) return Fail(m, s, "snapshot_put: side file");
  m->commit = std::max<uint64_t>(m->commit, snapshot->index);
  // The commit-only state is not synced by itself; SaveSnapshot's fdatasync
  // covers it.
  s = m->wal->Save(HardState{m->term, m->vote, m->commit}, std::span<const Entry>{});
  if (!s.ok()) return Fail(m, s, "snapshot_put: state");
  s = m->wal->SaveSnapshot(Snapshot{snapshot->index, snapshot->term});
  if (!s.ok()) return Fail(m, s, "snapshot_put: snapshot record");
  m->snapshot_index = snapshot->index;
  m->snapshot_term = snapshot->term;
  m->max_entry_term = std::max<uint64_t>(m->max_entry_term, snapshot->term);
  uint64_t release_to = snapshot->index > trailing ? snapshot->index - trailing : 0;
  if (trailing == 0) {
    // An installed snapshot replaces the whole log: the next entry is the
    // one after it. Entries the WAL still holds beyond it (a divergent tail)
    // are dropped by that next append (the overwrite rule). If we crash
    // before it, the WAL's reading rule "terms never decrease" cuts every
    // such entry whose term is below the snapshot's, which is what a
    // divergent tail normally is (doc/raft.md discusses the rest).
    m->next_index = snapshot->index + 1;
    m->durable_index = snapshot->index;
    release_to = snapshot->index;
  }
  if (release_to > 0) {
    s = m->wal->ReleaseLockTo(release_to);
    if (!s.ok()) return Fail(m, s, "snapshot_put: release locks");
  }
  // Disk stays bounded: the segments released above go, the ones the WAL
  // still needs stay locked and Purge stops at them.
  auto purged = Purge(m->wal_dir, m->options.keep_segments, m->options.wal);
  if (!purged.has_value()) return Fail(m, purged.error(), "snapshot_put: purge");
  s = m->store->Prune(std::max<size_t>(m->options.keep_snapshots, 1));
  if (!s.ok()) return Fail(m, s, "snapshot_put: prune side files");
  req->cb = cb;
  Op op;
  op.kind = Op::Kind::kPut;
  op.ready = true;
  op.put = req;
  op.put_cb = cb;
  m->ops.push_back(op);
  Wake(m);  // completes from the loop, never inside this call
  return 0;
}

int IoSnapshotGet(raft_io* io, raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  if (m->closing) return RAFT_CANCELED;
  Op op;
  op.kind = Op::Kind::kGet;
  op.ready = true;
  op.get = req;
  op.get_cb = cb;
  if (m->snapshot_index == 0) {
    op.status = RAFT_NOTFOUND;
  } else {
    auto snap = m->store->Load(SnapshotId{m->snapshot_index, m->snapshot_term});
    if (!snap.has_value()) return Fail(m, snap.error(), "snapshot_get");
    op.status = BuildRaftSnapshot(*snap, &op.snapshot);
  }
  req->cb = cb;
  m->ops.push_back(op);
  Wake(m);
  return 0;
}

raft_time IoTime(raft_io* io) {
  RaftIoImpl* m = ImplOf(io);
  return m->inner.time(&m->inner);
}

int IoRandom(raft_io* io, int min, int max) {
  RaftIoImpl* m = ImplOf(io);
  return m->inner.random(&m->inner, min, max);
}

int IoAsyncWork(raft_io* io, raft_io_async_work* req, raft_io_async_work_cb cb) {
  RaftIoImpl* m = ImplOf(io);
  WALRAFT_GUARD(m);
  int rv = m->inner.async_work(&m->inner, req, cb);
  if (rv != 0) SetErrmsg(io, "raft_uv async_work: %s", m->inner.errmsg);
  return rv;
}

}  // namespace

int RaftIoInit(raft_io* io, uv_loop_s* loop, const std::string& dir, raft_uv_transport* transport,
               const RaftIoOptions& options) {
  auto* m = new (std::nothrow) RaftIoImpl;
  if (m == nullptr) return RAFT_NOMEM;
  m->io = io;
  m->loop = loop;
  m->dir = dir;
  m->wal_dir = internal::JoinPath(dir, "wal");
  m->snap_dir = internal::JoinPath(dir, "snap");
  m->uv_dir = internal::JoinPath(dir, "uv");
  m->options = options;
  m->fs = options.wal.file_system != nullptr ? options.wal.file_system : FileSystem::Default();
  m->store = std::make_unique<SnapshotStore>(m->fs, m->snap_dir, !options.wal.unsafe_no_fsync);
  int rv = raft_uv_init(&m->inner, loop, m->uv_dir.c_str(), transport);
  if (rv != 0) {
    SetErrmsg(io, "raft_uv init: %s", m->inner.errmsg);
    delete m;
    return rv;
  }
  m->inner.data = m;
  io->version = 2;  // async_work is there
  io->impl = m;
  io->init = IoInit;
  io->close = IoClose;
  io->load = IoLoad;
  io->start = IoStart;
  io->bootstrap = IoBootstrap;
  io->recover = IoRecover;
  io->set_term = IoSetTerm;
  io->set_vote = IoSetVote;
  io->send = IoSend;
  io->append = IoAppend;
  io->truncate = IoTruncate;
  io->snapshot_put = IoSnapshotPut;
  io->snapshot_get = IoSnapshotGet;
  io->time = IoTime;
  io->random = IoRandom;
  io->async_work = IoAsyncWork;
  return 0;
}

void RaftIoRelease(raft_io* io) {
  RaftIoImpl* m = ImplOf(io);
  if (m == nullptr) return;
  for (Op& op : m->ops) FreeSnapshot(op.snapshot);
  raft_uv_close(&m->inner);
  delete m;
  io->impl = nullptr;
}

RaftIoStats RaftIoGetStats(const raft_io* io) {
  const auto* m = static_cast<const RaftIoImpl*>(io->impl);
  RaftIoStats st;
  st.snapshot_index = m->snapshot_index;
  st.last_index = m->next_index - 1;
  st.durable_index = m->durable_index;
  auto names = m->fs->ListDir(m->wal_dir);
  if (names.has_value()) {
    for (const std::string& n : *names) st.wal_segments += std::string_view(n).ends_with(".wal") ? 1 : 0;
  }
  return st;
}

}  // namespace wal
