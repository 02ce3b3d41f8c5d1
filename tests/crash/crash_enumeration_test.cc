// Exhaustive crash-point enumeration on MemFileSystem.
//
// For each reference workload, the workload is first run once to count its
// file-system operations n. Then, for every k in [0, n], it runs again on a
// fresh file system where operation k and every later one fail (the process
// "dies" at k: nothing after it reaches the disk), and the file system is
// crashed under every crash policy of the deterministic set below (each on a
// fresh run), then recovered as etcd's server does: the last valid snapshot
// (ValidSnapshotEntries), Open at it + ReadAll, and on kUnexpectedEof one
// Repair and a reopen.
//
// The deterministic policies at crash point k (no seed decides what is
// covered; the seed only fills torn sectors with garbage):
//   - drop everything unsynced; keep everything (a process crash);
//   - for every cut offset C in the candidate set, keep the unsynced bytes
//     of every file up to C, then (a) nothing else, (b) the sector holding
//     C's last kept byte torn to zeros, (c) torn to garbage;
//   - keep every unsynced byte but one sector, for every sector of every
//     unsynced range (pages written back out of order).
// The candidate cut offsets: every 512-byte sector boundary inside each
// file's unsynced range, the end of every write the workload issued (a disk
// that persisted exactly the first writes), the end of every record frame in
// the file's live image (a crash between two records of one write), and the
// range's two ends. The
// bound: one cut offset is shared by all files at once (not every
// combination of cut offsets across files), and tears are at sector
// granularity. NothingAcknowledgedIsEverLost adds seeded random policies on
// top; the mutant test uses the deterministic set only.
//
// The recovered log must be the replay of a prefix of the records the
// workload wrote, under the reading rules (a raft overwrite, issue 10's rule
// below the snapshot and term order), opened at the last snapshot the prefix
// makes valid, at least as long as everything acknowledged as durable; every
// segment must start with its crc and metadata records; an acknowledged
// Repair stays done and keeps its .broken copy; an acknowledged Purge stays
// done; every SaveAsync ticket is reported once, in order; and the log must
// take an append, a close and a reopen (read back with ReadAllMapped: the
// mapped path, over MemFileSystem's copies, sees every recovered state).
//
// EveryDurabilityStepIsNeeded runs the same enumeration unmutated (0
// failures required), then with each durability step switched off (src/
// mutants.h) on the workloads that exercise it: each mutant must produce a
// failure of the kind it should cause.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/format.h"
#include "src/mutants.h"
#include "src/proto.h"
#include "src/record_reader.h"
#include "src/segment_names.h"
#include "tests/test_util.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

#ifndef WAL_ENABLE_MUTANTS
#error "the crash tests need the mutant switches: link wal_testing, not wal"
#endif

namespace wal {
namespace {

constexpr char kDir[] = "/data/wal";
constexpr char kMeta[] = "crash-test-metadata";

// What the workload wrote, in order, and how much of it was acknowledged as
// durable.
struct Model {
  struct Rec {
    enum Kind { kEntry, kState, kSnapshot } kind = kEntry;
    Entry entry;
    HardState state;
    Snapshot snap;
  };
  std::vector<Rec> recs;
  size_t acked = 0;
  bool create_acked = false;
  HardState last_saved;  // for the mustSync rule

  // Repair returned true after cutting a torn tail: `broken` must then hold
  // the whole damaged segment, and until the next Save the log must open
  // without another repair.
  bool repair_acked = false;
  bool nothing_written_since_repair = false;
  std::string broken_path, broken_bytes;

  // The workload starts from an empty (headless) tail segment.
  bool empty_tail_ok = false;

  // Options::prezero_segments: new segments hold synced zeros, so a head
  // torn before it was synced is followed by zeros, as on a file system
  // that keeps a preallocated size across a crash.
  bool prezero = false;

  // Options::direct_io: the tail is written in whole blocks through an
  // O_DIRECT descriptor (the partial last block rewritten), and a sync of
  // bytes all still buffered is one RWF_DSYNC write (durable for its range
  // only).
  bool direct = false;
  // Options::segment_size_bytes and write_buffer_bytes (0: the default).
  uint64_t segment_size = 4096;
  uint32_t write_buffer = 0;

  // Segments whose removal Purge acknowledged.
  std::vector<std::string> purged;

  // SaveAsync tickets: the records each one covers (ticket t at [t-1]), and
  // the reports of the ticket callback in the order it made them. mu guards
  // these and `acked` while the workload runs (the callback runs on the
  // syncer thread); recs is written by the workload's thread only.
  std::mutex mu;
  std::vector<size_t> ticket_recs;
  std::vector<std::pair<uint64_t, bool>> reports;
  bool tickets = false;
};

struct Recovered {
  std::vector<Entry> entries;
  HardState state;
  Snapshot snap;
};

// The snapshot a server opens the log at after writing recs[0, p): the last
// snapshot record whose index the last hard state has committed
// (ValidSnapshotEntries), else {0, 0}.
Snapshot OpenSnapshot(const Model& m, size_t p) {
  HardState st;
  for (size_t i = 0; i < p; ++i) {
    if (m.recs[i].kind == Model::Rec::kState) st = m.recs[i].state;
  }
  Snapshot snap;
  for (size_t i = 0; i < p; ++i) {
    if (m.recs[i].kind == Model::Rec::kSnapshot && m.recs[i].snap.index <= st.commit) snap = m.recs[i].snap;
  }
  return snap;
}

// A plain model of ReadAll's rules, independent of the library's reader:
// replays recs[0, p) opened at OpenSnapshot(m, p). An entry at index i drops
// every entry collected at >= i, also at or below the snapshot (then all of
// them); the result is cut at the first entry whose term is below the
// snapshot's or its predecessor's.
Recovered Replay(const Model& m, size_t p) {
  Recovered r;
  r.snap = OpenSnapshot(m, p);
  for (size_t i = 0; i < p; ++i) {
    const auto& rec = m.recs[i];
    if (rec.kind == Model::Rec::kState) r.state = rec.state;
    if (rec.kind != Model::Rec::kEntry) continue;
    if (rec.entry.index <= r.snap.index) {
      r.entries.clear();
      continue;
    }
    const uint64_t off = rec.entry.index - r.snap.index - 1;
    if (off > r.entries.size()) continue;  // workloads never leave gaps
    r.entries.resize(off);
    r.entries.push_back(rec.entry);
  }
  uint64_t floor = r.snap.term;
  for (size_t i = 0; i < r.entries.size(); ++i) {
    if (r.entries[i].term < floor) {
      r.entries.resize(i);
      break;
    }
    floor = r.entries[i].term;
  }
  return r;
}

Options TestOptions(FileSystem* fs, const Model& m) {
  Options o;
  o.file_system = fs;
  o.prezero_segments = m.prezero;
  o.direct_io = m.direct;
  o.segment_size_bytes = m.segment_size;
  if (m.write_buffer != 0) o.write_buffer_bytes = m.write_buffer;
  o.background_segment_preparation = false;  // a deterministic order of operations
  return o;
}

// The calls a workload makes, recording into the model what was written and
// acknowledged.
class Driver {
 public:
  Driver(FileSystem* fs, Model* m) : fs_(fs), m_(m) {}

