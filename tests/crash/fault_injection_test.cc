// Fault injection: I/O errors at every operation (fail-stop, fsyncgate),
// ENOSPC with a half-written record, and short writes / EINTR / a missing
// fallocate in the real POSIX file system.
#include <cerrno>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/posix_syscalls.h"
#include "tests/test_util.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace wal {
namespace {

constexpr char kFaultDir[] = "/data/wal";

std::vector<Entry> Batch(uint64_t first, int n, size_t size = 200) {
  std::vector<Entry> v;
  for (int i = 0; i < n; ++i)
    v.push_back(Entry{1, first + i, EntryType::kNormal, std::string(size, 'a' + i % 26)});
  return v;
}

Options MemOptions(FileSystem* fs) {
  Options o;
  o.file_system = fs;
  o.segment_size_bytes = 4096;
  o.background_segment_preparation = false;
  return o;
}

// MemOptions with the offset index kept (Entries reads from the files).
Options IndexedMemOptions(FileSystem* fs) {
  Options o = MemOptions(fs);
  o.index_entries = true;
  return o;
}

// Opens, reads (one Repair on a torn tail, as etcd's server does) and
// returns the entries, or an error.
Result<ReadAllResult> Recover(const std::string& dir, const Options& o) {
  auto attempt = [&]() -> Result<ReadAllResult> {
    WAL_ASSIGN_OR_RETURN(auto w, WAL::Open(dir, Snapshot{}, o));
    WAL_ASSIGN_OR_RETURN(auto all, w->ReadAll());
    WAL_RETURN_IF_ERROR(w->Close());
    return all;
  };
  auto r = attempt();
  if (!r.has_value() && r.error().code() == StatusCode::kUnexpectedEof) {
    auto rep = Repair(dir, o);
    if (!rep.has_value()) return rep.error();
    if (!*rep) return Status(StatusCode::kCorruption, "repair refused");
    r = attempt();
  }
  return r;
}

// An I/O error (EIO or ENOSPC) at any single operation stops the WAL: every
// later mutating call fails, no fsync is issued after the failure, and a
// reopen recovers everything acknowledged before it. `direct`: the WAL
// under test writes with Options::direct_io (its RWF_DSYNC writes are a
// write op and a sync op, each of which can fail).
void FailStopAfterAnyFailedOperation(bool direct) {
  auto tested_options = [direct](FileSystem* fs) {
    Options o = IndexedMemOptions(fs);
    o.direct_io = direct;
    return o;
  };
  uint64_t total_ops = 0;
  {
    MemFileSystem fs;
    auto w = WAL::Create(kFaultDir, "m", tested_options(&fs));
    ASSERT_TRUE(w.has_value());
    uint64_t base = fs.op_count();
    for (int b = 0; b < 10; ++b)
      ASSERT_TRUE((*w)->Save(HardState{1, 1, uint64_t(b * 5)}, Batch(b * 5 + 1, 5)).ok());
    ASSERT_TRUE((*w)->Close().ok());
    total_ops = fs.op_count() - base;
  }
  uint64_t cases = 0;
  for (StatusCode code : {StatusCode::kIoError, StatusCode::kNoSpace}) {
    for (uint64_t k = 0; k < total_ops; ++k) {
      MemFileSystem fs;
      auto w = WAL::Create(kFaultDir, "m", tested_options(&fs));
      ASSERT_TRUE(w.has_value());
      ASSERT_EQ((*w)->stats().direct_io, direct);
      uint64_t seen = 0;
      bool failed = false;
      uint64_t syncs_after_failure = 0;
      fs.SetOpHook([&](const OpInfo& op) {
        if (failed && (op.kind == OpKind::kSync || op.kind == OpKind::kSyncDir)) {
          ++syncs_after_failure;
        }
        if (seen++ == k) {
          failed = true;
          return Status(code, "injected");  // a one-off error: later ops would succeed
        }
        return Status::Ok();
      });
      uint64_t acked = 0;
      bool saw_error = false;
      for (int b = 0; b < 10; ++b) {
        Status s = (*w)->Save(HardState{1, 1, uint64_t(b * 5)}, Batch(b * 5 + 1, 5));
        if (s.ok()) {
          ASSERT_FALSE(saw_error) << "a Save succeeded after an earlier failure (k=" << k << ")";
          acked = uint64_t(b * 5 + 5);
        } else {
          saw_error = true;
          EXPECT_EQ(s.code(), code) << s.ToString();
        }
      }
      Status c = (*w)->Close();
      if (saw_error) {
        EXPECT_FALSE(c.ok()) << "Close must report the earlier failure";
        EXPECT_FALSE((*w)->Sync().ok());
      }
      if (!failed) continue;  // k fell in Close's operations that ran fine
      EXPECT_EQ(syncs_after_failure, 0u) << "fsync issued after a failed operation (k=" << k << ")";
      w->reset();
      fs.SetOpHook(nullptr);
      // A process crash right after (the page cache survives).
      fs.SimulateCrash(CrashPolicy{CrashMode::kKeepAll});
      auto r = Recover(kFaultDir, MemOptions(&fs));
      ASSERT_TRUE(r.has_value()) << "k=" << k << ": " << r.error().ToString();
      ASSERT_GE(r->entries.size(), acked) << "k=" << k;
      for (size_t i = 0; i < r->entries.size(); ++i) ASSERT_EQ(r->entries[i].index, i + 1);
      // Appendable again, and the offset index reads back what was recovered.
      auto w2 = WAL::Open(kFaultDir, Snapshot{}, tested_options(&fs));
      ASSERT_TRUE(w2.has_value());
      ASSERT_TRUE((*w2)->ReadAll().has_value());
      ASSERT_TRUE((*w2)->Save(HardState{2, 1, 1}, Batch(r->entries.size() + 1, 1)).ok());
      auto back = (*w2)->Entries(1, r->entries.size() + 2);
      ASSERT_TRUE(back.has_value()) << "k=" << k << ": " << back.error().ToString();
      ASSERT_EQ(back->size(), r->entries.size() + 1) << "k=" << k;
      for (size_t i = 0; i < r->entries.size(); ++i) ASSERT_EQ((*back)[i], r->entries[i]) << "k=" << k;
      ASSERT_TRUE((*w2)->Close().ok());
      ++cases;
    }
  }
  std::printf("[fault] fail-stop cases checked%s: %llu\n", direct ? " (direct I/O)" : "",
              static_cast<unsigned long long>(cases));
  EXPECT_GT(cases, 20u);
}

TEST(FaultInjection, FailStopAfterAnyFailedOperation) { FailStopAfterAnyFailedOperation(false); }
TEST(FaultInjection, FailStopAfterAnyFailedOperationWithDirectIo) { FailStopAfterAnyFailedOperation(true); }

// A failed read under Entries is reported with its error and changes
// nothing: the WAL goes on appending, and the next read succeeds.
class FailingReadFile : public FileWrapper {
 public:
  FailingReadFile(std::unique_ptr<File> f, const bool* fail) : FileWrapper(std::move(f)), fail_(fail) {}
  Result<std::size_t> ReadAt(uint64_t offset, std::span<std::byte> out) override {
    if (*fail_) return Status(StatusCode::kIoError, "injected read error", EIO);
    return FileWrapper::ReadAt(offset, out);
  }

