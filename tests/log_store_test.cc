// The WAL as a Raft engine's log store (issue "log store"): raft overwrites
// at or below the snapshot, snapshots installed over a divergent log, Purge,
// durability tickets, appends without copies. Each reading-rule test reads
// the same log through every reader: Open, OpenForRead, OpenAtIndex and
// ReadAllArena.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/mutants.h"
#include "tests/wal_test_helpers.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

#ifndef WAL_ENABLE_MUTANTS
#error "the mutant tests need the mutant switches: link wal_testing, not wal"
#endif

namespace wal {
namespace {

using testutil::Ents;
using testutil::Indexes;
using testutil::Range;

constexpr char kStoreDir[] = "/wal";

Options StoreOptions(FileSystem* fs, uint64_t segment_bytes = 64 * 1024) {
  Options o;
  o.file_system = fs;
  o.segment_size_bytes = segment_bytes;
  o.background_segment_preparation = false;
  return o;
}

std::unique_ptr<WAL> MustCreate(const Options& o, const std::string& dir = kStoreDir) {
  auto w = WAL::Create(dir, "meta", o);
  EXPECT_TRUE(testutil::IsOk(w));
  return w.has_value() ? std::move(w).value() : nullptr;
}

// What each reader returns for the log at `snap`: ReadAll after Open and
// OpenForRead, ReadAllArena after Open.
struct Reads {
  std::vector<Entry> open, for_read, arena;
  uint64_t last_index = 0;  // after Open + ReadAll
};

Reads ReadEverywhere(const Options& o, const Snapshot& snap, const std::string& dir = kStoreDir) {
  Reads r;
  {
    auto w = WAL::Open(dir, snap, o);
    EXPECT_TRUE(testutil::IsOk(w));
    if (!w) return r;
    auto all = (*w)->ReadAll();
    EXPECT_TRUE(testutil::IsOk(all));
    if (all) r.open = all->entries;
    r.last_index = (*w)->last_index();
  }
  {
    auto w = WAL::OpenForRead(dir, snap, o);
    EXPECT_TRUE(testutil::IsOk(w));
    if (!w) return r;
    auto all = (*w)->ReadAll();
    EXPECT_TRUE(testutil::IsOk(all));
    if (all) r.for_read = all->entries;
  }
  {
    auto w = WAL::Open(dir, snap, o);
    EXPECT_TRUE(testutil::IsOk(w));
    if (!w) return r;
    auto all = (*w)->ReadAllArena();
    EXPECT_TRUE(testutil::IsOk(all));
    if (all) r.arena = all->ToEntries();
  }
  return r;
}

void ExpectAllReaders(const Reads& r, const std::vector<Entry>& want) {
  EXPECT_EQ(r.open, want) << "Open + ReadAll";
  EXPECT_EQ(r.for_read, want) << "OpenForRead + ReadAll";
  EXPECT_EQ(r.arena, want) << "Open + ReadAllArena";
}

std::vector<Entry> Concat(std::vector<Entry> a, const std::vector<Entry>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The reproducer: 1..150 in term 1, a new leader overwrites from 90
// (90..93 in term 2), a snapshot at {93, 2}. With `cut_between`, a cut
// separates the overwrite from the entries it replaces.
void WriteOverwriteBelowSnapshot(const Options& o, bool cut_between) {
  auto w = MustCreate(o);
  ASSERT_NE(w, nullptr);
  WAL_ASSERT_OK(w->Save(HardState{1, 1, 80}, Ents(1, 150, 1)));
  if (cut_between) {
    WAL_ASSERT_OK(w->Cut());
  }
  WAL_ASSERT_OK(w->Save(HardState{2, 2, 90}, Ents(90, 93, 2)));
  WAL_ASSERT_OK(w->SaveSnapshot(Snapshot{93, 2}));
  WAL_ASSERT_OK(w->Close());
}

class OverwriteBelowSnapshot : public ::testing::TestWithParam<bool> {};

TEST_P(OverwriteBelowSnapshot, DropsTheStaleTail) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs, GetParam() ? 2048 : 64 * 1024);  // small: cuts everywhere
  WriteOverwriteBelowSnapshot(o, GetParam());
  Reads r = ReadEverywhere(o, Snapshot{93, 2});
  ExpectAllReaders(r, {});
  EXPECT_EQ(r.last_index, 93u);