  bool Create() {
    auto w = WAL::Create(kDir, kMeta, TestOptions(fs_, *m_));
    if (!w) return false;
    w_ = std::move(w).value();
    m_->create_acked = true;
    return true;
  }
  bool Open() {
    auto w = WAL::Open(kDir, Snapshot{}, TestOptions(fs_, *m_));
    if (!w) return false;
    w_ = std::move(w).value();
    auto r = w_->ReadAll();
    return r.has_value();
  }
  // Save entries [first, first+n) of term `term` with data of `size` bytes.
  bool Save(uint64_t first, int n, uint64_t term, HardState hs, size_t size = 40) {
    if (!w_) return false;
    m_->nothing_written_since_repair = false;
    std::vector<Entry> ents = Record(first, n, term, hs, size);
    const bool must_sync = n > 0 || hs.term != m_->last_saved.term || hs.vote != m_->last_saved.vote;
    Status s = w_->Save(hs, ents);
    if (!s.ok()) return false;
    if (!hs.empty()) m_->last_saved = hs;
    if (must_sync) AckTo(m_->recs.size());
    return true;
  }
  // As Save, through SaveAsync; acknowledged by WaitDurable or, once
  // TrackTickets() is on, by the ticket callback.
  bool SaveAsync(uint64_t first, int n, uint64_t term, HardState hs, size_t size = 40) {
    if (!w_) return false;
    std::vector<Entry> ents = Record(first, n, term, hs, size);
    {
      std::lock_guard<std::mutex> l(m_->mu);
      m_->ticket_recs.push_back(m_->recs.size());
    }
    auto t = w_->SaveAsync(hs, ents);
    if (!t.has_value()) {
      std::lock_guard<std::mutex> l(m_->mu);
      m_->ticket_recs.pop_back();  // no ticket issued
      return false;
    }
    if (!hs.empty()) m_->last_saved = hs;
    ticket_ = *t;
    ticket_recs_ = m_->recs.size();
    return true;
  }
  bool WaitDurable() {
    if (!w_ || !w_->WaitDurable(ticket_).ok()) return false;
    AckTo(ticket_recs_);
    return true;
  }
  // Every ticket the callback reports OK acknowledges its records.
  void TrackTickets() {
    if (!w_) return;
    m_->tickets = true;
    Model* m = m_;
    w_->SetTicketCallback([m](uint64_t ticket, const Status& s) {
      std::lock_guard<std::mutex> l(m->mu);
      m->reports.emplace_back(ticket, s.ok());
      if (s.ok() && ticket >= 1 && ticket <= m->ticket_recs.size())
        m->acked = std::max(m->acked, m->ticket_recs[ticket - 1]);
    });
  }
  bool Sync() { return Ack(w_ && w_->Sync().ok()); }
  bool SaveSnapshot(Snapshot s) {
    if (!w_) return false;
    m_->recs.push_back({Model::Rec::kSnapshot, {}, {}, s});
    return Ack(w_->SaveSnapshot(s).ok());
  }
  bool Cut() { return Ack(w_ && w_->Cut().ok()); }
  bool ReleaseLockTo(uint64_t i) { return w_ && w_->ReleaseLockTo(i).ok(); }
  bool Purge(size_t keep) {
    auto r = wal::Purge(kDir, keep, TestOptions(fs_, *m_));
    if (!r) return false;
    m_->purged.insert(m_->purged.end(), r->begin(), r->end());
    return true;
  }
  bool Repair() {
    auto r = wal::Repair(kDir, TestOptions(fs_, *m_));
    if (!r || !*r) return false;
    m_->repair_acked = true;
    m_->nothing_written_since_repair = true;
    return true;
  }
  bool Close() {
    if (!w_) return false;
    bool ok = w_->Close().ok();
    w_.reset();
    return Ack(ok);
  }
  // Drops the WAL object without a clean close (its calls fail by then).
  void Abandon() { w_.reset(); }

