// The WAL: etcd's life cycle (Create / Open / ReadAll / Save / cut / Close)
// over the file-system seam. doc/format.md describes the bytes,
// doc/durability.md the order of writes and syncs.
#include "wal/wal.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "src/coding.h"
#include "src/crc32c.h"
#include "src/format.h"
#include "src/mutants.h"
#include "src/page_writer.h"
#include "src/proto.h"
#include "src/read_sinks.h"
#include "src/record_reader.h"
#include "src/replay.h"
#include "src/segment_names.h"
#include "src/segment_pipeline.h"
#include "src/wal_internal.h"

namespace wal {

using internal::ArenaSink;
using internal::PageWriter;
using internal::RecordDecoder;
using internal::RecordView;
using internal::Replay;
using internal::ReplayedRecord;
using internal::ReplayRules;
using internal::SegmentName;
using internal::VectorSink;

namespace internal {

Status CheckOptions(const Options& o) {
  if (o.segment_size_bytes == 0)
    return Status(StatusCode::kInvalidArgument, "segment_size_bytes must be > 0");
  if (o.read_chunk_bytes == 0) return Status(StatusCode::kInvalidArgument, "read_chunk_bytes must be > 0");
  return Status::Ok();
}

FileSystem* FileSystemOf(const Options& o) { return o.file_system ? o.file_system : FileSystem::Default(); }

Result<std::vector<std::unique_ptr<File>>> OpenSegmentsReadOnly(FileSystem* fs, const std::string& dir,
                                                                const std::vector<SegmentName>& segs,
                                                                size_t from) {
  std::vector<std::unique_ptr<File>> files;
  OpenOptions ro;  // read-only, no lock: never conflicts with a writer
  for (size_t i = from; i < segs.size(); ++i) {
    WAL_ASSIGN_OR_RETURN(auto f, fs->Open(JoinPath(dir, segs[i].name), ro));
    files.push_back(std::move(f));
  }
  return files;
}

Result<SelectedSegments> SelectSegments(FileSystem* fs, const std::string& dir, uint64_t index) {
  WAL_ASSIGN_OR_RETURN(auto segs, ListSegments(fs, dir));
  auto i = SearchIndex(segs, index);
  if (!i) {
    return Status(StatusCode::kFileNotFound, "wal: no segment in " + dir + " can hold index " +
                                                 std::to_string(index) + " (first segment starts at " +
                                                 std::to_string(segs.front().index) + ")");
  }
  if (!IsValidSeq(segs, *i)) {
    return Status(StatusCode::kFileNotFound, "wal: segment sequence numbers in " + dir +
                                                 " do not increase continuously from " + segs[*i].name);
  }
  return SelectedSegments{std::move(segs), *i};
}

uint32_t ChainInto(FileSystem* fs, const std::string& dir, const std::vector<SegmentName>& segs, size_t at,
                   File* at_file, const Options& options) {
  {
    // Only the first record's type is needed: one small read, not a whole
    // read chunk (1 MiB by default) on every open.
    constexpr size_t kProbeBytes = kPageBytes;
    RecordDecoder probe({SegmentInput{segs[at].name, at_file}}, kProbeBytes, TornWriteRule::kEtcd);
    RecordView rec;
    auto r = probe.Next(&rec);
    if (r.has_value() && *r && rec.type == kCrcType) return 0;  // a head that carries the chain
  }
  std::vector<SegmentName> upto(segs.begin(), segs.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  if (at == 0 || !IsValidSeq(upto, 0)) return 0;
  upto.pop_back();
  auto files = OpenSegmentsReadOnly(fs, dir, upto, 0);
  if (!files.has_value()) return 0;
  RecordDecoder d(InputsOf(upto, 0, *files), options.read_chunk_bytes, TornWriteRule::kEtcd);
  RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (!r.has_value()) return 0;
    if (!*r) return d.crc();
  }
}

Result<SegmentStream> OpenSegmentStream(FileSystem* fs, const std::string& dir, std::vector<SegmentName> segs,
                                        size_t from, const Options& options) {
  SegmentStream out;
  out.segments = std::move(segs);
  out.from = from;
  WAL_ASSIGN_OR_RETURN(out.files, OpenSegmentsReadOnly(fs, dir, out.segments, from));
  out.decoder = std::make_unique<RecordDecoder>(InputsOf(out.segments, from, out.files),
                                                options.read_chunk_bytes, options.torn_write_rule);
  out.decoder->set_initial_crc(ChainInto(fs, dir, out.segments, from, out.files.front().get(), options));
  return out;
}

std::vector<SegmentInput> InputsOf(const std::vector<SegmentName>& names, size_t from,
                                   const std::vector<std::unique_ptr<File>>& files) {
  std::vector<SegmentInput> in;
  for (size_t i = 0; i < files.size(); ++i) in.push_back({names[from + i].name, files[i].get()});
  return in;
}

}  // namespace internal

using namespace internal;  // NOLINT: this file implements the internals' user

// `bytes` rounded down to whole frame words. Frames are 8-byte aligned, so
// a tail kept at this size (zero-to-end keeps the preallocated size; a crash
// can leave a tail of any size) never ends in fewer than 8 zero bytes after
// its last frame: those would read as a partial length word, a torn tail.
static uint64_t WholeFrameWords(uint64_t bytes) { return bytes / kFrameHeaderBytes * kFrameHeaderBytes; }

struct WAL::Impl {
  enum class State { kReading, kAppending, kReadOnly, kFailed, kClosed };