  // The seed's OpenAtIndex: from 91 on, the log is 91..93 of term 2.
  auto w = WAL::OpenAtIndex(kStoreDir, 91, o);
  WAL_ASSERT_OK(w);
  auto all = (*w)->ReadAll();
  WAL_ASSERT_OK(all);
  EXPECT_EQ(all->entries, Ents(91, 93, 2));
  EXPECT_EQ((*w)->last_index(), 93u);
  w->reset();
  // From 95 on there is nothing: the log ends at 93.
  w = WAL::OpenAtIndex(kStoreDir, 95, o);
  WAL_ASSERT_OK(w);
  WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kIndexNotFound);
}

TEST_P(OverwriteBelowSnapshot, AppendsAfterTheSnapshotReadBackExactly) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs, GetParam() ? 2048 : 64 * 1024);
  WriteOverwriteBelowSnapshot(o, GetParam());
  {
    auto w = WAL::Open(kStoreDir, Snapshot{93, 2}, o);
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->ReadAll());
    WAL_ASSERT_OK((*w)->Save(HardState{2, 2, 93}, Ents(94, 120, 2)));
    // A later leader overwrites again, above the snapshot this time.
    WAL_ASSERT_OK((*w)->Save(HardState{3, 3, 93}, Ents(110, 112, 3)));
    WAL_ASSERT_OK((*w)->Close());
  }
  const auto want = Concat(Ents(94, 109, 2), Ents(110, 112, 3));
  ExpectAllReaders(ReadEverywhere(o, Snapshot{93, 2}), want);
  // Opened at the older snapshot {0,0}, the whole raft log reads back.
  const auto whole = Concat(Concat(Ents(1, 89, 1), Ents(90, 93, 2)), want);
  ExpectAllReaders(ReadEverywhere(o, Snapshot{}), whole);
}

// The stale entries may have a higher term than the ones that overwrite
// them (a leader of term 3 wrote 90..150 that never committed; the leader of
// term 5 sends its own 90..93 of term 2): only the overwrite rule drops them.
void WriteStaleTailOfHigherTerm(const Options& o) {
  auto w = MustCreate(o);
  ASSERT_NE(w, nullptr);
  WAL_ASSERT_OK(w->Save(HardState{3, 3, 80}, Concat(Ents(1, 89, 1), Ents(90, 150, 3))));
  WAL_ASSERT_OK(w->Save(HardState{5, 5, 93}, Ents(90, 93, 2)));
  WAL_ASSERT_OK(w->SaveSnapshot(Snapshot{93, 2}));
  WAL_ASSERT_OK(w->Close());
}

TEST(OverwriteBelowSnapshotAlone, DropsAStaleTailOfHigherTerm) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs);
  WriteStaleTailOfHigherTerm(o);
  ExpectAllReaders(ReadEverywhere(o, Snapshot{93, 2}), {});
}

INSTANTIATE_TEST_SUITE_P(CutBetween, OverwriteBelowSnapshot, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "AcrossCuts" : "OneSegment";
                         });

// The second reproducer: a follower installs the leader's snapshot
// {25, 5} while its own log holds 1..30 of term 1, and crashes before its
// next append.
TEST(InstalledSnapshot, DivergentTailIsNotReturned) {
  for (bool cut : {false, true}) {
    SCOPED_TRACE(cut ? "cut before the snapshot" : "one segment");
    MemFileSystem fs;
    const Options o = StoreOptions(&fs);
    {
      auto w = MustCreate(o);
      ASSERT_NE(w, nullptr);
      WAL_ASSERT_OK(w->Save(HardState{1, 1, 20}, Ents(1, 30, 1)));
      if (cut) {
        WAL_ASSERT_OK(w->Cut());
      }
      WAL_ASSERT_OK(w->Save(HardState{5, 0, 25}, {}));
      WAL_ASSERT_OK(w->SaveSnapshot(Snapshot{25, 5}));
      WAL_ASSERT_OK(w->Close());
    }
    Reads r = ReadEverywhere(o, Snapshot{25, 5});
    ExpectAllReaders(r, {});
    EXPECT_EQ(r.last_index, 25u);

    // Appends after the install read back exactly.
    {
      auto w = WAL::Open(kStoreDir, Snapshot{25, 5}, o);
      WAL_ASSERT_OK(w);
      WAL_ASSERT_OK((*w)->ReadAll());
      WAL_ASSERT_OK((*w)->Save(HardState{5, 0, 27}, Ents(26, 28, 5)));
      WAL_ASSERT_OK((*w)->Close());
    }
    ExpectAllReaders(ReadEverywhere(o, Snapshot{25, 5}), Ents(26, 28, 5));
  }
}

