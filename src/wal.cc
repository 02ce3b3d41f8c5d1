// The WAL: etcd's life cycle (Create / Open / ReadAll / Save / cut / Close)
// over the file-system seam. doc/format.md describes the bytes,
// doc/durability.md the order of writes and syncs.
#include "wal/wal.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <optional>
#include <type_traits>

#include "src/coding.h"
#include "src/crc32c.h"
#include "src/group_commit.h"
#include "src/mutants.h"
#include "src/mutex.h"
#include "src/offset_index.h"
#include "src/proto.h"
#include "src/read_sinks.h"
#include "src/record_reader.h"
#include "src/record_writer.h"
#include "src/replay.h"
#include "src/segment_names.h"
#include "src/segment_pipeline.h"
#include "src/segment_set.h"

namespace wal {

using internal::ArenaSink;
using internal::GroupCommit;
using internal::MutexLock;
using internal::RecordDecoder;
using internal::RecordView;
using internal::RecordWriter;
using internal::Replay;
using internal::ReplayedRecord;
using internal::ReplayRules;
using internal::SegmentName;
using internal::VectorSink;

using namespace internal;  // NOLINT: this file implements the internals' user

// `bytes` rounded down to whole frame words. Frames are 8-byte aligned, so
// a tail kept at this size (zero-to-end keeps the preallocated size; a crash
// can leave a tail of any size) never ends in fewer than 8 zero bytes after
// its last frame: those would read as a partial length word, a torn tail.
static uint64_t WholeFrameWords(uint64_t bytes) { return bytes / kFrameHeaderBytes * kFrameHeaderBytes; }

// The WAL's state and its steps: the segments it holds, the record writer
// on the tail, cuts, and ReadAll. Durability (when appended records are
// durable, who waits, who hears of it) is the GroupCommit base; this class
// supplies what a round syncs. Everything that changes after Open is
// guarded by the one mutex, GroupCommit::mu.
struct WAL::Impl final : GroupCommit {
  enum class State { kReading, kAppending, kReadOnly, kFailed, kClosed };

  struct Segment {
    SegmentName name;
    // Shared so that a group-commit leader can fdatasync a segment outside
    // the lock while ReleaseLockTo drops it: the descriptor (and its lock)
    // closes when the last user lets go.
    std::shared_ptr<File> file;
  };

  // Cuts whose segments are set up (old tail truncated and flushed, new head
  // written into the tmp file) but whose syncs and rename the next round
  // does, without mu. Appends meanwhile go to the new segment; durable_lsn
  // passes a cut only once all of its steps are done.
  struct PendingCut {
    std::shared_ptr<File> old_file;
    std::shared_ptr<File> new_file;
    std::string tmp_path;
    std::string final_path;
  };

  explicit Impl(const Options& o, FileSystem* file_system, std::string d, bool write)
      : GroupCommit(o.unsafe_no_fsync), options(o), fs(file_system), dir(std::move(d)), write_mode(write) {}

  // Set when the WAL is opened, then only read.
  const Options options;
  FileSystem* const fs;
  const std::string dir;
  const bool write_mode;
  // What ReadAll selects (set by the Open* call before the WAL is shared).
  Snapshot start;
  uint32_t initial_crc = 0;  // ChainInto the first selected segment
  bool inclusive = false;    // OpenAtIndex: entries >= at_index
  uint64_t at_index = 0;

  State state WAL_GUARDED_BY(mu) = State::kReading;
  std::vector<Segment> segments WAL_GUARDED_BY(mu);  // write mode: locked, last = tail
  std::unique_ptr<RecordWriter> writer WAL_GUARDED_BY(mu);
  uint64_t enti WAL_GUARDED_BY(mu) = 0;
  HardState hard_state WAL_GUARDED_BY(mu);                 // last saved non-empty state
  std::optional<std::string> metadata WAL_GUARDED_BY(mu);  // nullopt = Go nil
  std::unique_ptr<SegmentPipeline> pipeline WAL_GUARDED_BY(mu);
  WalStats stats WAL_GUARDED_BY(mu);
  std::vector<PendingCut> pending_cuts WAL_GUARDED_BY(mu);
  uint64_t last_cut_lsn WAL_GUARDED_BY(mu) = 0;  // where the head of the newest cut ends
  // Where each entry lies (Options::index_entries, ReadIndexed); null
  // without one. index_error: why an index was lost (a limit it cannot hold).
  std::unique_ptr<OffsetIndex> index WAL_GUARDED_BY(mu);
  Status index_error WAL_GUARDED_BY(mu);
  // Entries' reads, counted without mu (they run outside it).
  mutable std::atomic<uint64_t> index_reads{0};
  mutable std::atomic<uint64_t> index_read_bytes{0};

  // What the round in its syncs works on: set by PrepareRound, used by
  // SyncRound without mu (only the round's leader touches them, while
  // GroupCommit marks a round running), cleared by FinishRound.
  std::vector<PendingCut> round_cuts;
  std::shared_ptr<File> round_tail;
  bool round_tail_durable = false;  // PrepareRound's RWF_DSYNC write made the tail durable

  static std::unique_ptr<WAL> Wrap(std::unique_ptr<Impl> impl) {
    return std::unique_ptr<WAL>(new WAL(std::move(impl)));
  }

  ~Impl() override {
    MutexLock l(&mu);
    if (pipeline) pipeline->Close();
  }

  Status CheckAppendable() const WAL_REQUIRES(mu) {
    if (!stopped().ok()) return StoppedError();
    switch (state) {
      case State::kAppending:
        return Status::Ok();
      case State::kReading:
        return Status(StatusCode::kFailedPrecondition, "wal: ReadAll must succeed before appending");
      case State::kReadOnly:
        return Status(StatusCode::kFailedPrecondition, "wal: opened read-only (OpenForRead)");
      case State::kFailed:
        return Status(StatusCode::kFailedPrecondition, "wal: ReadAll failed; reopen the WAL");
      case State::kClosed:
        return Status(StatusCode::kFailedPrecondition, "wal: closed");
    }
    return Status::Ok();
  }

  File* tail() const WAL_REQUIRES(mu) { return segments.back().file.get(); }

  // Counts a record the writer appended, or stops the WAL on its error.
  Status Appended(Result<size_t> frame_len) WAL_REQUIRES(mu) {
    if (!frame_len.has_value()) return Stop(frame_len.error());
    stats.bytes_written += *frame_len;
    GroupCommit::Appended(*frame_len);
    return Status::Ok();
  }
  Status WriteEntry(const Entry& e) WAL_REQUIRES(mu) {
    return WriteEntry(EntryView{e.term, e.index, e.type, e.data});
  }
  Status WriteEntry(const EntryView& e) WAL_REQUIRES(mu) {
    EntryPlace place;
    if (index) place = EntryPlace{segments.back().name.seq, writer->end_offset(), writer->crc(), 0};
    auto frame_len = writer->WriteEntry(e);
    const uint64_t len = frame_len.has_value() ? *frame_len : 0;
    WAL_RETURN_IF_ERROR(Appended(std::move(frame_len)));
    enti = e.index;
    if (index) IndexWritten(e, place, len);
    return Status::Ok();
  }

