// Behaviour of the public API beyond etcd's own tests: the seed's OpenAtIndex
// semantics, ReadAll's rules (overwrite, snapshot filtering, gaps,
// metadata, snapshots), write-mode vs read-mode tails, the mustSync rule,
// locking and life cycle, hostile input, and one test per StatusCode showing
// where the library returns it (where etcd returns the matching error).
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/proto.h"
#include "src/segment_names.h"
#include "tests/test_util.h"
#include "tests/wal_test_helpers.h"
#include "wal/wal.h"

// ---- allocation watch ------------------------------------------------------
// Replaces the global operator new for this test binary so a test can assert
// that hostile length words never make the reader allocate what they claim.
namespace {
std::atomic<bool> g_track_allocations{false};
std::atomic<size_t> g_largest_allocation{0};

void* CountedAlloc(std::size_t n) {
  if (g_track_allocations.load(std::memory_order_relaxed)) {
    size_t cur = g_largest_allocation.load(std::memory_order_relaxed);
    while (n > cur && !g_largest_allocation.compare_exchange_weak(cur, n)) {
    }
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) {
    std::fprintf(stderr, "operator new(%zu) failed\n", n);
    std::abort();
  }
  return p;
}
}  // namespace

// Every form that the deletes below may free is replaced, the nothrow ones
// too (std::stable_partition's temporary buffer uses them): ASan reports a
// nothrow new of its own freed by these deletes as a mismatch.
void* operator new(std::size_t n) { return CountedAlloc(n); }
void* operator new[](std::size_t n) { return CountedAlloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace wal {
namespace {

using internal::kEntryType;
using internal::kMetadataType;
using internal::kSnapshotType;
using internal::kStateType;
using internal::SegmentFileName;
using testutil::Ent;
using testutil::Ents;
using testutil::FaultInjectionFileSystem;
using testutil::Indexes;
using testutil::OpenReadAll;
using testutil::Range;
using testutil::ReadOnlyReadAll;
using testutil::SegmentBuilder;
using testutil::SegPath;
using testutil::SmallOptions;
using testutil::TempDir;
using testutil::WalNames;

constexpr uint64_t kSeg = 64 * 1024;

// Creates dir with entries [from, to] of `term` (one Save) and closes it.
void MakeLog(const std::string& dir, uint64_t from, uint64_t to, uint64_t term = 1,
             const Options& o = SmallOptions(kSeg)) {
  auto w = WAL::Create(dir, "md", o);
  ASSERT_TRUE(testutil::IsOk(w));
  if (to >= from) {
    ASSERT_TRUE(testutil::IsOk((*w)->Save(HardState{term, 1, from}, Ents(from, to, term))));
  }
  ASSERT_TRUE(testutil::IsOk((*w)->Close()));
}

// Writes hand-made segment bytes into a fresh WAL directory.
std::string MakeDir(const TempDir& tmp, const std::vector<std::pair<std::string, std::string>>& files) {
  const std::string dir = tmp.path() + "/wal";
  EXPECT_TRUE(CreateDirAll(FileSystem::Default(), dir, 0700).ok());
  for (const auto& [name, bytes] : files) testutil::WriteFile(dir + "/" + name, bytes);
  return dir;
}

// ============================================================================
// The seed's OpenAtIndex
// ============================================================================

TEST(OpenAtIndexTest, InclusiveFromIndex) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 10);
  for (uint64_t at : {1u, 5u, 10u}) {
    auto w = WAL::OpenAtIndex(dir, at, SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    auto r = (*w)->ReadAll();
    WAL_ASSERT_OK(r) << at;
    EXPECT_EQ(Indexes(r->entries), Range(at, 10)) << at;
    EXPECT_EQ(r->metadata, "md");
  }
}

TEST(OpenAtIndexTest, IndexNotFoundWhenLogEndsBefore) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 10);
  auto w = WAL::OpenAtIndex(dir, 11, SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kIndexNotFound);
  WAL_EXPECT_CODE((*w)->Save(HardState{}, Ents(11, 11)), StatusCode::kFailedPrecondition);
  // An empty log (Create only) has no index 1.
  TempDir tmp2;
  MakeLog(tmp2.path() + "/wal", 1, 0);
  auto w2 = WAL::OpenAtIndex(tmp2.path() + "/wal", 1, SmallOptions(kSeg));
  WAL_ASSERT_OK(w2);
  WAL_EXPECT_CODE((*w2)->ReadAll(), StatusCode::kIndexNotFound);
  w2->reset();  // release the locks
  auto w3 = WAL::OpenAtIndex(tmp2.path() + "/wal", 0, SmallOptions(kSeg));
  WAL_ASSERT_OK(w3);
  auto r = (*w3)->ReadAll();
  WAL_ASSERT_OK(r);
  EXPECT_TRUE(r->entries.empty());
}

TEST(OpenAtIndexTest, AppendableAfterReadAll) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 10);
  {
    auto w = WAL::OpenAtIndex(dir, 5, SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_EXPECT_CODE((*w)->Save(HardState{}, Ents(11, 11)), StatusCode::kFailedPrecondition)
        << "before ReadAll";
    WAL_ASSERT_OK((*w)->ReadAll());
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 11}, Ents(11, 12)));
    WAL_ASSERT_OK((*w)->SaveEntry(Ent(13, 1, "seed")));
    WAL_ASSERT_OK((*w)->SaveState(HardState{1, 1, 13}));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = OpenReadAll(dir);
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(1, 13));
  EXPECT_EQ(r->state, (HardState{1, 1, 13}));
  WAL_EXPECT_OK(Verify(dir, Snapshot{}));
}

// OpenAtIndex(0) reads a v2+ log (first entry 1) from its start, and a
// seed-era log (first entry 0) including entry 0; Open({}) drops entry 0.
TEST(OpenAtIndexTest, ZeroReadsLogsStartingAtZeroOrOne) {
  TempDir a, b;
  MakeLog(a.path() + "/wal", 1, 10);
  MakeLog(b.path() + "/wal", 0, 3);
  {
    auto w = WAL::OpenAtIndex(a.path() + "/wal", 0, SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    auto r = (*w)->ReadAll();
    WAL_ASSERT_OK(r);
    EXPECT_EQ(Indexes(r->entries), Range(1, 10));
  }
  {
    auto w = WAL::OpenAtIndex(b.path() + "/wal", 0, SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    auto r = (*w)->ReadAll();
    WAL_ASSERT_OK(r);
    EXPECT_EQ(Indexes(r->entries), Range(0, 3));
  }
  auto r = OpenReadAll(b.path() + "/wal");
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(1, 3));
}

// Segment selection is by index, and snapshot records do not matter.
TEST(OpenAtIndexTest, SelectsSegmentAndIgnoresSnapshots) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    for (uint64_t i = 1; i <= 30; i += 5) {
      WAL_ASSERT_OK((*w)->Save(HardState{1, 1, i}, Ents(i, i + 4)));
      WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{i, 7}));
      WAL_ASSERT_OK((*w)->Cut());
    }
    WAL_ASSERT_OK((*w)->Close());
  }
  ASSERT_EQ(WalNames(dir).size(), 7u);
  // Remove the first two segments (a purge): index 12 is in 2-b.
  ASSERT_EQ(::unlink(SegPath(dir, 0, 0).c_str()), 0);
  ASSERT_EQ(::unlink(SegPath(dir, 1, 6).c_str()), 0);
  auto w = WAL::OpenAtIndex(dir, 12, SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  auto r = (*w)->ReadAll();
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(12, 30));
  WAL_EXPECT_CODE(WAL::OpenAtIndex(dir, 5, SmallOptions(kSeg)), StatusCode::kFileNotFound);
}