// A local snapshot at the applied index: the entries above it were written
// before the snapshot record and may have been acknowledged to the leader.
TEST(InstalledSnapshot, LocalSnapshotKeepsTheEntriesAboveIt) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs);
  {
    auto w = MustCreate(o);
    ASSERT_NE(w, nullptr);
    WAL_ASSERT_OK(w->Save(HardState{4, 1, 10}, Ents(1, 20, 4)));
    WAL_ASSERT_OK(w->Save(HardState{5, 1, 25}, Ents(21, 30, 5)));
    WAL_ASSERT_OK(w->SaveSnapshot(Snapshot{25, 5}));
    WAL_ASSERT_OK(w->Close());
  }
  Reads r = ReadEverywhere(o, Snapshot{25, 5});
  ExpectAllReaders(r, Ents(26, 30, 5));
  EXPECT_EQ(r.last_index, 30u);
}

// A snapshot installed past the end of the log (a follower that received
// it, then restarted): after the read the log ends at the snapshot, so a cut
// before any append names its segment after the snapshot, and the log still
// opens read-only at it. (etcd names the segment after the last entry, at or
// below the snapshot index; its OpenForRead then misses the snapshot record:
// doc/compatibility.md.)
TEST(InstalledSnapshot, PastTheEndOfTheLogACutKeepsItReadable) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs);
  {
    auto w = MustCreate(o);
    ASSERT_NE(w, nullptr);
    WAL_ASSERT_OK(w->Save(HardState{1, 1, 10}, Ents(1, 10, 1)));
    WAL_ASSERT_OK(w->SaveSnapshot(Snapshot{15, 2}));
    WAL_ASSERT_OK(w->Close());
  }
  {
    auto w = WAL::Open(kStoreDir, Snapshot{15, 2}, o);
    WAL_ASSERT_OK(w);
    auto all = (*w)->ReadAll();
    WAL_ASSERT_OK(all);
    EXPECT_TRUE(all->entries.empty());
    EXPECT_EQ((*w)->last_index(), 15u) << "raft's lastIndex: the snapshot's";
    WAL_ASSERT_OK((*w)->Cut());
    WAL_ASSERT_OK((*w)->Close());
  }
  auto ro = WAL::OpenForRead(kStoreDir, Snapshot{15, 2}, o);
  WAL_ASSERT_OK(ro);
  WAL_EXPECT_OK((*ro)->ReadAll())
      << "the segment after the cut is named 0000000000000001-0000000000000010.wal";
  Reads r = ReadEverywhere(o, Snapshot{15, 2});
  ExpectAllReaders(r, {});
}

// Terms never decrease along a log: the result is cut before an entry whose
// term is lower than the one before it.
TEST(InstalledSnapshot, ResultIsCutAtATermDecrease) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs);
  {
    auto w = MustCreate(o);
    ASSERT_NE(w, nullptr);
    WAL_ASSERT_OK(w->Save(HardState{3, 1, 0}, Ents(1, 5, 3)));
    WAL_ASSERT_OK(w->Save(HardState{3, 1, 0}, Ents(6, 8, 2)));  // nothing raft would write
    WAL_ASSERT_OK(w->Close());
  }
  Reads r = ReadEverywhere(o, Snapshot{});
  ExpectAllReaders(r, Ents(1, 5, 3));
  EXPECT_EQ(r.last_index, 5u);
  auto w = WAL::OpenAtIndex(kStoreDir, 2, o);
  WAL_ASSERT_OK(w);
  auto all = (*w)->ReadAll();
  WAL_ASSERT_OK(all);
  EXPECT_EQ(all->entries, Ents(2, 5, 3));
}

