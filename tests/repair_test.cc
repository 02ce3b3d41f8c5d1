// Ports of etcd v3.4's wal/repair_test.go, plus what Repair must leave
// behind (<name>.broken, 0600, the original bytes) and what it must not
// touch (a real CRC mismatch, a WAL open for writing).
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/segment_names.h"
#include "tests/test_util.h"
#include "tests/wal_test_helpers.h"
#include "wal/inspect.h"
#include "wal/wal.h"

namespace wal {
namespace {

using testutil::Ent;
using testutil::SegPath;
using testutil::SmallOptions;
using testutil::TempDir;
using testutil::WalNames;

constexpr uint64_t kRepairSeg = 64 * 1024;

// makeEnts: n batches of one entry each, indexes 1..n.
std::vector<std::vector<Entry>> MakeEnts(uint64_t n) {
  std::vector<std::vector<Entry>> v;
  for (uint64_t i = 1; i <= n; ++i) v.push_back({Ent(i)});
  return v;
}

std::string LastSegment(const std::string& dir) {
  auto names = WalNames(dir);
  return names.empty() ? std::string() : dir + "/" + names.back();
}

// corrupt(path of the last segment, offset just past its last record)
using CorruptFunc = std::function<void(const std::string& path, uint64_t offset)>;

// testRepair: write, corrupt, see ReadAll fail with ErrUnexpectedEOF,
// Repair, read `expected` entries, append 10 more, read expected+10.
void TestRepair(const std::vector<std::vector<Entry>>& batches, const CorruptFunc& corrupt, size_t expected) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(kRepairSeg);
  {
    auto w = WAL::Create(dir, std::string_view(), o);
    WAL_ASSERT_OK(w);
    for (const auto& es : batches) WAL_ASSERT_OK((*w)->Save(HardState{}, es));
    WAL_ASSERT_OK((*w)->Close());
  }
  const std::string last = LastSegment(dir);
  const uint64_t offset = testutil::DataEnd(last);
  corrupt(last, offset);
  if (::testing::Test::HasFatalFailure()) return;

  // Verify we broke the WAL: write mode rejects the torn tail...
  {
    auto w = WAL::Open(dir, Snapshot{}, o);
    WAL_ASSERT_OK(w);
    WAL_ASSERT_CODE((*w)->ReadAll(), StatusCode::kUnexpectedEof);
    WAL_EXPECT_OK((*w)->Close());
  }
  // ...read mode tolerates it, returning the entries before the tear.
  {
    auto r = testutil::ReadOnlyReadAll(dir, Snapshot{}, o);
    WAL_ASSERT_OK(r);
    EXPECT_EQ(r->entries.size(), expected);
  }
  WAL_EXPECT_OK(Verify(dir, Snapshot{}, o));

  const std::string original = testutil::ReadFile(last);
  auto ok = Repair(dir, o);
  WAL_ASSERT_OK(ok);
  ASSERT_TRUE(*ok) << "Repair returned false, want true";

  // The damaged file is kept, byte for byte, as <name>.broken (0600), and
  // is not mistaken for a segment.
  ASSERT_TRUE(testutil::PathExistsPosix(last + ".broken"));
  EXPECT_EQ(testutil::PermBits(last + ".broken"), 0600u);
  EXPECT_TRUE(testutil::ReadFile(last + ".broken") == original) << "the .broken copy differs";
  EXPECT_EQ(LastSegment(dir), last);
  // The segment is cut just before the torn record.
  EXPECT_LT(testutil::FileSizeOf(last), original.size());
  EXPECT_EQ(original.substr(0, testutil::FileSizeOf(last)), testutil::ReadFile(last));

  // Read it back.
  {
    auto w = WAL::Open(dir, Snapshot{}, o);
    WAL_ASSERT_OK(w);
    auto r = (*w)->ReadAll();
    WAL_ASSERT_OK(r);
    ASSERT_EQ(r->entries.size(), expected);
    // Write some more entries to the repaired log.
    for (uint64_t i = 1; i <= 10; ++i) {
      WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(expected + i)}));
    }
    WAL_ASSERT_OK((*w)->Close());
  }
  // Read back entries following the repair: all there.
  auto r = testutil::OpenReadAll(dir, Snapshot{}, o);
  WAL_ASSERT_OK(r);
  ASSERT_EQ(r->entries.size(), expected + 10);
  EXPECT_EQ(testutil::Indexes(r->entries), testutil::Range(1, expected + 10));
  // Nothing left to repair.
  auto again = Repair(dir, o);
  WAL_ASSERT_OK(again);
  EXPECT_TRUE(*again);
}