// ============================================================================
// ReadAll rules
// ============================================================================

// Saving 1,2,3 then term-2 entries at 2 and at 3 returns [1, 2(t2), 3(t2)];
// an entry at an existing index drops everything after it.
TEST(ReadAllTest, OverwriteRule) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 0}, Ents(1, 3, 1)));
    WAL_ASSERT_OK((*w)->Save(HardState{2, 1, 0}, std::vector<Entry>{Ent(2, 2, "b")}));
    WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(3, 2, "c")}));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = OpenReadAll(dir);
  WAL_ASSERT_OK(r);
  ASSERT_EQ(r->entries.size(), 3u);
  EXPECT_EQ(r->entries[0], Ents(1, 1, 1)[0]);
  EXPECT_EQ(r->entries[1], Ent(2, 2, "b"));
  EXPECT_EQ(r->entries[2], Ent(3, 2, "c"));

  TempDir tmp2;
  const std::string dir2 = tmp2.path() + "/wal";
  {
    auto w = WAL::Create(dir2, "md", SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 0}, Ents(1, 5, 1)));
    WAL_ASSERT_OK((*w)->Cut());  // the overwrite may come in a later segment
    WAL_ASSERT_OK((*w)->Save(HardState{2, 1, 0}, std::vector<Entry>{Ent(3, 2, "x")}));
    WAL_ASSERT_OK((*w)->Close());
  }
  r = OpenReadAll(dir2);
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(1, 3));
  EXPECT_EQ(r->entries.back(), Ent(3, 2, "x"));
  // The seed's inclusive mode applies the same rule.
  auto w = WAL::OpenAtIndex(dir2, 2, SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  auto r2 = (*w)->ReadAll();
  WAL_ASSERT_OK(r2);
  EXPECT_EQ(Indexes(r2->entries), Range(2, 3));
  EXPECT_EQ(r2->entries.back(), Ent(3, 2, "x"));
}

// Entries at or below the snapshot index are not returned.
TEST(ReadAllTest, EntriesUpToSnapshotAreDropped) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 5}, Ents(1, 10)));
    WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{5, 1}));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = OpenReadAll(dir, Snapshot{5, 1});
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(6, 10));
  r = ReadOnlyReadAll(dir, Snapshot{5, 1});
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(6, 10));
  r = OpenReadAll(dir, Snapshot{10, 1});  // not recorded: swallowed in write mode
  WAL_ASSERT_OK(r);
  EXPECT_TRUE(r->entries.empty());
}

// A gap in entry indexes is ErrSliceOutOfRange, naming file and offset.
TEST(ReadAllTest, GapIsSliceOutOfRange) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 0}, Ents(1, 2)));
    WAL_ASSERT_OK((*w)->Save(HardState{}, Ents(4, 4)));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = OpenReadAll(dir);
  WAL_EXPECT_CODE(r, StatusCode::kSliceOutOfRange);
  EXPECT_NE(r.error().ToString().find(SegmentFileName(0, 0)), std::string::npos) << r.error().ToString();
  // The place as data: the segment, the offset of the entry's frame, its index.
  ASSERT_NE(r.error().place(), nullptr);
  EXPECT_EQ(r.error().place()->file, SegmentFileName(0, 0));
  EXPECT_TRUE(r.error().place()->offset.has_value());
  EXPECT_EQ(r.error().place()->index, 4u);
  WAL_EXPECT_CODE(ReadOnlyReadAll(dir), StatusCode::kSliceOutOfRange);
  // The first entry after the snapshot must be snapshot+1.
  WAL_EXPECT_CODE(OpenReadAll(dir, Snapshot{2, 0}), StatusCode::kSliceOutOfRange);
  TempDir tmp2;
  MakeLog(tmp2.path() + "/wal", 3, 5);
  WAL_EXPECT_CODE(OpenReadAll(tmp2.path() + "/wal"), StatusCode::kSliceOutOfRange);
  auto ok = OpenReadAll(tmp2.path() + "/wal", Snapshot{2, 0});  // starts right after the snapshot
  WAL_ASSERT_OK(ok);
  EXPECT_EQ(Indexes(ok->entries), Range(3, 5));
}

// Two segments with different metadata: ErrMetadataConflict from ReadAll
// (both modes) and Verify. A nil first metadata accepts any later one.
TEST(ReadAllTest, MetadataConflict) {
  auto build = [](std::optional<std::string> m0, std::optional<std::string> m1) {
    SegmentBuilder s0;
    s0.Head(m0).Ent(Ent(1, 1, "a"));
    SegmentBuilder s1(s0.crc());
    s1.Crc().Metadata(m1).Ent(Ent(2, 1, "b"));
    return std::vector<std::pair<std::string, std::string>>{{SegmentFileName(0, 0), s0.bytes()},
                                                            {SegmentFileName(1, 2), s1.bytes()}};
  };
  {
    TempDir tmp;
    const std::string dir = MakeDir(tmp, build("a", "b"));
    WAL_EXPECT_CODE(OpenReadAll(dir), StatusCode::kMetadataConflict);
    WAL_EXPECT_CODE(ReadOnlyReadAll(dir), StatusCode::kMetadataConflict);
    WAL_EXPECT_CODE(Verify(dir, Snapshot{}), StatusCode::kMetadataConflict);
    // Reading from the second segment alone sees one metadata only.
    auto r = OpenReadAll(dir, Snapshot{2, 0});
    WAL_ASSERT_OK(r);
    EXPECT_EQ(r->metadata, "b");
  }
  {
    TempDir tmp;
    const std::string dir = MakeDir(tmp, build("a", "a"));
    auto r = OpenReadAll(dir);
    WAL_ASSERT_OK(r);
    EXPECT_EQ(r->metadata, "a");
    EXPECT_EQ(Indexes(r->entries), Range(1, 2));
  }
  {
    TempDir tmp;  // "a" then nil: conflict
    const std::string dir = MakeDir(tmp, build("a", std::nullopt));
    WAL_EXPECT_CODE(OpenReadAll(dir), StatusCode::kMetadataConflict);
  }
  {
    TempDir tmp;  // nil then "b": etcd's quirk, accepted
    const std::string dir = MakeDir(tmp, build(std::nullopt, "b"));
    auto r = OpenReadAll(dir);
    WAL_ASSERT_OK(r);
    EXPECT_EQ(r->metadata, "b");
    WAL_EXPECT_OK(Verify(dir, Snapshot{}));
  }
  {
    TempDir tmp;  // empty (non-nil) then nil: bytes.Equal([]byte{}, nil)
    const std::string dir = MakeDir(tmp, build(std::string(), std::nullopt));
    auto r = OpenReadAll(dir);
    WAL_ASSERT_OK(r);
    EXPECT_EQ(r->metadata, "");
  }
}