// Each reading rule, switched off, returns the stale entries again: the
// tests above kill these mutants on every run (no seed involved).
TEST(ReadingRuleMutants, EachRuleIsNeeded) {
  struct Case {
    internal::Mutant mutant;
    const char* name;
  };
  for (const Case& c : {Case{internal::Mutant::kSkipOverwriteBelowSnapshot, "overwrite below snapshot"},
                        Case{internal::Mutant::kSkipTermOrderRule, "term order"}}) {
    SCOPED_TRACE(c.name);
    MemFileSystem fs;
    const Options o = StoreOptions(&fs);
    if (c.mutant == internal::Mutant::kSkipOverwriteBelowSnapshot) {
      WriteStaleTailOfHigherTerm(o);
    } else {
      auto w = MustCreate(o);
      ASSERT_NE(w, nullptr);
      WAL_ASSERT_OK(w->Save(HardState{1, 1, 20}, Ents(1, 30, 1)));
      WAL_ASSERT_OK(w->SaveSnapshot(Snapshot{25, 5}));
      WAL_ASSERT_OK(w->Close());
    }
    const Snapshot snap =
        c.mutant == internal::Mutant::kSkipTermOrderRule ? Snapshot{25, 5} : Snapshot{93, 2};
    internal::g_mutant.store(static_cast<int>(c.mutant));
    auto w = WAL::OpenForRead(kStoreDir, snap, o);
    std::vector<Entry> got;
    if (w) {
      auto all = (*w)->ReadAll();
      if (all) got = all->entries;
    }
    internal::g_mutant.store(0);
    EXPECT_FALSE(got.empty()) << "the mutant returned no stale entries: the rule is not what removes them";
  }
}

// ---- Purge -----------------------------------------------------------------

// A log of several segments with a snapshot near its end; returns the
// snapshot.
Snapshot WriteSegments(WAL* w, uint64_t to) {
  for (uint64_t i = 1; i <= to; i += 10) {
    EXPECT_TRUE(testutil::IsOk(w->Save(HardState{1, 1, i}, Ents(i, i + 9, 1))));
    EXPECT_TRUE(testutil::IsOk(w->Cut()));
  }
  return Snapshot{to - 5, 1};
}

// A closed log of WriteSegments(to).
void WriteClosedLog(const Options& o, uint64_t to) {
  auto w = MustCreate(o);
  ASSERT_NE(w, nullptr);
  WriteSegments(w.get(), to);
  WAL_ASSERT_OK(w->Close());
}

std::vector<std::string> SegmentNames(MemFileSystem& fs) {
  std::vector<std::string> names;
  auto l = fs.ListDir(kStoreDir);
  if (!l) return names;
  for (auto& n : *l)
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".wal") == 0) names.push_back(n);
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Purge, RemovesExactlyTheReleasedSegmentsAndTheLogOpensAtTheSnapshot) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs);
  auto w = MustCreate(o);
  ASSERT_NE(w, nullptr);
  const Snapshot snap = WriteSegments(w.get(), 60);  // segments 0..6
  WAL_ASSERT_OK(w->SaveSnapshot(snap));
  const auto before = SegmentNames(fs);
  ASSERT_EQ(before.size(), 7u);

  // Everything is still locked by the WAL: nothing goes.
  auto none = Purge(kStoreDir, 0, o);
  WAL_ASSERT_OK(none);
  EXPECT_TRUE(none->empty());

  WAL_ASSERT_OK(w->ReleaseLockTo(snap.index));
  auto removed = Purge(kStoreDir, 0, o);
  WAL_ASSERT_OK(removed);
  // ReleaseLockTo(55) keeps the segment before the first starting at >= 55
  // (5-..51.wal holds 51..60): segments 0..4 go, oldest first.
  EXPECT_EQ(*removed, std::vector<std::string>(before.begin(), before.begin() + 5));
  EXPECT_EQ(SegmentNames(fs), std::vector<std::string>(before.begin() + 5, before.end()));

  // The WAL keeps appending; the log opens at the snapshot.
  WAL_ASSERT_OK(w->Save(HardState{1, 1, 61}, Ents(61, 62, 1)));
  WAL_ASSERT_OK(w->Close());
  ExpectAllReaders(ReadEverywhere(o, snap), Ents(snap.index + 1, 62, 1));
}