  // The offset index after an entry record was written at `place`: raft's
  // overwrite rule, as ReadAll applies it when the log is read back (an
  // entry below the first index empties the index and is not kept).
  void IndexWritten(const EntryView& e, EntryPlace place, uint64_t frame_len) WAL_REQUIRES(mu) {
    if (e.index < index->first()) {
      index->TruncateTo(0);
      return;
    }
    index->TruncateTo(static_cast<size_t>(e.index - index->first()));
    place.frame_len = frame_len;
    if (!index->Append(e.index, e.term, place)) {
      index_error = IndexLimitError(e.index, place);
      index.reset();
    }
  }

  // With an index, a Save whose entries leave a gap is refused before
  // anything is written: neither the index nor a later ReadAll could place
  // them (ReadAll reports kSliceOutOfRange). See ReadIndexed in wal.h.
  template <class E>
  Status CheckIndexable(std::span<const E> entries) const WAL_REQUIRES(mu) {
    if (!index) return Status::Ok();
    const uint64_t first = index->first();
    uint64_t next = first + index->size();
    for (const E& e : entries) {
      if (e.index > next) {
        return Status(StatusCode::kInvalidArgument, "wal: entry index " + std::to_string(e.index) +
                                                        " leaves a gap: the next index is " +
                                                        std::to_string(next) + " (at most)");
      }
      next = e.index < first ? first : e.index + 1;
    }
    return Status::Ok();
  }

  // Whether Entries and Term can answer now.
  Status CheckIndexReadable() const WAL_REQUIRES(mu) {
    if (!index) {
      if (!index_error.ok()) return index_error;
      return Status(StatusCode::kFailedPrecondition,
                    "wal: no offset index (set Options::index_entries, or read with ReadIndexed)");
    }
    if (state != State::kAppending && state != State::kReadOnly) {
      return Status(StatusCode::kFailedPrecondition, state == State::kClosed
                                                         ? "wal: closed"
                                                         : "wal: the log must be read (ReadIndexed) first");
    }
    if (!stopped().ok()) return StoppedError();
    return Status::Ok();
  }

  // The open segment with sequence number `seq` (held while the index
  // points into it), or nullptr.
  const Segment* SegmentBySeq(uint64_t seq) const WAL_REQUIRES(mu) {
    if (segments.empty() || seq < segments.front().name.seq) return nullptr;
    const uint64_t i = seq - segments.front().name.seq;
    return i < segments.size() ? &segments[static_cast<size_t>(i)] : nullptr;
  }

  // The offset index after a snapshot record: see ReadIndexed in wal.h.
  void IndexSnapshot(const Snapshot& snap) WAL_REQUIRES(mu) {
    if (!index || snap.index + 1 < index->first()) return;  // older than what the index holds
    std::optional<uint64_t> t;
    if (snap.index <= index->last()) t = index->term(snap.index);
    if (snap.index + 1 == index->first() && !t) {
      index->set_prev_term(snap.term);  // unknown until now (an OpenAtIndex read)
      t = snap.term;
    }
    if (!t || *t != snap.term) {
      // Installed over a log that does not hold it: what comes up to it no
      // longer matches; what follows is read back as ReadAll would (below).
      if (snap.index > index->last()) {
        index->Reset(snap.index + 1, snap.term);
        return;
      }
      index->DropBefore(snap.index + 1);
      index->set_prev_term(snap.term);
    }
    index->TruncateTo(index->TermOrderedPrefix(snap.index + 1, snap.term));
  }
  Status WriteState(const HardState& s) WAL_REQUIRES(mu) {
    if (s.empty()) return Status::Ok();
    hard_state = s;
    return Appended(writer->WriteState(s));
  }
  Status WriteSnapshot(const Snapshot& s) WAL_REQUIRES(mu) { return Appended(writer->WriteSnapshot(s)); }
  Status WriteMetadata() WAL_REQUIRES(mu) { return Appended(writer->WriteMetadata(metadata)); }
  Status WriteCrc() WAL_REQUIRES(mu) { return Appended(writer->WriteCrc()); }

  // Flush + fdatasync of the tail, under mu (Create, Close).
  Status SyncLocked(Mutant mutant) WAL_REQUIRES(mu) {
    Status s = writer->Flush();
    if (!s.ok()) return Stop(s);
    RoundStats rs;
    s = TimedSync(writer->file(), mutant, &rs);
    AddRoundStats(rs);
    if (!s.ok()) return Stop(s);
    MarkDurable(appended_lsn());
    return Status::Ok();
  }

  void AddRoundStats(const RoundStats& rs) WAL_REQUIRES(mu) {
    stats.syncs += rs.syncs;
    stats.slow_syncs += rs.slow_syncs;
    stats.max_sync_micros = std::max(stats.max_sync_micros, rs.max_sync_micros);
    stats.sync_micros += rs.sync_micros;
  }

  // fdatasync (skipped under unsafe_no_fsync or the mutant), timed.
  Status TimedSync(File* f, Mutant mutant, RoundStats* rs) const {
    if (options.unsafe_no_fsync || MutantActive(mutant)) return Status::Ok();
    auto t0 = std::chrono::steady_clock::now();
    Status s = f->Sync();
    CountSync(t0, rs);
    return s;
  }

  // Counts a sync that began at t0 and ends now.
  void CountSync(std::chrono::steady_clock::time_point t0, RoundStats* rs) const {
    auto us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
    ++rs->syncs;
    rs->sync_micros += us;
    rs->max_sync_micros = std::max(rs->max_sync_micros, us);
    if (us > uint64_t{options.slow_sync_warn_ms} * 1000) ++rs->slow_syncs;
  }

  // The tail's writer, from `offset` of `file` with the chain value `crc`.
  // With Options::direct_io its writes go through a second descriptor
  // opened O_DIRECT (PageWriter's direct mode), which starts with the
  // file's bytes of the partial block before `offset`; where the file
  // system refuses O_DIRECT (EINVAL), the writer is buffered.
  Result<std::unique_ptr<RecordWriter>> NewWriter(File* file, uint64_t offset, uint32_t crc)
      WAL_REQUIRES(mu) {
    if (options.direct_io) {
      OpenOptions o;
      o.read = false;
      o.write = true;
      o.direct = true;
      auto direct = fs->Open(file->path(), o);
      if (direct.has_value()) {
        std::vector<uint8_t> head(static_cast<size_t>(offset % kDirectIoAlignment));
        if (!head.empty()) {
          auto n = file->ReadAt(offset - head.size(), std::as_writable_bytes(std::span(head)));
          if (!n.has_value()) return n.error();
          if (*n != head.size())
            return Status(StatusCode::kIoError,
                          file->path() + ": short read of the block before offset " + std::to_string(offset));
        }
        stats.direct_io = true;
        return std::make_unique<RecordWriter>(file, std::move(direct).value(), offset,
                                              options.write_buffer_bytes, crc, head);
      }
      if (direct.error().sys_errno() != EINVAL) return direct.error();
    }
    stats.direct_io = false;
    auto w = std::make_unique<RecordWriter>(file, offset, options.write_buffer_bytes, crc);
    w->set_writeback_bytes(options.writeback_bytes);
    return w;
  }