// Snapshot record with the requested index: same term matches, another
// term is ErrSnapshotMismatch (both modes and Verify).
TEST(ReadAllTest, SnapshotMatchAndMismatch) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{2, 1, 5}, Ents(1, 5, 2)));
    WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{5, 2}));
    WAL_ASSERT_OK((*w)->Save(HardState{}, Ents(6, 8, 2)));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = OpenReadAll(dir, Snapshot{5, 2});
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(6, 8));
  WAL_EXPECT_OK(Verify(dir, Snapshot{5, 2}));
  WAL_EXPECT_OK(Verify(dir, Snapshot{0, 0}));
  WAL_EXPECT_CODE(OpenReadAll(dir, Snapshot{5, 3}), StatusCode::kSnapshotMismatch);
  WAL_EXPECT_CODE(ReadOnlyReadAll(dir, Snapshot{5, 3}), StatusCode::kSnapshotMismatch);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{5, 3}), StatusCode::kSnapshotMismatch);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{0, 1}), StatusCode::kSnapshotMismatch);
}

// A snapshot that was never recorded: ErrSnapshotNotFound from OpenForRead
// and Verify; Open swallows it and returns the data (as etcd v3.4 does).
TEST(ReadAllTest, SnapshotNotFoundOnlyInReadMode) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 8}, Ents(1, 8)));
    WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{5, 1}));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = OpenReadAll(dir, Snapshot{7, 1});
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(8, 8));
  EXPECT_EQ(r->state, (HardState{1, 1, 8}));
  WAL_EXPECT_CODE(ReadOnlyReadAll(dir, Snapshot{7, 1}), StatusCode::kSnapshotNotFound);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{7, 1}), StatusCode::kSnapshotNotFound);
  // And the WAL opened in write mode is appendable afterwards.
  auto w = WAL::Open(dir, Snapshot{7, 1}, SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_ASSERT_OK((*w)->ReadAll());
  WAL_EXPECT_OK((*w)->Save(HardState{}, Ents(9, 9)));
}

// Only the last hard state counts, also across segments (cut heads repeat it).
TEST(ReadAllTest, LastHardStateWins) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 1}, Ents(1, 1)));
    WAL_ASSERT_OK((*w)->Save(HardState{2, 2, 1}, {}));
    WAL_ASSERT_OK((*w)->Cut());
    WAL_ASSERT_OK((*w)->Save(HardState{}, Ents(2, 2)));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = OpenReadAll(dir);
  WAL_ASSERT_OK(r);
  EXPECT_EQ(r->state, (HardState{2, 2, 1}));
  // Starting at the second segment, the state comes from its head.
  r = OpenReadAll(dir, Snapshot{2, 0});
  WAL_ASSERT_OK(r);
  EXPECT_EQ(r->state, (HardState{2, 2, 1}));
}

// ============================================================================
// Tails: torn records and zero-to-end
// ============================================================================

// A torn last record is tolerated by OpenForRead (and Verify), but Open
// must read to a clean end: kUnexpectedEof (call Repair).
TEST(TailTest, TornTailReadModeToleratesWriteModeRejects) {
  for (int variant = 0; variant < 2; ++variant) {
    TempDir tmp;
    const std::string dir = tmp.path() + "/wal";
    {
      auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
      WAL_ASSERT_OK(w);
      for (uint64_t i = 1; i <= 5; ++i) {
        WAL_ASSERT_OK(
            (*w)->Save(HardState{1, 1, i}, std::vector<Entry>{Ent(i, 1, std::string(1500, 'a' + i))}));
      }
      WAL_ASSERT_OK((*w)->Close());
    }
    const std::string path = SegPath(dir, 0, 0);
    auto log = testutil::DecodeFile(path);
    WAL_ASSERT_OK(log.end);
    const auto& last = log.records.back();  // the state after entry 5
    const auto& ent5 = log.records[log.records.size() - 2];
    ASSERT_EQ(ent5.type, kEntryType);
    if (variant == 0) {
      testutil::TruncateFile(path, last.offset + last.frame_bytes - 3);  // file ends mid-record
    } else {
      // A zeroed 512-byte sector inside entry 5's data (its frame spans > 1 sector).
      const uint64_t sector = (ent5.offset / 512 + 1) * 512;
      ASSERT_LT(sector + 512, ent5.offset + ent5.frame_bytes);
      testutil::WriteAt(path, sector, std::string(512, '\0'));
    }
    const uint64_t want_last = variant == 0 ? 5 : 4;
    auto r = ReadOnlyReadAll(dir);
    WAL_ASSERT_OK(r) << variant;
    EXPECT_EQ(Indexes(r->entries), Range(1, want_last));
    WAL_EXPECT_OK(Verify(dir, Snapshot{}));
    const std::string before = testutil::ReadFile(path);
    WAL_EXPECT_CODE(OpenReadAll(dir), StatusCode::kUnexpectedEof) << variant;
    EXPECT_TRUE(testutil::ReadFile(path) == before) << "a failed write-mode ReadAll must not touch the tail";
  }
}

// In write mode a successful ReadAll zeroes everything after the last valid
// record of the tail (garbage behind a zero length word is a torn write that
// later appends must not half-cover). Read mode leaves the file alone.
TEST(TailTest, WriteModeOpenZeroesGarbageAfterZeroWord) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 3);
  const std::string path = SegPath(dir, 0, 0);
  const uint64_t end = testutil::DataEnd(path);
  std::string garbage(8, '\0');
  for (int i = 0; i < 100; ++i) garbage += "GARBAGE!";
  testutil::WriteAt(path, end, garbage);
  const std::string with_garbage = testutil::ReadFile(path);
  ASSERT_EQ(with_garbage.size(), kSeg);

  auto r = ReadOnlyReadAll(dir);
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(1, 3));
  EXPECT_TRUE(testutil::ReadFile(path) == with_garbage) << "OpenForRead must not modify the tail";

  {
    auto w = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    auto r2 = (*w)->ReadAll();
    WAL_ASSERT_OK(r2);
    EXPECT_EQ(Indexes(r2->entries), Range(1, 3));
    const std::string after = testutil::ReadFile(path);
    EXPECT_EQ(after.size(), kSeg) << "the preallocated size is kept";
    EXPECT_EQ(after.substr(0, end), with_garbage.substr(0, end));
    EXPECT_EQ(after.find_first_not_of('\0', end), std::string::npos)
        << "garbage after the zero word is zeroed";
    // Appending a little, then reading, sees no stale bytes.
    WAL_ASSERT_OK((*w)->Save(HardState{}, Ents(4, 4)));
    WAL_ASSERT_OK((*w)->Close());
  }
  r = OpenReadAll(dir);
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(1, 4));
}

// A crash can leave the tail at any size. Zero-to-end keeps it in whole
// 8-byte frame words: fewer than 8 zero bytes after the last frame of a
// later append would read as a partial length word, a torn tail, on a log
// that was closed cleanly (crash enumeration, WAL_TEST_SEED=253421). Every
// tail size from end+8 (a zero length word: the end) to end+88 is tried,
// so appends end at every distance from the file's end. (Fewer than 8
// bytes after the last record are a torn length word, as in etcd.)
TEST(TailTest, WriteModeOpenOfAnOddSizedTailLeavesNoPartialLengthWord) {
  for (uint64_t extra = 8; extra <= 88; ++extra) {
    SCOPED_TRACE("tail = data end + " + std::to_string(extra) + " zero bytes");
    TempDir tmp;
    const std::string dir = tmp.path() + "/wal";
    MakeLog(dir, 1, 3);
    const std::string path = SegPath(dir, 0, 0);
    const uint64_t end = testutil::DataEnd(path);
    ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(end + extra)), 0);
    {
      auto w = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
      WAL_ASSERT_OK(w);
      WAL_ASSERT_OK((*w)->ReadAll());
      EXPECT_EQ(testutil::ReadFile(path).size() % 8, 0u);
      WAL_ASSERT_OK((*w)->Save(HardState{1, 0, 4}, Ents(4, 4)));
      WAL_ASSERT_OK((*w)->Close());
    }
    auto r = OpenReadAll(dir);
    WAL_ASSERT_OK(r);
    EXPECT_EQ(Indexes(r->entries), Range(1, 4));
  }
}

