// wal: etcd's write-ahead log for Raft, in C++20. This umbrella header pulls
// in the whole public API.
//
// A WAL is a directory of segment files named %016x-%016x.wal
// (<sequence>-<first raft index>), each a sequence of length-prefixed,
// CRC-chained records in etcd's v3 format; see doc/format.md. The files this
// library writes are byte-identical to etcd v3.4's, and it reads files
// written by any etcd from v0.5 on.
//
// Life cycle (as in etcd): Create returns a WAL in append mode. Open,
// OpenForRead and OpenAtIndex return a WAL in read mode: call ReadAll once;
// after it succeeds a WAL opened with Open/OpenAtIndex is in append mode, one
// opened with OpenForRead is read-only.
//
// Durability (doc/durability.md): Save makes its records durable (fdatasync)
// before returning OK whenever raft requires it (any entry, or a term/vote
// change); Sync, SaveSnapshot, Cut and Close always do (Sync skips the
// fdatasync only when nothing was written since the last successful one). After any write or
// sync failure the WAL is stopped: every later mutating call returns the
// original error, and no further fsync is attempted on the file.
//
// Thread safety: the mutating calls of one WAL are serialised internally and
// may be made from several threads; ReadAll (or ReadAllArena) must not race
// with them.
#ifndef WAL_WAL_H_
#define WAL_WAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "wal/file_system.h"
#include "wal/options.h"
#include "wal/reader.h"
#include "wal/status.h"
#include "wal/types.h"

namespace wal {

namespace internal {
class ArenaSink;
}

// What WAL::ReadAllArena returns: ReadAll's result with the entries as
// EntryViews whose data lives in a few large blocks owned by this object,
// instead of one std::string (one heap allocation, 32 bytes of string and
// malloc overhead) per entry. For 100-byte entries that is about 1.4x the
// entry data in memory instead of ReadAll's 1.7x, and no allocator work per
// entry. Move-only; the views (and their data) stay valid until it is
// destroyed or assigned to, also across a move.
//
// Layout: views in one array (40 bytes each; transparent huge pages where
// the system allows them: fewer page faults), data appended to blocks of up
// to 64 MiB mapped on demand. Data of entries that a raft overwrite dropped
// stays in the blocks (dead bytes, counted in memory_bytes()).
//
// From WAL::ReadAllMapped the data is not copied at all: the views point
// into the segment files, mapped read-only (File::Map), and this object
// holds the mappings (mapped_bytes()). Those pages are the kernel's page
// cache, shared with every other reader of the files and reclaimable; they
// are not counted in memory_bytes().
class ReadAllArenaResult {
 public:
  std::string metadata;
  HardState state;

  ReadAllArenaResult();
  ~ReadAllArenaResult();
  ReadAllArenaResult(ReadAllArenaResult&&) noexcept;
  ReadAllArenaResult& operator=(ReadAllArenaResult&&) noexcept;
  ReadAllArenaResult(const ReadAllArenaResult&) = delete;
  ReadAllArenaResult& operator=(const ReadAllArenaResult&) = delete;