  // A round: everything buffered goes to the file; the pending cuts and the
  // tail are what it syncs.
  Status PrepareRound() override WAL_REQUIRES(mu) {
    // Direct I/O: a round without a cut whose bytes since the last sync are
    // all still buffered makes them durable with one RWF_DSYNC write (timed
    // as a sync) and needs no fdatasync.
    round_tail_durable = false;
    if (writer->direct() && pending_cuts.empty() && !options.unsafe_no_fsync &&
        !MutantActive(Mutant::kSkipSaveSync)) {
      auto t0 = std::chrono::steady_clock::now();
      auto durable = writer->FlushDurable();
      if (!durable.has_value()) return durable.error();
      round_tail_durable = *durable;
      if (round_tail_durable) {
        RoundStats rs;
        CountSync(t0, &rs);
        AddRoundStats(rs);
        ++stats.durable_writes;
      }
    } else {
      WAL_RETURN_IF_ERROR(writer->Flush());
    }
    // This round's fdatasync covers every byte flushed so far.
    if (!round_tail_durable) writer->MarkSynced();
    round_cuts.swap(pending_cuts);
    round_tail = segments.back().file;
    return Status::Ok();
  }

  Status SyncRound(RoundStats* rs) override {
    for (const PendingCut& c : round_cuts) {
      // etcd's order: the finished segment, then the new head before its
      // name appears, then the name (durable once the directory is synced).
      WAL_RETURN_IF_ERROR(TimedSync(c.old_file.get(), Mutant::kSkipCutOldTailSync, rs));
      WAL_RETURN_IF_ERROR(TimedSync(c.new_file.get(), Mutant::kSkipCutHeadSync, rs));
      if (MutantActive(Mutant::kCutDirSyncBeforeRename)) WAL_RETURN_IF_ERROR(fs->SyncDir(dir));
      WAL_RETURN_IF_ERROR(fs->Rename(c.tmp_path, c.final_path));
      if (!options.unsafe_no_fsync && !MutantActive(Mutant::kSkipCutDirSync) &&
          !MutantActive(Mutant::kCutDirSyncBeforeRename))
        WAL_RETURN_IF_ERROR(fs->SyncDir(dir));
    }
    // The last cut's head sync covered the tail (its new segment) already.
    if (round_cuts.empty() && !round_tail_durable)
      WAL_RETURN_IF_ERROR(TimedSync(round_tail.get(), Mutant::kSkipSaveSync, rs));
    return Status::Ok();
  }

  void FinishRound(const RoundStats& rs, bool ok) override WAL_REQUIRES(mu) {
    AddRoundStats(rs);
    if (ok) stats.cuts += round_cuts.size();
    round_cuts.clear();
    round_tail.reset();
  }

  // Sets up a cut under mu: ends the tail where the flushed bytes end
  // (dropping preallocated space) and writes what is buffered; writes the
  // new head (crc, metadata, hard state) into a prepared tmp file, which
  // becomes the tail. Its syncs and rename are left to the next round
  // (SyncRound), so appends continue meanwhile, into the new segment,
  // exactly where etcd's would land; callers that need the cut durable
  // SyncTo(appended_lsn()).
  Status CutLocked(bool only_if_full) WAL_REQUIRES(mu) {
    // One cut at a time: the pipeline hands out two tmp names in turn, so
    // the previous cut's file must have its final name before the pipeline
    // prepares its tmp name again. Only a segment filled faster than one
    // round waits here (without mu).
    while (durable_lsn() < last_cut_lsn) {
      WAL_RETURN_IF_ERROR(SyncTo(last_cut_lsn));
      if (only_if_full && writer->flushed_offset() < options.segment_size_bytes) return Status::Ok();
    }
    // etcd ends the tail where its flushed bytes end, then writes what is
    // buffered. A direct flush writes whole blocks, so it goes first and
    // the truncation after it ends the file at the same byte.
    Status s;
    if (writer->direct()) {
      s = writer->Flush();
      if (s.ok()) s = tail()->Truncate(writer->end_offset());
    } else {
      s = tail()->Truncate(writer->flushed_offset());
      if (s.ok()) s = writer->Flush();
    }
    if (!s.ok()) return Stop(s);
    const uint64_t seq = segments.back().name.seq + 1;
    SegmentName name{seq, enti + 1, SegmentFileName(seq, enti + 1)};
    std::string tmp_path;
    auto taken = pipeline->Take(&tmp_path);
    if (!taken.has_value()) return Stop(taken.error());
    std::shared_ptr<File> old_file = segments.back().file;
    segments.push_back(Segment{name, std::move(taken).value()});
    pending_cuts.push_back(PendingCut{old_file, segments.back().file, tmp_path, JoinPath(dir, name.name)});
    // The open descriptor (and its lock) follow the rename; no reopen needed.
    const uint32_t chain = writer->crc();  // the new head carries it on
    auto w = NewWriter(tail(), 0, chain);
    if (!w.has_value()) return Stop(w.error());
    writer = std::move(w).value();
    WAL_RETURN_IF_ERROR(WriteCrc());
    WAL_RETURN_IF_ERROR(WriteMetadata());
    WAL_RETURN_IF_ERROR(WriteState(hard_state));
    last_cut_lsn = appended_lsn();
    return Status::Ok();
  }

  // Writes the records of a Save and cuts if the segment is full; reports
  // whether raft requires them to be synced (raft.MustSync: a commit-only
  // change need not be).
  template <class E>
  Status AppendLocked(const HardState& st, std::span<const E> entries, bool* must_sync) WAL_REQUIRES(mu) {
    *must_sync = false;
    if (st.empty() && entries.empty()) return Status::Ok();
    *must_sync = !entries.empty() || st.vote != hard_state.vote || st.term != hard_state.term;
    for (const E& e : entries) WAL_RETURN_IF_ERROR(WriteEntry(e));
    WAL_RETURN_IF_ERROR(WriteState(st));
    if (!entries.empty()) NoteSaveEnd(entries.back().index);
    // etcd decides on the flushed size (not counting the write buffer); a
    // cut syncs everything written so far.
    if (writer->flushed_offset() < options.segment_size_bytes) return Status::Ok();
    *must_sync = true;  // as in etcd, a Save that cuts returns once the cut is durable
    return CutLocked(/*only_if_full=*/true);
  }