// ============================================================================
// Durability: the mustSync rule
// ============================================================================

TEST(SyncTest, MustSyncRule) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL& wal = **w;
  auto syncs = [&] { return wal.stats().syncs; };
  EXPECT_GE(syncs(), 1u) << "Create syncs the first segment";
  uint64_t s = syncs();

  auto expect_sync = [&](Status st, bool want, const char* what) {
    WAL_ASSERT_OK(st) << what;
    EXPECT_EQ(syncs(), s + (want ? 1 : 0)) << what;
    s = syncs();
  };
  expect_sync(wal.Save(HardState{}, {}), false, "empty state, no entries: nothing");
  const uint64_t bytes = wal.stats().bytes_written;
  expect_sync(wal.Save(HardState{}, {}), false, "again");
  EXPECT_EQ(wal.stats().bytes_written, bytes);
  expect_sync(wal.Save(HardState{0, 0, 5}, {}), false, "commit-only change from the empty state");
  expect_sync(wal.Save(HardState{1, 0, 5}, {}), true, "term change");
  expect_sync(wal.Save(HardState{1, 1, 5}, {}), true, "vote change");
  expect_sync(wal.Save(HardState{1, 1, 6}, {}), false, "commit-only change");
  expect_sync(wal.Save(HardState{1, 1, 6}, {}), false, "same state again");
  expect_sync(wal.Save(HardState{}, Ents(1, 1)), true, "entries, empty state");
  expect_sync(wal.Save(HardState{1, 1, 7}, Ents(2, 3)), true, "entries + commit-only change");
  expect_sync(wal.Save(HardState{2, 0, 7}, {}), true, "term change, vote reset");
  expect_sync(wal.SaveSnapshot(Snapshot{1, 1}), true, "SaveSnapshot always syncs");
  expect_sync(wal.SaveSnapshot(Snapshot{1, 1}), true, "SaveSnapshot again");
  // The seed's single-record appends never sync; Sync makes them durable.
  expect_sync(wal.SaveEntry(Ent(4, 2)), false, "SaveEntry");
  expect_sync(wal.SaveState(HardState{3, 0, 7}), false, "SaveState");
  expect_sync(wal.Sync(), true, "Sync after unsynced appends");
  const uint64_t cuts = wal.stats().cuts;
  WAL_ASSERT_OK(wal.Cut());
  EXPECT_GE(syncs(), s + 2) << "cut syncs the old tail and the new head";
  EXPECT_EQ(wal.stats().cuts, cuts + 1);
  s = syncs();
  WAL_ASSERT_OK(wal.Close());
  EXPECT_EQ(syncs(), s + 1) << "Close syncs in append mode";

  // Everything saved without a sync was still written (Close flushed it).
  auto r = OpenReadAll(dir, Snapshot{1, 1});
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(2, 4));
  EXPECT_EQ(r->state, (HardState{3, 0, 7}));
}

// etcd's ReadAll does not restore w.state, so after a reopen the first
// Save with a non-empty state syncs even if only the commit moved.
TEST(SyncTest, StateForMustSyncIsNotRestoredByReadAll) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 3);  // state {1, 1, 1}
  auto w = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  auto r = (*w)->ReadAll();
  WAL_ASSERT_OK(r);
  ASSERT_EQ(r->state, (HardState{1, 1, 1}));
  const uint64_t s = (*w)->stats().syncs;
  WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 2}, {}));
  EXPECT_EQ((*w)->stats().syncs, s + 1);
  WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 3}, {}));
  EXPECT_EQ((*w)->stats().syncs, s + 1);
}

// ============================================================================
// Locks and life cycle
// ============================================================================

TEST(LifeCycleTest, SecondWriterIsLocked) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_EXPECT_CODE(WAL::Open(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kLocked);
  WAL_EXPECT_CODE(WAL::OpenAtIndex(dir, 0, SmallOptions(kSeg)), StatusCode::kLocked);
  WAL_EXPECT_CODE(Repair(dir, SmallOptions(kSeg)), StatusCode::kLocked);
  // Readers take no locks.
  WAL_EXPECT_OK(ReadOnlyReadAll(dir));
  WAL_EXPECT_OK(Verify(dir, Snapshot{}));
  WAL_EXPECT_OK(ValidSnapshotEntries(dir));
  WAL_ASSERT_OK((*w)->Close());

  auto a = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(a);
  WAL_EXPECT_CODE(WAL::Open(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kLocked);
  WAL_ASSERT_OK((*a)->ReadAll());
  WAL_EXPECT_CODE(WAL::Open(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kLocked);
  a->reset();  // the destructor closes and releases
  auto b = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_EXPECT_OK(b);
}

TEST(LifeCycleTest, CloseIsIdempotentAndFinal) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 1}, Ents(1, 2)));
  WAL_EXPECT_OK((*w)->Close());
  WAL_EXPECT_OK((*w)->Close());
  WAL_EXPECT_CODE((*w)->Save(HardState{1, 1, 2}, Ents(3, 3)), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->SaveEntry(Ent(3)), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->SaveState(HardState{1, 1, 2}), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->SaveSnapshot(Snapshot{1, 1}), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->Sync(), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->Cut(), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kDecoderNotFound);
  WAL_EXPECT_OK((*w)->Close());
  // Nothing was written after Close; the lock is gone.
  auto r = OpenReadAll(dir);
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(1, 2));
  // A read-only WAL closes fine, twice.
  auto ro = WAL::OpenForRead(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(ro);
  WAL_EXPECT_OK((*ro)->Close());
  WAL_EXPECT_OK((*ro)->Close());
}

TEST(LifeCycleTest, ReadModeIsNotAppendable) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 3);
  auto ro = WAL::OpenForRead(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(ro);
  WAL_EXPECT_CODE((*ro)->Save(HardState{}, Ents(4, 4)), StatusCode::kFailedPrecondition);
  WAL_ASSERT_OK((*ro)->ReadAll());
  WAL_EXPECT_CODE((*ro)->Save(HardState{}, Ents(4, 4)), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*ro)->Cut(), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*ro)->ReadAll(), StatusCode::kDecoderNotFound);
  // After a failed write-mode ReadAll nothing can be appended either.
  TempDir tmp2;
  MakeLog(tmp2.path() + "/wal", 1, 3);
  testutil::TruncateFile(SegPath(tmp2.path() + "/wal", 0, 0),
                         testutil::DataEnd(SegPath(tmp2.path() + "/wal", 0, 0)) - 1);
  auto w = WAL::Open(tmp2.path() + "/wal", Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_ASSERT_CODE((*w)->ReadAll(), StatusCode::kUnexpectedEof);
  WAL_EXPECT_CODE((*w)->Save(HardState{}, Ents(4, 4)), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kDecoderNotFound);
}

// ============================================================================
// Hostile input
// ============================================================================