TEST(Purge, KeepsMaxSegmentsAndStopsAtTheFirstLockedOne) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs);
  WriteClosedLog(o, 40);
  const auto before = SegmentNames(fs);
  ASSERT_EQ(before.size(), 5u);
  // Another holder of segment 2's lock (a second WAL, another process, etcd:
  // an OFD lock of another open file either way).
  OpenOptions wr;
  wr.write = true;
  auto holder = fs.Open(std::string(kStoreDir) + "/" + before[2], wr);
  WAL_ASSERT_OK(holder);
  WAL_ASSERT_OK((*holder)->TryLock());
  auto plan = PlanPurge(kStoreDir, 1, o);  // the dry run names what the purge then removes
  WAL_ASSERT_OK(plan);
  EXPECT_EQ(SegmentNames(fs), before);
  auto removed = Purge(kStoreDir, 1, o);
  WAL_ASSERT_OK(removed);
  EXPECT_EQ(*removed, std::vector<std::string>(before.begin(), before.begin() + 2));
  EXPECT_EQ(*removed, *plan);
  WAL_ASSERT_OK((*holder)->Close());
  // max_segments larger than what is there: nothing to do.
  auto nothing = Purge(kStoreDir, 10, o);
  WAL_ASSERT_OK(nothing);
  EXPECT_TRUE(nothing->empty());
  removed = Purge(kStoreDir, 2, o);
  WAL_ASSERT_OK(removed);
  EXPECT_EQ(*removed, std::vector<std::string>(before.begin() + 2, before.begin() + 3));
  EXPECT_EQ(SegmentNames(fs), std::vector<std::string>(before.begin() + 3, before.end()));
}

TEST(Purge, EmptyAndMissingDirectories) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs);
  WAL_ASSERT_OK(fs.CreateDir("/empty", 0700));
  auto r = Purge("/empty", 0, o);
  WAL_ASSERT_OK(r);
  EXPECT_TRUE(r->empty());
  WAL_EXPECT_CODE(Purge("/missing", 0, o), StatusCode::kFileNotFound);
}

// The removals are durable when Purge returns: a power loss right after it
// brings none of them back.
TEST(Purge, RemovalsSurviveAPowerLoss) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs);
  WriteClosedLog(o, 30);
  const auto before = SegmentNames(fs);
  auto removed = Purge(kStoreDir, 2, o);
  WAL_ASSERT_OK(removed);
  ASSERT_EQ(removed->size(), before.size() - 2);
  fs.SimulateCrash(CrashPolicy{CrashMode::kDropUnsynced, 1});
  EXPECT_EQ(SegmentNames(fs), std::vector<std::string>(before.end() - 2, before.end()));
}

TEST(Purge, MutantWithoutDirectorySyncIsCaught) {
  MemFileSystem fs;
  const Options o = StoreOptions(&fs);
  WriteClosedLog(o, 30);
  const auto before = SegmentNames(fs);
  internal::g_mutant.store(static_cast<int>(internal::Mutant::kSkipPurgeDirSync));
  auto removed = Purge(kStoreDir, 2, o);
  internal::g_mutant.store(0);
  WAL_ASSERT_OK(removed);
  fs.SimulateCrash(CrashPolicy{CrashMode::kDropUnsynced, 1});
  EXPECT_EQ(SegmentNames(fs), before) << "without the sync the removals are not durable";
}

// On the real file system, a lock held by another process stops the purge.
TEST(Purge, StopsAtASegmentLockedByAnotherProcess) {
  testutil::TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  Options o = testutil::SmallOptions(16 * 1024);
  o.background_segment_preparation = false;
  {
    auto w = WAL::Create(dir, "meta", o);
    WAL_ASSERT_OK(w);
    WriteSegments(w->get(), 30);
    WAL_ASSERT_OK((*w)->Close());
  }
  auto before = testutil::WalNames(dir);
  ASSERT_EQ(before.size(), 4u);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child locks segment 1 and waits to be killed.
    OpenOptions wr;
    wr.write = true;
    auto f = FileSystem::Default()->Open(dir + "/" + before[1], wr);
    const char ok = f.has_value() && (*f)->TryLock().ok() ? 'y' : 'n';
    (void)!::write(ready[1], &ok, 1);
    ::pause();
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  auto removed = Purge(dir, 0, o);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  WAL_ASSERT_OK(removed);
  EXPECT_EQ(*removed, std::vector<std::string>{before[0]});
  EXPECT_EQ(testutil::WalNames(dir), std::vector<std::string>(before.begin() + 1, before.end()));
}