  struct Segment {
    SegmentName name;
    // Shared so that a group-commit leader can fdatasync a segment outside
    // the lock while ReleaseLockTo drops it: the descriptor (and its lock)
    // closes when the last user lets go.
    std::shared_ptr<File> file;
  };

  Options options;
  FileSystem* fs = nullptr;
  std::string dir;
  State state = State::kReading;
  bool write_mode = false;

  // What ReadAll selects.
  Snapshot start;
  uint32_t initial_crc = 0;  // ChainInto the first selected segment
  bool inclusive = false;    // OpenAtIndex: entries >= at_index
  uint64_t at_index = 0;

  std::vector<Segment> segments;  // write mode: locked, last = tail

  std::unique_ptr<PageWriter> writer;
  uint32_t crc = 0;
  uint64_t enti = 0;
  HardState hard_state;                 // last saved non-empty state
  std::optional<std::string> metadata;  // nullopt = Go nil
  std::unique_ptr<SegmentPipeline> pipeline;
  Status stopped;  // sticky: the first write/sync failure
  WalStats stats;
  std::vector<uint8_t> scratch;
  mutable std::mutex mu;

  // Group commit (guarded by mu). Positions are LSNs: frame bytes appended
  // since this WAL object was created or opened, across segments.
  uint64_t appended_lsn = 0;
  uint64_t durable_lsn = 0;
  bool sync_running = false;        // a leader is in a sync round, without mu
  std::condition_variable sync_cv;  // a round ended (Close waits for that)

  // A caller blocked in SyncTo, woken individually (no thundering herd on
  // few cores): when a round covers it, or to lead the next round.
  struct Waiter {
    uint64_t lsn = 0;
    std::condition_variable cv;
  };
  // Not yet covered by a round, in arrival order. Shared so that a leader
  // can notify the callers it covered after it let go of mu (they then
  // find mu free instead of waking up only to block on it).
  std::vector<std::shared_ptr<Waiter>> waiters;
  // Gathering: after a round, the next one starts once as many callers wait
  // as took part in the last one (those it released append again and join
  // within tens of microseconds), or once gather_deadline (the last round's
  // sync time, at most 2 ms) passes: a caller that does not come back costs
  // one such wait, then the target adapts. Starting at once would split
  // steady writers into two groups that alternate, each synced by half the
  // fdatasyncs. One waiter (the gatherer) sleeps until the deadline; the
  // arrival that completes the group leads without waiting. (Half the sync
  // time was too short: 8 writers on 2 cores need ~70 us to gather, and 12%
  // of rounds left without a straggler, who then waited a whole round.)
  size_t gather_target = 1;
  std::chrono::steady_clock::time_point gather_deadline;
  Waiter* gatherer = nullptr;

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
  std::vector<PendingCut> pending_cuts;
  uint64_t last_cut_lsn = 0;  // where the head of the newest cut ends

  // Pipelined durability (SaveAsync). The syncer thread makes
  // requested_lsn durable and reports the raft index that covers.
  uint64_t requested_lsn = 0;
  std::deque<std::pair<uint64_t, uint64_t>> pending;  // (lsn, last raft index of that save)
  uint64_t durable_index = 0;
  std::function<void(uint64_t)> on_durable;
  uint64_t reported_index = 0;  // last value handed to on_durable

  // Tickets (SaveAsync): issued 1, 2, 3, ...; those not yet durable wait in
  // `tickets` with the LSN that covers them, in order. on_ticket hears of
  // (reported_ticket, durable_ticket] as durable, and of
  // (reported_ticket, issued_ticket] with the stop error once stopped.
  struct TicketLsn {
    uint64_t ticket = 0;
    uint64_t lsn = 0;
  };
  std::deque<TicketLsn> tickets;
  uint64_t issued_ticket = 0;
  uint64_t durable_ticket = 0;
  uint64_t reported_ticket = 0;
  TicketCallback on_ticket;
  std::thread syncer;
  bool syncer_stop = false;
  std::condition_variable syncer_cv;

