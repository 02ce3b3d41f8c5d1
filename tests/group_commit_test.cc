// Group commit and pipelined durability (SaveAsync). Also run under TSan.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace wal {
namespace {

Options MemOptions(FileSystem* fs, uint64_t segment_bytes) {
  Options o;
  o.file_system = fs;
  o.segment_size_bytes = segment_bytes;
  return o;
}

// The entry keys (term, index) in log order.
std::vector<std::pair<uint64_t, uint64_t>> EntriesInOrder(const std::string& dir, const Options& o) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  auto r = LogReader::Open(dir, Snapshot{}, o);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  if (!r) return out;
  LogRecord rec;
  while (true) {
    auto n = (*r)->Next(&rec);
    EXPECT_TRUE(n.has_value()) << n.error().ToString();
    if (!n || !*n) break;
    if (rec.kind == LogRecord::Kind::kEntry) out.emplace_back(rec.entry.term, rec.entry.index);
  }
  return out;
}

// Every entry record in the log, by (term, index) (LogReader does not care
// about index order across writers).
std::multiset<std::pair<uint64_t, uint64_t>> AllEntries(const std::string& dir, const Options& o) {
  auto v = EntriesInOrder(dir, o);
  return {v.begin(), v.end()};
}

// Writers t = 0..n-1 each save entries {term t+1, index 1, 2, ...} one per
// Save until a Save fails or `per_writer` are acknowledged; returns how many
// each had acknowledged.
std::vector<uint64_t> RunWriters(WAL* w, int n, uint64_t per_writer, std::atomic<uint64_t>* total_acked) {
  std::vector<uint64_t> acked(static_cast<size_t>(n));
  std::vector<std::thread> ts;
  for (int t = 0; t < n; ++t) {
    ts.emplace_back([&, t] {
      for (uint64_t i = 1; i <= per_writer; ++i) {
        Entry e{uint64_t(t + 1), i, EntryType::kNormal, std::string(60 + i % 40, char('a' + t))};
        if (!w->Save(HardState{}, std::vector<Entry>{e}).ok()) return;
        acked[static_cast<size_t>(t)] = i;
        ++*total_acked;
      }
    });
  }
  for (auto& t : ts) t.join();
  return acked;
}

// After a power loss: each writer's entries are in the log once each, in
// its order, from index 1 on, and include everything acknowledged.
void ExpectAcknowledgedDurableInOrder(const std::string& dir, const Options& o,
                                      const std::vector<uint64_t>& acked) {
  std::map<uint64_t, uint64_t> last;  // term -> last index seen
  for (auto [term, index] : EntriesInOrder(dir, o)) {
    EXPECT_EQ(index, last[term] + 1) << "writer " << term << ": out of order or duplicated";
    last[term] = index;
  }
  for (size_t t = 0; t < acked.size(); ++t)
    EXPECT_GE(last[t + 1], acked[t]) << "writer " << t + 1 << " lost acknowledged entries";
}

TEST(GroupCommit, AcknowledgedConcurrentSavesSurviveAPowerLossMidRun) {
  for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kKeepRandomPrefix}) {
    MemFileSystem fs;
    const Options o = MemOptions(&fs, 16 * 1024);  // cuts while the writers run
    auto w = WAL::Create("/w", "m", o);
    ASSERT_TRUE(w.has_value());
    std::atomic<uint64_t> total{0};
    std::thread crasher([&] {
      while (total.load() < 400) std::this_thread::yield();
      fs.SimulateCrash(CrashPolicy{mode, testutil::Seed()});
    });
    auto acked = RunWriters(w->get(), 8, 1000, &total);
    crasher.join();
    EXPECT_FALSE((*w)->Close().ok()) << "the files were invalidated by the crash";
    w->reset();
    // Repair a torn tail as etcd's server would before reading.
    ASSERT_TRUE(Repair("/w", o).has_value());
    ExpectAcknowledgedDurableInOrder("/w", o, acked);
  }
}

// A failed fdatasync while several callers wait: every one of them gets the
// error, and no sync of any kind is issued afterwards (fsyncgate).
TEST(GroupCommit, OneFailedSyncFailsEveryWaiterAndIsTheLastSync) {
  MemFileSystem fs;
  const Options o = MemOptions(&fs, 16 * 1024);
  auto w = WAL::Create("/w", "m", o);
  ASSERT_TRUE(w.has_value());
  std::atomic<int> syncs{0};
  std::atomic<bool> failed{false};
  std::atomic<int> after_failure{0};
  fs.SetOpHook([&](const OpInfo& op) {
    if (op.kind != OpKind::kSync && op.kind != OpKind::kSyncDir) return Status::Ok();
    if (failed) {
      ++after_failure;
      return Status::Ok();
    }
    if (++syncs < 40) return Status::Ok();
    // Let the other writers pile up behind this round, then fail it.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    failed = true;
    return Status(StatusCode::kIoError, "injected fdatasync failure");
  });
  std::atomic<uint64_t> total{0};
  auto acked = RunWriters(w->get(), 8, 100000, &total);  // each writer runs until its Save fails
  EXPECT_TRUE(failed.load());
  for (size_t t = 0; t < acked.size(); ++t) EXPECT_LT(acked[t], 100000u) << "writer " << t + 1;
  Status s = (*w)->Sync();
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  EXPECT_EQ((*w)->Close().code(), StatusCode::kIoError);
  EXPECT_EQ(after_failure.load(), 0) << "a sync was issued after the failed one";
  fs.SetOpHook(nullptr);
  w->reset();
  fs.SimulateCrash(CrashPolicy{CrashMode::kDropUnsynced});
  ExpectAcknowledgedDurableInOrder("/w", o, acked);
}