 private:
  // The entries of a save, recorded in the model with `hs` as written.
  std::vector<Entry> Record(uint64_t first, int n, uint64_t term, HardState hs, size_t size) {
    std::vector<Entry> ents;
    for (int i = 0; i < n; ++i) {
      ents.push_back(Entry{term, first + i, EntryType::kNormal,
                           std::string(size, static_cast<char>('a' + (first + i + term) % 26))});
    }
    std::lock_guard<std::mutex> l(m_->mu);
    for (const auto& e : ents) m_->recs.push_back({Model::Rec::kEntry, e, {}, {}});
    if (!hs.empty()) m_->recs.push_back({Model::Rec::kState, {}, hs, {}});
    return ents;
  }
  bool Ack(bool ok) {
    if (ok) AckTo(m_->recs.size());
    return ok;
  }
  // The ticket callback acknowledges on the syncer thread: under mu.
  void AckTo(size_t n) {
    std::lock_guard<std::mutex> l(m_->mu);
    m_->acked = std::max(m_->acked, n);
  }
  FileSystem* fs_;
  Model* m_;
  std::unique_ptr<WAL> w_;
  uint64_t ticket_ = 0;
  size_t ticket_recs_ = 0;
};

struct Workload {
  std::string name;
  // Builds durable state before the crash window (not enumerated).
  std::function<void(MemFileSystem*, Model*)> setup;
  std::function<void(Driver&)> run;
};

HardState Hs(uint64_t term, uint64_t commit) { return HardState{term, 1, commit}; }

// The tail segment's path and, decoded, the end of its valid records and
// the offset of the last entry record's frame.
struct TailInfo {
  std::string path;
  std::string bytes;
  uint64_t end = 0;
  uint64_t first_entry = 0;
  uint64_t last_entry = 0;
};
TailInfo ReadTail(MemFileSystem* fs) {
  TailInfo t;
  auto segs = internal::ListSegments(fs, kDir);
  WAL_CHECK(segs.has_value());
  t.path = internal::JoinPath(kDir, segs->back().name);
  auto bytes = fs->ReadFileToString(t.path);
  WAL_CHECK(bytes.has_value());
  t.bytes = *bytes;
  auto f = fs->Open(t.path, OpenOptions{});
  WAL_CHECK(f.has_value());
  internal::RecordDecoder d({{segs->back().name, f->get()}}, 1 << 16);
  internal::RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    WAL_CHECK(r.has_value());
    if (!*r) break;
    if (rec.type == internal::kEntryType) {
      if (t.first_entry == 0) t.first_entry = d.record_offset();
      t.last_entry = d.record_offset();
    }
  }
  t.end = d.last_valid_offset();
  return t;
}

// Builds a closed log, then writes into its tail, past the last valid record
// X: zeros over [X, X+240) and, from X+240 (exactly where the 240 bytes of the
// workload's first Save will end), copies of the log's own entry frames,
// which parse but break the CRC chain. A reader stops at the zero word; a
// writer that appends at X without zeroing what follows leaves them in line.
void AddStaleFramesAfterAHole(MemFileSystem* fs, Model* m) {
  {
    Driver d(fs, m);
    d.Create();
    d.Save(1, 4, 1, Hs(1, 4));
    d.Close();
  }
  TailInfo t = ReadTail(fs);
  std::string b = t.bytes;
  const std::string stale = b.substr(t.first_entry, 2 * 72);  // two entry frames of 72 bytes
  // A second stale run, after more zeros, so that the first one is not the
  // last non-zero data of the file (which a reader may take for a torn tail).
  WAL_CHECK(t.end + 240 + 1024 + stale.size() <= b.size());
  std::fill(b.begin() + static_cast<std::ptrdiff_t>(t.end),
            b.begin() + static_cast<std::ptrdiff_t>(t.end + 240), '\0');
  b.replace(t.end + 240, stale.size(), stale);
  b.replace(t.end + 240 + 1024, stale.size(), stale);
  WAL_CHECK(fs->WriteFileFromString(t.path, b).ok());
}

// A closed log whose last entry record (6) was torn: its frame is cut 20
// bytes in and zeros follow, as a crash mid-write leaves it. The model keeps
// what precedes entry 6; the .broken copy Repair makes must hold these bytes.
void TearTheLastEntry(MemFileSystem* fs, Model* m) {
  {
    Driver d(fs, m);
    d.Create();
    d.Save(1, 4, 1, Hs(1, 4));
    d.Save(5, 2, 1, Hs(1, 6));
    d.Close();
  }
  TailInfo t = ReadTail(fs);
  std::string b = t.bytes;
  std::fill(b.begin() + static_cast<std::ptrdiff_t>(t.last_entry + 20), b.end(), '\0');
  WAL_CHECK(fs->WriteFileFromString(t.path, b).ok());
  auto it = std::find_if(m->recs.begin(), m->recs.end(), [](const Model::Rec& r) {
    return r.kind == Model::Rec::kEntry && r.entry.index == 6;
  });
  WAL_CHECK(it != m->recs.end());
  m->recs.erase(it, m->recs.end());
  m->acked = m->recs.size();
  m->broken_path = t.path + ".broken";
  m->broken_bytes = b;
}

// A closed log followed by a segment of zeros with the next name: a cut whose
// name became durable before its head did (our cuts never do this; a damaged
// disk or another writer may). The next append must give it a head first.
void AddHeadlessSegment(MemFileSystem* fs, Model* m) {
  {
    Driver d(fs, m);
    d.Create();
    d.Save(1, 4, 1, Hs(1, 4));
    d.Close();
  }
  m->empty_tail_ok = true;
  const std::string name = internal::SegmentFileName(1, 5);
  WAL_CHECK(fs->WriteFileFromString(internal::JoinPath(kDir, name), std::string(4096, '\0')).ok());
}

// Synced and commit-only Saves, a Sync, a new term.
void SaveBatches(Driver& d) {
  if (!d.Create()) return;
  d.Save(1, 3, 1, Hs(1, 0));
  d.Save(0, 0, 1, Hs(1, 3));  // commit-only: not synced
  d.Save(4, 3, 1, Hs(1, 3));
  d.Sync();
  d.Save(7, 2, 2, Hs(2, 6));
  d.Close();
}

// Forty entries of 300 bytes in batches of five: cuts at 4 KiB segments.
void SaveWithCuts(Driver& d) {
  if (!d.Create()) return;
  uint64_t next = 1;
  for (int i = 0; i < 8; ++i, next += 5) d.Save(next, 5, 1, Hs(1, next + 4), 300);
  d.Close();
}

void AsyncSavesAcrossCuts(Driver& d) {
  if (!d.Create()) return;
  uint64_t next = 1;
  for (int i = 0; i < 4; ++i, next += 4) d.SaveAsync(next, 4, 1, Hs(1, next + 3), 300);
  d.WaitDurable();
  for (int i = 0; i < 4; ++i, next += 4) d.SaveAsync(next, 4, 1, Hs(1, next + 3), 300);
  d.Save(next, 1, 1, Hs(1, next));
  d.Close();
}

void ReopenAppend(Driver& d) {
  if (!d.Open()) return;
  d.Save(5, 3, 1, Hs(1, 7));
  d.Close();
}

std::vector<Workload> Workloads() {
  std::vector<Workload> w;
  w.push_back({"create", nullptr, [](Driver& d) { d.Create(); }});
  w.push_back({"save_batches", nullptr, SaveBatches});
  // Direct I/O: each synced Save is one RWF_DSYNC write of the blocks it
  // touches, rewriting the partial block the last one ended in.
  w.push_back({"save_batches_direct", [](MemFileSystem*, Model* m) { m->direct = true; }, SaveBatches});
  w.push_back({"save_with_cuts", nullptr, SaveWithCuts});
  // Direct I/O with a Save larger than the write buffer (4 KiB here; no
  // cut): part of it is flushed inside the Save, so its sync must be an
  // fdatasync, not an RWF_DSYNC write of the rest.
  w.push_back({"large_save_direct",
               [](MemFileSystem*, Model* m) {
                 m->direct = true;
                 m->segment_size = 64 * 1024;
                 m->write_buffer = 4096;
               },
               [](Driver& d) {
                 if (!d.Create()) return;
                 d.Save(1, 2, 1, Hs(1, 2), 100);
                 d.Save(3, 40, 1, Hs(1, 42), 300);
                 d.Save(43, 2, 1, Hs(1, 44), 100);
                 d.Close();
               }});
  // Direct I/O across cuts (the cut's flush goes before the truncation).
  w.push_back({"save_with_cuts_direct_prezeroed",
               [](MemFileSystem*, Model* m) {
                 m->direct = true;
                 m->prezero = true;
               },
               SaveWithCuts});
  // The same with zeroed segments: a cut's head torn before it was synced
  // lies in durable zeros, where a crc record cut inside its varint parses.
  w.push_back(
      {"save_with_cuts_prezeroed", [](MemFileSystem*, Model* m) { m->prezero = true; }, SaveWithCuts});
  // SaveAsync does not wait for the cuts it starts: later appends land in
  // the new segment while its syncs and rename are still to come (and a
  // segment may fill up before the previous cut is durable). The syncer
  // thread makes the order of operations vary from run to run; every run is
  // checked against what it acknowledged.
  w.push_back({"async_saves_across_cuts", nullptr, AsyncSavesAcrossCuts});
  // The same with direct I/O: the syncer's rounds write durably under the
  // lock while appends wait.
  w.push_back({"async_saves_across_cuts_direct", [](MemFileSystem*, Model* m) { m->direct = true; },
               AsyncSavesAcrossCuts});
  w.push_back({"snapshot_release_cut", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.Save(1, 10, 1, Hs(1, 10));
                 d.SaveSnapshot(Snapshot{5, 1});
                 d.Cut();
                 d.Save(11, 5, 1, Hs(1, 15));
                 d.Cut();
                 d.ReleaseLockTo(12);
                 d.Save(16, 3, 1, Hs(1, 18));
                 d.Close();
               }});
  w.push_back({"overwrite", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.Save(1, 5, 1, Hs(1, 2));
                 d.Save(3, 2, 2, Hs(2, 2));  // raft log overwrite at index 3
                 d.Save(5, 2, 2, Hs(2, 4));
                 d.Close();
               }});
  // Reopen a log whose tail has a zero length word followed by stale frames
  // (a torn write persisted a later page but not an earlier one), append,
  // close: exercises zero-to-end and appends after a reopen.
  w.push_back({"reopen_append", AddStaleFramesAfterAHole, ReopenAppend});
  // The same, appending with direct I/O: the writer starts mid-block, with
  // the block's leading bytes read back from the file.
  w.push_back({"reopen_append_direct",
               [](MemFileSystem* fs, Model* m) {
                 AddStaleFramesAfterAHole(fs, m);
                 m->direct = true;
               },
               ReopenAppend});
  // Issue 10. A deposed leader's entries 15..20 (term 3) are overwritten from
  // 15 by entries of term 2 (a new leader's log, across a cut), then a
  // snapshot at 17 is taken, appends follow, and after another cut an
  // overwrite above the snapshot. The stale 18..20 have a higher term than
  // the snapshot: only the overwrite rule below the snapshot drops them.
  w.push_back({"overwrite_around_snapshot", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.Save(1, 14, 2, Hs(3, 10), 100);
                 d.Save(15, 6, 3, Hs(3, 10), 100);
                 d.Cut();
                 d.Save(15, 3, 2, Hs(4, 17));
                 d.SaveSnapshot(Snapshot{17, 2});
                 d.Save(18, 2, 4, Hs(4, 19));
                 d.Cut();
                 d.Save(19, 2, 5, Hs(5, 19));
                 d.Close();
               }});
  // Issue 10: a follower installs the leader's snapshot {25, 5} over its own
  // divergent entries 1..30 of term 1, then appends from 26.
  w.push_back({"installed_snapshot", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.Save(1, 30, 1, Hs(1, 20));
                 d.Save(0, 0, 5, Hs(5, 25));
                 d.SaveSnapshot(Snapshot{25, 5});
                 d.Save(26, 3, 5, Hs(5, 27));
                 d.Close();
               }});
  // Issue 10: bounding the disk. Several segments, a snapshot, the locks
  // released up to it, a purge (by this process, with its WAL open), more
  // appends: the log opens at the snapshot whatever the crash.
  w.push_back({"snapshot_release_purge", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 uint64_t next = 1;
                 // Segments 0-0, 1-21 (hex 15) and 2-41 (hex 29).
                 for (int i = 0; i < 10; ++i, next += 5) d.Save(next, 5, 1, Hs(1, next + 4), 300);
                 d.SaveSnapshot(Snapshot{45, 1});
                 d.ReleaseLockTo(45);  // the first two segments go
                 d.Purge(1);
                 d.Save(next, 2, 1, Hs(1, next + 1), 300);
                 d.Close();
               }});
  // Issue 10: SaveAsync acknowledged through the ticket callback only, across
  // cuts, with a ticket that writes nothing and a synced Save in between.
  w.push_back({"ticket_callback", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.TrackTickets();
                 uint64_t next = 1;
                 for (int i = 0; i < 3; ++i, next += 4) d.SaveAsync(next, 4, 1, Hs(1, next + 3), 300);
                 d.SaveAsync(0, 0, 1, HardState{});  // a ticket with nothing to write
                 d.Save(next, 1, 1, Hs(1, next));
                 ++next;
                 for (int i = 0; i < 3; ++i, next += 4) d.SaveAsync(next, 4, 1, Hs(1, next + 3), 300);
                 d.Close();
               }});
  // (From the lead's issue-10 commit.) An overwrite from below the snapshot
  // after a cut, whose stale entries have a term above the snapshot's, then
  // appends after the snapshot and an overwrite above it.
  w.push_back({"overwrite_below_snapshot", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.Save(1, 12, 1, Hs(1, 6), 100);
                 d.Cut();
                 d.Save(8, 5, 3, Hs(3, 6));
                 d.Save(5, 3, 2, Hs(4, 7));
                 d.SaveSnapshot(Snapshot{7, 2});
                 d.Save(8, 4, 4, Hs(4, 10));
                 d.Save(10, 2, 5, Hs(5, 10));
                 d.Close();
               }});
  // (From the lead's issue-10 commit.) etcd's server loop three times over:
  // snapshot, release, purge, while appends continue.
  w.push_back({"snapshot_release_purge_rounds", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 uint64_t next = 1;
                 for (int round = 0; round < 3; ++round) {
                   for (int i = 0; i < 3; ++i, next += 4) d.Save(next, 4, 1, Hs(1, next + 3), 300);
                   const Snapshot snap{next - 2, 1};
                   d.SaveSnapshot(snap);
                   d.ReleaseLockTo(snap.index);
                   d.Purge(1);
                 }
                 d.Close();
               }});
  // (From the lead's issue-10 commit.) Tickets across cuts with a raft
  // overwrite made through SaveAsync and a synced Save in between.
  w.push_back({"ticket_callback_overwrite", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.TrackTickets();
                 uint64_t next = 1;
                 for (int i = 0; i < 4; ++i, next += 3) d.SaveAsync(next, 3, 1, Hs(1, next + 2), 300);
                 d.SaveAsync(next - 2, 2, 2, Hs(2, next - 1), 300);  // overwrite the last two
                 d.Save(next, 1, 2, Hs(2, next));
                 d.SaveAsync(next + 1, 3, 2, Hs(2, next + 3), 300);
                 d.Close();
               }});
  // Power loss after Repair: a torn tail repaired, the log reopened and
  // appended to. Repair's answer must survive: the cut stays cut, and the
  // .broken copy of what it cut exists.
  w.push_back({"repair_then_append", TearTheLastEntry, [](Driver& d) {
                 if (!d.Repair()) return;
                 if (!d.Open()) return;
                 d.Save(6, 2, 1, Hs(1, 7));
                 d.Close();
               }});
  // A headless tail segment gets its head before the first append.
  w.push_back({"headless_tail_append", AddHeadlessSegment, [](Driver& d) {
                 if (!d.Open()) return;
                 d.Save(5, 2, 1, Hs(1, 6));
                 d.Close();
               }});
  return w;
}

