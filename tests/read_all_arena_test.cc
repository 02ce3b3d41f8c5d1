// WAL::ReadAllArena and WAL::ReadAllMapped return exactly what ReadAll
// returns (entries, state, metadata, error code and message), leave the WAL
// in the same state, and change the files the same way (write mode zeroes
// the tail). Each case copies one log three times and reads one copy with
// each API. The randomized case
// prints its seed; replay with WAL_TEST_SEED=<seed>.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/wal_test_helpers.h"
#include "wal/wal.h"

namespace wal {
namespace {

using testutil::Ents;
using testutil::SmallOptions;
using testutil::TempDir;

enum class Mode { kOpen, kOpenForRead, kOpenAtIndex };

struct How {
  Mode mode = Mode::kOpen;
  Snapshot snap;
  uint64_t index = 0;  // kOpenAtIndex
};

std::string Describe(const How& h) {
  switch (h.mode) {
    case Mode::kOpen:
      return "Open{" + std::to_string(h.snap.index) + "," + std::to_string(h.snap.term) + "}";
    case Mode::kOpenForRead:
      return "OpenForRead{" + std::to_string(h.snap.index) + "," + std::to_string(h.snap.term) + "}";
    case Mode::kOpenAtIndex:
      return "OpenAtIndex(" + std::to_string(h.index) + ")";
  }
  return "";
}

Result<std::unique_ptr<WAL>> OpenAs(const std::string& dir, const How& h, const Options& o) {
  switch (h.mode) {
    case Mode::kOpen:
      return WAL::Open(dir, h.snap, o);
    case Mode::kOpenForRead:
      return WAL::OpenForRead(dir, h.snap, o);
    case Mode::kOpenAtIndex:
      return WAL::OpenAtIndex(dir, h.index, o);
  }
  return Status(StatusCode::kInvalidArgument, "mode");
}

// The error text with the directory taken out (the copies differ in it).
std::string Text(const Status& s, const std::string& dir) {
  std::string t = s.ToString();
  for (size_t p; (p = t.find(dir)) != std::string::npos;) t.replace(p, dir.size(), "<dir>");
  return t;
}

std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& n : testutil::DirNames(dir)) out[n] = testutil::ReadFile(dir + "/" + n);
  return out;
}

// The arena reads, by name: ReadAllArena copies entry data into blocks,
// ReadAllMapped leaves it in the mapped segments.
enum class ArenaRead { kCopy, kMapped };
const char* Name(ArenaRead r) { return r == ArenaRead::kCopy ? "ReadAllArena" : "ReadAllMapped"; }
Result<ReadAllArenaResult> Read(WAL& w, ArenaRead r) {
  return r == ArenaRead::kCopy ? w.ReadAllArena() : w.ReadAllMapped();
}