  std::span<const EntryView> entries() const { return {views_, size_}; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Copies out (allocates), e.g. to hand an entry to an API that wants one.
  Entry ToEntry(size_t i) const { return views_[i].ToEntry(); }
  std::vector<Entry> ToEntries() const;

  // Sum of the returned entries' data sizes.
  uint64_t data_bytes() const;
  // Memory this object has written and holds: the view array up to its
  // size plus every byte stored in the blocks (including dead bytes).
  // Address space reserved ahead but never touched is not counted: it takes
  // no RAM.
  uint64_t memory_bytes() const;
  // Bytes of segment files mapped for the views (ReadAllMapped; else 0).
  uint64_t mapped_bytes() const;

 private:
  friend class internal::ArenaSink;
  struct Block {
    char* base = nullptr;
    size_t capacity = 0;  // bytes mapped
    size_t used = 0;
  };
  void Release();

  // The views live in an anonymous mapping of their own that grows in
  // place or moves by remapping pages (mremap), never by copying.
  EntryView* views_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;  // views the mapping holds
  std::vector<Block> blocks_;
  std::vector<std::shared_ptr<const FileMapping>> mappings_;
};

// Counters a WAL keeps for its owner (metrics).
struct WalStats {
  uint64_t bytes_written = 0;  // frame bytes handed to the file
  uint64_t syncs = 0;          // fdatasync calls on segments
  uint64_t slow_syncs = 0;     // of which slower than Options::slow_sync_warn_ms
  uint64_t max_sync_micros = 0;
  uint64_t sync_micros = 0;  // total time spent in those fdatasync calls
  uint64_t cuts = 0;         // segments started by Cut or by size
  // Options::direct_io: whether the tail is written with O_DIRECT now
  // (false where the file system refused it, or without the option), and the
  // syncs done as RWF_DSYNC writes instead of an fdatasync (counted in
  // syncs and sync_micros too).
  bool direct_io = false;
  uint64_t durable_writes = 0;
  // The offset index (Options::index_entries, ReadIndexed): entries held,
  // bytes it takes, and the preads WAL::Entries issued (with the bytes they
  // returned); all 0 without an index.
  uint64_t index_entries = 0;
  uint64_t index_memory_bytes = 0;
  uint64_t index_reads = 0;
  uint64_t index_read_bytes = 0;
};

class WAL {
 public:
  // Creates a WAL in `dir` (which must not hold a *.wal file): builds it in
  // "<dir>.tmp", writes the first segment (crc, metadata, snapshot {0,0}),
  // syncs it, replaces `dir` with it (any other content of `dir` is removed,
  // as etcd does) and syncs the parent directory. Directories are 0700,
  // files 0600.
  //
  // `metadata` is stored at the head of every segment. As in Go, a
  // default-constructed string_view (data() == nullptr) is nil: the metadata
  // record has no data field. Any other view, even an empty one, is stored.
  //
  // Errors: kAlreadyExists, kIoError, kNoSpace, kPermissionDenied.
  static Result<std::unique_ptr<WAL>> Create(const std::string& dir, std::string_view metadata,
                                             const Options& options = {});

  // Opens for appending at the snapshot `snap`: selects the segments from
  // the last one whose first index <= snap.index and locks each of them
  // (kLocked if another process holds one). ReadAll then returns the entries
  // after snap.index. As in etcd, a snapshot record that is not found is not
  // an error in this mode. Errors: kFileNotFound, kLocked, kIoError.
  static Result<std::unique_ptr<WAL>> Open(const std::string& dir, const Snapshot& snap,
                                           const Options& options = {});
  // Opens without locks for reading only. ReadAll tolerates a torn last
  // record and reports kSnapshotNotFound if `snap` was not recorded.
  static Result<std::unique_ptr<WAL>> OpenForRead(const std::string& dir, const Snapshot& snap,
                                                  const Options& options = {});
  // The seed's (v0.5) semantics: ReadAll returns the entries from `index`
  // on, inclusive, and fails with kIndexNotFound when the log ends before
  // `index`. Appendable after ReadAll. OpenAtIndex(dir, 0) reads a log whose
  // first entry is 0 (seed era) or 1 (etcd v2+).
  static Result<std::unique_ptr<WAL>> OpenAtIndex(const std::string& dir, uint64_t index,
                                                  const Options& options = {});
  // OpenAtIndex's selection and ReadAll, read-only as OpenForRead: no locks,
  // the tail is not zeroed, a torn last record ends the read. No snapshot
  // is required (there is none to match). For tools (walctl dump --at-index).
  static Result<std::unique_ptr<WAL>> OpenAtIndexForRead(const std::string& dir, uint64_t index,
                                                         const Options& options = {});

  ~WAL();  // Close()s if the caller did not; errors are dropped.
  WAL(const WAL&) = delete;
  WAL& operator=(const WAL&) = delete;