const Workload& WorkloadNamed(const std::vector<Workload>& all, const std::string& name) {
  auto it = std::find_if(all.begin(), all.end(), [&](const Workload& w) { return w.name == name; });
  WAL_CHECK(it != all.end());
  return *it;
}

std::string PolicyName(const CrashPolicy& p) {
  const char* names[] = {"drop_unsynced", "keep_prefix", "tear_last_sector", "keep_all", "reorder_hole"};
  std::string s = names[static_cast<int>(p.mode)];
  if (p.mode == CrashMode::kTearLastSector) s += p.tear_with_zeros ? "(zeros)" : "(garbage)";
  if (p.keep_until) s += "@" + std::to_string(*p.keep_until);
  if (p.hole_at) s += " hole@" + std::to_string(*p.hole_at);
  return s + "/seed=" + std::to_string(p.seed);
}

// The end of every record frame in the live image of `path`, read alone,
// and every byte inside a crc record: a crc record has no checksum of its
// own, so one torn inside its chain value's varint (the last byte lost
// still parses) cannot be told from corruption; only the syncs that keep
// heads whole before their names are durable prevent it.
void AddRecordEnds(MemFileSystem* fs, const std::string& path, std::set<uint64_t>* ends) {
  auto f = fs->Open(path, OpenOptions{});
  if (!f) return;
  internal::RecordDecoder d({{path, f->get()}}, 1 << 16);
  internal::RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (!r.has_value() || !*r) return;
    ends->insert(d.record_offset() + d.record_frame_bytes());
    if (rec.type == internal::kCrcType) {
      for (uint64_t o = d.record_offset() + 1; o < d.record_offset() + d.record_frame_bytes(); ++o)
        ends->insert(o);
    }
  }
}