  Status CloseLocked() WAL_REQUIRES(mu) {
    if (state == State::kClosed) return Status::Ok();
    StopSyncer();
    Status result;
    // Finish pending cuts (a SaveAsync may have started one), then the
    // final flush + fdatasync.
    if (state == State::kAppending && !pending_cuts.empty()) result = SyncTo(appended_lsn());
    WaitForRound();
    if (state == State::kAppending && result.ok()) {
      result = stopped().ok() ? SyncLocked(Mutant::kSkipSaveSync) : stopped();
    }
    if (pipeline) pipeline->Close();  // after the data is safe: cleanup only
    for (auto& seg : segments) {
      Status s = seg.file->Close();
      if (result.ok() && !s.ok()) result = s;
    }
    segments.clear();
    writer.reset();
    state = State::kClosed;
    return result;
  }

  // Decides where a decoded entry goes; see ReadAll in wal.h. `consumed`
  // and `total` are the sink's sizing hints (see read_sinks.h); `prev_crc`
  // the chain value before the record. With an offset index beside the sink
  // (ReadAll, ReadAllArena with Options::index_entries), the index gets the
  // same steps.
  template <class Sink>
  Status PlaceEntry(const EntryView& e, Sink* sink, uint64_t* base, const RecordDecoder& d, uint32_t prev_crc,
                    uint64_t consumed, uint64_t total) WAL_REQUIRES(mu) {
    // The index beside keeps raft's rules even under a mutant (which
    // changes the result only).
    OffsetIndex* beside = std::is_same_v<Sink, IndexSink> ? nullptr : index.get();
    uint64_t idx = e.index;
    std::optional<uint64_t> off;
    if (inclusive) {
      // OpenAtIndex(0) on a log that starts at raft index 1 (etcd v2+).
      if (*base == 0 && sink->size() == 0 && idx == 1) *base = 1;
      if (idx >= *base) off = idx - *base;
    } else if (idx > start.index) {
      off = idx - start.index - 1;
    }
    // The overwrite rule below the first index kept (the snapshot, or the
    // OpenAtIndex index): the entry replaces one that is not returned, so
    // every entry collected (all at higher indexes) is gone from the log.
    // etcd v3.4 skips such a record without truncating and returns the
    // stale tail (etcd-io/etcd#22442).
    if (!off && !MutantActive(Mutant::kSkipOverwriteBelowSnapshot)) sink->TruncateTo(0);
    if (!off && beside) beside->TruncateTo(0);
    if (off) {
      if (*off > sink->size()) {
        return Replay::ErrorAt(d, StatusCode::kSliceOutOfRange,
                               "entry index " + std::to_string(idx) + " leaves a gap after " +
                                   std::to_string(sink->size()) + " entries (expected at most index " +
                                   std::to_string((inclusive ? *base : start.index + 1) + sink->size()) + ")",
                               idx);
      }
      if (*off < sink->size() && !MutantActive(Mutant::kSkipOverwriteRule))
        sink->TruncateTo(static_cast<size_t>(*off));  // raft overwrite
      if (beside) beside->TruncateTo(static_cast<size_t>(*off));
      const EntryPlace place{segments[d.segment_index()].name.seq, d.record_offset(), prev_crc,
                             d.record_frame_bytes()};
      if constexpr (std::is_same_v<Sink, IndexSink>) {
        WAL_RETURN_IF_ERROR(sink->Append(e, place));
      } else {
        WAL_RETURN_IF_ERROR(sink->Append(e, d.MappedAddress(e.data), consumed, total));
        if (beside && !beside->Append(e.index, e.term, place)) return IndexLimitError(e.index, place);
      }
    }
    enti = idx;
    return Status::Ok();
  }