  // Reads every record of the selected segments (see Open) and returns the
  // last metadata, the last hard state and the entries, by raft's rules
  // (doc/recovery.md, "Which entries ReadAll returns"):
  //  - Overwrite: an entry record at index i drops every entry already
  //    collected at index >= i, also when i is at or below the snapshot
  //    index (then nothing collected survives). A raft truncation is simply
  //    the next append at a lower index. (etcd v3.4 skips records at or
  //    below the snapshot without truncating: etcd-io/etcd#22442.)
  //  - Terms never decrease along a log: the result is cut before the first
  //    entry whose term is lower than the opened snapshot's term or than the
  //    term of an entry before it. So a snapshot installed over a divergent
  //    log (SaveSnapshot({25,5}) over entries 26..30 of term 1) reads back
  //    without the stale tail even if no append followed it. Entries above a
  //    local snapshot (term >= its term) are kept.
  // last_index() is then the index of the last entry returned (the snapshot
  // index if none). Once only. Errors: kDecoderNotFound (not in read mode),
  // kCrcMismatch, kCorruption, kUnexpectedEof (torn tail; in append mode:
  // call Repair and reopen), kMetadataConflict, kSnapshotMismatch,
  // kSnapshotNotFound (OpenForRead only), kSliceOutOfRange (a gap),
  // kIndexNotFound (OpenAtIndex only). In append mode a successful ReadAll
  // zeroes whatever follows the last valid record of the tail.
  Result<ReadAllResult> ReadAll();
  // ReadAll with the entries in an arena (see ReadAllArenaResult): the same
  // records read, the same entries, metadata and state returned, the same
  // errors and the same state change (append mode afterwards for Open and
  // OpenAtIndex). Once only, like ReadAll: a WAL is read by one of the two.
  Result<ReadAllArenaResult> ReadAllArena();
  // ReadAllArena without copying entry data: the segments are mapped
  // read-only and each view points at its entry's bytes inside the mapped
  // file (the data field of a record is contiguous). The records are
  // decoded and their CRC chain checked as ReadAll does, from the same
  // page-cache pages read in chunks (faster here than walking the mapping:
  // see src/record_reader.h); the mapping is touched only when the caller
  // reads a view. The same records, entries, errors and state change as
  // ReadAll. A segment the file system cannot map is copied as ReadAllArena
  // does.
  //
  // Safety: no call of this library shrinks a segment below a byte a view
  // points at (zero-to-end, cuts and Repair truncate only past the last
  // valid record; Purge and the rename of a new head only unlink, and the
  // mapping keeps the old file), so a result stays readable while any WAL
  // call runs, in this process or another. Another program that truncates
  // a segment under a live result makes access to its views raise SIGBUS
  // (doc/recovery.md, "Mapped reads").
  Result<ReadAllArenaResult> ReadAllMapped();

  // Reading by index, for logs larger than memory. ReadIndexed reads like
  // ReadAll (the same records decoded and checked, the same entries by the
  // same rules, the same errors and state change; once only, instead of
  // ReadAll) but keeps no entry: only an offset index of where each lies (16
  // bytes per entry, see Options::index_entries), from which Entries and
  // Term answer while appends continue. A read-only WAL (OpenForRead) keeps
  // its segments open for it.
  //
  // The index follows the log as raft sees it: appends (an append at an
  // index <= the last replaces it and every later entry), SaveSnapshot (a
  // snapshot whose index and term match an indexed entry, or the one the
  // index starts after, keeps the entries up to it; any other, installed
  // over a divergent or shorter log, drops them; in both cases the entries
  // after it stay as ReadAll would return them after a reopen at it: from
  // the first whose term is lower than the snapshot's or than the one before
  // it, they are dropped), and ReleaseLockTo (the entries in the released
  // segments are dropped: FirstIndex moves up). With an index, Save and
  // SaveEntry refuse with kInvalidArgument, before writing anything, entries
  // that leave a gap (the first above LastIndex()+1, or one more than one
  // above the entry before it): the index, like ReadAll, could not place
  // them.
  Result<ReadIndexedResult> ReadIndexed();
  // The entries [lo, hi), as raft's Storage.Entries: at least one when lo <
  // hi, then as many more as keep the total of their encoded sizes (raft's
  // Entry.Size()) <= max_bytes. One pread per segment the range spans
  // (records still in the write buffer are copied from it), each record's
  // CRC checked against the chain value it was written with. The WAL's lock
  // is held only to find the places, not for the reads: a range overwritten
  // meanwhile is returned as it was when the call began. Errors:
  // kFailedPrecondition without an index; kIndexNotFound when lo <
  // FirstIndex() (compacted or released), hi > LastIndex() + 1 or lo > hi;
  // kCrcMismatch / kCorruption (with the segment, offset and index) when
  // the bytes on disk changed; kIoError.
  Result<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes = UINT64_MAX) const;
  // The term of entry `index`, from memory, for index in [FirstIndex() - 1,
  // LastIndex()] (FirstIndex() - 1: the snapshot's term when the index starts
  // at one). kIndexNotFound else; kFailedPrecondition without an index.
  Result<uint64_t> Term(uint64_t index) const;
  // The range the index holds (kFailedPrecondition without one).
  Result<uint64_t> FirstIndex() const;
  Result<uint64_t> LastIndex() const;