 private:
  const bool* fail_;
};

class FailingReads : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& options) override {
    WAL_ASSIGN_OR_RETURN(auto f, FileSystemWrapper::Open(path, options));
    return std::unique_ptr<File>(std::make_unique<FailingReadFile>(std::move(f), &fail));
  }
  bool fail = false;
};

TEST(FaultInjection, AFailedReadUnderEntriesChangesNothing) {
  MemFileSystem mem;
  FailingReads fs(&mem);
  auto w = WAL::Create(kFaultDir, "m", IndexedMemOptions(&fs));
  ASSERT_TRUE(w.has_value());
  for (int b = 0; b < 20; ++b) ASSERT_TRUE((*w)->Save(HardState{1, 1, 0}, Batch(b * 5 + 1, 5)).ok());
  fs.fail = true;
  auto bad = (*w)->Entries(1, 101);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kIoError) << bad.error().ToString();
  ASSERT_TRUE((*w)->Save(HardState{1, 1, 0}, Batch(101, 5)).ok()) << "a failed read does not stop the WAL";
  fs.fail = false;
  auto good = (*w)->Entries(1, 106);
  ASSERT_TRUE(good.has_value()) << good.error().ToString();
  ASSERT_EQ(good->size(), 105u);
  for (size_t i = 0; i < good->size(); ++i) ASSERT_EQ((*good)[i].index, i + 1);
  ASSERT_TRUE((*w)->Close().ok());
}