// Reads copies of `src` with ReadAll, ReadAllArena and ReadAllMapped as
// `how` says and checks that everything observable agrees. Returns the
// ReadAll result code for the caller's own expectations.
StatusCode CheckSame(const std::string& src, const How& how, const Options& o) {
  SCOPED_TRACE(Describe(how));
  TempDir tmp;
  const std::string a = tmp.path() + "/a";
  std::filesystem::copy(src, a, std::filesystem::copy_options::recursive);
  auto wa = OpenAs(a, how, o);
  auto ra = wa.has_value() ? (*wa)->ReadAll() : Result<ReadAllResult>(wa.error());
  uint64_t next = 0;
  if (wa.has_value()) {
    next = (*wa)->last_index() + 1;
    // The same state afterwards: a second read is refused alike, and an
    // append succeeds (or fails) alike.
    WAL_EXPECT_CODE((*wa)->ReadAllArena(), StatusCode::kDecoderNotFound);
  }
  const Status sa = wa.has_value() ? (*wa)->Save(HardState{9, 1, next}, Ents(next, next, 9)) : Status::Ok();
  if (wa.has_value()) {
    WAL_EXPECT_OK((*wa)->Close());
  }

  for (ArenaRead kind : {ArenaRead::kCopy, ArenaRead::kMapped}) {
    SCOPED_TRACE(Name(kind));
    const std::string b = tmp.path() + "/" + Name(kind);
    std::filesystem::copy(src, b, std::filesystem::copy_options::recursive);
    auto wb = OpenAs(b, how, o);
    EXPECT_EQ(wa.has_value(), wb.has_value());
    if (!wa.has_value() || !wb.has_value()) continue;
    auto rb = Read(**wb, kind);
    EXPECT_EQ(ra.has_value(), rb.has_value()) << testutil::ErrorText(ra) << " / " << testutil::ErrorText(rb);
    if (ra.has_value() && rb.has_value()) {
      EXPECT_EQ(ra->metadata, rb->metadata);
      EXPECT_EQ(ra->state, rb->state);
      EXPECT_EQ(rb->ToEntries(), ra->entries);
      EXPECT_EQ(rb->size(), ra->entries.size());
      uint64_t data = 0;
      for (size_t i = 0; i < ra->entries.size() && i < rb->size(); ++i) {
        EXPECT_TRUE(rb->entries()[i] == ra->entries[i]) << "entry " << i;
        data += ra->entries[i].data.size();
      }
      EXPECT_EQ(rb->data_bytes(), data);
      if (kind == ArenaRead::kCopy) {
        EXPECT_GE(rb->memory_bytes(), data + rb->size() * sizeof(EntryView));
        EXPECT_EQ(rb->mapped_bytes(), 0u);
      } else {
        // Views only: no entry's data was copied (POSIX files map).
        EXPECT_EQ(rb->memory_bytes(), rb->size() * sizeof(EntryView));
        EXPECT_GE(rb->mapped_bytes(), data);
      }
    } else if (!ra.has_value() && !rb.has_value()) {
      EXPECT_EQ(ra.error().code(), rb.error().code());
      EXPECT_EQ(Text(ra.error(), a), Text(rb.error(), b));
    }
    EXPECT_EQ(next, (*wb)->last_index() + 1);
    WAL_EXPECT_CODE((*wb)->ReadAll(), StatusCode::kDecoderNotFound);
    Status sb = (*wb)->Save(HardState{9, 1, next}, Ents(next, next, 9));
    EXPECT_EQ(sa.code(), sb.code()) << sa.ToString() << " / " << sb.ToString();
    WAL_EXPECT_OK((*wb)->Close());
    // The result outlives the WAL and its files' descriptors.
    if (ra.has_value() && rb.has_value()) {
      EXPECT_EQ(rb->ToEntries(), ra->entries);
    }
    EXPECT_TRUE(Files(a) == Files(b)) << "the reads left different files";
  }
  return testutil::CodeOf(ra);
}

// A log in `dir` with cuts, overwrites, snapshots, hard states.
void WriteMixedLog(const std::string& dir, const Options& o) {
  auto w = WAL::Create(dir, "meta", o);
  ASSERT_TRUE(testutil::IsOk(w));
  WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 5}, Ents(1, 20, 1)));
  WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{10, 1}));
  WAL_ASSERT_OK((*w)->Cut());
  WAL_ASSERT_OK((*w)->Save(HardState{2, 1, 12}, Ents(15, 30, 2)));  // overwrites 15..20
  WAL_ASSERT_OK(
      (*w)->Save(HardState{}, std::vector<Entry>{testutil::Ent(31, 2, ""), testutil::Ent(32, 2, "")}));
  WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{testutil::Ent(33, 2, std::string(70000, 'x'))}));
  WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{25, 2}));
  WAL_ASSERT_OK((*w)->Cut());
  WAL_ASSERT_OK((*w)->Save(HardState{3, 2, 30}, Ents(28, 40, 3)));  // across the cut
  WAL_ASSERT_OK((*w)->Close());
}