// TestRepairTruncate: the tail cut 4 bytes short of its last record.
TEST(RepairTest, RepairTruncate) {
  TestRepair(
      MakeEnts(10),
      [](const std::string& path, uint64_t offset) { testutil::TruncateFile(path, offset - 4); }, 9);
}

// TestRepairWriteTearLast: everything after byte 1024 zeroed (truncate to
// 1024, extend back): the record straddling 1024 has an all-zero sector
// piece, i.e. is torn; 40 of 50 entries survive.
TEST(RepairTest, RepairWriteTearLast) {
  TestRepair(
      MakeEnts(50),
      [](const std::string& path, uint64_t offset) {
        // 512 bytes perfectly aligns the last record, so use 1024.
        ASSERT_GT(offset, 1024u);
        testutil::TruncateFile(path, 1024);
        testutil::TruncateFile(path, offset);
      },
      40);
}

// TestRepairWriteTearMiddle: one zeroed 512-byte sector in the middle of
// the second 4 KiB record is recognised as a torn write; 1 entry survives.
TEST(RepairTest, RepairWriteTearMiddle) {
  auto ents = MakeEnts(5);
  std::string dat(4096, '\0');
  for (size_t i = 0; i < dat.size(); ++i) dat[i] = static_cast<char>(i);
  for (auto& b : ents) b[0].data = dat;
  TestRepair(
      ents,
      [](const std::string& path, uint64_t) { testutil::WriteAt(path, 4096 + 512, std::string(512, '\0')); },
      1);
}

// TestRepairFailDeleteDir: Repair cannot succeed once the directory is gone
// (etcd returns false; this API reports kFileNotFound).
TEST(RepairTest, RepairFailDeleteDir) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(64);
  {
    auto w = WAL::Create(dir, std::string_view(), o);
    WAL_ASSERT_OK(w);
    for (const auto& es : MakeEnts(50)) WAL_ASSERT_OK((*w)->Save(HardState{}, es));
    WAL_ASSERT_OK((*w)->Close());
  }
  ASSERT_GT(WalNames(dir).size(), 5u);
  testutil::TruncateFile(LastSegment(dir), 20);
  {
    auto w = WAL::Open(dir, Snapshot{}, o);
    WAL_ASSERT_OK(w);
    WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kUnexpectedEof);
  }
  ASSERT_TRUE(RemoveAll(FileSystem::Default(), dir).ok());
  auto r = Repair(dir, o);
  EXPECT_FALSE(r.has_value() && *r) << "expect Repair to fail on an unexpected directory deletion";
  WAL_EXPECT_CODE(r, StatusCode::kFileNotFound);
}

// A log that ends cleanly: Repair says true and changes nothing.
TEST(RepairTest, CleanLogIsLeftAlone) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, "m", SmallOptions(kRepairSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 1}, testutil::Ents(1, 5)));
    WAL_ASSERT_OK((*w)->Close());
  }
  const std::string last = LastSegment(dir);
  const std::string before = testutil::ReadFile(last);
  auto r = Repair(dir, SmallOptions(kRepairSeg));
  WAL_ASSERT_OK(r);
  EXPECT_TRUE(*r);
  EXPECT_TRUE(testutil::ReadFile(last) == before);
  EXPECT_FALSE(testutil::PathExistsPosix(last + ".broken"));
}

// A real CRC mismatch (a complete record with no zero sector, and more data
// after it beyond its sector) is not a torn write: Repair returns false and
// touches nothing, under either torn-write rule.
TEST(RepairTest, CrcMismatchIsNotRepaired) {
  for (TornWriteRule rule : {TornWriteRule::kEtcd, TornWriteRule::kZeroTail}) {
    SCOPED_TRACE(static_cast<int>(rule));
    TempDir tmp;
    const std::string dir = tmp.path() + "/wal";
    const Options o = testutil::WithRule(SmallOptions(kRepairSeg), rule);
    {
      auto w = WAL::Create(dir, "m", o);
      WAL_ASSERT_OK(w);
      for (uint64_t i = 1; i <= 5; ++i) {
        std::string data = "payload-" + std::to_string(i) + std::string(700, static_cast<char>('a' + i));
        WAL_ASSERT_OK((*w)->Save(HardState{1, 1, i}, std::vector<Entry>{Ent(i, 1, data)}));
      }
      WAL_ASSERT_OK((*w)->Close());
    }
    const std::string last = LastSegment(dir);
    std::string bytes = testutil::ReadFile(last);
    const size_t pos = bytes.find("payload-3");
    ASSERT_NE(pos, std::string::npos);
    testutil::WriteAt(last, pos + 8, "X");
    const std::string corrupted = testutil::ReadFile(last);

    WAL_EXPECT_CODE(testutil::OpenReadAll(dir, Snapshot{}, o), StatusCode::kCrcMismatch);
    WAL_EXPECT_CODE(testutil::ReadOnlyReadAll(dir, Snapshot{}, o), StatusCode::kCrcMismatch);
    WAL_EXPECT_CODE(Verify(dir, Snapshot{}, o), StatusCode::kCrcMismatch);
    auto r = Repair(dir, o);
    WAL_ASSERT_OK(r);
    EXPECT_FALSE(*r);
    EXPECT_TRUE(testutil::ReadFile(last) == corrupted) << "Repair must not touch a corrupt log";
    EXPECT_FALSE(testutil::PathExistsPosix(last + ".broken"));
  }
}