// Files whose Map() fails (ENOMEM, or a file system that cannot map) on
// every other call.
class FlakyMapFile : public FileWrapper {
 public:
  FlakyMapFile(std::unique_ptr<File> f, int* calls) : FileWrapper(std::move(f)), calls_(calls) {}
  Result<std::shared_ptr<const FileMapping>> Map() override {
    if ((*calls_)++ % 2 == 0) return Status(StatusCode::kIoError, "injected mmap failure", ENOMEM);
    return FileWrapper::Map();
  }

 private:
  int* calls_;
};

class FlakyMaps : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& options) override {
    WAL_ASSIGN_OR_RETURN(auto f, FileSystemWrapper::Open(path, options));
    return std::unique_ptr<File>(std::make_unique<FlakyMapFile>(std::move(f), &calls));
  }
  int calls = 0;
};

// ReadAllMapped where segments cannot be mapped: those are copied, the
// others mapped, and the answer is ReadAll's; a failed read under it is
// ReadAll's error and changes nothing (the next read succeeds).
TEST(FaultInjection, MappedReadCopiesWhatCannotBeMappedAndFailsAsReadAll) {
  MemFileSystem mem;
  {
    auto w = WAL::Create(kFaultDir, "m", MemOptions(&mem));
    ASSERT_TRUE(w.has_value());
    for (int b = 0; b < 20; ++b) ASSERT_TRUE((*w)->Save(HardState{1, 1, 0}, Batch(b * 5 + 1, 5, 200)).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto plain = Recover(kFaultDir, MemOptions(&mem));
  ASSERT_TRUE(plain.has_value());
  FlakyMaps flaky(&mem);
  auto r = WAL::OpenForRead(kFaultDir, Snapshot{}, MemOptions(&flaky));
  ASSERT_TRUE(r.has_value());
  auto m = (*r)->ReadAllMapped();
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_GT(flaky.calls, 2) << "several segments";
  EXPECT_GT(m->mapped_bytes(), 0u);
  EXPECT_EQ(m->ToEntries(), plain->entries);
  EXPECT_EQ(m->state, plain->state);

  FailingReads failing(&mem);
  failing.fail = true;
  auto r2 = WAL::OpenForRead(kFaultDir, Snapshot{}, MemOptions(&failing));
  ASSERT_TRUE(r2.has_value());
  auto bad = (*r2)->ReadAllMapped();
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kIoError) << bad.error().ToString();
  failing.fail = false;
  auto r3 = WAL::OpenForRead(kFaultDir, Snapshot{}, MemOptions(&failing));
  ASSERT_TRUE(r3.has_value());
  auto good = (*r3)->ReadAllMapped();
  ASSERT_TRUE(good.has_value()) << good.error().ToString();
  EXPECT_EQ(good->ToEntries(), plain->entries);
}

// SaveAsync callers see a failed background sync too, and nothing after it.
TEST(FaultInjection, AsyncSaveReportsAFailedSync) {
  MemFileSystem fs;
  Options o = MemOptions(&fs);
  o.segment_size_bytes = 1 << 20;
  auto w = WAL::Create(kFaultDir, "m", o);
  ASSERT_TRUE(w.has_value());
  fs.SetOpHook([&](const OpInfo& op) {
    return op.kind == OpKind::kSync ? Status(StatusCode::kIoError, "injected fdatasync failure")
                                    : Status::Ok();
  });
  auto t = (*w)->SaveAsync(HardState{1, 1, 0}, Batch(1, 3));
  ASSERT_TRUE(t.has_value());
  Status s = (*w)->WaitDurable(*t);
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  EXPECT_FALSE((*w)->SaveAsync(HardState{1, 1, 0}, Batch(4, 1)).has_value());
  EXPECT_EQ((*w)->DurableIndex(), 0u);
  fs.SetOpHook(nullptr);
}

// --- The real POSIX file system with syscalls that misbehave.

class PosixFaults : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = internal::Syscalls(); }
  void TearDown() override { internal::Syscalls() = saved_; }
  internal::PosixSyscalls saved_;
};

std::mt19937_64* g_rng;
int g_eintr_left;