// A hook that parks the first armed fdatasync until released.
struct SyncGate {
  std::mutex mu;
  std::condition_variable cv;
  bool armed = false, reached = false, released = false;

  Status Hook(const OpInfo& op) {
    std::unique_lock<std::mutex> lk(mu);
    if (op.kind != OpKind::kSync || !armed) return Status::Ok();
    armed = false;
    reached = true;
    cv.notify_all();
    cv.wait(lk, [&] { return released; });
    return Status::Ok();
  }
  bool WaitReached() {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, std::chrono::seconds(20), [&] { return reached; });
  }
  void Release() {
    std::lock_guard<std::mutex> lk(mu);
    released = true;
    cv.notify_all();
  }
};

Entry Ent100(uint64_t index) {
  return Entry{1, index, EntryType::kNormal, std::string(100, char('a' + index))};
}

// While a cut is in its first fdatasync, another thread's SaveAsync appends
// and returns (the cut no longer holds the WAL lock across its syncs), a
// synced Save waits for the cut, and the bytes are those of the same calls
// made one after the other.
TEST(GroupCommit, CutDoesNotBlockAppendsDuringItsSyncs) {
  auto options = [](FileSystem* fs) {
    Options o = MemOptions(fs, Options{}.segment_size_bytes);
    o.background_segment_preparation = false;
    return o;
  };
  MemFileSystem fs;
  SyncGate gate;
  auto w = WAL::Create("/w", "m", options(&fs));
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->Save(HardState{1, 1, 1}, std::vector<Entry>{Ent100(1)}).ok());
  fs.SetOpHook([&](const OpInfo& op) { return gate.Hook(op); });
  {
    std::lock_guard<std::mutex> lk(gate.mu);
    gate.armed = true;
  }
  auto cut = std::async(std::launch::async, [&] { return (*w)->Cut(); });
  ASSERT_TRUE(gate.WaitReached()) << "the cut never synced";
  auto append = std::async(std::launch::async, [&] {
    return (*w)->SaveAsync(HardState{1, 1, 2}, std::vector<Entry>{Ent100(2)});
  });
  const bool appended = append.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  auto synced = std::async(std::launch::async, [&] {
    return (*w)->Save(HardState{1, 1, 3}, std::vector<Entry>{Ent100(3)});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const bool synced_early = synced.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  const bool cut_early = cut.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  gate.Release();
  EXPECT_TRUE(appended) << "SaveAsync waited for the cut's fdatasync";
  EXPECT_FALSE(synced_early) << "a synced Save returned before the cut was durable";
  EXPECT_FALSE(cut_early);
  EXPECT_TRUE(cut.get().ok());
  auto ticket = append.get();
  ASSERT_TRUE(ticket.has_value());
  EXPECT_TRUE(synced.get().ok());
  EXPECT_TRUE((*w)->WaitDurable(*ticket).ok());
  EXPECT_EQ((*w)->DurableIndex(), 3u);
  fs.SetOpHook(nullptr);
  // Everything is durable: nothing changes at a power loss.
  fs.SimulateCrash(CrashPolicy{CrashMode::kDropUnsynced});
  w->reset();

  MemFileSystem ref;
  {
    auto r = WAL::Create("/w", "m", options(&ref));
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE((*r)->Save(HardState{1, 1, 1}, std::vector<Entry>{Ent100(1)}).ok());
    ASSERT_TRUE((*r)->Cut().ok());
    ASSERT_TRUE((*r)->SaveAsync(HardState{1, 1, 2}, std::vector<Entry>{Ent100(2)}).has_value());
    ASSERT_TRUE((*r)->Save(HardState{1, 1, 3}, std::vector<Entry>{Ent100(3)}).ok());
    ref.SimulateCrash(CrashPolicy{CrashMode::kDropUnsynced});
  }
  std::vector<std::string> files = fs.ListAllFiles();
  ASSERT_EQ(files, ref.ListAllFiles());
  EXPECT_EQ(files, (std::vector<std::string>{"/w/0000000000000000-0000000000000000.wal",
                                             "/w/0000000000000001-0000000000000002.wal"}));
  for (const auto& f : files) {
    auto got = fs.ReadFileToString(f);
    auto want = ref.ReadFileToString(f);
    ASSERT_TRUE(got.has_value() && want.has_value());
    EXPECT_TRUE(*got == *want) << f << " differs from the sequential run's";
  }
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
  const Options o = MemOptions(&fs, 64 * 1024);
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