  // Appends `entries` then `state` (if not empty). Syncs when raft requires
  // it (entries present, or term or vote changed since the last saved state);
  // a commit-only change is not synced. Nothing at all happens for an empty
  // state with no entries. Cuts to a new segment once the flushed size of the
  // tail reaches Options::segment_size_bytes.
  Status Save(const HardState& state, std::span<const Entry> entries);
  // Save without a copy: the entries' data is owned by the caller (e.g. a
  // raft engine's own buffers) and only needs to stay valid for the call;
  // it is encoded straight into the write buffer. Same records, same
  // durability, same cut rule as the Entry overload. (A template only so
  // that Save(state, {}) still picks the Entry overload; V is always
  // EntryView.)
  template <class V = EntryView>
  Status Save(const HardState& state, std::span<const std::type_identity_t<V>> entries) {
    return SaveViews(state, entries);
  }
  // Pipelined durability, in the spirit of etcd raft's AsyncStorageWrites:
  // appends like Save (same records, same cut rule) but returns as soon as
  // the records are in the write buffer, with a ticket. A background thread
  // makes them durable with group commit while the caller appends the next
  // batch. WaitDurable(ticket) blocks until the ticket is durable (or the WAL
  // stopped); DurableIndex() is the raft index of the last entry known
  // durable; the callback, if set, is called (on the syncer thread, without
  // any WAL lock held) each time DurableIndex() advances, whichever call made
  // the entries durable (SaveAsync's syncer, Save, Sync, WaitDurable, a cut).
  //
  // Tickets: every SaveAsync call returns a new ticket, 1, 2, 3, ... in call
  // order for the life of this WAL object, also when it writes nothing (an
  // empty state and no entries: durable once every earlier ticket is).
  Result<uint64_t> SaveAsync(const HardState& state, std::span<const Entry> entries);
  // SaveAsync without a copy; the data must stay valid for the call only.
  template <class V = EntryView>
  Result<uint64_t> SaveAsync(const HardState& state, std::span<const std::type_identity_t<V>> entries) {
    return SaveAsyncViews(state, entries);
  }
  // Errors: kInvalidArgument for a ticket this WAL never issued; the stop
  // error once the WAL stopped; kFailedPrecondition after Close if the
  // ticket did not become durable.
  Status WaitDurable(uint64_t ticket);
  uint64_t DurableIndex() const;
  void SetDurableCallback(std::function<void(uint64_t durable_index)> callback);
  // The completion a raft engine needs for each append: called once for
  // every ticket, in ticket order, exactly once, on the syncer thread and
  // without any WAL lock held (the callback may call WAL methods, but must
  // not block on a ticket that comes after its own). OK means the ticket's
  // records are durable, whichever call made them so (the syncer, Save,
  // Sync, WaitDurable, SaveSnapshot, a cut, Close). Once the WAL has stopped
  // after a write or sync failure, every outstanding ticket is reported with
  // that error. Close delivers every outstanding report before it returns.
  // Set it before the first SaveAsync (tickets issued before it are not
  // reported).
  using TicketCallback = std::function<void(uint64_t ticket, const Status& status)>;
  void SetTicketCallback(TicketCallback callback);