// ---- tickets ---------------------------------------------------------------

struct TicketLog {
  std::mutex mu;
  std::vector<std::pair<uint64_t, StatusCode>> calls;
  void Add(uint64_t t, const Status& s) {
    std::lock_guard<std::mutex> l(mu);
    calls.emplace_back(t, s.code());
  }
  std::vector<std::pair<uint64_t, StatusCode>> Get() {
    std::lock_guard<std::mutex> l(mu);
    return calls;
  }
};

std::vector<std::pair<uint64_t, StatusCode>> AllOk(uint64_t n) {
  std::vector<std::pair<uint64_t, StatusCode>> v;
  for (uint64_t t = 1; t <= n; ++t) v.emplace_back(t, StatusCode::kOk);
  return v;
}

// The sequence: appends ending at 10, 10 (an overwrite) and 6 give
// three tickets, each reported once, in order (the index callback skips the
// repeated 10).
TEST(Tickets, EveryTicketIsReportedOnceInOrder) {
  MemFileSystem fs;
  auto w = MustCreate(StoreOptions(&fs));
  ASSERT_NE(w, nullptr);
  TicketLog log;
  w->SetTicketCallback([&](uint64_t t, const Status& s) { log.Add(t, s); });
  auto t1 = w->SaveAsync(HardState{1, 1, 0}, Ents(1, 10, 1));
  auto t2 = w->SaveAsync(HardState{2, 2, 0}, Ents(10, 10, 2));
  auto t3 = w->SaveAsync(HardState{3, 3, 0}, Ents(6, 6, 3));
  WAL_ASSERT_OK(t1);
  WAL_ASSERT_OK(t2);
  WAL_ASSERT_OK(t3);
  EXPECT_EQ(*t1, 1u);
  EXPECT_EQ(*t2, 2u);
  EXPECT_EQ(*t3, 3u);
  WAL_ASSERT_OK(w->WaitDurable(*t3));
  WAL_ASSERT_OK(w->Close());
  EXPECT_EQ(log.Get(), AllOk(3));
}

TEST(Tickets, AcrossCutsWithSaveAndSyncInBetween) {
  MemFileSystem fs;
  auto w = MustCreate(StoreOptions(&fs, 512));  // a cut every few saves
  ASSERT_NE(w, nullptr);
  TicketLog log;
  w->SetTicketCallback([&](uint64_t t, const Status& s) { log.Add(t, s); });
  uint64_t index = 0, issued = 0;
  for (int round = 0; round < 60; ++round) {
    switch (round % 4) {
      case 0:
      case 1: {
        auto t = w->SaveAsync(HardState{1, 1, index}, Ents(index + 1, index + 3, 1));
        WAL_ASSERT_OK(t);
        EXPECT_EQ(*t, ++issued);
        index += 3;
        break;
      }
      case 2:  // a synced Save makes the earlier tickets durable
        WAL_ASSERT_OK(w->Save(HardState{1, 1, index}, Ents(index + 1, index + 2, 1)));
        index += 2;
        break;
      case 3: {  // a ticket that writes nothing, then a Sync
        auto t = w->SaveAsync(HardState{}, std::vector<Entry>{});
        WAL_ASSERT_OK(t);
        EXPECT_EQ(*t, ++issued);
        WAL_ASSERT_OK(w->Sync());
        break;
      }
    }
  }
  EXPECT_GT(w->stats().cuts, 5u);
  WAL_ASSERT_OK(w->Close());  // delivers every outstanding report
  EXPECT_EQ(log.Get(), AllOk(issued));
}

TEST(Tickets, WaitDurableChecksTheTicket) {
  MemFileSystem fs;
  auto w = MustCreate(StoreOptions(&fs));
  ASSERT_NE(w, nullptr);
  auto t = w->SaveAsync(HardState{1, 1, 0}, Ents(1, 2, 1));
  WAL_ASSERT_OK(t);
  WAL_EXPECT_CODE(w->WaitDurable(*t + 1), StatusCode::kInvalidArgument);
  WAL_EXPECT_OK(w->WaitDurable(*t));
  WAL_ASSERT_OK(w->Close());
  WAL_EXPECT_OK(w->WaitDurable(*t));  // durable before Close: still OK after it
}