  // ReadAll's one implementation, for both of its outputs (the sink).
  template <class Sink>
  Status ReadAllInto(Sink* sink, std::string* metadata_out, HardState* state_out) WAL_REQUIRES(mu) {
    if (state != State::kReading)
      return Status(StatusCode::kDecoderNotFound, "wal: ReadAll needs a WAL in read mode");
    std::vector<SegmentInput> inputs;
    uint64_t total = 0;  // a sizing hint only: a file whose size fails here fails in the decoder
    for (auto& seg : segments) {
      inputs.push_back({seg.name.name, seg.file.get()});
      if (auto n = seg.file->Size(); n.has_value()) total += *n;
    }
    RecordDecoder d(std::move(inputs), options.read_chunk_bytes, options.torn_write_rule);
    d.set_initial_crc(initial_crc);
    d.set_map_segments(sink->mappings());
    if (index) {
      if (inclusive)  // (from 1: an empty log must not end at index 0 - 1; a seed log's entry 0 starts it at
                      // 0)
        index->Reset(std::max<uint64_t>(at_index, 1), std::nullopt);
      else
        index->Reset(start.index + 1, start.term);
    }

    Replay replay(ReplayRules{.snapshot = inclusive ? std::nullopt : std::optional<Snapshot>(start)});
    ReplayedRecord out;
    uint64_t base = at_index;
    uint64_t consumed = 0;
    uint64_t tail_records = 0;   // valid records read in the tail segment
    bool tail_only_crc = false;  // ... and they are a lone crc record (a head torn after it)
    RecordView rec;
    Status err;
    while (true) {
      const uint32_t prev_crc = d.crc();
      auto r = d.Next(&rec);
      if (!r.has_value()) {
        err = r.error();
        break;
      }
      if (!*r) break;
      consumed += d.record_frame_bytes();
      if (d.in_last_segment()) tail_only_crc = ++tail_records == 1 && rec.type == kCrcType;
      Status s = replay.Apply(rec, d, &out);
      if (s.ok() && rec.type == kEntryType)
        s = PlaceEntry(out.entry, sink, &base, d, prev_crc, consumed, total);
      if (s.ok() && rec.type == kStateType) *state_out = out.state;
      if (!s.ok()) return Fail(s);
    }
    if (!err.ok()) {
      // Read mode may stop at a torn last record; write mode must read to a
      // clean end so that appends follow valid data.
      if (write_mode || err.code() != StatusCode::kUnexpectedEof) return Fail(err);
    }
    // Terms never decrease along a raft log, and every entry after the
    // snapshot has a term >= the snapshot's: an entry that breaks this was
    // written before a snapshot installed over a divergent log (and no
    // append overwrote it yet). Cut the result before it; see wal.h.
    if (const size_t keep = TermOrderedPrefix(*sink, inclusive ? 0 : start.term); keep < sink->size()) {
      sink->TruncateTo(keep);
      if (index) index->TruncateTo(keep);
      enti = keep > 0 ? sink->last_index() : start.index;  // inclusive keeps its first entry
    }
    // The log ends no lower than the snapshot it was opened at (raft's
    // lastIndex), also when every entry read lies at or below it: the next
    // cut's segment is then named after the snapshot, so that a reopen at
    // that snapshot still selects the segment holding its record. (etcd
    // keeps the last entry's index: after a snapshot installed past the end
    // of the log, a cut before any append names a segment <= the snapshot
    // index, and etcd's OpenForRead at that snapshot then misses its record
    // and fails with ErrSnapshotNotFound.)
    if (!inclusive) enti = std::max(enti, start.index);
    if (inclusive && enti < at_index) {
      return Fail(Status(StatusCode::kIndexNotFound, "wal: index " + std::to_string(at_index) +
                                                         " not found; the log ends at index " +
                                                         std::to_string(enti)));
    }
    if (replay.metadata()) *metadata_out = *replay.metadata();
    metadata = replay.metadata();
    if (!write_mode) {
      if (!index) {  // an index reads from them later
        for (auto& seg : segments) seg.file->Close().IgnoreError();
        segments.clear();
      }
      state = State::kReadOnly;
      if (!replay.snapshot_matched() && !inclusive) {
        return Status(StatusCode::kSnapshotNotFound, "wal: snapshot {index " + std::to_string(start.index) +
                                                         ", term " + std::to_string(start.term) +
                                                         "} not found in " + dir);
      }
      return Status::Ok();
    }
    // Write mode (etcd swallows kSnapshotNotFound here). Zero everything
    // after the last valid record of the tail: bytes past a zero length word
    // may be a torn write that later appends must not leave half-covered.
    // A tail whose only record is a crc record is a head torn before its
    // metadata record: it is rewritten whole (below), so that the segment
    // never holds appends without its metadata.
    const uint64_t off = tail_only_crc ? 0 : d.last_valid_offset();
    if (off == 0 && !MutantActive(Mutant::kSkipHeadlessTailHead)) {
      // The tail holds no valid record at all (its head was lost to damage;
      // our own cuts never leave a headless segment). Give it a crc and a
      // metadata record before any append, so that a reader or Repair
      // starting at this segment can check what follows it. (etcd appends
      // straight away.)
      Status s = ReplaceHeadlessTail(d.crc());
      if (!s.ok()) return Fail(s);
      if (sink->size() > 0) set_durable_index(sink->last_index());
      return Status::Ok();
    }
    auto size = tail()->Size();
    if (!size.has_value()) return Fail(size.error());
    if (!MutantActive(Mutant::kSkipZeroToEnd)) {
      Status s = tail()->Truncate(off);
      if (s.ok()) s = tail()->Allocate(std::max(off, WholeFrameWords(*size)));
      // Make the zeros durable before anything is appended over them: if an
      // append were torn while the old bytes were still on disk, stale
      // frames could follow it (ALICE, etcd #6378). etcd does not sync here.
      if (s.ok() && !options.unsafe_no_fsync && !MutantActive(Mutant::kSkipZeroToEndSync)) s = tail()->Sync();
      if (!s.ok()) return Fail(s);
    }
    auto w = NewWriter(tail(), off, d.crc());
    if (!w.has_value()) return Fail(w.error());
    writer = std::move(w).value();
    state = State::kAppending;
    if (sink->size() > 0) set_durable_index(sink->last_index());
    return Status::Ok();
  }

  Status Fail(Status s) WAL_REQUIRES(mu) {
    state = State::kFailed;
    return s;
  }

  // Write-mode ReadAll on a tail without a valid record: the new head (crc
  // and metadata) goes into a prepared file that replaces the tail
  // whole, as a cut's head does (synced, renamed over the tail's name, the
  // directory synced), before anything is appended. Written in place, a
  // crash could tear the head: a crc record cut inside its varint still
  // parses, as a wrong chain value, and the log would read as corrupt
  // instead of torn. The replaced tail held nothing valid, so nothing is
  // lost with it.
  Status ReplaceHeadlessTail(uint32_t chain) WAL_REQUIRES(mu) {
    // The replacement keeps the tail's size (etcd's zero-to-end keeps it
    // too), in whole frame words.
    auto size = tail()->Size();
    if (!size.has_value()) return size.error();
    std::string tmp_path;
    auto taken = pipeline->TakeSized(&tmp_path, WholeFrameWords(*size));
    if (!taken.has_value()) return taken.error();
    std::shared_ptr<File> file = std::move(taken).value();
    WAL_ASSIGN_OR_RETURN(writer, NewWriter(file.get(), 0, chain));
    WAL_RETURN_IF_ERROR(WriteCrc());
    WAL_RETURN_IF_ERROR(WriteMetadata());
    WAL_RETURN_IF_ERROR(writer->Flush());
    RoundStats rs;
    WAL_RETURN_IF_ERROR(TimedSync(file.get(), Mutant::kSkipCutHeadSync, &rs));
    WAL_RETURN_IF_ERROR(fs->Rename(tmp_path, JoinPath(dir, segments.back().name.name)));
    if (!options.unsafe_no_fsync && !MutantActive(Mutant::kSkipCutDirSync))
      WAL_RETURN_IF_ERROR(fs->SyncDir(dir));
    AddRoundStats(rs);
    segments.back().file->Close().IgnoreError();
    segments.back().file = std::move(file);
    state = State::kAppending;
    MarkDurable(appended_lsn());
    return Status::Ok();
  }