  // The seed's single-record appends; no sync, no cut.
  Status SaveEntry(const Entry& entry);
  Status SaveState(const HardState& state);  // no-op for an empty state
  // Appends a snapshot record and syncs.
  Status SaveSnapshot(const Snapshot& snap);
  // Flushes the write buffer and fdatasyncs the tail.
  Status Sync();
  // Ends the current segment (truncated to its written size, synced) and
  // starts <seq+1>-<last index+1>.wal with crc, metadata and hard-state
  // records, synced, renamed into place, directory synced.
  Status Cut();
  // Releases the locks of segments that hold only entries below `index`, so
  // that Purge (or etcd's purger) may delete them (etcd's rule: keep the
  // segment before the first one whose first index >= index). The usual
  // pattern to bound disk: SaveSnapshot(snap), ReleaseLockTo(snap.index),
  // Purge(dir, keep).
  Status ReleaseLockTo(uint64_t index);
  // Syncs (in append mode), releases every lock, removes an unused prepared
  // segment. Idempotent.
  Status Close();

  const std::string& dir() const;
  WalStats stats() const;
  // Index of the last entry saved or read (etcd's enti).
  uint64_t last_index() const;

  struct Impl;

 private:
  Result<ReadAllArenaResult> ReadIntoArena(bool map);
  Status SaveViews(const HardState& state, std::span<const EntryView> entries);
  Result<uint64_t> SaveAsyncViews(const HardState& state, std::span<const EntryView> entries);
  explicit WAL(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// true when `dir` holds at least one *.wal file (etcd v3 semantics).
bool Exist(const std::string& dir);
bool Exist(const std::string& dir, const Options& options);

// Repairs a torn tail: when the last segment ends in a torn record
// (kUnexpectedEof), copies it to <name>.broken (0600), truncates it just
// before that record and fsyncs. Returns true when the log ends cleanly
// (repaired or nothing to do), false when the damage is not a torn tail
// (e.g. a CRC mismatch in a complete record), which Repair must not touch.
// Errors: kFileNotFound, kLocked (the WAL is open for writing), kIoError.
Result<bool> Repair(const std::string& dir, const Options& options = {});

// Removes the oldest *.wal segments of `dir` while more than `max_segments`
// remain, stopping at the first one that is locked (by this process's WAL,
// by another process, or by etcd). Syncs the directory. Returns the names
// removed, oldest first.
//
// It removes only from the front, so the segments left always form a
// continuous sequence; a WAL keeps the locks of the segments it still needs
// (all of them, until ReleaseLockTo), so a purge after SaveSnapshot +
// ReleaseLockTo(snap.index) removes exactly the released ones and the log
// still opens at that snapshot. A crash during a purge leaves a prefix of
// the removals done (each unlink is atomic). Removing a file is not
// durable until the directory is synced: after a crash before that sync, a
// removed segment may reappear, which is harmless (it is older than every
// segment kept). Errors: kFileNotFound (no such directory), kIoError.
Result<std::vector<std::string>> Purge(const std::string& dir, size_t max_segments,
                                       const Options& options = {});
// What Purge would remove now (the same walk, taking and dropping each lock,
// removing nothing): for a dry run. Another process may take or drop a lock
// before a later Purge.
Result<std::vector<std::string>> PlanPurge(const std::string& dir, size_t max_segments,
                                           const Options& options = {});

// Checks the segments selected for `snap` without locking: CRC chain,
// metadata consistency, record types, and that `snap` was recorded. A torn
// last record is tolerated. Entries are not checked for gaps.
Status Verify(const std::string& dir, const Snapshot& snap, const Options& options = {});

// The snapshot records of the whole log whose index is <= the last recorded
// commit index, in order: the snapshots safe to load at restart.
Result<std::vector<Snapshot>> ValidSnapshotEntries(const std::string& dir, const Options& options = {});

}  // namespace wal

#endif  // WAL_WAL_H_