// A length word larger than the rest of the file: kUnexpectedEof when it is
// the last segment (a repairable torn tail; read mode tolerates it),
// kCorruption in an earlier segment. Either way the reader never allocates
// what the word claims.
TEST(HostileTest, LengthWordBeyondEndOfFile) {
  for (uint64_t word :
       {uint64_t{1} << 30, uint64_t{0x00FFFFFFFFFFFFFF}, uint64_t{0x87FFFFFFFFFFFFFF}, uint64_t{4096}}) {
    SCOPED_TRACE(word);
    SegmentBuilder s0;
    s0.Head(std::string("md")).Ent(Ent(1, 1, "a")).Ent(Ent(2, 1, "b"));
    SegmentBuilder bad = s0;
    bad.Word(word).Raw(std::string(100, '\x5a'));
    {
      TempDir tmp;
      const std::string dir = MakeDir(tmp, {{SegmentFileName(0, 0), bad.bytes()}});
      g_largest_allocation = 0;
      g_track_allocations = true;
      auto w = OpenReadAll(dir);
      auto ro = ReadOnlyReadAll(dir);
      Status v = Verify(dir, Snapshot{});
      g_track_allocations = false;
      WAL_EXPECT_CODE(w, StatusCode::kUnexpectedEof);
      WAL_ASSERT_OK(ro);
      EXPECT_EQ(Indexes(ro->entries), Range(1, 2));
      WAL_EXPECT_OK(v);
      EXPECT_LT(g_largest_allocation.load(), size_t{16} << 20) << "largest single allocation";
    }
    {
      SegmentBuilder s1(s0.crc());
      s1.Crc().Metadata(std::string("md")).Ent(Ent(3, 1, "c"));
      TempDir tmp;
      const std::string dir =
          MakeDir(tmp, {{SegmentFileName(0, 0), bad.bytes()}, {SegmentFileName(1, 3), s1.bytes()}});
      g_largest_allocation = 0;
      g_track_allocations = true;
      auto w = OpenReadAll(dir);
      auto ro = ReadOnlyReadAll(dir);
      Status v = Verify(dir, Snapshot{});
      auto snaps = ValidSnapshotEntries(dir);
      g_track_allocations = false;
      WAL_EXPECT_CODE(w, StatusCode::kCorruption);
      WAL_EXPECT_CODE(ro, StatusCode::kCorruption);
      WAL_EXPECT_CODE(v, StatusCode::kCorruption);
      WAL_EXPECT_CODE(snaps, StatusCode::kCorruption);
      EXPECT_NE(w.error().ToString().find(SegmentFileName(0, 0)), std::string::npos) << w.error().ToString();
      EXPECT_LT(g_largest_allocation.load(), size_t{16} << 20) << "largest single allocation";
    }
  }
}

// An unknown record type (valid CRC) is "unexpected block type": kCorruption
// naming the segment and the frame's offset. ValidSnapshotEntries and Repair
// skip unknown types, as etcd does.
TEST(HostileTest, UnknownRecordType) {
  SegmentBuilder s;
  s.Head(std::string("md")).Ent(Ent(1, 1, "a"));
  const size_t off = s.size();
  s.Record(9, true, "who knows").Ent(Ent(2, 1, "b"));
  TempDir tmp;
  const std::string dir = MakeDir(tmp, {{SegmentFileName(0, 0), s.bytes()}});
  for (const Status& st : {OpenReadAll(dir).error(), ReadOnlyReadAll(dir).error(), Verify(dir, Snapshot{})}) {
    WAL_EXPECT_CODE(st, StatusCode::kCorruption);
    const std::string text = st.ToString();
    EXPECT_NE(text.find("type 9"), std::string::npos) << text;
    EXPECT_NE(text.find(SegmentFileName(0, 0)), std::string::npos) << text;
    EXPECT_NE(text.find("offset " + std::to_string(off)), std::string::npos) << text;
  }
  auto snaps = ValidSnapshotEntries(dir);
  WAL_ASSERT_OK(snaps);
  auto rep = Repair(dir);
  WAL_ASSERT_OK(rep);
  EXPECT_TRUE(*rep);
  EXPECT_EQ(testutil::ReadFile(dir + "/" + SegmentFileName(0, 0)), s.bytes());
}

// A payload that is not a valid protobuf, in a record whose CRC is right
// (etcd panics in MustUnmarshal): kCorruption, in every reader that decodes
// that payload type.
TEST(HostileTest, MalformedPayloadWithValidCrc) {
  const std::string junk("\xff\xff\xff", 3);  // a truncated varint tag
  struct Case {
    int64_t type;
    bool verify_reads;  // Verify decodes snapshots only
    bool vse_reads;     // ValidSnapshotEntries decodes snapshots and states
  };
  for (const Case& c :
       {Case{kEntryType, false, false}, Case{kStateType, false, true}, Case{kSnapshotType, true, true}}) {
    SCOPED_TRACE(c.type);
    SegmentBuilder s;
    s.Head(std::string("md")).Ent(Ent(1, 1, "a"));
    const size_t off = s.size();
    s.Record(c.type, true, junk).Ent(Ent(2, 1, "b"));
    TempDir tmp;
    const std::string dir = MakeDir(tmp, {{SegmentFileName(0, 0), s.bytes()}});
    auto r = OpenReadAll(dir);
    WAL_EXPECT_CODE(r, StatusCode::kCorruption);
    EXPECT_NE(r.error().ToString().find("offset " + std::to_string(off)), std::string::npos)
        << r.error().ToString();
    WAL_EXPECT_CODE(ReadOnlyReadAll(dir), StatusCode::kCorruption);
    if (c.verify_reads) {
      WAL_EXPECT_CODE(Verify(dir, Snapshot{}), StatusCode::kCorruption);
    } else {
      WAL_EXPECT_OK(Verify(dir, Snapshot{}));
    }
    if (c.vse_reads) {
      WAL_EXPECT_CODE(ValidSnapshotEntries(dir), StatusCode::kCorruption);
    } else {
      WAL_EXPECT_OK(ValidSnapshotEntries(dir));
    }
  }
}