TEST(ReadAllArenaTest, SameAsReadAllInEveryMode) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions();
  WriteMixedLog(dir, o);
  EXPECT_EQ(CheckSame(dir, {Mode::kOpen, {}, 0}, o), StatusCode::kOk);
  EXPECT_EQ(CheckSame(dir, {Mode::kOpen, {10, 1}, 0}, o), StatusCode::kOk);
  EXPECT_EQ(CheckSame(dir, {Mode::kOpen, {25, 2}, 0}, o), StatusCode::kOk);
  EXPECT_EQ(CheckSame(dir, {Mode::kOpen, {25, 9}, 0}, o), StatusCode::kSnapshotMismatch);
  EXPECT_EQ(CheckSame(dir, {Mode::kOpenForRead, {}, 0}, o), StatusCode::kOk);
  EXPECT_EQ(CheckSame(dir, {Mode::kOpenForRead, {10, 1}, 0}, o), StatusCode::kOk);
  EXPECT_EQ(CheckSame(dir, {Mode::kOpenForRead, {11, 1}, 0}, o), StatusCode::kSnapshotNotFound);
  for (uint64_t at : {0, 1, 15, 33, 40, 41})
    EXPECT_EQ(CheckSame(dir, {Mode::kOpenAtIndex, {}, at}, o),
              at <= 40 ? StatusCode::kOk : StatusCode::kIndexNotFound)
        << at;
}

TEST(ReadAllArenaTest, TornTail) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions();
  WriteMixedLog(dir, o);
  const auto names = testutil::WalNames(dir);
  const std::string last = dir + "/" + names.back();
  testutil::TruncateFile(last, testutil::DataEnd(last) - 3);
  EXPECT_EQ(CheckSame(dir, {Mode::kOpenForRead, {}, 0}, o), StatusCode::kOk);
  EXPECT_EQ(CheckSame(dir, {Mode::kOpen, {}, 0}, o), StatusCode::kUnexpectedEof);
}

TEST(ReadAllArenaTest, GapAndCorruption) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions();
  {
    auto w = WAL::Create(dir, "m", o);
    ASSERT_TRUE(testutil::IsOk(w));
    WAL_ASSERT_OK((*w)->SaveEntry(testutil::Ent(1, 1, "a")));
    WAL_ASSERT_OK((*w)->SaveEntry(testutil::Ent(3, 1, "c")));  // a gap
    WAL_ASSERT_OK((*w)->Close());
  }
  EXPECT_EQ(CheckSame(dir, {Mode::kOpen, {}, 0}, o), StatusCode::kSliceOutOfRange);
  // A flipped data byte in the middle of the log.
  TempDir tmp2;
  const std::string dir2 = tmp2.path() + "/wal";
  WriteMixedLog(dir2, o);
  const std::string first = dir2 + "/" + testutil::WalNames(dir2).front();
  std::string bytes = testutil::ReadFile(first);
  const size_t at = bytes.find("data7");
  ASSERT_NE(at, std::string::npos);
  testutil::WriteAt(first, at, "dXta7");
  EXPECT_EQ(CheckSame(dir2, {Mode::kOpen, {}, 0}, o), StatusCode::kCrcMismatch);
  EXPECT_EQ(CheckSame(dir2, {Mode::kOpenForRead, {}, 0}, o), StatusCode::kCrcMismatch);
}

TEST(ReadAllArenaTest, ViewsSurviveMoves) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  WriteMixedLog(dir, SmallOptions());
  auto w = WAL::OpenForRead(dir, Snapshot{});
  ASSERT_TRUE(testutil::IsOk(w));
  auto r = (*w)->ReadAllArena();
  ASSERT_TRUE(testutil::IsOk(r));
  const std::vector<Entry> want = r->ToEntries();
  ReadAllArenaResult moved = std::move(*r);
  EXPECT_TRUE(r->empty());
  ReadAllArenaResult assigned;
  assigned = std::move(moved);
  ASSERT_EQ(assigned.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(assigned.ToEntry(i), want[i]);
  EXPECT_EQ(assigned.metadata, "meta");
}

