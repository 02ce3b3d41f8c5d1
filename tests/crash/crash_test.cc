// Exhaustive crash-point enumeration on MemFileSystem.
//
// For each reference workload, the workload is first run once to count its
// file-system operations n. Then, for every k in [0, n] and every crash
// policy, it runs again on a fresh file system where operation k and every
// later one fail (the process "dies" at k: nothing after it reaches the
// disk), the file system is crashed with the policy, and recovery runs as
// etcd's server does: Open + ReadAll, and on kUnexpectedEof one Repair and a
// reopen. The recovered log must be the replay of a prefix of the records the
// workload wrote, at least as long as everything acknowledged as durable;
// every segment must start with its crc and metadata records; and the log must
// take an append, a close and a reopen.
//
// The same enumeration runs with each durability step switched off (src/
// mutants.h); each such mutant must produce at least one failure.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/mutants.h"
#include "src/proto.h"
#include "src/record_reader.h"
#include "src/segment_names.h"
#include "tests/test_util.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace wal {
namespace {

constexpr char kDir[] = "/data/wal";
constexpr char kMeta[] = "crash-test-metadata";

// What the workload wrote, in order, and how much of it was acknowledged as
// durable.
struct Model {
  struct Rec {
    bool is_entry = false;
    Entry entry;
    HardState state;
    bool is_snapshot = false;  // then `snap`, and neither entry nor state
    Snapshot snap;
  };
  std::vector<Rec> recs;
  size_t acked = 0;
  bool create_acked = false;
  HardState last_saved;      // for the mustSync rule
  Snapshot acked_snapshot;   // the newest snapshot SaveSnapshot acknowledged
  std::string ticket_error;  // a ticket reported twice, out of order, or durable too early
};

struct Recovered {
  std::vector<Entry> entries;
  HardState state;
};

// Replays recs[0, p) as raft's log at `snap` (doc/recovery.md): an entry at
// index i drops every entry collected at >= i (all of them when i <=
// snap.index); the result is cut before the first entry whose term is below
// the snapshot's or the previous entry's.
Recovered Replay(const Model& m, size_t p, const Snapshot& snap = {}) {
  Recovered r;
  for (size_t i = 0; i < p; ++i) {
    const auto& rec = m.recs[i];
    if (rec.is_snapshot) continue;
    if (!rec.is_entry) {
      r.state = rec.state;
      continue;
    }
    if (rec.entry.index <= snap.index) {
      r.entries.clear();
      continue;
    }
    const uint64_t off = rec.entry.index - snap.index - 1;
    if (off > r.entries.size()) continue;  // workloads never leave gaps
    r.entries.resize(off);
    r.entries.push_back(rec.entry);
  }
  uint64_t floor = snap.term;
  for (size_t i = 0; i < r.entries.size(); ++i) {
    if (r.entries[i].term < floor) {
      r.entries.resize(i);
      break;
    }
    floor = r.entries[i].term;
  }
  return r;
}

Options TestOptions(FileSystem* fs) {
  Options o;
  o.file_system = fs;
  o.segment_size_bytes = 4096;
  o.background_segment_preparation = false;  // a deterministic order of operations
  return o;
}

// The calls a workload makes, recording into the model what was written and
// acknowledged.
class Driver {
 public:
  Driver(FileSystem* fs, Model* m) : fs_(fs), m_(m) {}