// The deterministic policies at one crash point (see the file comment).
std::vector<CrashPolicy> DeterministicPolicies(MemFileSystem* fs, const std::vector<UnsyncedRange>& ranges,
                                               std::set<uint64_t> write_ends, uint64_t seed) {
  for (const auto& r : ranges) AddRecordEnds(fs, r.path, &write_ends);
  constexpr uint64_t kSector = internal::kSectorBytes;
  std::vector<CrashPolicy> p;
  p.push_back({CrashMode::kDropUnsynced, seed, false, {}, {}});
  p.push_back({CrashMode::kKeepAll, seed, false, {}, {}});
  std::set<uint64_t> cuts;
  uint64_t max_end = 0;
  for (const auto& r : ranges) {
    cuts.insert(r.first);
    cuts.insert(r.end);
    for (uint64_t s = (r.first / kSector + 1) * kSector; s < r.end; s += kSector) cuts.insert(s);
    for (auto it = write_ends.upper_bound(r.first); it != write_ends.end() && *it < r.end; ++it)
      cuts.insert(*it);
    max_end = std::max(max_end, r.end);
  }
  for (uint64_t c : cuts) {
    p.push_back({CrashMode::kKeepRandomPrefix, seed, false, c, {}});
    p.push_back({CrashMode::kTearLastSector, seed, true, c, {}});
    p.push_back({CrashMode::kTearLastSector, seed, false, c, {}});
  }
  std::set<uint64_t> holes;
  for (const auto& r : ranges) {
    for (uint64_t s = r.first / kSector * kSector; s < r.end; s += kSector) holes.insert(s);
  }
  for (uint64_t h : holes) p.push_back({CrashMode::kReorderHole, seed, false, max_end, h});
  return p;
}

// Seeded random policies, added by NothingAcknowledgedIsEverLost only.
std::vector<CrashPolicy> RandomPolicies(uint64_t seed) {
  std::vector<CrashPolicy> p;
  for (uint64_t i = 0; i < 2; ++i) {
    p.push_back({CrashMode::kKeepRandomPrefix, seed + i, false, {}, {}});
    p.push_back({CrashMode::kTearLastSector, seed + i, false, {}, {}});
    p.push_back({CrashMode::kReorderHole, seed + i, false, {}, {}});
  }
  return p;
}

// What went wrong after a crash, by the harm it does.
enum class Harm {
  kLostAck,         // an acknowledged entry, state, snapshot or Create is gone
  kWrongLog,        // the log holds what no prefix of the writes, read by the rules, holds
  kUnreadable,      // recovery, the append after it or the reopen fails
  kHeadless,        // a segment does not start with crc + metadata
  kRepairUndone,    // an acknowledged Repair needs doing again
  kRepairCopyLost,  // an acknowledged Repair's .broken copy is missing or differs
  kPurgeUndone,     // a segment whose removal Purge acknowledged is back
  kTicketProtocol,  // tickets not reported once each, in order
  kCount,
};
constexpr const char* kHarmNames[] = {"lost-ack",      "wrong-log",        "unreadable",   "headless",
                                      "repair-undone", "repair-copy-lost", "purge-undone", "ticket-protocol"};
static_assert(std::size(kHarmNames) == static_cast<size_t>(Harm::kCount));

struct Failure {
  Harm harm;
  std::string what;
};