// A mapped result stays readable, with the same bytes, while every library
// call that truncates, replaces or removes segment files runs on the log it
// maps: write-mode ReadAll (zero-to-end of the mapped tail), cuts (each
// truncates the old tail), raft overwrites, SaveSnapshot + ReleaseLockTo +
// Purge (unlinks the mapped segments), and Repair of a torn tail. A SIGBUS
// would kill the test; changed bytes fail the comparison.
TEST(ReadAllMappedTest, ViewsSurviveEveryCallThatShrinksOrRemovesFiles) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions();
  WriteMixedLog(dir, o);
  auto reader = WAL::OpenForRead(dir, Snapshot{});
  ASSERT_TRUE(testutil::IsOk(reader));
  auto mapped = (*reader)->ReadAllMapped();
  ASSERT_TRUE(testutil::IsOk(mapped));
  ASSERT_GT(mapped->mapped_bytes(), 0u);
  const std::vector<Entry> want = mapped->ToEntries();
  ASSERT_FALSE(want.empty());
  const size_t segments_before = testutil::WalNames(dir).size();
  Snapshot snap;
  {
    auto w = WAL::Open(dir, Snapshot{}, o);  // zero-to-end of the tail the result maps
    ASSERT_TRUE(testutil::IsOk(w));
    ASSERT_TRUE(testutil::IsOk((*w)->ReadAll()));
    EXPECT_EQ(mapped->ToEntries(), want);
    uint64_t last = (*w)->last_index();
    for (int round = 0; round < 6; ++round) {  // cuts by size and by hand, overwrites
      WAL_ASSERT_OK((*w)->Save(HardState{10 + static_cast<uint64_t>(round), 1, last},
                               Ents(last - 3, last + 400, 10 + round)));
      last += 400;
      WAL_ASSERT_OK((*w)->Cut());
      EXPECT_EQ(mapped->ToEntries(), want) << "round " << round;
    }
    WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{last, 15}));
    WAL_ASSERT_OK((*w)->ReleaseLockTo(last));
    auto removed = Purge(dir, 1, o);
    ASSERT_TRUE(testutil::IsOk(removed));
    EXPECT_GE(removed->size(), segments_before) << "the segments the result maps are gone";
    EXPECT_EQ(mapped->ToEntries(), want);
    WAL_ASSERT_OK((*w)->Save(HardState{15, 1, last}, Ents(last + 1, last + 50, 15)));
    WAL_ASSERT_OK((*w)->Close());
    snap = Snapshot{last, 15};
  }
  // A torn tail read in read mode, then cut by Repair inside the mapping.
  const std::string tail = dir + "/" + testutil::WalNames(dir).back();
  testutil::TruncateFile(tail, testutil::DataEnd(tail) - 3);
  auto torn_reader = WAL::OpenForRead(dir, snap);
  ASSERT_TRUE(testutil::IsOk(torn_reader));
  auto torn_views = (*torn_reader)->ReadAllMapped();
  ASSERT_TRUE(testutil::IsOk(torn_views));
  const std::vector<Entry> torn_want = torn_views->ToEntries();
  ASSERT_EQ(torn_want.size(), 50u);  // the hard state after them was torn
  auto repaired = Repair(dir, o);
  ASSERT_TRUE(testutil::IsOk(repaired));
  EXPECT_TRUE(*repaired);
  EXPECT_EQ(torn_views->ToEntries(), torn_want);
  EXPECT_EQ(mapped->ToEntries(), want);
}

// An oracle that shares no code with the library's reader: the records as
// the test wrote them, replayed with ReadAll's rules written out plainly
// (wal.h): opened at `snap`, an entry at index i drops every entry
// collected at >= i (all of them when i <= snap.index, else it lands at
// i - snap.index - 1); the result is cut at the first entry whose term is
// below the snapshot's or its predecessor's; the state is the last one.
struct WrittenLog {
  struct Rec {
    bool is_entry = false, is_state = false;
    Entry entry;
    HardState state;
    Snapshot snap;
  };
  std::vector<Rec> recs;
  void Saved(const HardState& st, const std::vector<Entry>& ents) {
    for (const auto& e : ents) recs.push_back({true, false, e, {}, {}});
    if (!st.empty()) recs.push_back({false, true, {}, st, {}});
  }
  void Snapshotted(const Snapshot& s) { recs.push_back({false, false, {}, {}, s}); }
  // False when reading at `snap` is an error (another term recorded at its index).
  bool Readable(const Snapshot& snap) const {
    for (const auto& r : recs) {
      if (!r.is_entry && !r.is_state && r.snap.index == snap.index && r.snap.term != snap.term) return false;
    }
    return true;
  }
  // `gap`: set when, read at `snap`, an entry leaves a gap after the ones
  // before it. That happens legitimately at a snapshot older than one the
  // log was reopened at, when an overwrite had gone below that later
  // snapshot: after the reopen the log ends at the later snapshot (raft's
  // lastIndex), and the appends continue after it.
  std::vector<Entry> Entries(const Snapshot& snap, bool* gap) const {
    std::vector<Entry> out;
    *gap = false;
    for (const auto& r : recs) {
      if (!r.is_entry) continue;
      if (r.entry.index <= snap.index) {
        out.clear();
        continue;
      }
      const uint64_t at = r.entry.index - snap.index - 1;
      if (at > out.size()) *gap = true;
      out.resize(std::min<uint64_t>(at, out.size()));
      out.push_back(r.entry);
    }
    uint64_t floor = snap.term;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].term < floor) {
        out.resize(i);
        break;
      }
      floor = out[i].term;
    }
    return out;
  }
  HardState State() const {
    HardState st;
    for (const auto& r : recs) {
      if (r.is_state) st = r.state;
    }
    return st;
  }
};