// Bytes that are not a walpb.Record at all, in a complete frame with no
// zero sector: corruption, not a torn write, even in the last segment, when
// more data follows beyond its sector (both torn-write rules) or under
// etcd's rule. Under the default kZeroTail rule, the same frame as the very
// last thing ever written is a torn write.
TEST(HostileTest, MalformedRecordIsCorruptionNotTorn) {
  SegmentBuilder s;
  s.Head(std::string("md")).Ent(Ent(1, 1, "a"));
  s.Frame(std::string(13, '\xff'), true);
  SegmentBuilder followed = s;
  followed.ZerosTo(512).Ent(Ent(2, 1, std::string(600, 'z')));  // data beyond the bad frame's sector
  for (TornWriteRule rule : {TornWriteRule::kEtcd, TornWriteRule::kZeroTail}) {
    SCOPED_TRACE(static_cast<int>(rule));
    const Options o = testutil::WithRule(SmallOptions(kSeg), rule);
    TempDir tmp;
    const std::string dir = MakeDir(tmp, {{SegmentFileName(0, 0), followed.bytes()}});
    WAL_EXPECT_CODE(OpenReadAll(dir, Snapshot{}, o), StatusCode::kCorruption);
    WAL_EXPECT_CODE(ReadOnlyReadAll(dir, Snapshot{}, o), StatusCode::kCorruption);
    WAL_EXPECT_CODE(Verify(dir, Snapshot{}, o), StatusCode::kCorruption);
    auto rep = Repair(dir, o);
    WAL_ASSERT_OK(rep);
    EXPECT_FALSE(*rep);
    EXPECT_TRUE(testutil::ReadFile(dir + "/" + SegmentFileName(0, 0)) == followed.bytes());
  }
  {
    TempDir tmp;
    const Options o = testutil::WithRule(SmallOptions(kSeg), TornWriteRule::kEtcd);
    const std::string dir = MakeDir(tmp, {{SegmentFileName(0, 0), s.bytes()}});
    WAL_EXPECT_CODE(OpenReadAll(dir, Snapshot{}, o), StatusCode::kCorruption);
    auto rep = Repair(dir, o);
    WAL_ASSERT_OK(rep);
    EXPECT_FALSE(*rep);
  }
  {
    TempDir tmp;
    const Options o = testutil::WithRule(SmallOptions(kSeg), TornWriteRule::kZeroTail);
    const std::string dir = MakeDir(tmp, {{SegmentFileName(0, 0), s.bytes()}});
    WAL_EXPECT_CODE(OpenReadAll(dir, Snapshot{}, o), StatusCode::kUnexpectedEof);
    auto ro = ReadOnlyReadAll(dir, Snapshot{}, o);
    WAL_ASSERT_OK(ro);
    EXPECT_EQ(Indexes(ro->entries), Range(1, 1));
  }
}

// The two torn-write rules on a bit flip in the very last record of the
// log (no zero sector in it, only preallocated zeros after it): etcd's rule
// calls it a CRC mismatch that Repair refuses; kZeroTail calls it a torn
// write that Repair cuts off (keeping the .broken copy).
TEST(HostileTest, LastRecordBitFlipUnderBothTornRules) {
  for (TornWriteRule rule : {TornWriteRule::kEtcd, TornWriteRule::kZeroTail}) {
    SCOPED_TRACE(static_cast<int>(rule));
    const Options o = testutil::WithRule(SmallOptions(kSeg), rule);
    TempDir tmp;
    const std::string dir = tmp.path() + "/wal";
    {
      auto w = WAL::Create(dir, "md", o);
      WAL_ASSERT_OK(w);
      WAL_ASSERT_OK((*w)->Save(HardState{}, Ents(1, 2)));
      WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(3, 1, "last-entry")}));
      WAL_ASSERT_OK((*w)->Close());
    }
    const std::string path = SegPath(dir, 0, 0);
    const std::string bytes = testutil::ReadFile(path);
    testutil::WriteAt(path, bytes.find("last-entry"), "L");
    const std::string corrupted = testutil::ReadFile(path);
    const bool etcd = rule == TornWriteRule::kEtcd;
    WAL_EXPECT_CODE(OpenReadAll(dir, Snapshot{}, o),
                    etcd ? StatusCode::kCrcMismatch : StatusCode::kUnexpectedEof);
    auto ro = ReadOnlyReadAll(dir, Snapshot{}, o);
    if (etcd) {
      WAL_EXPECT_CODE(ro, StatusCode::kCrcMismatch);
    } else {
      WAL_ASSERT_OK(ro);
      EXPECT_EQ(Indexes(ro->entries), Range(1, 2));
    }
    auto rep = Repair(dir, o);
    WAL_ASSERT_OK(rep);
    EXPECT_EQ(*rep, !etcd);
    EXPECT_EQ(testutil::PathExistsPosix(path + ".broken"), !etcd);
    if (etcd) {
      EXPECT_TRUE(testutil::ReadFile(path) == corrupted);
    } else {
      EXPECT_TRUE(testutil::ReadFile(path + ".broken") == corrupted);
      auto r = OpenReadAll(dir, Snapshot{}, o);
      WAL_ASSERT_OK(r);
      EXPECT_EQ(Indexes(r->entries), Range(1, 2));
    }
  }
}

// A crc record that disagrees with the chain: ErrCRCMismatch. A reader that
// starts at that segment (running CRC 0) adopts it instead.
TEST(HostileTest, CrcRecordMismatch) {
  SegmentBuilder s0;
  s0.Head(std::string("md")).Ent(Ent(1, 1, "a"));
  SegmentBuilder s1(s0.crc() ^ 1);
  s1.Crc().Metadata(std::string("md")).Ent(Ent(2, 1, "b")).Ent(Ent(3, 1, "c"));
  TempDir tmp;
  const std::string dir =
      MakeDir(tmp, {{SegmentFileName(0, 0), s0.bytes()}, {SegmentFileName(1, 2), s1.bytes()}});
  WAL_EXPECT_CODE(OpenReadAll(dir), StatusCode::kCrcMismatch);
  WAL_EXPECT_CODE(ReadOnlyReadAll(dir), StatusCode::kCrcMismatch);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{}), StatusCode::kCrcMismatch);
  WAL_EXPECT_CODE(ValidSnapshotEntries(dir), StatusCode::kCrcMismatch);
  auto r = OpenReadAll(dir, Snapshot{2, 0});
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(3, 3));
}

// ============================================================================
// One test per StatusCode: where the library returns it.
// ============================================================================

TEST(StatusTest, PlaceIsDataAndSurvivesContext) {
  const Status s = Status::At(StatusCode::kCrcMismatch, ErrorPlace{"crc mismatch", "seg.wal", 4096, 7});
  EXPECT_EQ(s.message(), "wal: crc mismatch in seg.wal at offset 4096");
  ASSERT_NE(s.place(), nullptr);
  EXPECT_EQ(s.place()->index, 7u);
  const Status c = s.WithContext("opening");
  EXPECT_EQ(c.message(), "opening: wal: crc mismatch in seg.wal at offset 4096");
  ASSERT_NE(c.place(), nullptr);
  EXPECT_EQ(c.place()->offset, 4096u);
  const Status copy = c;  // NOLINT: the copy is the point
  ASSERT_NE(copy.place(), nullptr);
  EXPECT_EQ(copy.place()->file, "seg.wal");
  EXPECT_EQ(Status(StatusCode::kCorruption, "x").place(), nullptr);
  EXPECT_EQ(Status::Ok().place(), nullptr);
}

TEST(CodesTest, MetadataConflict) {
  SegmentBuilder s;
  s.Head(std::string("a")).Metadata(std::string("b"));
  TempDir tmp;
  const std::string dir = MakeDir(tmp, {{SegmentFileName(0, 0), s.bytes()}});
  WAL_EXPECT_CODE(OpenReadAll(dir), StatusCode::kMetadataConflict);
  WAL_EXPECT_CODE(ReadOnlyReadAll(dir), StatusCode::kMetadataConflict);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{}), StatusCode::kMetadataConflict);
}