  // How many of the sink's entries (from the first) have terms >= `floor`
  // and never lower than the entry before.
  template <class Sink>
  static size_t TermOrderedPrefix(const Sink& sink, uint64_t floor) {
    if (MutantActive(Mutant::kSkipTermOrderRule)) return sink.size();
    for (size_t i = 0; i < sink.size(); ++i) {
      const uint64_t t = sink.term_at(i);
      if (t < floor) return i;
      floor = t;
    }
    return sink.size();
  }
};

WAL::WAL(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WAL::~WAL() {
  if (impl_) Close().IgnoreError();
}

namespace {

// Every Open* call: selects the segments from the one that can hold
// `index`, opens them (locked in write mode) and finds where the CRC chain
// starts. `snap` is what ReadAll starts after; nullopt: OpenAtIndex's
// entries >= index.
Result<std::unique_ptr<WAL>> OpenWal(const std::string& dir, uint64_t index, std::optional<Snapshot> snap,
                                     const Options& options, bool write) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  auto impl = std::make_unique<WAL::Impl>(options, FileSystemOf(options), dir, write);
  MutexLock l(&impl->mu);
  WAL_ASSIGN_OR_RETURN(auto sel, SelectSegments(impl->fs, dir, index));
  for (size_t i = sel.from; i < sel.segments.size(); ++i) {
    OpenOptions o;
    o.write = write;
    const std::string path = JoinPath(dir, sel.segments[i].name);
    WAL_ASSIGN_OR_RETURN(auto f, impl->fs->Open(path, o));
    if (write) WAL_RETURN_IF_ERROR(f->TryLock());
    impl->segments.push_back({sel.segments[i], std::move(f)});
  }
  impl->initial_crc =
      ChainInto(impl->fs, dir, sel.segments, sel.from, impl->segments.front().file.get(), options);
  if (options.index_entries) impl->index = std::make_unique<OffsetIndex>();
  if (write) {
    impl->pipeline =
        std::make_unique<SegmentPipeline>(impl->fs, dir, options.segment_size_bytes,
                                          options.background_segment_preparation, options.prezero_segments);
  }
  if (snap) {
    impl->start = *snap;
  } else {
    impl->inclusive = true;
    impl->at_index = index;
  }
  return WAL::Impl::Wrap(std::move(impl));
}

}  // namespace

Result<std::unique_ptr<WAL>> WAL::Create(const std::string& dir_in, std::string_view metadata,
                                         const Options& options) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  const std::string dir = CleanPath(dir_in);
  if (Exist(dir, options)) return Status(StatusCode::kAlreadyExists, "wal: " + dir + " already holds a WAL");

  // Build the WAL in <dir>.tmp and rename it into place, so a crash never
  // leaves a half-initialised WAL directory (etcd #5270).
  const std::string tmp = dir + ".tmp";
  WAL_RETURN_IF_ERROR(RemoveAll(fs, tmp));
  WAL_RETURN_IF_ERROR(CreateDirAll(fs, tmp, 0700, /*sync_parents=*/!options.unsafe_no_fsync &&
                                                      !MutantActive(Mutant::kSkipCreateDirsSync)));

  auto impl = std::make_unique<Impl>(options, fs, dir, /*write=*/true);
  MutexLock l(&impl->mu);
  if (metadata.data() != nullptr) impl->metadata = std::string(metadata);
  if (options.index_entries) {
    impl->index = std::make_unique<OffsetIndex>();
    impl->index->Reset(1, 0);  // after the snapshot {0, 0} written below
  }

  const SegmentName first{0, 0, SegmentFileName(0, 0)};
  OpenOptions o;
  o.write = true;
  o.create = true;
  o.truncate = true;
  o.mode = 0600;
  WAL_ASSIGN_OR_RETURN(auto f, fs->Open(JoinPath(tmp, first.name), o));
  WAL_RETURN_IF_ERROR(f->Lock());
  WAL_RETURN_IF_ERROR(f->Allocate(options.segment_size_bytes));
  // The first segment too (synced with the head below); later ones are
  // zeroed by the pipeline in the background.
  if (options.prezero_segments) WAL_RETURN_IF_ERROR(WriteZeros(f.get(), options.segment_size_bytes));
  impl->segments.push_back({first, std::move(f)});
  WAL_ASSIGN_OR_RETURN(impl->writer, impl->NewWriter(impl->tail(), 0, 0));
  impl->state = Impl::State::kAppending;
  WAL_RETURN_IF_ERROR(impl->WriteCrc());
  WAL_RETURN_IF_ERROR(impl->WriteMetadata());
  WAL_RETURN_IF_ERROR(impl->WriteSnapshot(Snapshot{}));
  WAL_RETURN_IF_ERROR(impl->SyncLocked(Mutant::kSkipCreateFileSync));
  // Make the file's entry in the tmp directory durable before the directory
  // is renamed (etcd skips this; a strict file system may lose the entry).
  if (!options.unsafe_no_fsync && !MutantActive(Mutant::kSkipCreateTmpDirSync)) {
    WAL_RETURN_IF_ERROR(fs->SyncDir(tmp));
  }

  // As etcd: whatever else was in `dir` goes (Create refused if it held a
  // *.wal file). The open file and its lock survive the rename.
  WAL_RETURN_IF_ERROR(RemoveAll(fs, dir));
  WAL_RETURN_IF_ERROR(fs->Rename(tmp, dir));
  // The rename is durable only once the parent directory is synced.
  if (!options.unsafe_no_fsync && !MutantActive(Mutant::kSkipCreateParentSync)) {
    WAL_RETURN_IF_ERROR(fs->SyncDir(ParentDir(dir)));
  }
  impl->pipeline = std::make_unique<SegmentPipeline>(
      fs, dir, options.segment_size_bytes, options.background_segment_preparation, options.prezero_segments);
  return Impl::Wrap(std::move(impl));
}

Result<std::unique_ptr<WAL>> WAL::Open(const std::string& dir, const Snapshot& snap, const Options& options) {
  return OpenWal(dir, snap.index, snap, options, /*write=*/true);
}

Result<std::unique_ptr<WAL>> WAL::OpenForRead(const std::string& dir, const Snapshot& snap,
                                              const Options& options) {
  return OpenWal(dir, snap.index, snap, options, /*write=*/false);
}

Result<std::unique_ptr<WAL>> WAL::OpenAtIndex(const std::string& dir, uint64_t index,
                                              const Options& options) {
  return OpenWal(dir, index, std::nullopt, options, /*write=*/true);
}

Result<std::unique_ptr<WAL>> WAL::OpenAtIndexForRead(const std::string& dir, uint64_t index,
                                                     const Options& options) {
  return OpenWal(dir, index, std::nullopt, options, /*write=*/false);
}

Result<ReadAllResult> WAL::ReadAll() {
  MutexLock l(&impl_->mu);
  ReadAllResult out;
  VectorSink sink(&out.entries);
  WAL_RETURN_IF_ERROR(impl_->ReadAllInto(&sink, &out.metadata, &out.state));
  return out;
}

Result<ReadAllArenaResult> WAL::ReadAllArena() { return ReadIntoArena(/*map=*/false); }
Result<ReadAllArenaResult> WAL::ReadAllMapped() { return ReadIntoArena(/*map=*/true); }

Result<ReadAllArenaResult> WAL::ReadIntoArena(bool map) {
  MutexLock l(&impl_->mu);
  ReadAllArenaResult out;
  ArenaSink sink(&out, map);
  WAL_RETURN_IF_ERROR(impl_->ReadAllInto(&sink, &out.metadata, &out.state));
  return out;
}

Result<ReadIndexedResult> WAL::ReadIndexed() {
  Impl& w = *impl_;
  MutexLock l(&w.mu);
  if (!w.index) w.index = std::make_unique<OffsetIndex>();
  ReadIndexedResult out;
  IndexSink sink(w.index.get());
  WAL_RETURN_IF_ERROR(w.ReadAllInto(&sink, &out.metadata, &out.state));
  w.index->Trim();  // what the read filled, no more (appends grow it again)
  out.first_index = w.index->first();
  out.last_index = w.index->last();
  return out;
}