// ReadAll and ReadAllArena (read mode) against the oracle at `snap`; returns
// whether it compared anything. Which segment a read starts at is not the
// oracle's business: when an overwrite below a snapshot was cut into a
// segment whose name starts at or below that snapshot, the snapshot record
// sits in an earlier segment and the read reports kSnapshotNotFound (as
// etcd's does); such a snapshot is skipped.
bool CheckAgainstOracle(const std::string& dir, const WrittenLog& log, const Snapshot& snap,
                        const Options& o) {
  SCOPED_TRACE("oracle at snapshot {" + std::to_string(snap.index) + "," + std::to_string(snap.term) + "}");
  if (!log.Readable(snap)) return false;
  bool gap = false;
  const std::vector<Entry> want = log.Entries(snap, &gap);
  if (gap) {
    auto w = WAL::OpenForRead(dir, snap, o);
    if (w.has_value()) {
      auto r = (*w)->ReadAll();
      if (r.has_value() || r.error().code() != StatusCode::kSnapshotNotFound) {
        WAL_EXPECT_CODE(r, StatusCode::kSliceOutOfRange) << "a gap in what was written at this snapshot";
      }
    }
    return false;
  }
  auto wa = WAL::OpenForRead(dir, snap, o);
  auto wb = WAL::OpenForRead(dir, snap, o);
  EXPECT_TRUE(testutil::IsOk(wa) && testutil::IsOk(wb));
  if (!wa.has_value() || !wb.has_value()) return false;
  auto wc = WAL::OpenForRead(dir, snap, o);
  EXPECT_TRUE(testutil::IsOk(wc));
  if (!wc.has_value()) return false;
  auto ra = (*wa)->ReadAll();
  auto rb = (*wb)->ReadAllArena();
  auto rc = (*wc)->ReadAllMapped();
  if (!ra.has_value() && ra.error().code() == StatusCode::kSnapshotNotFound) return false;
  EXPECT_TRUE(testutil::IsOk(ra));
  EXPECT_TRUE(testutil::IsOk(rb));
  EXPECT_TRUE(testutil::IsOk(rc));
  if (!ra.has_value() || !rb.has_value() || !rc.has_value()) return false;
  EXPECT_EQ(ra->entries, want) << "ReadAll differs from the plain replay of what was written";
  EXPECT_EQ(rb->ToEntries(), want) << "ReadAllArena differs from the plain replay of what was written";
  EXPECT_EQ(rc->ToEntries(), want) << "ReadAllMapped differs from the plain replay of what was written";
  EXPECT_EQ(ra->state, log.State());
  EXPECT_EQ(rc->state, log.State());
  return true;
}