TEST(CodesTest, FileNotFound) {
  TempDir tmp;
  const std::string missing = tmp.path() + "/missing";
  for (const std::string& dir : {tmp.path(), missing}) {
    WAL_EXPECT_CODE(WAL::Open(dir, Snapshot{}), StatusCode::kFileNotFound);
    WAL_EXPECT_CODE(WAL::OpenForRead(dir, Snapshot{}), StatusCode::kFileNotFound);
    WAL_EXPECT_CODE(WAL::OpenAtIndex(dir, 0), StatusCode::kFileNotFound);
    WAL_EXPECT_CODE(Verify(dir, Snapshot{}), StatusCode::kFileNotFound);
    WAL_EXPECT_CODE(ValidSnapshotEntries(dir), StatusCode::kFileNotFound);
    WAL_EXPECT_CODE(Repair(dir), StatusCode::kFileNotFound);
  }
  // Only non-segment files.
  testutil::WriteFile(tmp.path() + "/0.tmp", "");
  testutil::WriteFile(tmp.path() + "/" + SegmentFileName(0, 0) + ".broken", "");
  WAL_EXPECT_CODE(WAL::Open(tmp.path(), Snapshot{}), StatusCode::kFileNotFound);
  // No segment can hold the snapshot index (the log starts after it).
  testutil::WriteFile(tmp.path() + "/" + SegmentFileName(1, 5), "");
  WAL_EXPECT_CODE(WAL::Open(tmp.path(), Snapshot{3, 0}), StatusCode::kFileNotFound);
  WAL_EXPECT_CODE(WAL::OpenAtIndex(tmp.path(), 3), StatusCode::kFileNotFound);
  WAL_EXPECT_CODE(Verify(tmp.path(), Snapshot{3, 0}), StatusCode::kFileNotFound);
  WAL_EXPECT_OK(WAL::Open(tmp.path(), Snapshot{5, 0}));
}

TEST(CodesTest, IndexNotFound) {
  TempDir tmp;
  MakeLog(tmp.path() + "/wal", 1, 3);
  auto w = WAL::OpenAtIndex(tmp.path() + "/wal", 4);
  WAL_ASSERT_OK(w);
  WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kIndexNotFound);
}

// A flipped byte in a record that more data follows (beyond its sector, so
// it cannot be the torn end of the log under either torn-write rule).
TEST(CodesTest, CrcMismatch) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, "md", SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    for (uint64_t i = 1; i <= 3; ++i) {
      WAL_ASSERT_OK(
          (*w)->Save(HardState{1, 1, i},
                     std::vector<Entry>{Ent(i, 1, "data" + std::to_string(i) + std::string(1000, '.'))}));
    }
    WAL_ASSERT_OK((*w)->Close());
  }
  const std::string path = SegPath(dir, 0, 0);
  const std::string bytes = testutil::ReadFile(path);
  testutil::WriteAt(path, bytes.find("data2") + 4, "X");
  WAL_EXPECT_CODE(OpenReadAll(dir), StatusCode::kCrcMismatch);
  WAL_EXPECT_CODE(ReadOnlyReadAll(dir), StatusCode::kCrcMismatch);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{}), StatusCode::kCrcMismatch);
  WAL_EXPECT_CODE(ValidSnapshotEntries(dir), StatusCode::kCrcMismatch);
}

TEST(CodesTest, SnapshotMismatch) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 0);  // only the {0,0} snapshot
  WAL_EXPECT_CODE(OpenReadAll(dir, Snapshot{0, 1}), StatusCode::kSnapshotMismatch);
  WAL_EXPECT_CODE(ReadOnlyReadAll(dir, Snapshot{0, 1}), StatusCode::kSnapshotMismatch);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{0, 1}), StatusCode::kSnapshotMismatch);
}

TEST(CodesTest, SnapshotNotFound) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 3);
  WAL_EXPECT_CODE(ReadOnlyReadAll(dir, Snapshot{2, 1}), StatusCode::kSnapshotNotFound);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{2, 1}), StatusCode::kSnapshotNotFound);
  WAL_EXPECT_OK(OpenReadAll(dir, Snapshot{2, 1}));  // swallowed, as in etcd v3.4
}

TEST(CodesTest, SliceOutOfRange) {
  TempDir tmp;
  MakeLog(tmp.path() + "/wal", 2, 3);
  WAL_EXPECT_CODE(OpenReadAll(tmp.path() + "/wal"), StatusCode::kSliceOutOfRange);
  WAL_EXPECT_CODE(ReadOnlyReadAll(tmp.path() + "/wal"), StatusCode::kSliceOutOfRange);
}

TEST(CodesTest, DecoderNotFound) {
  TempDir tmp;
  auto w = WAL::Create(tmp.path() + "/wal", "md", SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kDecoderNotFound);
}

TEST(CodesTest, AlreadyExists) {
  TempDir tmp;
  MakeLog(tmp.path() + "/wal", 1, 1);
  WAL_EXPECT_CODE(WAL::Create(tmp.path() + "/wal", "md", SmallOptions(kSeg)), StatusCode::kAlreadyExists);
  WAL_EXPECT_CODE(WAL::Create(tmp.path() + "/wal/", "md", SmallOptions(kSeg)), StatusCode::kAlreadyExists);
}

TEST(CodesTest, Locked) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 1);
  auto w = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_EXPECT_CODE(WAL::Open(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kLocked);
  WAL_EXPECT_CODE(WAL::OpenAtIndex(dir, 1, SmallOptions(kSeg)), StatusCode::kLocked);
  WAL_EXPECT_CODE(Repair(dir, SmallOptions(kSeg)), StatusCode::kLocked);
  WAL_EXPECT_CODE(testutil::ProbeLock(SegPath(dir, 0, 0)), StatusCode::kLocked);
}

TEST(CodesTest, UnexpectedEof) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 3);
  const std::string path = SegPath(dir, 0, 0);
  testutil::TruncateFile(path, testutil::DataEnd(path) - 1);
  WAL_EXPECT_CODE(OpenReadAll(dir), StatusCode::kUnexpectedEof);
  auto w = WAL::OpenAtIndex(dir, 1, SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kUnexpectedEof);
}

TEST(CodesTest, Corruption) {
  SegmentBuilder s;
  s.Head(std::string("md")).Record(42, true, "?");
  TempDir tmp;
  const std::string dir = MakeDir(tmp, {{SegmentFileName(0, 0), s.bytes()}});
  WAL_EXPECT_CODE(OpenReadAll(dir), StatusCode::kCorruption);
  WAL_EXPECT_CODE(ReadOnlyReadAll(dir), StatusCode::kCorruption);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{}), StatusCode::kCorruption);
}

// An operating-system failure that is none of the specific ones: the WAL's
// parent path is a regular file (ENOTDIR).
TEST(CodesTest, IoError) {
  TempDir tmp;
  testutil::WriteFile(tmp.path() + "/file", "x");
  auto w = WAL::Create(tmp.path() + "/file/wal", "md", SmallOptions(kSeg));
  WAL_EXPECT_CODE(w, StatusCode::kIoError);
  EXPECT_EQ(w.error().sys_errno(), ENOTDIR) << w.error().ToString();
  WAL_EXPECT_CODE(WAL::Open(tmp.path() + "/file", Snapshot{}), StatusCode::kIoError);
}

