// Group commit and pipelined durability (SaveAsync). Also run under TSan.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "tests/test_util.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace wal {
namespace {

// Every entry record in the log, by (term, index), read with LogReader
// (which does not care about index order across writers).
std::multiset<std::pair<uint64_t, uint64_t>> AllEntries(const std::string& dir, const Options& o) {
  std::multiset<std::pair<uint64_t, uint64_t>> out;
  auto r = LogReader::Open(dir, Snapshot{}, o);
  EXPECT_TRUE(r.has_value());
  if (!r) return out;
  LogRecord rec;
  while (true) {
    auto n = (*r)->Next(&rec);
    EXPECT_TRUE(n.has_value());
    if (!n || !*n) break;
    if (rec.kind == LogRecord::Kind::kEntry) out.emplace(rec.entry.term, rec.entry.index);
  }
  return out;
}

TEST(GroupCommit, ConcurrentSyncedWritersShareFsyncsAndLoseNothing) {
  testutil::TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  Options o;
  o.segment_size_bytes = 256 * 1024;  // several cuts under concurrency
  auto w = WAL::Create(dir, "m", o);
  ASSERT_TRUE(w.has_value());
  constexpr int kThreads = 8, kSaves = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kSaves; ++i) {
        // term = writer, index = its own counter: a distinct key per save.
        Entry e{uint64_t(t + 1), uint64_t(i + 1), EntryType::kNormal, std::string(100 + i % 50, 'a' + t)};
        if (!(*w)->Save(HardState{}, std::vector<Entry>{e}).ok()) ++failures;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  const WalStats st = (*w)->stats();
  std::printf("[group-commit] %d synced saves from %d threads took %llu fdatasyncs, %llu cuts\n",
              kThreads * kSaves, kThreads, static_cast<unsigned long long>(st.syncs),
              static_cast<unsigned long long>(st.cuts));
  EXPECT_LT(st.syncs, uint64_t(kThreads * kSaves)) << "callers must share fdatasyncs";
  ASSERT_TRUE((*w)->Close().ok());
  auto all = AllEntries(dir, o);
  EXPECT_EQ(all.size(), size_t(kThreads * kSaves));
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kSaves; ++i) EXPECT_EQ(all.count({t + 1, i + 1}), 1u);
}

TEST(Pipelined, SaveAsyncReportsDurabilityInOrderAndWaitDurableBlocksUntilThen) {
  MemFileSystem fs;
  Options o;
  o.file_system = &fs;
  o.segment_size_bytes = 64 * 1024;
  auto w = WAL::Create("/w", "m", o);
  ASSERT_TRUE(w.has_value());
  std::atomic<uint64_t> reported{0};
  std::atomic<bool> out_of_order{false};
  (*w)->SetDurableCallback([&](uint64_t idx) {
    if (idx < reported.load()) out_of_order = true;
    reported = idx;
  });
  uint64_t index = 0, last_ticket = 0;
  for (int b = 0; b < 200; ++b) {
    std::vector<Entry> batch;
    for (int i = 0; i < 20; ++i) batch.push_back(Entry{1, ++index, EntryType::kNormal, std::string(50, 'p')});
    auto t = (*w)->SaveAsync(HardState{1, 1, index}, batch);
    ASSERT_TRUE(t.has_value()) << t.error().ToString();
    ASSERT_GT(*t, last_ticket);
    last_ticket = *t;
    EXPECT_LE((*w)->DurableIndex(), index);
  }
  ASSERT_TRUE((*w)->WaitDurable(last_ticket).ok());
  EXPECT_EQ((*w)->DurableIndex(), index);
  // Everything acknowledged survives a power loss right now.
  fs.SimulateCrash(CrashPolicy{CrashMode::kDropUnsynced});
  w->reset();
  auto r = WAL::OpenForRead("/w", Snapshot{}, o);
  ASSERT_TRUE(r.has_value());
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  EXPECT_EQ(all->entries.size(), index);
  EXPECT_FALSE(out_of_order.load());
  EXPECT_GT(reported.load(), 0u);
}

TEST(Pipelined, CloseMakesPendingAsyncSavesDurable) {
  MemFileSystem fs;
  Options o;
  o.file_system = &fs;
  auto w = WAL::Create("/w", "m", o);
  ASSERT_TRUE(w.has_value());
  for (uint64_t i = 1; i <= 50; ++i)
    ASSERT_TRUE((*w)->SaveAsync(HardState{1, 1, i}, std::vector<Entry>{Entry{1, i}}).has_value());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ((*w)->DurableIndex(), 50u);
  fs.SimulateCrash(CrashPolicy{CrashMode::kDropUnsynced});
  auto r = WAL::OpenForRead("/w", Snapshot{}, o);
  ASSERT_TRUE(r.has_value());
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->entries.size(), 50u);
}

TEST(Pipelined, MixedSyncAndAsyncWritersWithReleaseLockTo) {
  testutil::TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  Options o;
  o.segment_size_bytes = 32 * 1024;
  auto w = WAL::Create(dir, "m", o);
  ASSERT_TRUE(w.has_value());
  std::atomic<bool> stop{false};
  std::thread releaser([&] {
    uint64_t i = 0;
    while (!stop) (*w)->ReleaseLockTo(i += 7).IgnoreError();
  });
  std::thread syncer([&] {
    while (!stop) (*w)->Sync().IgnoreError();
  });
  uint64_t ticket = 0;
  for (uint64_t i = 1; i <= 2000; ++i) {
    auto t = (*w)->SaveAsync(HardState{},
                             std::vector<Entry>{Entry{1, i, EntryType::kNormal, std::string(64, 'z')}});
    ASSERT_TRUE(t.has_value());
    ticket = *t;
  }
  ASSERT_TRUE((*w)->WaitDurable(ticket).ok());
  stop = true;
  releaser.join();
  syncer.join();
  ASSERT_TRUE((*w)->Close().ok());
  auto r = WAL::OpenForRead(dir, Snapshot{}, o);
  ASSERT_TRUE(r.has_value());
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  EXPECT_EQ(all->entries.size(), 2000u);
}

}  // namespace
}  // namespace wal