// Random logs: batches of random sizes (empty, small, bigger than a
// segment), raft overwrites (also below a snapshot), cuts, snapshots,
// reopen cycles, then every open mode at random points, sometimes with a
// torn tail. Both readers agree with each other (CheckSame) and, where the
// tail is intact, with the oracle above at every snapshot the test wrote.
TEST(ReadAllArenaTest, RandomizedEquivalence) {
  const uint64_t seed = testutil::Seed();
  std::mt19937_64 rng(seed);
  int oracle_checks = 0;
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE("WAL_TEST_SEED=" + std::to_string(seed) + " round " + std::to_string(round));
    TempDir tmp;
    const std::string dir = tmp.path() + "/wal";
    Options o = SmallOptions(16 * 1024 + rng() % (64 * 1024));
    o.unsafe_no_fsync = true;  // the files, not their durability, are under test
    std::vector<Snapshot> snaps{{0, 0}};
    WrittenLog written;
    uint64_t last = 0, term = 1;
    auto w = WAL::Create(dir, "meta" + std::to_string(round), o);
    ASSERT_TRUE(testutil::IsOk(w));
    std::unique_ptr<WAL> wal = std::move(*w);
    const int ops = 20 + static_cast<int>(rng() % 60);
    for (int op = 0; op < ops; ++op) {
      switch (rng() % 8) {
        case 0: {  // raft overwrite: restart some entries back with a new term
          if (last > 0) last -= std::min<uint64_t>(last, 1 + rng() % 12);
          if (rng() % 2 == 0) last = std::min(last, snaps.back().index);  // at or below the snapshot
          ++term;
          [[fallthrough]];
        }
        default: {
          std::vector<Entry> batch;
          const uint64_t n = 1 + rng() % 40;
          for (uint64_t i = 0; i < n; ++i) {
            const uint64_t kind = rng() % 20;
            const size_t size = kind == 0 ? 0 : kind == 1 ? 20000 + rng() % 50000 : rng() % 300;
            Entry e = testutil::Ent(++last, term, testutil::RandomBytes(rng, size));
            e.type = static_cast<EntryType>(rng() % 3);
            batch.push_back(std::move(e));
          }
          const HardState st{term, rng() % 3, last - rng() % (n + 1)};
          WAL_ASSERT_OK(wal->Save(st, batch));
          written.Saved(st, batch);
          break;
        }
        case 1:
          if (last > 0) {
            Snapshot s{last - rng() % std::min<uint64_t>(last, 5), term};
            // Raft's snapshots only move forward, and it never records two
            // terms at one snapshot index (a read at the first would fail on
            // the second: kSnapshotMismatch). A snapshot behind the one the
            // log was last reopened at could start a read that meets the
            // appends made after that reopen across a gap
            // (WAL_TEST_SEED=1796686032: snapshot 55, overwrite 47..53,
            // reopen at 55, snapshot 54, appends from 56).
            if (s.index < snaps.back().index ||
                std::any_of(snaps.begin(), snaps.end(),
                            [&](const Snapshot& x) { return x.index == s.index; }))
              break;
            WAL_ASSERT_OK(wal->SaveSnapshot(s));
            written.Snapshotted(s);
            snaps.push_back(s);
          }
          break;
        case 2:
          WAL_ASSERT_OK(wal->Cut());
          break;
        case 3: {  // close and reopen at the latest snapshot
          WAL_ASSERT_OK(wal->Close());
          auto r = WAL::Open(dir, snaps.back(), o);
          ASSERT_TRUE(testutil::IsOk(r));
          wal = std::move(*r);
          auto all = wal->ReadAll();
          ASSERT_TRUE(testutil::IsOk(all));
          last = wal->last_index();
          break;
        }
      }
    }
    WAL_ASSERT_OK(wal->Close());
    wal.reset();
    for (const Snapshot& s : snaps) oracle_checks += CheckAgainstOracle(dir, written, s, o) ? 1 : 0;
    if (HasFailure()) return;
    if (rng() % 3 == 0) {  // tear the tail
      const std::string tail = dir + "/" + testutil::WalNames(dir).back();
      const uint64_t end = testutil::DataEnd(tail);
      if (end > 200) testutil::TruncateFile(tail, end - 1 - rng() % 100);
    }
    for (int k = 0; k < 4; ++k) {
      How how;
      switch (rng() % 3) {
        case 0:
          how = {Mode::kOpen, snaps[rng() % snaps.size()], 0};
          break;
        case 1:
          how = {Mode::kOpenForRead, snaps[rng() % snaps.size()], 0};
          break;
        default:
          how = {Mode::kOpenAtIndex, {}, rng() % (last + 3)};
      }
      CheckSame(dir, how, o);
      if (HasFatalFailure() || HasFailure()) return;
    }
  }
  std::printf("[arena] %d reads compared with the oracle\n", oracle_checks);
  EXPECT_GE(oracle_checks, 12) << "the oracle compared (almost) nothing";
}

}  // namespace
}  // namespace wal