ssize_t ChoppyPwrite(int fd, const void* buf, size_t n, off_t off) {
  if ((*g_rng)() % 5 == 0 && g_eintr_left-- > 0) {
    errno = EINTR;
    return -1;
  }
  size_t take = n == 0 ? 0 : 1 + (*g_rng)() % n;
  return ::pwrite(fd, buf, take, off);
}
ssize_t ChoppyPread(int fd, void* buf, size_t n, off_t off) {
  if ((*g_rng)() % 5 == 0 && g_eintr_left-- > 0) {
    errno = EINTR;
    return -1;
  }
  size_t take = n == 0 ? 0 : 1 + (*g_rng)() % n;
  return ::pread(fd, buf, take, off);
}
int NoFallocate(int, int, off_t, off_t) {
  errno = EOPNOTSUPP;
  return -1;
}

TEST_F(PosixFaults, ShortWritesShortReadsEintrAndNoFallocate) {
  const uint64_t seed = testutil::Seed();
  std::mt19937_64 rng(seed);
  g_rng = &rng;
  g_eintr_left = 200;
  internal::Syscalls().pwrite = ChoppyPwrite;
  internal::Syscalls().pread = ChoppyPread;
  internal::Syscalls().fallocate = NoFallocate;
  testutil::TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  Options o;
  o.segment_size_bytes = 64 * 1024;
  auto w = WAL::Create(dir, "meta", o);
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  std::vector<Entry> all;
  for (int b = 0; b < 40; ++b) {
    auto batch = Batch(all.size() + 1, 10, 1 + rng() % 3000);
    ASSERT_TRUE((*w)->Save(HardState{1, 1, all.size()}, batch).ok()) << "seed " << seed;
    all.insert(all.end(), batch.begin(), batch.end());
  }
  ASSERT_TRUE((*w)->Close().ok());
  auto r = Recover(dir, o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString() << " seed " << seed;
  EXPECT_EQ(r->entries, all) << "seed " << seed;
  // Entries' preads return short too: the same entries.
  auto ro = WAL::OpenForRead(dir, Snapshot{}, o);
  ASSERT_TRUE(ro.has_value());
  ASSERT_TRUE((*ro)->ReadIndexed().has_value());
  auto back = (*ro)->Entries(1, all.size() + 1);
  ASSERT_TRUE(back.has_value()) << back.error().ToString() << " seed " << seed;
  EXPECT_EQ(*back, all) << "seed " << seed;
}

// ENOSPC in the middle of a flush: half a record reaches the file. The WAL
// stops (no later append can follow the half record); a reopen sees a torn
// tail, Repair cuts it, everything acknowledged is there.
int g_pwrites_before_enospc;
ssize_t EnospcPwrite(int fd, const void* buf, size_t n, off_t off) {
  if (g_pwrites_before_enospc-- > 0) return ::pwrite(fd, buf, n, off);
  if (g_pwrites_before_enospc == -1 && n > 1) return ::pwrite(fd, buf, n / 2, off);  // half, then ENOSPC
  errno = ENOSPC;
  return -1;
}

TEST_F(PosixFaults, EnospcMidRecordStopsTheWalAndRepairRecovers) {
  for (int fail_at : {1, 2, 3, 5, 8}) {
    testutil::TempDir tmp;
    const std::string dir = tmp.path() + "/wal";
    Options o;
    o.segment_size_bytes = 1 << 20;
    o.background_segment_preparation = false;
    auto w = WAL::Create(dir, "meta", o);
    ASSERT_TRUE(w.has_value());
    internal::Syscalls().pwrite = EnospcPwrite;
    g_pwrites_before_enospc = fail_at;
    uint64_t acked = 0;
    Status first_error;
    for (int b = 0; b < 12; ++b) {
      Status s = (*w)->Save(HardState{1, 1, acked}, Batch(b * 3 + 1, 3, 3000));
      if (s.ok()) {
        ASSERT_TRUE(first_error.ok()) << "append accepted after ENOSPC";
        acked = uint64_t(b * 3 + 3);
      } else if (first_error.ok()) {
        first_error = s;
      }
    }
    EXPECT_EQ(first_error.code(), StatusCode::kNoSpace) << first_error.ToString();
    internal::Syscalls() = saved_;
    w->reset();
    auto r = Recover(dir, o);
    ASSERT_TRUE(r.has_value()) << "fail_at " << fail_at << ": " << r.error().ToString();
    EXPECT_GE(r->entries.size(), acked);
    for (size_t i = 0; i < r->entries.size(); ++i) ASSERT_EQ(r->entries[i].index, i + 1);
  }
}

}  // namespace
}  // namespace wal