namespace {

// What a record's frame holds beyond the entry it carries: the length word,
// up to 7 bytes of padding, and the record's type, crc and data-length
// fields (at most 1 + 10, 1 + 5, 1 + 10 bytes).
constexpr uint64_t kMaxFrameOverhead = 8 + 7 + 28;
// Entries' reads: entries further apart than this in one segment (records
// dropped by an overwrite, or many state records, lie between) are read
// with separate preads rather than one covering the gap.
constexpr uint64_t kMaxReadGap = 64 * 1024;

// One entry read back from its place: the frame must be the one indexed
// (same length, an entry record of that index) and its CRC must continue
// the chain value the record was written after.
Status DecodeIndexedEntry(const uint8_t* frame, const EntryPlace& p, uint64_t index,
                          const std::string& segment, Entry* out, uint64_t* size) {
  auto fail = [&](StatusCode code, std::string what) {
    return Status::At(code, ErrorPlace{"Entries: " + std::move(what), segment, p.offset, index});
  };
  const FrameSize fs = DecodeFrameWord(DecodeFixed64LE(frame));
  if (kFrameHeaderBytes + fs.record_bytes + fs.pad_bytes != p.frame_len) {
    return fail(StatusCode::kCorruption, "the frame's length word changed since the entry was indexed");
  }
  RecordView rec;
  const std::string_view bytes(reinterpret_cast<const char*>(frame + kFrameHeaderBytes), fs.record_bytes);
  if (Status s = DecodeRecord(bytes, &rec); !s.ok())
    return fail(StatusCode::kCorruption, std::string(s.message()));
  if (rec.type != kEntryType) return fail(StatusCode::kCorruption, "not an entry record");
  if (Crc32cExtend(p.prev_crc, rec.data) != rec.crc) return fail(StatusCode::kCrcMismatch, "crc mismatch");
  if (Status s = DecodeEntry(rec.data, out); !s.ok())
    return fail(StatusCode::kCorruption, std::string(s.message()));
  if (out->index != index) {
    return fail(StatusCode::kCorruption, "the record holds entry " + std::to_string(out->index));
  }
  *size = rec.data.size();
  return Status::Ok();
}

}  // namespace

Result<std::vector<Entry>> WAL::Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  Impl& w = *impl_;
  // One pread each: a stretch of the range that lies contiguously in one
  // segment, [begin, end) of it; bytes from `buffered_from` on are still in
  // the write buffer and were copied from it.
  struct Read {
    std::shared_ptr<File> file;
    std::string segment;
    uint64_t begin = 0;
    uint64_t end = 0;
    uint64_t buffered_from = 0;
    size_t first = 0;  // into places
    std::vector<uint8_t> bytes;
  };
  std::vector<EntryPlace> places;
  std::vector<Read> reads;
  {
    MutexLock l(&w.mu);
    WAL_RETURN_IF_ERROR(w.CheckIndexReadable());
    const OffsetIndex& ix = *w.index;
    if (lo > hi || lo < ix.first() || hi > ix.last() + 1) {
      return Status(StatusCode::kIndexNotFound,
                    "wal: Entries [" + std::to_string(lo) + ", " + std::to_string(hi) +
                        ") is not within the indexed entries [" + std::to_string(ix.first()) + ", " +
                        std::to_string(ix.last()) + "]");
    }
    uint64_t least_bytes = 0;  // a lower bound of the encoded sizes planned so far
    for (uint64_t i = lo; i < hi; ++i) {
      const EntryPlace p = ix.place(i);
      const uint64_t least = p.frame_len > kMaxFrameOverhead ? p.frame_len - kMaxFrameOverhead : 0;
      if (i > lo && least_bytes + least > max_bytes) break;
      least_bytes += least;
      const Impl::Segment* seg = w.SegmentBySeq(p.seq);
      if (seg == nullptr) {
        return Status::At(
            StatusCode::kFailedPrecondition,
            ErrorPlace{"Entries: the segment holding the entry is no longer open", "", p.offset, i});
      }
      if (reads.empty() || reads.back().file != seg->file || p.offset < reads.back().end ||
          p.offset - reads.back().end > kMaxReadGap) {
        reads.push_back(Read{seg->file, seg->name.name, p.offset, p.offset, 0, places.size(), {}});
      }
      reads.back().end = p.offset + p.frame_len;
      places.push_back(p);
    }
    const bool tail_open = w.writer != nullptr && !w.segments.empty();
    for (Read& r : reads) {
      r.bytes.resize(static_cast<size_t>(r.end - r.begin));
      r.buffered_from = r.end;
      if (tail_open && r.file == w.segments.back().file)
        r.buffered_from = w.writer->CopyBuffered(r.begin, r.end, r.bytes.data());
    }
  }
  // The reads, without the lock: the bytes below the write buffer never
  // change while the segment is open (appends only add; a cut truncates
  // past them), and each read holds its segment's descriptor.
  std::vector<Entry> out;
  out.reserve(places.size());
  uint64_t total = 0;
  for (Read& r : reads) {
    uint64_t at = r.begin;
    while (at < r.buffered_from) {
      auto n = r.file->ReadAt(at, std::span(reinterpret_cast<std::byte*>(r.bytes.data() + (at - r.begin)),
                                            static_cast<size_t>(r.buffered_from - at)));
      w.index_reads.fetch_add(1, std::memory_order_relaxed);
      if (!n.has_value()) return n.error();
      w.index_read_bytes.fetch_add(*n, std::memory_order_relaxed);
      if (*n == 0) {
        return Status::At(
            StatusCode::kCorruption,
            ErrorPlace{"Entries: the segment ends before an indexed record", r.segment, at, std::nullopt});
      }
      at += *n;
    }
    const size_t last = &r == &reads.back() ? places.size() : (&r + 1)->first;
    for (size_t k = r.first; k < last; ++k) {
      Entry e;
      uint64_t size = 0;
      WAL_RETURN_IF_ERROR(DecodeIndexedEntry(r.bytes.data() + (places[k].offset - r.begin), places[k], lo + k,
                                             r.segment, &e, &size));
      total += size;
      if (k > 0 && total > max_bytes) return out;
      out.push_back(std::move(e));
    }
  }
  return out;
}

Result<uint64_t> WAL::Term(uint64_t index) const {
  MutexLock l(&impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckIndexReadable());
  const OffsetIndex& ix = *impl_->index;
  std::optional<uint64_t> t;
  if (index + 1 >= ix.first() && index <= ix.last()) t = ix.term(index);
  if (!t) {
    return Status(StatusCode::kIndexNotFound,
                  "wal: Term(" + std::to_string(index) + "): not within the indexed entries [" +
                      std::to_string(ix.first()) + ", " + std::to_string(ix.last()) + "]" +
                      (index + 1 == ix.first() ? " (its term is not known)" : ""));
  }
  return *t;
}