// Repair waits for nobody: while a writer holds the WAL it reports kLocked
// (etcd blocks on the lock) and changes nothing.
TEST(RepairTest, LockedWhileOpenForWriting) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, "m", SmallOptions(kRepairSeg));
  WAL_ASSERT_OK(w);
  WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 1}, testutil::Ents(1, 3)));
  WAL_EXPECT_CODE(Repair(dir, SmallOptions(kRepairSeg)), StatusCode::kLocked);
  WAL_ASSERT_OK((*w)->Close());
  auto r = Repair(dir, SmallOptions(kRepairSeg));
  WAL_ASSERT_OK(r);
  EXPECT_TRUE(*r);
}

// Repair only looks at the last segment (etcd's openLast): damage in an
// earlier segment is not its business.
TEST(RepairTest, OnlyTheLastSegmentIsRepaired) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(kRepairSeg);
  {
    auto w = WAL::Create(dir, "m", o);
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 1}, testutil::Ents(1, 3)));
    WAL_ASSERT_OK((*w)->Cut());
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 4}, testutil::Ents(4, 6)));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto names = WalNames(dir);
  ASSERT_EQ(names.size(), 2u);
  const std::string first = dir + "/" + names[0];
  testutil::TruncateFile(first, testutil::DataEnd(first) - 4);
  WAL_EXPECT_CODE(testutil::OpenReadAll(dir, Snapshot{}, o), StatusCode::kCorruption);
  auto r = Repair(dir, o);
  WAL_ASSERT_OK(r);
  EXPECT_TRUE(*r);  // the last segment ends cleanly
  EXPECT_FALSE(testutil::PathExistsPosix(first + ".broken"));
  WAL_EXPECT_CODE(testutil::OpenReadAll(dir, Snapshot{}, o), StatusCode::kCorruption);
}

// A torn record that runs past the end of the file because its length word
// is garbage (etcd v3.6 wraps this in ErrUnexpectedEOF so it is repairable).
TEST(RepairTest, OversizedLastLengthWordIsRepairable) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(4096);
  {
    auto w = WAL::Create(dir, "m", o);
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 1}, testutil::Ents(1, 3)));
    WAL_ASSERT_OK((*w)->Close());
  }
  const std::string last = LastSegment(dir);
  const uint64_t end = testutil::DataEnd(last);
  testutil::SegmentBuilder junk;
  junk.Word(1000);  // claims 1000 bytes; the file has fewer left... after truncation
  testutil::WriteAt(last, end, junk.bytes() + std::string(16, '\x55'));
  testutil::TruncateFile(last, end + 8 + 16);
  WAL_EXPECT_CODE(testutil::OpenReadAll(dir, Snapshot{}, o), StatusCode::kUnexpectedEof);
  auto r = Repair(dir, o);
  WAL_ASSERT_OK(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(testutil::FileSizeOf(last), end);
  auto rd = testutil::OpenReadAll(dir, Snapshot{}, o);
  WAL_ASSERT_OK(rd);
  EXPECT_EQ(testutil::Indexes(rd->entries), testutil::Range(1, 3));
}