// ENOSPC while preallocating (Create, cut) or writing (Save): kNoSpace, and
// the WAL stops: every later mutating call returns the same error and no
// further fsync is attempted.
TEST(CodesTest, NoSpace) {
  TempDir tmp;
  FaultInjectionFileSystem fs;
  Options o = SmallOptions(kSeg);
  o.file_system = &fs;
  using Op = FaultInjectionFileSystem::Op;
  const Status enospc(StatusCode::kNoSpace, "injected: No space left on device", ENOSPC);

  fs.SetHook([&](Op op, const std::string&) { return op == Op::kAllocate ? enospc : Status::Ok(); });
  WAL_EXPECT_CODE(WAL::Create(tmp.path() + "/a", "md", o), StatusCode::kNoSpace);
  EXPECT_FALSE(Exist(tmp.path() + "/a"));

  fs.SetHook(nullptr);
  auto w = WAL::Create(tmp.path() + "/b", "md", o);
  WAL_ASSERT_OK(w);
  WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 1}, Ents(1, 1)));
  fs.SetHook([&](Op op, const std::string&) { return op == Op::kWrite ? enospc : Status::Ok(); });
  const int syncs_before = fs.count(Op::kSync);
  Status s = (*w)->Save(HardState{1, 1, 2}, Ents(2, 2));
  WAL_EXPECT_CODE(s, StatusCode::kNoSpace);
  EXPECT_EQ(s.sys_errno(), ENOSPC);
  fs.SetHook(nullptr);  // the disk has space again: the WAL stays stopped
  WAL_EXPECT_CODE((*w)->Save(HardState{1, 1, 3}, Ents(3, 3)), StatusCode::kNoSpace);
  WAL_EXPECT_CODE((*w)->Sync(), StatusCode::kNoSpace);
  WAL_EXPECT_CODE((*w)->SaveSnapshot(Snapshot{1, 1}), StatusCode::kNoSpace);
  WAL_EXPECT_CODE((*w)->Cut(), StatusCode::kNoSpace);
  WAL_EXPECT_CODE((*w)->Close(), StatusCode::kNoSpace);
  EXPECT_EQ(fs.count(Op::kSync), syncs_before) << "no fsync after a failed write";
  // What was synced before the failure is intact.
  auto r = OpenReadAll(tmp.path() + "/b");
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(1, 1));
}

// A failed fdatasync poisons the WAL the same way (fsyncgate: never retry).
TEST(CodesTest, SyncFailureStopsTheWal) {
  TempDir tmp;
  FaultInjectionFileSystem fs;
  Options o = SmallOptions(kSeg);
  o.file_system = &fs;
  using Op = FaultInjectionFileSystem::Op;
  auto w = WAL::Create(tmp.path() + "/wal", "md", o);
  WAL_ASSERT_OK(w);
  fs.SetHook([](Op op, const std::string&) {
    return op == Op::kSync ? Status(StatusCode::kIoError, "injected: Input/output error", EIO) : Status::Ok();
  });
  WAL_EXPECT_CODE((*w)->Save(HardState{1, 1, 1}, Ents(1, 1)), StatusCode::kIoError);
  fs.SetHook(nullptr);
  const int syncs = fs.count(Op::kSync);
  WAL_EXPECT_CODE((*w)->Sync(), StatusCode::kIoError);
  WAL_EXPECT_CODE((*w)->Save(HardState{1, 1, 2}, Ents(2, 2)), StatusCode::kIoError);
  WAL_EXPECT_CODE((*w)->Close(), StatusCode::kIoError);
  EXPECT_EQ(fs.count(Op::kSync), syncs);
}

TEST(CodesTest, InvalidArgument) {
  TempDir tmp;
  MakeLog(tmp.path() + "/wal", 1, 1);
  Options o;
  o.segment_size_bytes = 0;
  WAL_EXPECT_CODE(WAL::Create(tmp.path() + "/new", "md", o), StatusCode::kInvalidArgument);
  WAL_EXPECT_CODE(WAL::Open(tmp.path() + "/wal", Snapshot{}, o), StatusCode::kInvalidArgument);
  WAL_EXPECT_CODE(WAL::OpenForRead(tmp.path() + "/wal", Snapshot{}, o), StatusCode::kInvalidArgument);
  WAL_EXPECT_CODE(WAL::OpenAtIndex(tmp.path() + "/wal", 0, o), StatusCode::kInvalidArgument);
  WAL_EXPECT_CODE(Verify(tmp.path() + "/wal", Snapshot{}, o), StatusCode::kInvalidArgument);
  WAL_EXPECT_CODE(ValidSnapshotEntries(tmp.path() + "/wal", o), StatusCode::kInvalidArgument);
  WAL_EXPECT_CODE(Repair(tmp.path() + "/wal", o), StatusCode::kInvalidArgument);
  Options o2 = SmallOptions(kSeg);
  o2.read_chunk_bytes = 0;
  WAL_EXPECT_CODE(WAL::Open(tmp.path() + "/wal", Snapshot{}, o2), StatusCode::kInvalidArgument);
  EXPECT_FALSE(testutil::PathExistsPosix(tmp.path() + "/new"));
}

TEST(CodesTest, FailedPrecondition) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 1);
  auto w = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_EXPECT_CODE((*w)->Save(HardState{1, 1, 1}, Ents(2, 2)), StatusCode::kFailedPrecondition)
      << "before ReadAll";
  WAL_EXPECT_CODE((*w)->SaveSnapshot(Snapshot{1, 1}), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->Sync(), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->Cut(), StatusCode::kFailedPrecondition);
  WAL_ASSERT_OK((*w)->ReadAll());
  WAL_ASSERT_OK((*w)->Close());
  WAL_EXPECT_CODE((*w)->Save(HardState{1, 1, 1}, Ents(2, 2)), StatusCode::kFailedPrecondition)
      << "after Close";
}

// The file-system seam reports a missing path as kNotFound; the WAL API
// turns "no directory" into ErrFileNotFound, but a segment that vanishes
// between listing and opening surfaces as kNotFound.
TEST(CodesTest, NotFound) {
  TempDir tmp;
  WAL_EXPECT_CODE(FileSystem::Default()->Stat(tmp.path() + "/missing"), StatusCode::kNotFound);
  WAL_EXPECT_CODE(FileSystem::Default()->Open(tmp.path() + "/missing", OpenOptions{}), StatusCode::kNotFound);
  const std::string dir = tmp.path() + "/wal";
  MakeLog(dir, 1, 1);
  FaultInjectionFileSystem fs;
  using Op = FaultInjectionFileSystem::Op;
  fs.SetHook([](Op op, const std::string& path) {
    return op == Op::kOpen && path.ends_with(".wal")
               ? Status(StatusCode::kNotFound, "injected: vanished", ENOENT)
               : Status::Ok();
  });
  Options o = SmallOptions(kSeg);
  o.file_system = &fs;
  WAL_EXPECT_CODE(WAL::Open(dir, Snapshot{}, o), StatusCode::kNotFound);
  WAL_EXPECT_CODE(WAL::OpenForRead(dir, Snapshot{}, o), StatusCode::kNotFound);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{}, o), StatusCode::kNotFound);
}

TEST(CodesTest, PermissionDenied) {
  TempDir tmp;
  if (::geteuid() != 0) {
    const std::string ro = tmp.path() + "/ro";
    ASSERT_EQ(::mkdir(ro.c_str(), 0500), 0);
    WAL_EXPECT_CODE(WAL::Create(ro + "/wal", "md", SmallOptions(kSeg)), StatusCode::kPermissionDenied);
    ::chmod(ro.c_str(), 0700);
  }
  // As root file modes do not deny anything: inject EACCES instead.
  FaultInjectionFileSystem fs;
  using Op = FaultInjectionFileSystem::Op;
  fs.SetHook([](Op op, const std::string&) {
    return op == Op::kCreateDir ? Status(StatusCode::kPermissionDenied, "injected: Permission denied", EACCES)
                                : Status::Ok();
  });
  Options o = SmallOptions(kSeg);
  o.file_system = &fs;
  WAL_EXPECT_CODE(WAL::Create(tmp.path() + "/wal", "md", o), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace wal