Result<uint64_t> WAL::FirstIndex() const {
  MutexLock l(&impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckIndexReadable());
  return impl_->index->first();
}

Result<uint64_t> WAL::LastIndex() const {
  MutexLock l(&impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckIndexReadable());
  return impl_->index->last();
}

namespace {

template <class E>
Status SaveImpl(WAL::Impl& w, const HardState& state, std::span<const E> entries) {
  MutexLock l(&w.mu);
  WAL_RETURN_IF_ERROR(w.CheckAppendable());
  WAL_RETURN_IF_ERROR(w.CheckIndexable(entries));
  bool must_sync;
  WAL_RETURN_IF_ERROR(w.AppendLocked(state, entries, &must_sync));
  if (!must_sync) return Status::Ok();
  return w.SyncTo(w.appended_lsn());
}

template <class E>
Result<uint64_t> SaveAsyncImpl(WAL::Impl& w, const HardState& state, std::span<const E> entries) {
  MutexLock l(&w.mu);
  WAL_RETURN_IF_ERROR(w.CheckAppendable());
  WAL_RETURN_IF_ERROR(w.CheckIndexable(entries));
  bool must_sync;
  WAL_RETURN_IF_ERROR(w.AppendLocked(state, entries, &must_sync));
  const uint64_t ticket = w.IssueTicket();
  w.RequestSync();
  return ticket;
}

}  // namespace

Status WAL::Save(const HardState& state, std::span<const Entry> entries) {
  return SaveImpl(*impl_, state, entries);
}

Status WAL::SaveViews(const HardState& state, std::span<const EntryView> entries) {
  return SaveImpl(*impl_, state, entries);
}

Result<uint64_t> WAL::SaveAsync(const HardState& state, std::span<const Entry> entries) {
  return SaveAsyncImpl(*impl_, state, entries);
}

Result<uint64_t> WAL::SaveAsyncViews(const HardState& state, std::span<const EntryView> entries) {
  return SaveAsyncImpl(*impl_, state, entries);
}

Status WAL::WaitDurable(uint64_t ticket) {
  Impl& w = *impl_;
  MutexLock l(&w.mu);
  if (ticket > w.issued_ticket()) {
    return Status(StatusCode::kInvalidArgument,
                  "wal: WaitDurable: ticket " + std::to_string(ticket) +
                      " was never issued (last: " + std::to_string(w.issued_ticket()) + ")");
  }
  if (ticket <= w.durable_ticket()) return Status::Ok();
  if (w.state != Impl::State::kAppending) {
    if (w.state == Impl::State::kClosed) return Status(StatusCode::kFailedPrecondition, "wal: closed");
    return w.CheckAppendable();
  }
  return w.SyncTo(w.LsnOfTicket(ticket));
}

uint64_t WAL::DurableIndex() const {
  MutexLock l(&impl_->mu);
  return impl_->durable_index();
}

void WAL::SetTicketCallback(TicketCallback callback) {
  Impl& w = *impl_;
  MutexLock l(&w.mu);
  w.GroupCommit::SetTicketCallback(std::move(callback), w.state == Impl::State::kAppending);
}

void WAL::SetDurableCallback(std::function<void(uint64_t)> callback) {
  Impl& w = *impl_;
  MutexLock l(&w.mu);
  w.GroupCommit::SetDurableCallback(std::move(callback), w.state == Impl::State::kAppending);
}

Status WAL::SaveEntry(const Entry& entry) {
  MutexLock l(&impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckAppendable());
  WAL_RETURN_IF_ERROR(impl_->CheckIndexable(std::span<const Entry>(&entry, 1)));
  return impl_->WriteEntry(entry);
}

Status WAL::SaveState(const HardState& state) {
  MutexLock l(&impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckAppendable());
  return impl_->WriteState(state);
}

Status WAL::SaveSnapshot(const Snapshot& snap) {
  MutexLock l(&impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckAppendable());
  WAL_RETURN_IF_ERROR(impl_->WriteSnapshot(snap));
  impl_->enti = std::max(impl_->enti, snap.index);
  impl_->IndexSnapshot(snap);
  return impl_->SyncTo(impl_->appended_lsn());
}

Status WAL::Sync() {
  MutexLock l(&impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckAppendable());
  return impl_->SyncTo(impl_->appended_lsn());
}

Status WAL::Cut() {
  MutexLock l(&impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckAppendable());
  WAL_RETURN_IF_ERROR(impl_->CutLocked(/*only_if_full=*/false));
  return impl_->SyncTo(impl_->appended_lsn());
}

Status WAL::ReleaseLockTo(uint64_t index) {
  Impl& w = *impl_;
  MutexLock l(&w.mu);
  if (!w.write_mode || w.segments.empty()) return Status::Ok();
  // Keep the segment before the first one starting at or after `index`: it
  // may still hold entries <= index.
  size_t n = w.segments.size();
  size_t smaller = n - 1;
  for (size_t i = 0; i < n; ++i) {
    if (w.segments[i].name.index >= index) {
      if (i == 0) return Status::Ok();
      smaller = i - 1;
      break;
    }
  }
  if (smaller == 0) return Status::Ok();
  // Dropping the last reference closes the descriptor, which drops the lock
  // (deferred if a group-commit leader is still syncing that file).
  w.segments.erase(w.segments.begin(), w.segments.begin() + static_cast<std::ptrdiff_t>(smaller));
  if (w.index) w.index->DropSegmentsBefore(w.segments.front().name.seq);
  return Status::Ok();
}

Status WAL::Close() {
  MutexLock l(&impl_->mu);
  return impl_->CloseLocked();
}

const std::string& WAL::dir() const { return impl_->dir; }

WalStats WAL::stats() const {
  MutexLock l(&impl_->mu);
  WalStats s = impl_->stats;
  if (impl_->index) {
    s.index_entries = impl_->index->size();
    s.index_memory_bytes = impl_->index->memory_bytes();
  }
  s.index_reads = impl_->index_reads.load(std::memory_order_relaxed);
  s.index_read_bytes = impl_->index_read_bytes.load(std::memory_order_relaxed);
  return s;
}

uint64_t WAL::last_index() const {
  MutexLock l(&impl_->mu);
  return impl_->enti;
}

bool Exist(const std::string& dir) { return Exist(dir, Options{}); }

bool Exist(const std::string& dir, const Options& options) {
  auto names = FileSystemOf(options)->ListDir(dir);
  if (!names.has_value()) return false;
  for (const auto& n : *names) {
    if (n.size() >= 4 && n.compare(n.size() - 4, 4, ".wal") == 0) return true;
  }
  return false;
}

}  // namespace wal