// A bit flip in a record that is followed by records which were already
// acknowledged (each Save returned after fdatasync) is damage, not a torn
// write: whatever the torn-write rule, Repair must not cut those
// acknowledged records off. Here the whole log fits in one 512-byte sector.
TEST(RepairTest, AcknowledgedRecordsAfterABitFlipAreNotCutOff) {
  for (TornWriteRule rule : {TornWriteRule::kEtcd, TornWriteRule::kZeroTail}) {
    SCOPED_TRACE(static_cast<int>(rule));
    TempDir tmp;
    const std::string dir = tmp.path() + "/wal";
    const Options o = testutil::WithRule(SmallOptions(kRepairSeg), rule);
    {
      auto w = WAL::Create(dir, "m", o);
      WAL_ASSERT_OK(w);
      for (uint64_t i = 1; i <= 3; ++i) {
        WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(i, 1, "acked-" + std::to_string(i))}));
      }
      WAL_ASSERT_OK((*w)->Close());
    }
    const std::string last = LastSegment(dir);
    ASSERT_LT(testutil::DataEnd(last), 512u);
    const std::string bytes = testutil::ReadFile(last);
    testutil::WriteAt(last, bytes.find("acked-2") + 6, "X");
    const std::string corrupted = testutil::ReadFile(last);
    WAL_EXPECT_CODE(testutil::OpenReadAll(dir, Snapshot{}, o), StatusCode::kCrcMismatch);
    auto r = Repair(dir, o);
    WAL_ASSERT_OK(r);
    EXPECT_FALSE(*r) << "entry 3 was acknowledged; Repair must not cut it off";
    EXPECT_TRUE(testutil::ReadFile(last) == corrupted);
  }
}

// A last segment without a crc head (etcd appends that way after its Repair
// cut a torn head) chains from the nearest earlier segment with one. A gap in
// the sequence numbers before that head must not change the chain Repair
// checks with: the reader starting at the head reads the last segment's
// records as intact, so Repair must see them so too. With a chain of 0 it
// took a complete record for a torn one and cut it: an acknowledged entry
// lost (found by directory_fuzzer, through a directory named like a segment).
TEST(RepairTest, HeadlessLastSegmentAfterASequenceGapIsNotCut) {
  for (TornWriteRule rule : {TornWriteRule::kEtcd, TornWriteRule::kZeroTail}) {
    for (bool unknown_type : {false, true}) {
      SCOPED_TRACE(testing::Message()
                   << "rule " << static_cast<int>(rule) << " unknown type " << unknown_type);
      TempDir tmp;
      const std::string dir = tmp.path() + "/wal";
      ASSERT_TRUE(CreateDirAll(FileSystem::Default(), dir, 0700).ok());
      testutil::SegmentBuilder s0;
      s0.Head("m").Ent(Ent(1, 1));
      testutil::SegmentBuilder s1(s0.crc());
      s1.Crc().Metadata("m").Ent(Ent(2, 1));
      // Sequence 1 -> 3: readers from segment 0 or 1 stop at the gap.
      testutil::SegmentBuilder s3(s1.crc());
      s3.Crc().Metadata("m").Snap(Snapshot{3, 1});
      testutil::SegmentBuilder s4(s3.crc());  // headless
      if (unknown_type) {
        s4.Record(41, true, "xx");
      } else {
        s4.Ent(Ent(4, 1, "acked"));
      }
      s0.WriteTo(SegPath(dir, 0, 0));
      s1.WriteTo(SegPath(dir, 1, 2));
      s3.WriteTo(SegPath(dir, 3, 3));
      s4.WriteTo(SegPath(dir, 4, 4));
      const std::string last = SegPath(dir, 4, 4);
      const Options o = testutil::WithRule(SmallOptions(kRepairSeg), rule);
      const Snapshot snap{3, 1};
      auto check_read = [&] {
        auto r = testutil::ReadOnlyReadAll(dir, snap, o);
        if (unknown_type) {
          WAL_EXPECT_CODE(r, StatusCode::kCorruption);
        } else {
          WAL_ASSERT_OK(r);
          EXPECT_EQ(testutil::Indexes(r->entries), std::vector<uint64_t>{4});
        }
      };
      check_read();
      auto plan = PlanRepair(dir, o);
      WAL_ASSERT_OK(plan);
      EXPECT_EQ(plan->action, RepairPlan::Action::kNothing) << plan->problem.ToString();
      auto r = Repair(dir, o);
      WAL_ASSERT_OK(r);
      EXPECT_TRUE(*r);  // nothing torn (etcd's Repair does not judge record types either)
      EXPECT_TRUE(testutil::ReadFile(last) == s4.bytes()) << "Repair must not cut a complete record";
      EXPECT_FALSE(testutil::PathExistsPosix(last + ".broken"));
      check_read();
    }
  }
}

}  // namespace
}  // namespace wal