// Every segment, read alone, starts with a crc record then a metadata record
// holding kMeta: a reader starting at any segment finds what it needs. (A
// workload that starts from an empty tail may leave it empty.)
std::string CheckSegmentHeads(MemFileSystem* fs, bool allow_empty_tail) {
  auto segs = internal::ListSegments(fs, kDir);
  if (!segs) return "";
  for (const auto& seg : *segs) {
    auto f = fs->Open(internal::JoinPath(kDir, seg.name), OpenOptions{});
    if (!f) return "cannot open " + seg.name;
    internal::RecordDecoder d({{seg.name, f->get()}}, 1 << 16);
    internal::RecordView rec;
    auto r = d.Next(&rec);
    if (allow_empty_tail && &seg == &segs->back() && r.has_value() && !*r) continue;
    if (!r.has_value() || !*r || rec.type != internal::kCrcType)
      return seg.name + " does not start with a crc record";
    r = d.Next(&rec);
    if (!r.has_value() || !*r || rec.type != internal::kMetadataType || rec.data != kMeta)
      return seg.name + " has no metadata record after its crc record";
  }
  return "";
}

// Tickets 1..n reported once each, in order (checked once the WAL object is
// gone: Close delivers every outstanding report).
std::optional<Failure> CheckTickets(Model& m) {
  if (!m.tickets) return std::nullopt;
  std::lock_guard<std::mutex> l(m.mu);
  for (size_t i = 0; i < m.reports.size(); ++i) {
    if (m.reports[i].first != i + 1) {
      return Failure{Harm::kTicketProtocol,
                     "report " + std::to_string(i) + " is for ticket " + std::to_string(m.reports[i].first)};
    }
  }
  if (m.reports.size() != m.ticket_recs.size()) {
    return Failure{Harm::kTicketProtocol, std::to_string(m.reports.size()) + " reports for " +
                                              std::to_string(m.ticket_recs.size()) + " tickets"};
  }
  return std::nullopt;
}

// Recovers after a crash and checks the log.
std::optional<Failure> RecoverAndCheck(MemFileSystem* fs, const Model& m) {
  Options o = TestOptions(fs, m);
  if (!m.purged.empty()) {
    for (const auto& name : m.purged) {
      if (fs->Stat(internal::JoinPath(kDir, name)).has_value())
        return Failure{Harm::kPurgeUndone, name + " is back after Purge removed it"};
    }
  }
  if (m.repair_acked) {
    auto b = fs->ReadFileToString(m.broken_path);
    if (!b.has_value() || *b != m.broken_bytes)
      return Failure{Harm::kRepairCopyLost, b.has_value() ? "the .broken copy differs" : "no .broken copy"};
  }
  if (!Exist(kDir, o)) {
    if (m.create_acked) return Failure{Harm::kLostAck, "Create was acknowledged but no WAL exists"};
    // The workload never got a WAL: Create must work now.
    auto w = WAL::Create(kDir, kMeta, o);
    if (!w)
      return Failure{Harm::kUnreadable, "Create after a crash during Create failed: " + w.error().ToString()};
    if (!(*w)->Close().ok()) return Failure{Harm::kUnreadable, "close failed"};
    return std::nullopt;
  }
  Snapshot snap;
  // Every recovery also keeps the offset index (the read fills it beside
  // its result; checked below against the entries read).
  Options indexed = o;
  indexed.index_entries = true;
  // `mapped`: read with ReadAllMapped (the same rules over mapped segments)
  // instead of ReadAll.
  auto open_read = [&](std::unique_ptr<WAL>* w, ReadAllResult* out, bool mapped = false) -> Status {
    auto snaps = ValidSnapshotEntries(kDir, o);
    if (!snaps) return snaps.error();
    snap = snaps->empty() ? Snapshot{} : snaps->back();
    auto r = WAL::Open(kDir, snap, indexed);
    if (!r) return r.error();
    *w = std::move(r).value();
    if (mapped) {
      auto all = (*w)->ReadAllMapped();
      if (!all) return all.error();
      *out = ReadAllResult{all->metadata, all->state, all->ToEntries()};
      return Status::Ok();
    }
    auto all = (*w)->ReadAll();
    if (!all) return all.error();
    *out = std::move(all).value();
    return Status::Ok();
  };
  std::unique_ptr<WAL> w;
  ReadAllResult got;
  Status s = open_read(&w, &got);
  if (s.code() == StatusCode::kUnexpectedEof) {
    if (m.repair_acked && m.nothing_written_since_repair)
      return Failure{Harm::kRepairUndone, "the repaired log has a torn tail again: " + s.ToString()};
    w.reset();
    auto rep = Repair(kDir, o);
    if (!rep || !*rep)
      return Failure{Harm::kUnreadable, "ReadAll said torn tail but Repair failed: " + s.ToString()};
    s = open_read(&w, &got);
  }
  if (!s.ok()) return Failure{Harm::kUnreadable, "recovery failed: " + s.ToString()};
  if (got.metadata != kMeta) return Failure{Harm::kLostAck, "metadata lost"};
  if (std::string bad = CheckSegmentHeads(fs, m.empty_tail_ok); !bad.empty())
    return Failure{Harm::kHeadless, bad};
  // The recovered log is the replay of some prefix of what was written, no
  // shorter than what was acknowledged.
  auto matches = [&](size_t p) {
    Recovered r = Replay(m, p);
    return r.snap == snap && r.entries == got.entries && r.state == got.state;
  };
  bool found = false;
  for (size_t p = m.acked; p <= m.recs.size() && !found; ++p) found = matches(p);
  if (!found) {
    Recovered want = Replay(m, m.acked);
    bool shorter = false;
    for (size_t p = 0; p < m.acked && !shorter; ++p) shorter = matches(p);
    std::string what = "opened at snapshot " + std::to_string(snap.index) + ", recovered " +
                       std::to_string(got.entries.size()) + " entries (commit " +
                       std::to_string(got.state.commit) + "), acknowledged " +
                       std::to_string(want.entries.size()) + " entries (commit " +
                       std::to_string(want.state.commit) + ", snapshot " + std::to_string(want.snap.index) +
                       "): not a replay of an acknowledged prefix";
    return Failure{shorter ? Harm::kLostAck : Harm::kWrongLog, what};
  }
  // The offset index reads back what ReadAll returned, before and after an
  // append.
  auto index_reads_back = [&](const std::vector<Entry>& want) -> std::optional<Failure> {
    auto back = w->Entries(snap.index + 1, snap.index + 1 + want.size());
    if (!back || *back != want) {
      return Failure{Harm::kWrongLog, "the offset index does not read back the recovered entries" +
                                          (back ? std::string() : ": " + back.error().ToString())};
    }
    return std::nullopt;
  };
  if (auto f = index_reads_back(got.entries)) return f;
  // Appendable again, and the append survives a reopen.
  const uint64_t next = got.entries.empty() ? snap.index + 1 : got.entries.back().index + 1;
  Entry e{9, next, EntryType::kNormal, "after-crash"};
  s = w->Save(HardState{9, 1, next}, std::vector<Entry>{e});
  if (!s.ok()) return Failure{Harm::kUnreadable, "append after recovery failed: " + s.ToString()};
  got.entries.push_back(e);
  if (auto f = index_reads_back(got.entries)) return f;
  if (!w->Close().ok()) return Failure{Harm::kUnreadable, "close after recovery failed"};
  w.reset();
  ReadAllResult again;
  s = open_read(&w, &again, /*mapped=*/true);
  if (!s.ok()) return Failure{Harm::kUnreadable, "reopen after the append failed: " + s.ToString()};
  if (again.entries != got.entries)
    return Failure{Harm::kUnreadable, "the append after recovery did not read back"};
  return std::nullopt;
}