  ~Impl() {
    if (pipeline) pipeline->Close();
  }

  Status CheckAppendable() const {
    if (!stopped.ok()) return stopped.WithContext("wal: stopped after an earlier write or sync failure");
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

  Status Stop(Status s) {
    if (stopped.ok()) stopped = s;
    for (auto& w : waiters) w->cv.notify_one();  // every waiter returns the error
    syncer_cv.notify_all();                      // outstanding tickets are reported failed
    return s;
  }

  File* tail() const { return segments.back().file.get(); }

  // Encodes one record whose payload is `head` followed by `tail` (has_data
  // = false: no data field) and hands its frame to the page writer. The
  // frame goes straight into the writer's buffer when it fits there (the
  // payload's bytes are copied once); otherwise it is built in `scratch` and
  // written as etcd writes it: the 8-byte length word, then record + padding,
  // so that the writer flushes at etcd's points either way.
  Status WriteRecord(int64_t type, bool has_data, std::span<const uint8_t> head, std::string_view tail) {
    const size_t payload_len = head.size() + tail.size();
    // The payload is copied first, at the place it has when the stored CRC
    // takes a 5-byte varint (15 times in 16), so the CRC is one ISA-L call
    // over contiguous bytes; a shorter varint moves it down a little.
    const size_t max_rec_len = RecordEncodedSize(type, 0xFFFFFFFFu, has_data, payload_len);
    const size_t max_frame_len = kFrameHeaderBytes + max_rec_len + PadBytes(max_rec_len);
    uint8_t* frame = writer->ReserveInBuffer(max_frame_len);
    const bool direct = frame != nullptr;
    if (!direct) {
      if (scratch.size() < max_frame_len) scratch.resize(max_frame_len);
      frame = scratch.data();
    }
    uint8_t* payload = frame + kFrameHeaderBytes + (max_rec_len - payload_len);
    if (!head.empty()) std::memcpy(payload, head.data(), head.size());
    if (!tail.empty()) std::memcpy(payload + head.size(), tail.data(), tail.size());
    const uint32_t rec_crc = type == kCrcType ? crc : Crc32cExtend(crc, payload, payload_len);
    const size_t rec_len = RecordEncodedSize(type, rec_crc, has_data, payload_len);
    const size_t frame_len = kFrameHeaderBytes + rec_len + PadBytes(rec_len);
    EncodeFixed64LE(frame, EncodeFrameWord(rec_len));
    uint8_t* p = EncodeRecordPrefix(type, rec_crc, has_data, payload_len, frame + kFrameHeaderBytes);
    if (p != payload) std::memmove(p, payload, payload_len);
    p += payload_len;
    std::memset(p, 0, static_cast<size_t>(frame + frame_len - p));
    Status s;
    if (direct) {
      writer->Commit(frame_len);
    } else {
      // etcd's two writes: the length word, then record + padding.
      s = writer->Write(frame, kFrameHeaderBytes);
      if (s.ok()) s = writer->Write(frame + kFrameHeaderBytes, frame_len - kFrameHeaderBytes);
    }
    if (!s.ok()) return Stop(s);
    crc = rec_crc;
    stats.bytes_written += frame_len;
    appended_lsn += frame_len;
    return Status::Ok();
  }

  Status WriteEntry(const Entry& e) { return WriteEntry(EntryView{e.term, e.index, e.type, e.data}); }
  Status WriteEntry(const EntryView& e) {
    uint8_t head[kMaxEntryHeaderBytes];
    const uint8_t* end = EncodeEntryHeader(e, head);
    WAL_RETURN_IF_ERROR(WriteRecord(kEntryType, true, std::span<const uint8_t>(head, end), e.data));
    enti = e.index;
    return Status::Ok();
  }
  Status WriteState(const HardState& s) {
    if (s.empty()) return Status::Ok();
    hard_state = s;
    uint8_t head[3 * (1 + 10)];
    const uint8_t* end = EncodeHardState(s, head);
    return WriteRecord(kStateType, true, std::span<const uint8_t>(head, end), {});
  }
  Status WriteSnapshot(const Snapshot& s) {
    uint8_t head[2 * (1 + 10)];
    const uint8_t* end = EncodeSnapshot(s, head);
    return WriteRecord(kSnapshotType, true, std::span<const uint8_t>(head, end), {});
  }
  Status WriteMetadata() {
    return WriteRecord(kMetadataType, metadata.has_value(), {},
                       metadata ? std::string_view(*metadata) : std::string_view());
  }
  Status WriteCrc() { return WriteRecord(kCrcType, false, {}, {}); }

  // Flush + fdatasync of the tail.
  Status SyncLocked(Mutant mutant) {
    Status s = writer->Flush();
    if (!s.ok()) return Stop(s);
    if (options.unsafe_no_fsync || MutantActive(mutant)) {
      MarkDurable(appended_lsn);
      return Status::Ok();
    }
    RoundStats rs;
    s = TimedSync(writer->file(), mutant, &rs);
    AddRoundStats(rs);
    if (!s.ok()) return Stop(s);
    MarkDurable(appended_lsn);
    return Status::Ok();
  }

  void MarkDurable(uint64_t lsn) {
    if (lsn <= durable_lsn) return;
    durable_lsn = lsn;
    while (!pending.empty() && pending.front().first <= lsn) {
      durable_index = pending.front().second;
      pending.pop_front();
    }
    AdvanceTickets();
    if (on_durable && durable_index != reported_index) syncer_cv.notify_all();
  }

  // Moves durable_ticket past every ticket whose records are durable.
  void AdvanceTickets() {
    while (!tickets.empty() && tickets.front().lsn <= durable_lsn) {
      durable_ticket = tickets.front().ticket;
      tickets.pop_front();
    }
    if (MustReportTickets()) syncer_cv.notify_all();
  }

  // Issues the ticket of a SaveAsync whose records end at appended_lsn.
  uint64_t IssueTicket() {
    const uint64_t t = ++issued_ticket;
    tickets.push_back(TicketLsn{t, appended_lsn});
    AdvanceTickets();  // nothing new to sync: durable at once
    return t;
  }

  // The LSN that makes `ticket` durable (0 if it already is).
  uint64_t LsnOfTicket(uint64_t ticket) const {
    if (ticket <= durable_ticket || tickets.empty()) return 0;
    // Outstanding tickets are consecutive: tickets[k] is front + k.
    return tickets[static_cast<size_t>(ticket - tickets.front().ticket)].lsn;
  }

  // Tickets up to this one are to be reported: the durable ones, or, once
  // stopped, every one issued (those not durable with the error).
  uint64_t ReportableTicket() const { return stopped.ok() ? durable_ticket : issued_ticket; }
  bool MustReportTickets() const { return on_ticket && reported_ticket < ReportableTicket(); }

  // Hands the pending ticket reports to on_ticket, without mu, in order.
  void ReportTickets(std::unique_lock<std::mutex>& lk) {
    auto cb = on_ticket;
    const uint64_t from = reported_ticket + 1;
    const uint64_t ok_to = durable_ticket;
    const uint64_t to = ReportableTicket();
    const Status err = stopped.ok() ? Status::Ok() : StoppedError();
    reported_ticket = to;
    lk.unlock();
    for (uint64_t t = from; t <= to; ++t) cb(t, t <= ok_to ? Status::Ok() : err);
    lk.lock();
  }

  // Group commit: returns once everything up to `lsn` is durable. One
  // caller at a time leads a round (RunRound): it flushes the write buffer
  // under the lock, then syncs WITHOUT the lock, so other threads keep
  // appending meanwhile and the next round covers all of them with one
  // fdatasync. The others sleep until a round covers them.
  Status SyncTo(std::unique_lock<std::mutex>& lk, uint64_t lsn) {
    lsn = std::min(lsn, appended_lsn);  // a ticket from the future cannot be waited for
    if (!stopped.ok()) return StoppedError();
    if (durable_lsn >= lsn) return Status::Ok();
    auto me = std::make_shared<Waiter>();
    me->lsn = lsn;
    waiters.push_back(me);
    Status s = WaitOrLead(lk, *me);
    auto it = std::find(waiters.begin(), waiters.end(), me);
    if (it != waiters.end()) waiters.erase(it);
    if (gatherer == me.get()) gatherer = nullptr;
    if (!sync_running && gatherer == nullptr) WakeNextLeader();
    return s;
  }

  Status StoppedError() const {
    return stopped.WithContext("wal: stopped after an earlier write or sync failure");
  }

  Status WaitOrLead(std::unique_lock<std::mutex>& lk, Waiter& me) {
    while (true) {
      if (!stopped.ok()) return StoppedError();
      if (durable_lsn >= me.lsn) return Status::Ok();
      if (sync_running) {
        me.cv.wait(lk);
      } else if (options.unsafe_no_fsync || waiters.size() >= gather_target ||
                 std::chrono::steady_clock::now() >= gather_deadline) {
        WAL_RETURN_IF_ERROR(RunRound(lk));
      } else if (gatherer == nullptr || gatherer == &me) {
        gatherer = &me;
        me.cv.wait_until(lk, gather_deadline);
      } else {
        me.cv.wait(lk);
      }
    }
  }

  // The first waiter not yet durable, if any, leads or gathers next.
  void WakeNextLeader() {
    if (!waiters.empty()) waiters.front()->cv.notify_one();
  }

  // One round: flush, then the pending cuts' steps and an fdatasync of the
  // tail, without mu; then everything flushed before it is durable.
  Status RunRound(std::unique_lock<std::mutex>& lk) {
    Status s = writer->Flush();
    if (!s.ok()) return Stop(s);
    const uint64_t target = appended_lsn;
    std::vector<PendingCut> cuts;
    cuts.swap(pending_cuts);
    std::shared_ptr<File> tail_file = segments.back().file;
    gatherer = nullptr;
    sync_running = true;
    RoundStats rs;
    if (options.unsafe_no_fsync) {
      s = RunRoundSteps(cuts, tail_file.get(), &rs);  // renames only; nothing to wait for
    } else {
      lk.unlock();
      s = RunRoundSteps(cuts, tail_file.get(), &rs);
      lk.lock();
    }
    sync_running = false;
    AddRoundStats(rs);
    sync_cv.notify_all();
    if (!s.ok()) return Stop(s);
    stats.cuts += cuts.size();
    MarkDurable(target);
    // Wake whoever this round covered, and one other caller to lead or
    // gather the next round, which waits for as many callers as are here
    // now; notified without mu.
    gather_target = waiters.size();
    gather_deadline = std::chrono::steady_clock::now() +
                      std::chrono::microseconds(std::min<uint64_t>(rs.sync_micros, 2000));
    std::vector<std::shared_ptr<Waiter>> wake;
    auto covered =
        std::stable_partition(waiters.begin(), waiters.end(),
                              [&](const std::shared_ptr<Waiter>& w) { return w->lsn <= durable_lsn; });
    wake.assign(std::make_move_iterator(waiters.begin()), std::make_move_iterator(covered));
    waiters.erase(waiters.begin(), covered);
    if (!waiters.empty()) wake.push_back(waiters.front());
    lk.unlock();
    for (auto& w : wake) w->cv.notify_one();
    lk.lock();
    return Status::Ok();
  }

  struct RoundStats {
    uint64_t syncs = 0;
    uint64_t slow_syncs = 0;
    uint64_t max_sync_micros = 0;
    uint64_t sync_micros = 0;
  };

  void AddRoundStats(const RoundStats& rs) {
    stats.syncs += rs.syncs;
    stats.slow_syncs += rs.slow_syncs;
    stats.max_sync_micros = std::max(stats.max_sync_micros, rs.max_sync_micros);
  }

  // fdatasync (skipped under unsafe_no_fsync or the mutant), timed.
  Status TimedSync(File* f, Mutant mutant, RoundStats* rs) const {
    if (options.unsafe_no_fsync || MutantActive(mutant)) return Status::Ok();
    auto t0 = std::chrono::steady_clock::now();
    Status s = f->Sync();
    auto us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
    ++rs->syncs;
    rs->sync_micros += us;
    rs->max_sync_micros = std::max(rs->max_sync_micros, us);
    if (us > uint64_t{options.slow_sync_warn_ms} * 1000) ++rs->slow_syncs;
    return s;
  }

  // Runs without mu (with it under unsafe_no_fsync): touches only the files
  // and paths handed to it.
  Status RunRoundSteps(const std::vector<PendingCut>& cuts, File* tail_file, RoundStats* rs) {
    for (const PendingCut& c : cuts) {
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
    if (cuts.empty()) WAL_RETURN_IF_ERROR(TimedSync(tail_file, Mutant::kSkipSaveSync, rs));
    return Status::Ok();
  }

  // The SaveAsync syncer: makes requested_lsn durable, then reports.
  void RunSyncer() {
    std::unique_lock<std::mutex> lk(mu);
    auto must_report = [&] { return on_durable && durable_index != reported_index; };
    auto must_sync = [&] { return requested_lsn > durable_lsn && stopped.ok(); };
    while (true) {
      syncer_cv.wait(lk, [&] { return syncer_stop || must_sync() || must_report() || MustReportTickets(); });
      if (must_sync()) SyncTo(lk, requested_lsn).IgnoreError();  // a failure stops the WAL; callers see it
      if (MustReportTickets()) {
        ReportTickets(lk);
        continue;
      }
      if (must_report()) {
        // Whoever made it durable (this thread, a Save, WaitDurable, a cut),
        // the callback runs here, without the lock.
        auto cb = on_durable;
        const uint64_t idx = durable_index;
        reported_index = idx;
        lk.unlock();
        cb(idx);
        lk.lock();
        continue;
      }
      if (syncer_stop && !must_sync() && !MustReportTickets()) return;
    }
  }

  void StopSyncer(std::unique_lock<std::mutex>& lk) {
    if (!syncer.joinable()) return;
    syncer_stop = true;
    syncer_cv.notify_all();
    lk.unlock();
    syncer.join();
    lk.lock();
  }

  // Sets up a cut under mu: ends the tail where the flushed bytes end
  // (dropping preallocated space) and writes what is buffered; writes the
  // new head (crc, metadata, hard state) into a prepared tmp file, which
  // becomes the tail. Its syncs and rename are left to the next round
  // (RunRoundSteps), so appends continue meanwhile, into the new segment,
  // exactly where etcd's would land; callers that need the cut durable
  // SyncTo(appended_lsn).
  Status CutLocked(std::unique_lock<std::mutex>& lk, bool only_if_full) {
    // One cut at a time: the pipeline hands out two tmp names in turn, so
    // the previous cut's file must have its final name before the pipeline
    // prepares its tmp name again. Only a segment filled faster than one
    // round waits here (without mu).
    while (durable_lsn < last_cut_lsn) {
      WAL_RETURN_IF_ERROR(SyncTo(lk, last_cut_lsn));
      if (only_if_full && writer->flushed_offset() < options.segment_size_bytes) return Status::Ok();
    }
    const uint64_t off = writer->flushed_offset();
    Status s = tail()->Truncate(off);
    if (s.ok()) s = writer->Flush();
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
    writer = std::make_unique<PageWriter>(tail(), 0, options.write_buffer_bytes);
    WAL_RETURN_IF_ERROR(WriteCrc());
    WAL_RETURN_IF_ERROR(WriteMetadata());
    WAL_RETURN_IF_ERROR(WriteState(hard_state));
    last_cut_lsn = appended_lsn;
    return Status::Ok();
  }

  // Writes the records of a Save and cuts if the segment is full; reports
  // whether raft requires them to be synced (raft.MustSync: a commit-only
  // change need not be).
  template <class E>
  Status AppendLocked(std::unique_lock<std::mutex>& lk, const HardState& st, std::span<const E> entries,
                      bool* must_sync) {
    *must_sync = false;
    if (st.empty() && entries.empty()) return Status::Ok();
    *must_sync = !entries.empty() || st.vote != hard_state.vote || st.term != hard_state.term;
    for (const E& e : entries) WAL_RETURN_IF_ERROR(WriteEntry(e));
    WAL_RETURN_IF_ERROR(WriteState(st));
    if (!entries.empty()) pending.emplace_back(appended_lsn, entries.back().index);
    // etcd decides on the flushed size (not counting the write buffer); a
    // cut syncs everything written so far.
    if (writer->flushed_offset() < options.segment_size_bytes) return Status::Ok();
    *must_sync = true;  // as in etcd, a Save that cuts returns once the cut is durable
    return CutLocked(lk, /*only_if_full=*/true);
  }

  Status CloseLocked(std::unique_lock<std::mutex>& lk) {
    if (state == State::kClosed) return Status::Ok();
    StopSyncer(lk);
    Status result;
    // Finish pending cuts (a SaveAsync may have started one), then the
    // final flush + fdatasync.
    if (state == State::kAppending && !pending_cuts.empty()) result = SyncTo(lk, appended_lsn);
    sync_cv.wait(lk, [&] { return !sync_running; });
    if (state == State::kAppending && result.ok()) {
      result = stopped.ok() ? SyncLocked(Mutant::kSkipSaveSync) : stopped;
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
  // and `total` are the sink's sizing hints (see read_sinks.h).
  template <class Sink>
  Status PlaceEntry(const EntryView& e, Sink* sink, uint64_t* base, const RecordDecoder& d, uint64_t consumed,
                    uint64_t total) {
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
      WAL_RETURN_IF_ERROR(sink->Append(e, consumed, total));
    }
    enti = idx;
    return Status::Ok();
  }

  // ReadAll's one implementation, for both of its outputs (the sink).
  template <class Sink>
  Status ReadAllInto(Sink* sink, std::string* metadata_out, HardState* state_out) {
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

    Replay replay(ReplayRules{.snapshot = inclusive ? std::nullopt : std::optional<Snapshot>(start)});
    ReplayedRecord out;
    uint64_t base = at_index;
    uint64_t consumed = 0;
    uint64_t tail_records = 0;   // valid records read in the tail segment
    bool tail_only_crc = false;  // ... and they are a lone crc record (a head torn after it)
    RecordView rec;
    Status err;
    while (true) {
      auto r = d.Next(&rec);
      if (!r.has_value()) {
        err = r.error();
        break;
      }
      if (!*r) break;
      consumed += d.record_frame_bytes();
      if (d.in_last_segment()) tail_only_crc = ++tail_records == 1 && rec.type == kCrcType;
      Status s = replay.Apply(rec, d, &out);
      if (s.ok() && rec.type == kEntryType) s = PlaceEntry(out.entry, sink, &base, d, consumed, total);
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
      enti = keep > 0 ? sink->last_index() : start.index;  // inclusive keeps its first entry
    }
    if (inclusive && enti < at_index) {
      return Fail(Status(StatusCode::kIndexNotFound, "wal: index " + std::to_string(at_index) +
                                                         " not found; the log ends at index " +
                                                         std::to_string(enti)));
    }
    if (replay.metadata()) *metadata_out = *replay.metadata();
    metadata = replay.metadata();
    if (!write_mode) {
      for (auto& seg : segments) seg.file->Close().IgnoreError();
      segments.clear();
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
    crc = d.crc();
    if (off == 0 && !MutantActive(Mutant::kSkipHeadlessTailHead)) {
      // The tail holds no valid record at all (its head was lost to damage;
      // our own cuts never leave a headless segment). Give it a crc and a
      // metadata record before any append, so that a reader or Repair
      // starting at this segment can check what follows it. (etcd appends
      // straight away.)
      Status s = ReplaceHeadlessTail();
      if (!s.ok()) return Fail(s);
      if (sink->size() > 0) durable_index = sink->last_index();
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
    writer = std::make_unique<PageWriter>(tail(), off, options.write_buffer_bytes);
    state = State::kAppending;
    if (sink->size() > 0) durable_index = sink->last_index();
    return Status::Ok();
  }

  Status Fail(Status s) {
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
  Status ReplaceHeadlessTail() {
    // The replacement keeps the tail's size (etcd's zero-to-end keeps it
    // too), in whole frame words.
    auto size = tail()->Size();
    if (!size.has_value()) return size.error();
    std::string tmp_path;
    auto taken = pipeline->TakeSized(&tmp_path, WholeFrameWords(*size));
    if (!taken.has_value()) return taken.error();
    std::shared_ptr<File> file = std::move(taken).value();
    writer = std::make_unique<PageWriter>(file.get(), 0, options.write_buffer_bytes);
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
    MarkDurable(appended_lsn);
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

Result<std::unique_ptr<WAL::Impl>> OpenImpl(const std::string& dir, uint64_t index, const Options& options,
                                            bool write) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  auto impl = std::make_unique<WAL::Impl>();
  impl->options = options;
  impl->fs = FileSystemOf(options);
  impl->dir = dir;
  impl->write_mode = write;
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
  if (write) {
    impl->pipeline =
        std::make_unique<SegmentPipeline>(impl->fs, dir, options.segment_size_bytes,
                                          options.background_segment_preparation, options.prezero_segments);
  }
  return impl;
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

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->fs = fs;
  impl->dir = dir;
  impl->write_mode = true;
  if (metadata.data() != nullptr) impl->metadata = std::string(metadata);

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
  impl->writer = std::make_unique<PageWriter>(impl->tail(), 0, options.write_buffer_bytes);
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
  return std::unique_ptr<WAL>(new WAL(std::move(impl)));
}

Result<std::unique_ptr<WAL>> WAL::Open(const std::string& dir, const Snapshot& snap, const Options& options) {
  WAL_ASSIGN_OR_RETURN(auto impl, OpenImpl(dir, snap.index, options, /*write=*/true));
  impl->start = snap;
  return std::unique_ptr<WAL>(new WAL(std::move(impl)));
}

Result<std::unique_ptr<WAL>> WAL::OpenForRead(const std::string& dir, const Snapshot& snap,
                                              const Options& options) {
  WAL_ASSIGN_OR_RETURN(auto impl, OpenImpl(dir, snap.index, options, /*write=*/false));
  impl->start = snap;
  return std::unique_ptr<WAL>(new WAL(std::move(impl)));
}

Result<std::unique_ptr<WAL>> WAL::OpenAtIndex(const std::string& dir, uint64_t index,
                                              const Options& options) {
  WAL_ASSIGN_OR_RETURN(auto impl, OpenImpl(dir, index, options, /*write=*/true));
  impl->inclusive = true;
  impl->at_index = index;
  return std::unique_ptr<WAL>(new WAL(std::move(impl)));
}

Result<std::unique_ptr<WAL>> WAL::OpenAtIndexForRead(const std::string& dir, uint64_t index,
                                                     const Options& options) {
  WAL_ASSIGN_OR_RETURN(auto impl, OpenImpl(dir, index, options, /*write=*/false));
  impl->inclusive = true;
  impl->at_index = index;
  return std::unique_ptr<WAL>(new WAL(std::move(impl)));
}

Result<ReadAllResult> WAL::ReadAll() {
  std::lock_guard<std::mutex> l(impl_->mu);
  ReadAllResult out;
  VectorSink sink(&out.entries);
  WAL_RETURN_IF_ERROR(impl_->ReadAllInto(&sink, &out.metadata, &out.state));
  return out;
}

Result<ReadAllArenaResult> WAL::ReadAllArena() {
  std::lock_guard<std::mutex> l(impl_->mu);
  ReadAllArenaResult out;
  ArenaSink sink(&out);
  WAL_RETURN_IF_ERROR(impl_->ReadAllInto(&sink, &out.metadata, &out.state));
  return out;
}

namespace {

template <class E>
Status SaveImpl(WAL::Impl& w, const HardState& state, std::span<const E> entries) {
  std::unique_lock<std::mutex> lk(w.mu);
  WAL_RETURN_IF_ERROR(w.CheckAppendable());
  bool must_sync;
  WAL_RETURN_IF_ERROR(w.AppendLocked(lk, state, entries, &must_sync));
  if (!must_sync) return Status::Ok();
  return w.SyncTo(lk, w.appended_lsn);
}

template <class E>
Result<uint64_t> SaveAsyncImpl(WAL::Impl& w, const HardState& state, std::span<const E> entries) {
  std::unique_lock<std::mutex> lk(w.mu);
  WAL_RETURN_IF_ERROR(w.CheckAppendable());
  bool must_sync;
  WAL_RETURN_IF_ERROR(w.AppendLocked(lk, state, entries, &must_sync));
  const uint64_t ticket = w.IssueTicket();
  if (w.appended_lsn > w.durable_lsn) {
    w.requested_lsn = std::max(w.requested_lsn, w.appended_lsn);
    w.syncer_cv.notify_all();
  }
  if (!w.syncer.joinable() && (w.appended_lsn > w.durable_lsn || w.on_ticket)) {
    w.syncer = std::thread([&w] { w.RunSyncer(); });
  }
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
  std::unique_lock<std::mutex> lk(impl_->mu);
  Impl& w = *impl_;
  if (ticket > w.issued_ticket) {
    return Status(StatusCode::kInvalidArgument,
                  "wal: WaitDurable: ticket " + std::to_string(ticket) +
                      " was never issued (last: " + std::to_string(w.issued_ticket) + ")");
  }
  if (ticket <= w.durable_ticket) return Status::Ok();
  if (w.state != Impl::State::kAppending) {
    if (w.state == Impl::State::kClosed) return Status(StatusCode::kFailedPrecondition, "wal: closed");
    return w.CheckAppendable();
  }
  return w.SyncTo(lk, w.LsnOfTicket(ticket));
}

uint64_t WAL::DurableIndex() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->durable_index;
}

void WAL::SetTicketCallback(TicketCallback callback) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Impl& w = *impl_;
  w.on_ticket = std::move(callback);
  w.reported_ticket = w.ReportableTicket();
  if (w.on_ticket && w.state == Impl::State::kAppending && !w.syncer.joinable()) {
    w.syncer = std::thread([&w] { w.RunSyncer(); });
  }
}

void WAL::SetDurableCallback(std::function<void(uint64_t)> callback) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Impl& w = *impl_;
  w.on_durable = std::move(callback);
  w.reported_index = w.durable_index;
  if (w.on_durable && w.state == Impl::State::kAppending && !w.syncer.joinable()) {
    w.syncer = std::thread([&w] { w.RunSyncer(); });
  }
}

Status WAL::SaveEntry(const Entry& entry) {
  std::lock_guard<std::mutex> l(impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckAppendable());
  return impl_->WriteEntry(entry);
}

Status WAL::SaveState(const HardState& state) {
  std::lock_guard<std::mutex> l(impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckAppendable());
  return impl_->WriteState(state);
}

Status WAL::SaveSnapshot(const Snapshot& snap) {
  std::unique_lock<std::mutex> lk(impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckAppendable());
  WAL_RETURN_IF_ERROR(impl_->WriteSnapshot(snap));
  impl_->enti = std::max(impl_->enti, snap.index);
  return impl_->SyncTo(lk, impl_->appended_lsn);
}

Status WAL::Sync() {
  std::unique_lock<std::mutex> lk(impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckAppendable());
  return impl_->SyncTo(lk, impl_->appended_lsn);
}

Status WAL::Cut() {
  std::unique_lock<std::mutex> lk(impl_->mu);
  WAL_RETURN_IF_ERROR(impl_->CheckAppendable());
  WAL_RETURN_IF_ERROR(impl_->CutLocked(lk, /*only_if_full=*/false));
  return impl_->SyncTo(lk, impl_->appended_lsn);
}

Status WAL::ReleaseLockTo(uint64_t index) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Impl& w = *impl_;
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
  return Status::Ok();
}

Status WAL::Close() {
  std::unique_lock<std::mutex> lk(impl_->mu);
  return impl_->CloseLocked(lk);
}

const std::string& WAL::dir() const { return impl_->dir; }

WalStats WAL::stats() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->stats;
}

uint64_t WAL::last_index() const {
  std::lock_guard<std::mutex> l(impl_->mu);
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