  bool Create() {
    auto w = WAL::Create(kDir, kMeta, TestOptions(fs_));
    if (!w) return false;
    w_ = std::move(w).value();
    m_->create_acked = true;
    return true;
  }
  bool Open() {
    auto w = WAL::Open(kDir, Snapshot{}, TestOptions(fs_));
    if (!w) return false;
    w_ = std::move(w).value();
    auto r = w_->ReadAll();
    return r.has_value();
  }
  // Save entries [first, first+n) of term `term` with data of `size` bytes.
  bool Save(uint64_t first, int n, uint64_t term, HardState hs, size_t size = 40) {
    if (!w_) return false;
    std::vector<Entry> ents = Record(first, n, term, hs, size);
    const bool must_sync = n > 0 || hs.term != m_->last_saved.term || hs.vote != m_->last_saved.vote;
    Status s = w_->Save(hs, ents);
    if (!s.ok()) return false;
    if (!hs.empty()) m_->last_saved = hs;
    if (must_sync) m_->acked = m_->recs.size();
    return true;
  }
  // As Save, through SaveAsync; acknowledged only by WaitDurable.
  bool SaveAsync(uint64_t first, int n, uint64_t term, HardState hs, size_t size = 40) {
    if (!w_) return false;
    auto t = w_->SaveAsync(hs, Record(first, n, term, hs, size));
    if (!t.has_value()) return false;
    if (!hs.empty()) m_->last_saved = hs;
    ticket_ = *t;
    ticket_recs_ = m_->recs.size();
    return true;
  }
  bool WaitDurable() {
    if (!w_ || !w_->WaitDurable(ticket_).ok()) return false;
    m_->acked = std::max(m_->acked, ticket_recs_);
    return true;
  }
  bool Sync() { return Ack(w_ && w_->Sync().ok()); }
  bool SaveSnapshot(Snapshot s) {
    if (!w_) return false;
    m_->recs.push_back({false, {}, {}, true, s});
    if (!Ack(w_->SaveSnapshot(s).ok())) return false;
    m_->acked_snapshot = s;
    return true;
  }
  // etcd's server: keep `keep` segments, never one the WAL still locks.
  bool Purge(size_t keep) { return w_ && wal::Purge(kDir, keep, TestOptions(fs_)).has_value(); }
  // From now on SaveAsync's acknowledgements come from the ticket callback
  // (each ticket once, in order; checked), as a raft engine would take them.
  void UseTicketCallback() {
    if (!w_) return;
    w_->SetTicketCallback([this](uint64_t t, const Status& s) {
      std::lock_guard<std::mutex> l(tickets_mu_);
      if (t != last_reported_ + 1 && m_->ticket_error.empty()) {
        m_->ticket_error =
            "ticket " + std::to_string(t) + " reported after " + std::to_string(last_reported_);
      }
      last_reported_ = t;
      if (s.ok()) {
        auto it = ticket_recs_by_id_.find(t);
        if (it != ticket_recs_by_id_.end()) ticket_acked_ = std::max(ticket_acked_, it->second);
      }
    });
  }
  // SaveAsync acknowledged by the ticket callback alone.
  bool SaveAsyncTicket(uint64_t first, int n, uint64_t term, HardState hs, size_t size = 40) {
    if (!w_) return false;
    std::vector<Entry> ents = Record(first, n, term, hs, size);
    if (!hs.empty()) m_->last_saved = hs;
    std::lock_guard<std::mutex> l(tickets_mu_);
    auto t = w_->SaveAsync(hs, ents);
    if (!t.has_value()) return false;
    ticket_recs_by_id_[*t] = m_->recs.size();
    return true;
  }
  bool Cut() { return Ack(w_ && w_->Cut().ok()); }
  bool ReleaseLockTo(uint64_t i) { return w_ && w_->ReleaseLockTo(i).ok(); }
  bool Close() {
    if (!w_) return false;
    bool ok = w_->Close().ok();
    w_.reset();
    return Ack(ok);
  }
  // Drops the WAL object without a clean close (its calls fail by then);
  // its Close delivers the outstanding ticket reports first.
  void Abandon() {
    w_.reset();
    std::lock_guard<std::mutex> l(tickets_mu_);
    m_->acked = std::max(m_->acked, ticket_acked_);
  }