struct Totals {
  uint64_t states = 0;
  uint64_t failures = 0;
  uint64_t by_harm[static_cast<size_t>(Harm::kCount)] = {};
  std::string first[static_cast<size_t>(Harm::kCount)];
  std::string first_failure;

  void Add(const std::string& where, const Failure& f) {
    ++failures;
    const auto h = static_cast<size_t>(f.harm);
    ++by_harm[h];
    std::string msg = where + ": [" + kHarmNames[h] + "] " + f.what;
    if (first[h].empty()) first[h] = msg;
    if (first_failure.empty()) first_failure = msg;
  }
  void Merge(const Totals& o) {
    states += o.states;
    failures += o.failures;
    for (size_t h = 0; h < static_cast<size_t>(Harm::kCount); ++h) {
      by_harm[h] += o.by_harm[h];
      if (first[h].empty()) first[h] = o.first[h];
    }
    if (first_failure.empty()) first_failure = o.first_failure;
  }
  std::string Harms() const {
    std::string s;
    for (size_t h = 0; h < static_cast<size_t>(Harm::kCount); ++h) {
      if (by_harm[h] == 0) continue;
      if (!s.empty()) s += ", ";
      s += std::string(kHarmNames[h]) + " " + std::to_string(by_harm[h]);
    }
    return s.empty() ? "none" : s;
  }
};

// One run of the workload with a crash at op k (nullopt: no crash); records
// the end offset of every write that reached the file system.
struct Run {
  MemFileSystem fs;
  Model m;
  std::set<uint64_t> write_ends;
  std::optional<Failure> ticket_failure;
};
void RunUntil(const Workload& wl, std::optional<uint64_t> k, Run* r) {
  if (wl.setup) wl.setup(&r->fs, &r->m);
  std::atomic<uint64_t> seen{0};  // the SaveAsync syncer calls the hook too
  std::mutex mu;
  r->fs.SetOpHook([&](const OpInfo& op) {
    if (k && seen++ >= *k) return Status(StatusCode::kIoError, "simulated crash");
    if (op.kind == OpKind::kWriteAt) {
      std::lock_guard<std::mutex> l(mu);
      r->write_ends.insert(op.offset + op.length);
    }
    return Status::Ok();
  });
  {
    Driver d(&r->fs, &r->m);
    wl.run(d);
    d.Abandon();  // its closing calls fail: the process is gone
  }
  r->fs.SetOpHook(nullptr);
  r->ticket_failure = CheckTickets(r->m);
}