// After a failed fdatasync every outstanding ticket is reported with the
// error, in order, exactly once; none is reported durable.
TEST(Tickets, OutstandingTicketsFailAfterASyncError) {
  MemFileSystem fs;
  auto w = MustCreate(StoreOptions(&fs));
  ASSERT_NE(w, nullptr);
  TicketLog log;
  w->SetTicketCallback([&](uint64_t t, const Status& s) { log.Add(t, s); });
  auto t1 = w->SaveAsync(HardState{1, 1, 0}, Ents(1, 2, 1));
  WAL_ASSERT_OK(t1);
  WAL_ASSERT_OK(w->WaitDurable(*t1));
  std::atomic<bool> fail{true};
  // The failing fdatasync waits (bounded) until t3 is appended too, so that
  // both tickets are outstanding when it fails: without that the syncer
  // could fail t2's round before t3's SaveAsync, which then gets the stop
  // error instead of a ticket (seen under TSan).
  std::atomic<bool> both_appended{false};
  fs.SetOpHook([&](const OpInfo& op) {
    if (!fail || op.kind != OpKind::kSync) return Status::Ok();
    for (int i = 0; i < 5000 && !both_appended; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return Status(StatusCode::kIoError, "injected fdatasync failure");
  });
  auto t2 = w->SaveAsync(HardState{1, 1, 0}, Ents(3, 4, 1));
  auto t3 = w->SaveAsync(HardState{1, 1, 0}, Ents(5, 6, 1));
  both_appended = true;
  WAL_ASSERT_OK(t2);
  WAL_ASSERT_OK(t3);
  EXPECT_FALSE(w->WaitDurable(*t3).ok());
  EXPECT_FALSE(w->SaveAsync(HardState{1, 1, 0}, Ents(7, 7, 1)).has_value()) << "fail-stop";
  w->Close().IgnoreError();
  fail = false;
  const auto calls = log.Get();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], std::make_pair(uint64_t{1}, StatusCode::kOk));
  EXPECT_EQ(calls[1].first, 2u);
  EXPECT_EQ(calls[2].first, 3u);
  EXPECT_NE(calls[1].second, StatusCode::kOk);
  EXPECT_NE(calls[2].second, StatusCode::kOk);
}

// ---- appends without a copy ------------------------------------------------

TEST(EntryViews, SaveWritesTheSameBytesAsEntries) {
  MemFileSystem a, b;
  const auto ents = Ents(1, 50, 3);
  std::vector<std::string> owned;  // the caller's own buffers
  for (const auto& e : ents) owned.push_back(e.data);
  std::vector<EntryView> views;
  for (size_t i = 0; i < ents.size(); ++i)
    views.push_back(EntryView{ents[i].term, ents[i].index, ents[i].type, owned[i]});
  {
    auto w = MustCreate(StoreOptions(&a, 1024));
    ASSERT_NE(w, nullptr);
    WAL_ASSERT_OK(w->Save(HardState{3, 1, 10}, ents));
    auto t = w->SaveAsync(HardState{3, 1, 20}, Ents(51, 60, 3));
    WAL_ASSERT_OK(t);
    WAL_ASSERT_OK(w->Close());
  }
  {
    auto w = MustCreate(StoreOptions(&b, 1024));
    ASSERT_NE(w, nullptr);
    WAL_ASSERT_OK(w->Save(HardState{3, 1, 10}, views));
    const auto more = Ents(51, 60, 3);
    std::vector<EntryView> more_views;
    for (const auto& e : more) more_views.push_back(EntryView{e.term, e.index, e.type, e.data});
    auto t = w->SaveAsync(HardState{3, 1, 20}, more_views);
    WAL_ASSERT_OK(t);
    WAL_ASSERT_OK(w->Close());
  }
  const auto files = a.ListAllFiles();
  ASSERT_EQ(files, b.ListAllFiles());
  ASSERT_GE(files.size(), 2u);  // a cut happened
  for (const auto& f : files) EXPECT_EQ(*a.ReadFileToString(f), *b.ReadFileToString(f)) << f;
}

}  // namespace
}  // namespace wal