 private:
  // The entries of a save, recorded in the model with `hs` as written.
  std::vector<Entry> Record(uint64_t first, int n, uint64_t term, HardState hs, size_t size) {
    std::vector<Entry> ents;
    for (int i = 0; i < n; ++i) {
      ents.push_back(Entry{term, first + i, EntryType::kNormal,
                           std::string(size, static_cast<char>('a' + (first + i) % 26))});
    }
    for (const auto& e : ents) m_->recs.push_back({true, e, {}});
    if (!hs.empty()) m_->recs.push_back({false, {}, hs});
    return ents;
  }
  bool Ack(bool ok) {
    if (ok) m_->acked = m_->recs.size();
    return ok;
  }
  FileSystem* fs_;
  Model* m_;
  std::unique_ptr<WAL> w_;
  uint64_t ticket_ = 0;
  size_t ticket_recs_ = 0;
  std::mutex tickets_mu_;  // the ticket callback runs on the syncer thread
  std::map<uint64_t, size_t> ticket_recs_by_id_;
  uint64_t last_reported_ = 0;
  size_t ticket_acked_ = 0;
};

struct Workload {
  std::string name;
  // Builds durable state before the crash window (not enumerated).
  std::function<void(MemFileSystem*, Model*)> setup;
  std::function<void(Driver&)> run;
};

HardState Hs(uint64_t term, uint64_t commit) { return HardState{term, 1, commit}; }

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
  auto segs = internal::ListSegments(fs, kDir);
  WAL_CHECK(segs.has_value());
  const std::string path = internal::JoinPath(kDir, segs->back().name);
  auto bytes = fs->ReadFileToString(path);
  WAL_CHECK(bytes.has_value());
  std::string b = *bytes;
  uint64_t end = 0, first_entry = 0;
  {
    auto f = fs->Open(path, OpenOptions{});
    WAL_CHECK(f.has_value());
    internal::RecordDecoder d({{segs->back().name, f->get()}}, 1 << 16);
    internal::RecordView rec;
    while (true) {
      auto r = d.Next(&rec);
      WAL_CHECK(r.has_value());
      if (!*r) break;
      if (rec.type == internal::kEntryType && first_entry == 0) first_entry = d.record_offset();
    }
    end = d.last_valid_offset();
  }
  const std::string stale = b.substr(first_entry, 2 * 72);  // two entry frames of 72 bytes
  // A second stale run, after more zeros, so that the first one is not the
  // last non-zero data of the file (which a reader may take for a torn tail).
  WAL_CHECK(end + 240 + 1024 + stale.size() <= b.size());
  std::fill(b.begin() + static_cast<std::ptrdiff_t>(end), b.begin() + static_cast<std::ptrdiff_t>(end + 240),
            '\0');
  b.replace(end + 240, stale.size(), stale);
  b.replace(end + 240 + 1024, stale.size(), stale);
  WAL_CHECK(fs->WriteFileFromString(path, b).ok());
}