// Runs every crash point of `wl` under every deterministic policy (and the
// random ones if `random`).
void Enumerate(const Workload& wl, uint64_t seed, bool random, Totals* t) {
  uint64_t n;
  {
    MemFileSystem fs;
    Model m;
    if (wl.setup) wl.setup(&fs, &m);
    uint64_t before = fs.op_count();
    Driver d(&fs, &m);
    wl.run(d);
    d.Abandon();
    n = fs.op_count() - before;
  }
  for (uint64_t k = 0; k <= n; ++k) {
    std::vector<CrashPolicy> policies;
    {
      Run probe;
      RunUntil(wl, k, &probe);
      policies = DeterministicPolicies(&probe.fs, probe.fs.UnsyncedRanges(), probe.write_ends, seed + k);
    }
    if (random) {
      for (const CrashPolicy& p : RandomPolicies(seed + k)) policies.push_back(p);
    }
    for (const CrashPolicy& policy : policies) {
      Run r;
      RunUntil(wl, k, &r);
      std::optional<Failure> bad = r.ticket_failure;
      if (!bad) {
        r.fs.SimulateCrash(policy);
        bad = RecoverAndCheck(&r.fs, r.m);
      }
      ++t->states;
      if (bad) {
        t->Add(wl.name + ", crash before op " + std::to_string(k) + " of " + std::to_string(n) + ", " +
                   PolicyName(policy),
               *bad);
      }
    }
  }
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The unmutated enumeration of every workload; prints one line each.
Totals EnumerateAll(uint64_t seed, bool random, const char* tag) {
  Totals t;
  for (const auto& wl : Workloads()) {
    Totals one;
    const auto t0 = std::chrono::steady_clock::now();
    Enumerate(wl, seed, random, &one);
    std::printf("[%s] workload %-30s crash states %6llu  failures %llu  (%.1f s)\n", tag, wl.name.c_str(),
                static_cast<unsigned long long>(one.states), static_cast<unsigned long long>(one.failures),
                SecondsSince(t0));
    t.Merge(one);
  }
  std::printf("[%s] total crash states checked: %llu, failures: %llu (seed %llu)\n", tag,
              static_cast<unsigned long long>(t.states), static_cast<unsigned long long>(t.failures),
              static_cast<unsigned long long>(seed));
  return t;
}

TEST(CrashEnumeration, NothingAcknowledgedIsEverLost) {
  const uint64_t seed = testutil::Seed();
  Totals t = EnumerateAll(seed, /*random=*/true, "crash");
  EXPECT_EQ(t.failures, 0u) << t.first_failure << " (WAL_TEST_SEED=" << seed << ")";
  EXPECT_GT(t.states, 5000u);
}

// The workloads with a second thread (the SaveAsync syncer), alone: what the
// TSan step of scripts/test.sh runs.
TEST(CrashEnumeration, ThreadedWorkloads) {
  const uint64_t seed = testutil::Seed();
  const std::vector<Workload> all = Workloads();
  Totals t;
  for (const char* name : {"async_saves_across_cuts", "async_saves_across_cuts_direct", "ticket_callback",
                           "ticket_callback_overwrite"}) {
    Totals one;
    Enumerate(WorkloadNamed(all, name), seed, /*random=*/true, &one);
    std::printf("[threaded] workload %-30s crash states %6llu  failures %llu\n", name,
                static_cast<unsigned long long>(one.states), static_cast<unsigned long long>(one.failures));
    t.Merge(one);
  }
  EXPECT_EQ(t.failures, 0u) << t.first_failure << " (WAL_TEST_SEED=" << seed << ")";
  EXPECT_GT(t.states, 500u);
}

// Each durability step, removed alone, must make the enumeration of the
// workloads that exercise it fail with the harm it should cause.
TEST(CrashEnumeration, EveryDurabilityStepIsNeeded) {
  using internal::Mutant;
  const uint64_t seed = testutil::Seed();
  struct Case {
    Mutant mutant;
    const char* name;
    std::vector<std::string> workloads;
    std::vector<Harm> harms;  // at least one failure of one of these
  };
  const std::vector<Case> cases = {
      {Mutant::kSkipSaveSync,
       "skip Save/Sync fdatasync (or RWF_DSYNC write)",
       {"save_batches", "save_batches_direct"},
       {Harm::kLostAck}},
      {Mutant::kSkipCutOldTailSync,
       "skip cut: fdatasync of the old tail",
       {"save_with_cuts"},
       {Harm::kLostAck, Harm::kUnreadable}},
      {Mutant::kSkipCutHeadSync,
       "skip cut: fdatasync of the new head",
       {"save_with_cuts_prezeroed"},
       {Harm::kHeadless, Harm::kUnreadable}},
      {Mutant::kSkipCutDirSync,
       "skip cut: directory fsync after rename",
       {"save_with_cuts"},
       {Harm::kLostAck}},
      {Mutant::kCutDirSyncBeforeRename,
       "cut: directory fsync before the rename",
       {"save_with_cuts"},
       {Harm::kLostAck}},
      {Mutant::kSkipCreateFileSync,
       "skip Create: fdatasync of the first segment",
       {"create"},
       {Harm::kLostAck}},
      {Mutant::kSkipCreateTmpDirSync, "skip Create: fsync of <dir>.tmp", {"create"}, {Harm::kLostAck}},
      {Mutant::kSkipCreateParentSync,
       "skip Create: fsync of the parent directory",
       {"create"},
       {Harm::kLostAck}},
      {Mutant::kSkipCreateDirsSync,
       "skip Create: fsync of new directories' parents",
       {"create"},
       {Harm::kLostAck}},
      {Mutant::kSkipZeroToEnd, "skip zero-to-end on write-mode open", {"reopen_append"}, {Harm::kUnreadable}},
      {Mutant::kSkipZeroToEndSync,
       "skip the fdatasync after zero-to-end",
       {"reopen_append"},
       {Harm::kUnreadable, Harm::kLostAck}},
      {Mutant::kSkipHeadlessTailHead,
       "no head on a headless tail before appending",
       {"headless_tail_append"},
       {Harm::kHeadless}},
      {Mutant::kSkipOverwriteRule, "skip the raft overwrite rule", {"overwrite"}, {Harm::kWrongLog}},
      {Mutant::kSkipOverwriteBelowSnapshot,
       "skip the overwrite rule below the snapshot",
       {"overwrite_around_snapshot", "overwrite_below_snapshot"},
       {Harm::kWrongLog}},
      {Mutant::kSkipTermOrderRule, "skip the term-order rule", {"installed_snapshot"}, {Harm::kWrongLog}},
      {Mutant::kSkipZeroTailTornRule,
       "skip the zero-tail torn-write rule",
       {"save_batches"},
       {Harm::kUnreadable}},
      {Mutant::kSkipPurgeDirSync,
       "skip Purge: directory fsync",
       {"snapshot_release_purge", "snapshot_release_purge_rounds"},
       {Harm::kPurgeUndone}},
      {Mutant::kSkipRepairBrokenSync,
       "skip Repair: fdatasync of the .broken copy",
       {"repair_then_append"},
       {Harm::kRepairCopyLost}},
      {Mutant::kSkipRepairDirSync,
       "skip Repair: directory fsync for the .broken copy",
       {"repair_then_append"},
       {Harm::kRepairCopyLost}},
      {Mutant::kSkipRepairTruncateSync,
       "skip Repair: fdatasync after the truncate",
       {"repair_then_append"},
       {Harm::kRepairUndone}},
      {Mutant::kDurableWriteCoversEarlierWrites,
       "direct I/O: an RWF_DSYNC write taken for an fdatasync",
       {"large_save_direct"},
       {Harm::kLostAck}},
  };
  // Every switch in src/mutants.h has its case.
  ASSERT_EQ(cases.size() + 1, static_cast<size_t>(Mutant::kCount));
  std::set<int> listed;
  for (const Case& c : cases) listed.insert(static_cast<int>(c.mutant));
  ASSERT_EQ(listed.size(), cases.size());

  // The baseline: the same deterministic enumeration, unmutated, same seed.
  Totals base = EnumerateAll(seed, /*random=*/false, "mutant baseline");
  ASSERT_EQ(base.failures, 0u) << "the unmutated library fails the enumeration, so no mutant result means "
                                  "anything: "
                               << base.first_failure << " (WAL_TEST_SEED=" << seed << ")";

  const std::vector<Workload> all = Workloads();
  int caught = 0;
  for (const Case& c : cases) {
    const auto t0 = std::chrono::steady_clock::now();
    internal::g_mutant.store(static_cast<int>(c.mutant));
    Totals t;
    for (const auto& name : c.workloads) Enumerate(WorkloadNamed(all, name), seed, /*random=*/false, &t);
    internal::g_mutant.store(0);
    uint64_t expected = 0;
    std::string example;
    for (Harm h : c.harms) {
      expected += t.by_harm[static_cast<size_t>(h)];
      if (example.empty()) example = t.first[static_cast<size_t>(h)];
    }
    std::printf("[mutant] %-48s %s: %llu of %llu crash states fail (%s) (%.1f s)%s%s\n", c.name,
                expected ? "KILLED" : "MISSED", static_cast<unsigned long long>(t.failures),
                static_cast<unsigned long long>(t.states), t.Harms().c_str(), SecondsSince(t0),
                example.empty() ? "" : "\n         e.g. ", example.c_str());
    EXPECT_GT(expected, 0u) << "mutant not killed with the harm it should cause: " << c.name << " (got "
                            << t.Harms() << "; WAL_TEST_SEED=" << seed << ")";
    if (expected) ++caught;
  }
  std::printf("[mutant] mutants killed: %d of %zu\n", caught, cases.size());
}

}  // namespace
}  // namespace wal