std::vector<Workload> Workloads() {
  std::vector<Workload> w;
  w.push_back({"create", nullptr, [](Driver& d) { d.Create(); }});
  w.push_back({"save_batches", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.Save(1, 3, 1, Hs(1, 0));
                 d.Save(0, 0, 1, Hs(1, 3));  // commit-only: not synced
                 d.Save(4, 3, 1, Hs(1, 3));
                 d.Sync();
                 d.Save(7, 2, 2, Hs(2, 6));
                 d.Close();
               }});
  w.push_back({"save_with_cuts", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 uint64_t next = 1;
                 for (int i = 0; i < 8; ++i, next += 5) d.Save(next, 5, 1, Hs(1, next + 4), 300);
                 d.Close();
               }});
  // SaveAsync does not wait for the cuts it starts: later appends land in
  // the new segment while its syncs and rename are still to come (and a
  // segment may fill up before the previous cut is durable). The syncer
  // thread makes the order of operations vary from run to run; every run is
  // checked against what it acknowledged.
  w.push_back({"async_saves_across_cuts", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 uint64_t next = 1;
                 for (int i = 0; i < 4; ++i, next += 4) d.SaveAsync(next, 4, 1, Hs(1, next + 3), 300);
                 d.WaitDurable();
                 for (int i = 0; i < 4; ++i, next += 4) d.SaveAsync(next, 4, 1, Hs(1, next + 3), 300);
                 d.Save(next, 1, 1, Hs(1, next));
                 d.Close();
               }});
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
  // A raft overwrite from below the snapshot, across a cut (etcd-io/etcd#22442),
  // then appends after the snapshot.
  w.push_back({"overwrite_below_snapshot", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.Save(1, 12, 1, Hs(1, 6), 100);
                 d.Cut();
                 // A leader of term 3 rewrote 8..12 (never committed); the
                 // leader of term 4 sends its 5..7 of term 2: the stale 8..12
                 // have a term above the snapshot's, so only the overwrite
                 // rule drops them.
                 d.Save(8, 5, 3, Hs(3, 6));
                 d.Save(5, 3, 2, Hs(4, 7));
                 d.SaveSnapshot(Snapshot{7, 2});
                 d.Save(8, 4, 4, Hs(4, 10));
                 d.Save(10, 2, 5, Hs(5, 10));  // and an overwrite above the snapshot
                 d.Close();
               }});
  // A follower installs a leader's snapshot over its divergent log, then
  // appends after it.
  w.push_back({"installed_snapshot", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.Save(1, 10, 1, Hs(1, 4), 100);
                 d.Save(0, 0, 1, Hs(5, 8));  // the leader's term; commit covers the snapshot
                 d.SaveSnapshot(Snapshot{8, 5});
                 d.Save(9, 3, 5, Hs(5, 10));
                 d.Close();
               }});
  // etcd's server loop: snapshot, release, purge; segments go while appends
  // continue; a crash anywhere in it leaves a log that opens at a snapshot.
  w.push_back({"snapshot_release_purge", nullptr, [](Driver& d) {
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
  // SaveAsync acknowledged by the ticket callback only, across cuts, with a
  // raft overwrite and a synced Save in between.
  w.push_back({"ticket_callbacks", nullptr, [](Driver& d) {
                 if (!d.Create()) return;
                 d.UseTicketCallback();
                 uint64_t next = 1;
                 for (int i = 0; i < 4; ++i, next += 3) d.SaveAsyncTicket(next, 3, 1, Hs(1, next + 2), 300);
                 d.SaveAsyncTicket(next - 2, 2, 2, Hs(2, next - 1), 300);  // overwrite the last two
                 d.Save(next, 1, 2, Hs(2, next));
                 d.SaveAsyncTicket(next + 1, 3, 2, Hs(2, next + 3), 300);
                 d.Close();
               }});
  // Reopen a log whose tail has a zero length word followed by stale frames
  // (a torn write persisted a later page but not an earlier one), append,
  // close: exercises zero-to-end and appends after a reopen.
  w.push_back({"reopen_append", AddStaleFramesAfterAHole, [](Driver& d) {
                 if (!d.Open()) return;
                 d.Save(5, 3, 1, Hs(1, 7));
                 d.Close();
               }});
  return w;
}

std::vector<CrashPolicy> Policies(uint64_t seed) {
  std::vector<CrashPolicy> p;
  p.push_back({CrashMode::kDropUnsynced, seed, false});
  p.push_back({CrashMode::kKeepAll, seed, false});
  for (uint64_t i = 0; i < 3; ++i) {
    p.push_back({CrashMode::kKeepRandomPrefix, seed + i, false});
    p.push_back({CrashMode::kTearLastSector, seed + i, true});
    p.push_back({CrashMode::kTearLastSector, seed + i, false});
    p.push_back({CrashMode::kReorderHole, seed + i, false});
  }
  return p;
}

std::string PolicyName(const CrashPolicy& p) {
  const char* names[] = {"drop_unsynced", "keep_random_prefix", "tear_last_sector", "keep_all",
                         "reorder_hole"};
  std::string s = names[static_cast<int>(p.mode)];
  if (p.mode == CrashMode::kTearLastSector) s += p.tear_with_zeros ? "(zeros)" : "(garbage)";
  return s + "/seed=" + std::to_string(p.seed);
}

// Every segment, read alone, starts with a crc record then a metadata record
// holding kMeta: a reader starting at any segment finds what it needs.
std::string CheckSegmentHeads(MemFileSystem* fs) {
  auto segs = internal::ListSegments(fs, kDir);
  if (!segs) return "";
  for (const auto& seg : *segs) {
    auto f = fs->Open(internal::JoinPath(kDir, seg.name), OpenOptions{});
    if (!f) return "cannot open " + seg.name;
    internal::RecordDecoder d({{seg.name, f->get()}}, 1 << 16);
    internal::RecordView rec;
    auto r = d.Next(&rec);
    if (!r.has_value() || !*r || rec.type != internal::kCrcType)
      return seg.name + " does not start with a crc record";
    r = d.Next(&rec);
    if (!r.has_value() || !*r || rec.type != internal::kMetadataType || rec.data != kMeta)
      return seg.name + " has no metadata record after its crc record";
  }
  return "";
}

// Recovers after a crash and checks the log; returns "" or what is wrong.
std::string RecoverAndCheck(MemFileSystem* fs, const Model& m) {
  if (!m.ticket_error.empty()) return m.ticket_error;
  Options o = TestOptions(fs);
  if (!Exist(kDir, o)) {
    if (m.create_acked) return "Create was acknowledged but no WAL exists";
    // The workload never got a WAL: Create must work now.
    auto w = WAL::Create(kDir, kMeta, o);
    if (!w) return "Create after a crash during Create failed: " + w.error().ToString();
    return (*w)->Close().ok() ? "" : "close failed";
  }
  // As etcd's server: open at the newest snapshot the WAL records as valid
  // (its snapshot files are written before SaveSnapshot is called).
  Snapshot snap;
  {
    auto valid = ValidSnapshotEntries(kDir, o);
    if (valid.has_value() && !valid->empty()) snap = valid->back();
  }
  if (snap.index < m.acked_snapshot.index) {
    return "acknowledged snapshot {" + std::to_string(m.acked_snapshot.index) + "} lost; newest valid is {" +
           std::to_string(snap.index) + "}";
  }
  auto open_read = [&](std::unique_ptr<WAL>* w, ReadAllResult* out) -> Status {
    auto r = WAL::Open(kDir, snap, o);
    if (!r) return r.error();
    *w = std::move(r).value();
    auto all = (*w)->ReadAll();
    if (!all) return all.error();
    *out = std::move(all).value();
    return Status::Ok();
  };
  std::unique_ptr<WAL> w;
  ReadAllResult got;
  Status s = open_read(&w, &got);
  if (s.code() == StatusCode::kUnexpectedEof) {
    w.reset();
    auto rep = Repair(kDir, o);
    if (!rep || !*rep) return "ReadAll said torn tail but Repair failed: " + s.ToString();
    s = open_read(&w, &got);
  }
  if (!s.ok()) return "recovery failed: " + s.ToString();
  if (got.metadata != kMeta) return "metadata lost";
  if (std::string bad = CheckSegmentHeads(fs); !bad.empty()) return bad;
  // The recovered log is the replay of some prefix of what was written, no
  // shorter than what was acknowledged.
  bool found = false;
  for (size_t p = m.acked; p <= m.recs.size() && !found; ++p) {
    Recovered r = Replay(m, p, snap);
    found = r.entries == got.entries && r.state == got.state;
  }
  if (!found) {
    Recovered want = Replay(m, m.acked, snap);
    return "recovered " + std::to_string(got.entries.size()) + " entries (commit " +
           std::to_string(got.state.commit) + "), acknowledged " + std::to_string(want.entries.size()) +
           " entries (commit " + std::to_string(want.state.commit) + "): not a replay of a prefix";
  }
  // Appendable again, and the append survives a reopen.
  const uint64_t next = got.entries.empty() ? snap.index + 1 : got.entries.back().index + 1;
  Entry e{9, next, EntryType::kNormal, "after-crash"};
  s = w->Save(HardState{9, 1, next}, std::vector<Entry>{e});
  if (!s.ok()) return "append after recovery failed: " + s.ToString();
  if (!w->Close().ok()) return "close after recovery failed";
  w.reset();
  ReadAllResult again;
  s = open_read(&w, &again);
  if (!s.ok()) return "reopen after the append failed: " + s.ToString();
  got.entries.push_back(e);
  if (again.entries != got.entries) return "the append after recovery did not read back";
  return "";
}

struct Totals {
  uint64_t states = 0;
  uint64_t failures = 0;
  std::string first_failure;
};

// Runs every crash point of `wl` under every policy.
void Enumerate(const Workload& wl, uint64_t seed, Totals* t) {
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
    for (const CrashPolicy& policy : Policies(seed + k)) {
      MemFileSystem fs;
      Model m;
      if (wl.setup) wl.setup(&fs, &m);
      std::atomic<uint64_t> seen{0};  // the SaveAsync syncer calls the hook too
      fs.SetOpHook([&](const OpInfo&) {
        return seen++ >= k ? Status(StatusCode::kIoError, "simulated crash") : Status::Ok();
      });
      {
        Driver d(&fs, &m);
        wl.run(d);
        d.Abandon();  // its closing calls fail: the process is gone
      }
      fs.SetOpHook(nullptr);
      fs.SimulateCrash(policy);
      std::string bad = RecoverAndCheck(&fs, m);
      ++t->states;
      if (!bad.empty()) {
        ++t->failures;
        if (t->first_failure.empty()) {
          t->first_failure = wl.name + ", crash before op " + std::to_string(k) + " of " + std::to_string(n) +
                             ", " + PolicyName(policy) + ": " + bad;
        }
      }
    }
  }
}

TEST(CrashEnumeration, NothingAcknowledgedIsEverLost) {
  const uint64_t seed = testutil::Seed();
  Totals t;
  for (const auto& wl : Workloads()) {
    Totals one;
    Enumerate(wl, seed, &one);
    std::printf("[crash] workload %-22s crash states %6llu  losses %llu\n", wl.name.c_str(),
                static_cast<unsigned long long>(one.states), static_cast<unsigned long long>(one.failures));
    t.states += one.states;
    t.failures += one.failures;
    if (t.first_failure.empty()) t.first_failure = one.first_failure;
  }
  std::printf("[crash] total crash states checked: %llu, losses: %llu (seed %llu)\n",
              static_cast<unsigned long long>(t.states), static_cast<unsigned long long>(t.failures),
              static_cast<unsigned long long>(seed));
  EXPECT_EQ(t.failures, 0u) << t.first_failure << " (WAL_TEST_SEED=" << seed << ")";
  EXPECT_GT(t.states, 1000u);
}

#ifdef WAL_ENABLE_MUTANTS
// Each durability step, removed alone, must make the enumeration fail.
TEST(CrashEnumeration, EveryDurabilityStepIsNeeded) {
  const uint64_t seed = testutil::Seed();
  const char* names[] = {"",
                         "skip Save/Sync fdatasync",
                         "skip cut: fdatasync of the old tail",
                         "skip cut: fdatasync of the new head",
                         "skip cut: directory fsync after rename",
                         "skip Create: fdatasync of the first segment",
                         "skip Create: fsync of <dir>.tmp",
                         "skip Create: fsync of the parent directory",
                         "skip zero-to-end on write-mode open",
                         "skip the overwrite rule below the snapshot",
                         "skip the term-order rule",
                         "skip Purge: directory fsync"};
  static_assert(std::size(names) == static_cast<size_t>(internal::Mutant::kCount));
  int caught = 0;
  const int total = static_cast<int>(internal::Mutant::kCount) - 1;
  int total_here = total;
  for (int mu = 1; mu <= total; ++mu) {
    // Killed deterministically by tests/log_store_test.cc instead (a purge
    // whose removals must survive a power loss): a removed segment that comes
    // back loses nothing, so no check here can see it.
    if (mu == static_cast<int>(internal::Mutant::kSkipPurgeDirSync)) {
      std::printf("[mutant] %-45s killed by tests/log_store_test.cc\n", names[mu]);
      --total_here;
      continue;
    }
    internal::g_mutant.store(mu);
    Totals t;
    for (const auto& wl : Workloads()) {
      Enumerate(wl, seed, &t);
      if (t.failures > 0) break;
    }
    internal::g_mutant.store(0);
    std::printf("[mutant] %-45s %s after %llu crash states%s%s\n", names[mu],
                t.failures ? "CAUGHT" : "MISSED", static_cast<unsigned long long>(t.states),
                t.failures ? ": " : "", t.first_failure.c_str());
    EXPECT_GT(t.failures, 0u) << "mutant not caught: " << names[mu];
    if (t.failures) ++caught;
  }
  std::printf("[mutant] mutants caught here: %d of %d\n", caught, total_here);
}
#endif

}  // namespace
}  // namespace wal
