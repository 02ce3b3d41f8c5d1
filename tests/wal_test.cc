// Ports of the behaviours checked by etcd v3.4's wal/wal_test.go (and
// file_pipeline_test.go), one TEST per Go test, named after it. Where etcd
// reaches into unexported state (w.tail(), w.locks, w.seq()) the port checks
// the same fact from outside: file names on disk, where appended bytes land,
// and which segment files are still locked (OFD lock probes).
#include "wal/wal.h"

#include <sys/stat.h>

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/segment_names.h"
#include "src/segment_pipeline.h"
#include "tests/test_util.h"
#include "tests/wal_test_helpers.h"

namespace wal {
namespace {

using internal::kCrcType;
using internal::kEntryType;
using internal::kMetadataType;
using internal::kSnapshotType;
using internal::kStateType;
using internal::SegmentFileName;
using testutil::DecodeFile;
using testutil::DecodeFiles;
using testutil::Ent;
using testutil::Ents;
using testutil::Indexes;
using testutil::OpenReadAll;
using testutil::ProbeLock;
using testutil::Range;
using testutil::ReadOnlyReadAll;
using testutil::SegmentBuilder;
using testutil::SegPath;
using testutil::SmallOptions;
using testutil::TempDir;
using testutil::WalNames;

constexpr uint64_t kSeg = 64 * 1024;

// TestNew: Create makes 0-0 whose bytes are crc(0) + metadata + empty
// snapshot, preallocated with zeros; plus the modes and the clean-up.
TEST(WalTest, New) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  ASSERT_FALSE(Exist(dir));
  auto w = WAL::Create(dir, "somedata", SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  EXPECT_EQ(WalNames(dir), std::vector<std::string>{SegmentFileName(0, 0)});
  EXPECT_EQ(WalNames(dir).front(), "0000000000000000-0000000000000000.wal");

  // Read before Close: Create must have synced its head already.
  const std::string path = SegPath(dir, 0, 0);
  const std::string bytes = testutil::ReadFile(path);
  SegmentBuilder want;
  want.Head(std::string("somedata"));
  ASSERT_EQ(bytes.size(), kSeg) << "preallocated to segment_size_bytes";
  EXPECT_EQ(testutil::Hex(bytes.substr(0, want.size())), testutil::Hex(want.bytes()));
  EXPECT_EQ(bytes.find_first_not_of('\0', want.size()), std::string::npos);

  EXPECT_EQ(testutil::PermBits(path), 0600u);
  EXPECT_EQ(testutil::PermBits(dir), 0700u);
  EXPECT_FALSE(testutil::PathExistsPosix(dir + ".tmp")) << "<dir>.tmp must be renamed away";
  EXPECT_TRUE(Exist(dir));
  EXPECT_EQ(w.value()->dir(), dir);
  WAL_EXPECT_OK((*w)->Close());
  // Close removes the prepared-but-unused next segment.
  EXPECT_EQ(testutil::DirNames(dir), std::vector<std::string>{SegmentFileName(0, 0)});
  EXPECT_TRUE(Exist(dir));
}

// Create on an existing directory without *.wal files replaces it (etcd
// RemoveAll's it): other content is gone and the mode is 0700.
TEST(WalTest, NewReplacesNonWalContent) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  testutil::WriteFile(dir + "/lost+found", "x");
  EXPECT_FALSE(Exist(dir));
  auto w = WAL::Create(dir, "m", SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_ASSERT_OK((*w)->Close());
  EXPECT_EQ(testutil::DirNames(dir), std::vector<std::string>{SegmentFileName(0, 0)});
  EXPECT_EQ(testutil::PermBits(dir), 0700u);
}

// Exist is "has at least one *.wal file".
TEST(WalTest, ExistSemantics) {
  TempDir tmp;
  EXPECT_FALSE(Exist(tmp.path() + "/missing"));
  EXPECT_FALSE(Exist(tmp.path()));
  testutil::WriteFile(tmp.path() + "/x.snap", "x");
  EXPECT_FALSE(Exist(tmp.path()));
  testutil::WriteFile(tmp.path() + "/x.wal", "");
  EXPECT_TRUE(Exist(tmp.path()));
}

// TestCreateFailFromPollutedDir: any *.wal file makes Create fail with
// os.ErrExist, and the directory is left alone.
TEST(WalTest, CreateFailFromPollutedDir) {
  TempDir tmp;
  testutil::WriteFile(tmp.path() + "/test.wal", "data");
  WAL_EXPECT_CODE(WAL::Create(tmp.path(), "data", SmallOptions(kSeg)), StatusCode::kAlreadyExists);
  EXPECT_EQ(testutil::ReadFile(tmp.path() + "/test.wal"), "data");
  EXPECT_FALSE(testutil::PathExistsPosix(tmp.path() + ".tmp"));
}

// TestCreateFailFromNoSpaceLeft: etcd sets SegmentSizeBytes = MaxInt64 so
// that preallocation fails. fallocate(0, INT64_MAX) fails with EFBIG on
// Linux (kIoError); a real ENOSPC would need a tiny file system (root
// mount), so kNoSpace itself is covered by fault injection in
// behaviour_test.cc (CodeNoSpace).
TEST(WalTest, CreateFailFromNoSpaceLeft) {
  TempDir tmp;
  Options o;
  o.segment_size_bytes = static_cast<uint64_t>(INT64_MAX);
  auto w = WAL::Create(tmp.path() + "/wal", "data", o);
  ASSERT_FALSE(w.has_value());
  EXPECT_TRUE(w.error().code() == StatusCode::kIoError || w.error().code() == StatusCode::kNoSpace)
      << w.error().ToString();
  EXPECT_FALSE(Exist(tmp.path() + "/wal"));
}

// TestNewForInitedDir: an empty 0-0.wal is enough to refuse Create.
TEST(WalTest, NewForInitedDir) {
  TempDir tmp;
  testutil::WriteFile(SegPath(tmp.path(), 0, 0), "");
  WAL_EXPECT_CODE(WAL::Create(tmp.path(), std::string_view(), SmallOptions(kSeg)),
                  StatusCode::kAlreadyExists);
  EXPECT_EQ(testutil::FileSizeOf(SegPath(tmp.path(), 0, 0)), 0u);
}

// TestOpenAtIndex: with an empty 0-0 the tail is 0-0; with 0-0 and 2-a
// (a seq gap right after seq 0 passes isValidSeq) Open at index 5 selects
// both and the tail is 2-a; an empty dir gives ErrFileNotFound. etcd reads
// w.tail()/w.seq(); here: which files are locked, and where appends land.
TEST(WalTest, OpenAtIndex) {
  TempDir tmp;
  const std::string dir = tmp.path();
  const std::string f00 = SegPath(dir, 0, 0);
  testutil::WriteFile(f00, "");
  {
    auto w = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_EXPECT_CODE(ProbeLock(f00), StatusCode::kLocked);
    WAL_EXPECT_OK((*w)->Close());
    WAL_EXPECT_OK(ProbeLock(f00));
  }

  const std::string f2a = SegPath(dir, 2, 10);
  ASSERT_EQ(WalNames(dir).size(), 1u);
  testutil::WriteFile(f2a, "");
  {
    auto w = WAL::Open(dir, Snapshot{5, 0}, SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    // Both 0-0 (the last segment starting at <= 5) and 2-a are held.
    WAL_EXPECT_CODE(ProbeLock(f00), StatusCode::kLocked);
    WAL_EXPECT_CODE(ProbeLock(f2a), StatusCode::kLocked);
    // The tail is 2-a: after ReadAll, appends go there (seq 2).
    auto r = (*w)->ReadAll();
    WAL_ASSERT_OK(r);  // empty files; snapshot not found is swallowed in write mode
    EXPECT_TRUE(r->entries.empty());
    WAL_ASSERT_OK((*w)->Save(HardState{}, Ents(6, 6)));
    WAL_ASSERT_OK((*w)->Close());
    EXPECT_EQ(testutil::FileSizeOf(f00), 0u);
    EXPECT_GT(testutil::FileSizeOf(f2a), 0u);
    auto log = DecodeFile(f2a);
    WAL_EXPECT_OK(log.end);
    // Unlike etcd, an empty (headless) tail first gets a crc and a metadata
    // record, so a reader or Repair starting at it can check the entry.
    ASSERT_EQ(log.records.size(), 3u);
    EXPECT_EQ(log.records[0].type, kCrcType);
    EXPECT_EQ(log.records[1].type, kMetadataType);
    EXPECT_EQ(log.records[2].type, kEntryType);
  }
  // The seed's OpenAtIndex selects the same files (and then finds no entry
  // at or after 5).
  {
    auto w = WAL::OpenAtIndex(dir, 5, SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_EXPECT_CODE(ProbeLock(f00), StatusCode::kLocked);
    WAL_EXPECT_CODE(ProbeLock(f2a), StatusCode::kLocked);
  }

  TempDir empty;
  WAL_EXPECT_CODE(WAL::Open(empty.path(), Snapshot{}, SmallOptions(kSeg)), StatusCode::kFileNotFound);
  WAL_EXPECT_CODE(WAL::OpenForRead(empty.path(), Snapshot{}, SmallOptions(kSeg)), StatusCode::kFileNotFound);
  WAL_EXPECT_CODE(WAL::OpenAtIndex(empty.path(), 0, SmallOptions(kSeg)), StatusCode::kFileNotFound);
  WAL_EXPECT_CODE(WAL::Open(tmp.path() + "/missing", Snapshot{}, SmallOptions(kSeg)),
                  StatusCode::kFileNotFound);
}

// The isValidSeq quirk end to end: with segments 0, 2, 3 (1 purged) Open
// still selects from 0, and the CRC chain catches the hole at ReadAll. A hole
// after a non-zero seq is caught at selection.
TEST(WalTest, OpenAtIndexSeqGapAfterZeroCaughtByCrc) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, std::string_view(), SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    for (uint64_t i = 1; i <= 4; ++i) {
      WAL_ASSERT_OK((*w)->Save(HardState{}, Ents(i, i)));
      WAL_ASSERT_OK((*w)->Cut());
    }
    WAL_ASSERT_OK((*w)->Close());
  }
  // 0-0, 1-2, 2-3, 3-4, 4-5
  ASSERT_EQ(WalNames(dir),
            (std::vector<std::string>{SegmentFileName(0, 0), SegmentFileName(1, 2), SegmentFileName(2, 3),
                                      SegmentFileName(3, 4), SegmentFileName(4, 5)}));
  std::string saved = testutil::ReadFile(SegPath(dir, 1, 2));
  ASSERT_EQ(::unlink(SegPath(dir, 1, 2).c_str()), 0);
  {
    auto w = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
    WAL_ASSERT_OK(w);  // selection passes: the gap is right after seq 0
    WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kCrcMismatch);
  }
  WAL_EXPECT_CODE(Verify(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kCrcMismatch);
  // Put 1 back, remove 3: the gap 2 -> 4 is caught by isValidSeq.
  testutil::WriteFile(SegPath(dir, 1, 2), saved);
  ASSERT_EQ(::unlink(SegPath(dir, 3, 4).c_str()), 0);
  WAL_EXPECT_CODE(WAL::Open(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kFileNotFound);
  WAL_EXPECT_CODE(WAL::OpenForRead(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kFileNotFound);
  WAL_EXPECT_CODE(Verify(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kFileNotFound);
  // Selecting from after the gap works.
  auto r = OpenReadAll(dir, Snapshot{5, 0}, SmallOptions(kSeg));
  WAL_EXPECT_OK(r);
}

// TestVerify: Verify passes on a 6-segment WAL, and fails once a middle
// segment is truncated to 0 bytes (the next segment's crc record no longer
// matches) or has a flipped data byte.
TEST(WalTest, Verify) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, std::string_view(), SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  for (uint64_t i = 0; i < 5; ++i) {
    Entry e = Ent(i, 0, "waldata" + std::string(1, static_cast<char>(i + 1)));
    WAL_ASSERT_OK((*w)->Save(HardState{}, std::span(&e, 1)));
    WAL_ASSERT_OK((*w)->Cut());
  }
  // Verify takes no lock: it works while the writer is open.
  WAL_EXPECT_OK(Verify(dir, Snapshot{}, SmallOptions(kSeg)));
  WAL_ASSERT_OK((*w)->Close());
  WAL_EXPECT_OK(Verify(dir, Snapshot{}, SmallOptions(kSeg)));
  auto names = WalNames(dir);
  ASSERT_EQ(names.size(), 6u);

  // A flipped byte of entry data in a middle segment: CRC mismatch.
  const std::string mid = dir + "/" + names[2];
  const std::string orig = testutil::ReadFile(mid);
  size_t pos = orig.find("waldata\x03");
  ASSERT_NE(pos, std::string::npos);
  testutil::WriteAt(mid, pos + 7, "\x7f");
  Status s = Verify(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_EXPECT_CODE(s, StatusCode::kCrcMismatch);
  EXPECT_NE(s.ToString().find(names[2]), std::string::npos) << s.ToString();
  testutil::WriteFile(mid, orig);
  WAL_EXPECT_OK(Verify(dir, Snapshot{}, SmallOptions(kSeg)));

  // etcd's corruption: truncate the middle segment completely.
  testutil::TruncateFile(mid, 0);
  s = Verify(dir, Snapshot{}, SmallOptions(kSeg));
  EXPECT_FALSE(s.ok());
  WAL_EXPECT_CODE(s, StatusCode::kCrcMismatch);
}

// TestCut: cut names the new segment <seq+1>-<enti+1>; SaveSnapshot moves
// enti forward; the new head holds crc (the chain so far), metadata and the
// last hard state, and is durable before Close.
TEST(WalTest, Cut) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, std::string_view(), SmallOptions(kSeg));
  WAL_ASSERT_OK(w);

  const HardState state{1, 0, 0};
  WAL_ASSERT_OK((*w)->Save(state, {}));
  WAL_ASSERT_OK((*w)->Cut());
  EXPECT_EQ(WalNames(dir).back(), SegmentFileName(1, 1));

  std::vector<Entry> es{Ent(1, 1, std::string(1, '\x01'))};
  WAL_ASSERT_OK((*w)->Save(HardState{}, es));
  WAL_ASSERT_OK((*w)->Cut());
  const Snapshot snap{2, 1};
  WAL_ASSERT_OK((*w)->SaveSnapshot(snap));
  EXPECT_EQ(WalNames(dir).back(), SegmentFileName(2, 2));

  // Read the last segment alone (etcd: a decoder on that file, start=snap)
  // before Close, to prove that cut synced it.
  {
    TempDir alone;
    testutil::WriteFile(SegPath(alone.path(), 2, 2), testutil::ReadFile(SegPath(dir, 2, 2)));
    auto r = ReadOnlyReadAll(alone.path(), snap, SmallOptions(kSeg));
    WAL_ASSERT_OK(r);
    EXPECT_EQ(r->state, state);
  }

  // Head of a cut segment: crc (chain value at the end of the previous
  // segment), metadata, state.
  {
    auto prev = DecodeFiles({SegPath(dir, 0, 0), SegPath(dir, 1, 1)});
    WAL_ASSERT_OK(prev.end);
    auto head = DecodeFile(SegPath(dir, 2, 2));
    WAL_ASSERT_OK(head.end);
    ASSERT_EQ(testutil::TypesOf(head),
              (std::vector<int64_t>{kCrcType, kMetadataType, kStateType, kSnapshotType}));
    EXPECT_EQ(head.records[0].crc, prev.crc);
    EXPECT_FALSE(head.records[1].has_data) << "nil metadata stays nil";
    HardState hs;
    WAL_ASSERT_OK(internal::DecodeHardState(head.records[2].data, &hs));
    EXPECT_EQ(hs, state);
  }

  // SaveSnapshot moved enti to 2: the next cut is 3-3; a snapshot further
  // ahead (10) names the one after 4-b.
  WAL_ASSERT_OK((*w)->Cut());
  EXPECT_EQ(WalNames(dir).back(), SegmentFileName(3, 3));
  WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{10, 1}));
  EXPECT_EQ((*w)->last_index(), 10u);
  WAL_ASSERT_OK((*w)->Cut());
  EXPECT_EQ(WalNames(dir).back(), SegmentFileName(4, 11));
  // A snapshot behind enti does not move it back.
  WAL_ASSERT_OK((*w)->Save(HardState{}, Ents(11, 12)));
  WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{5, 1}));
  WAL_ASSERT_OK((*w)->Cut());
  EXPECT_EQ(WalNames(dir).back(), SegmentFileName(5, 13));
  WAL_ASSERT_OK((*w)->Close());

  // Every segment is a valid continuation of the chain; all records read.
  std::vector<std::string> paths;
  for (const auto& n : WalNames(dir)) paths.push_back(dir + "/" + n);
  auto all = DecodeFiles(paths);
  WAL_EXPECT_OK(all.end);
  auto r = OpenReadAll(dir, Snapshot{10, 1}, SmallOptions(kSeg));
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(11, 12));
  EXPECT_EQ(r->state, state);
}

// TestSaveWithCut: with a 2048-byte segment and 500-byte entries, Save cuts
// once; the cut is decided on the flushed offset before this Save's sync, so
// it happens at the 5th save (index 4) and names 1-5. All entries and the
// state read back.
TEST(WalTest, SaveWithCut) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(2048);
  auto w = WAL::Create(dir, "metadata", o);
  WAL_ASSERT_OK(w);
  const HardState state{1, 0, 0};
  WAL_ASSERT_OK((*w)->Save(state, {}));
  std::string big(500, '\0');
  std::string hello = "Hello World!!";
  big.replace(0, hello.size(), hello);
  constexpr int kEntrySize = 500;
  uint64_t index = 0;
  for (int total = 0; total < 2048; total += kEntrySize) {
    std::vector<Entry> es{Ent(index, 1, big)};
    WAL_ASSERT_OK((*w)->Save(state, es));
    ++index;
  }
  WAL_ASSERT_OK((*w)->Close());
  EXPECT_EQ(WalNames(dir), (std::vector<std::string>{SegmentFileName(0, 0), SegmentFileName(1, index)}));

  auto nw = WAL::Open(dir, Snapshot{}, o);
  WAL_ASSERT_OK(nw);
  auto r = (*nw)->ReadAll();
  WAL_ASSERT_OK(r);
  EXPECT_EQ(r->state, state);
  EXPECT_EQ(r->metadata, "metadata");
  EXPECT_EQ(r->entries.size(), 2048u / kEntrySize);
  for (const auto& e : r->entries) EXPECT_EQ(e.data, big) << "index " << e.index;
  WAL_EXPECT_OK((*nw)->Close());
}

// Many cuts: every segment is named <seq>-<first index it can hold>, the
// first entry of each segment has that index, and all entries read back.
TEST(WalTest, SaveWithManyCuts) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(4096);
  auto w = WAL::Create(dir, "md", o);
  WAL_ASSERT_OK(w);
  std::mt19937_64 rng(testutil::Seed());
  std::vector<Entry> all;
  for (uint64_t i = 1; i <= 60; ++i) {
    std::vector<Entry> es{Ent(i, 3, testutil::RandomBytes(rng, 300 + rng() % 700))};
    all.push_back(es[0]);
    WAL_ASSERT_OK((*w)->Save(HardState{3, 1, i}, es));
  }
  const uint64_t cuts = (*w)->stats().cuts;
  WAL_ASSERT_OK((*w)->Close());
  auto names = WalNames(dir);
  ASSERT_GE(names.size(), 4u);  // >= 20 KB of records in 4 KiB segments
  EXPECT_EQ(names.size(), cuts + 1);
  uint64_t last_entry = 0;
  for (size_t k = 0; k < names.size(); ++k) {
    auto n = internal::ParseSegmentName(names[k]);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(n->seq, k);
    if (k > 0) {
      EXPECT_EQ(n->index, last_entry + 1) << names[k];
    }
    auto log = DecodeFile(dir + "/" + names[k]);
    WAL_ASSERT_OK(log.end);
    bool first = true;
    for (const auto& rec : log.records) {
      if (rec.type != kEntryType) continue;
      Entry e;
      WAL_ASSERT_OK(internal::DecodeEntry(rec.data, &e));
      if (first && k > 0) {
        EXPECT_EQ(e.index, n->index) << names[k];
      }
      first = false;
      last_entry = e.index;
    }
  }
  auto r = OpenReadAll(dir, Snapshot{}, o);
  WAL_ASSERT_OK(r);
  EXPECT_EQ(r->entries, all);
  EXPECT_EQ(r->state, (HardState{3, 1, 60}));
}

// TestRecover: metadata, all entries and the last hard state come back.
TEST(WalTest, Recover) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, "metadata", SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{}));
  std::vector<Entry> ents{Ent(1, 1, std::string(1, '\x01')), Ent(2, 2, std::string(1, '\x02'))};
  WAL_ASSERT_OK((*w)->Save(HardState{}, ents));
  std::vector<HardState> sts{{1, 1, 1}, {2, 2, 2}};
  for (const auto& s : sts) WAL_ASSERT_OK((*w)->Save(s, {}));
  WAL_ASSERT_OK((*w)->Close());

  auto w2 = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(w2);
  auto r = (*w2)->ReadAll();
  WAL_ASSERT_OK(r);
  EXPECT_EQ(r->metadata, "metadata");
  EXPECT_EQ(r->entries, ents);
  EXPECT_EQ(r->state, sts.back());
  WAL_EXPECT_OK((*w2)->Close());
}

// TestRecover with big entries (etcd main: 10/20/40 MiB). etcd v3.4 caps a
// record at 10 MiB on read; this library bounds it by the file size, so an
// entry above 10 MiB reads back.
TEST(WalTest, RecoverBigEntries) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(kSeg);
  std::mt19937_64 rng(testutil::Seed());
  std::vector<Entry> ents{Ent(1, 1, testutil::RandomBytes(rng, 1 << 20)),
                          Ent(2, 1, testutil::RandomBytes(rng, 12 << 20)), Ent(3, 1, "small")};
  {
    auto w = WAL::Create(dir, "metadata", o);
    WAL_ASSERT_OK(w);
    for (const auto& e : ents) WAL_ASSERT_OK((*w)->Save(HardState{1, 1, e.index}, std::span(&e, 1)));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = OpenReadAll(dir, Snapshot{}, o);
  WAL_ASSERT_OK(r);
  ASSERT_EQ(r->entries.size(), ents.size());
  for (size_t i = 0; i < ents.size(); ++i) EXPECT_TRUE(r->entries[i] == ents[i]) << i;
  EXPECT_EQ(r->state, (HardState{1, 1, 3}));
}

// TestSearchIndex.
TEST(WalTest, SearchIndex) {
  auto parse = [](std::vector<std::string> names) {
    std::vector<internal::SegmentName> v;
    for (const auto& n : names) v.push_back(*internal::ParseSegmentName(n));
    return v;
  };
  auto a = parse({"0000000000000000-0000000000000000.wal", "0000000000000001-0000000000001000.wal",
                  "0000000000000002-0000000000002000.wal"});
  EXPECT_EQ(internal::SearchIndex(a, 0x1000), std::optional<size_t>(1));
  auto b = parse({"0000000000000001-0000000000004000.wal", "0000000000000002-0000000000003000.wal",
                  "0000000000000003-0000000000005000.wal"});
  EXPECT_EQ(internal::SearchIndex(b, 0x4000), std::optional<size_t>(1));
  auto c = parse({"0000000000000001-0000000000002000.wal", "0000000000000002-0000000000003000.wal",
                  "0000000000000003-0000000000005000.wal"});
  EXPECT_EQ(internal::SearchIndex(c, 0x1000), std::nullopt);
  // More: exact start, beyond the last.
  EXPECT_EQ(internal::SearchIndex(a, 0), std::optional<size_t>(0));
  EXPECT_EQ(internal::SearchIndex(a, 0xfff), std::optional<size_t>(0));
  EXPECT_EQ(internal::SearchIndex(a, UINT64_MAX), std::optional<size_t>(2));
}

// TestScanWalName.
TEST(WalTest, ScanWalName) {
  auto s = internal::ParseSegmentName("0000000000000000-0000000000000000.wal");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->seq, 0u);
  EXPECT_EQ(s->index, 0u);
  EXPECT_FALSE(internal::ParseSegmentName("0000000000000000.wal").has_value());
  EXPECT_FALSE(internal::ParseSegmentName("0000000000000000-0000000000000000.snap").has_value());
  // More: the name round-trips, Sscanf's %x accepts upper case, and the
  // leftovers of the library (tmp, broken) are not segments.
  s = internal::ParseSegmentName("00000000000000ab-ffffffffffffffff.wal");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->seq, 0xabu);
  EXPECT_EQ(s->index, UINT64_MAX);
  EXPECT_EQ(SegmentFileName(0xab, UINT64_MAX), "00000000000000ab-ffffffffffffffff.wal");
  EXPECT_EQ(SegmentFileName(2, 10), "0000000000000002-000000000000000a.wal");
  s = internal::ParseSegmentName("00000000000000AB-000000000000000A.wal");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->seq, 0xabu);
  EXPECT_EQ(s->index, 10u);
  EXPECT_FALSE(internal::ParseSegmentName("0000000000000000-0000000000000000.wal.broken").has_value());
  EXPECT_FALSE(internal::ParseSegmentName("0.tmp").has_value());
  EXPECT_FALSE(internal::ParseSegmentName("000000000000000g-0000000000000000.wal").has_value());
}

// isValidSeq, including the quirk that a gap right after seq 0 passes.
TEST(WalTest, IsValidSeq) {
  auto segs = [](std::vector<uint64_t> seqs) {
    std::vector<internal::SegmentName> v;
    for (uint64_t s : seqs) v.push_back({s, s, SegmentFileName(s, s)});
    return v;
  };
  EXPECT_TRUE(internal::IsValidSeq(segs({0, 1, 2, 3}), 0));
  EXPECT_TRUE(internal::IsValidSeq(segs({0, 2}), 0));  // the quirk
  EXPECT_TRUE(internal::IsValidSeq(segs({0, 2, 3}), 0));
  EXPECT_FALSE(internal::IsValidSeq(segs({0, 2, 4}), 0));
  EXPECT_FALSE(internal::IsValidSeq(segs({1, 3}), 0));
  EXPECT_TRUE(internal::IsValidSeq(segs({1, 3, 4, 5}), 1));
  EXPECT_TRUE(internal::IsValidSeq(segs({5}), 0));
  EXPECT_TRUE(internal::IsValidSeq(segs({}), 0));
  // Where the accepted run ending at a segment starts.
  EXPECT_EQ(internal::SeqRunStart(segs({0, 1, 2, 3}), 3), 0u);
  EXPECT_EQ(internal::SeqRunStart(segs({0, 1, 9, 10}), 3), 2u);
  EXPECT_EQ(internal::SeqRunStart(segs({0, 1, 9, 10}), 1), 0u);
  EXPECT_EQ(internal::SeqRunStart(segs({0, 9, 10}), 2), 0u);  // the quirk
  EXPECT_EQ(internal::SeqRunStart(segs({4, 6}), 1), 1u);
  EXPECT_EQ(internal::SeqRunStart(segs({7}), 0), 0u);
}

// TestRecoverAfterCut: 10 segments with a snapshot and an entry each; with
// 4-4 removed, Open at 0..4 fails with ErrFileNotFound and at 5..9 returns
// the entries after the snapshot.
TEST(WalTest, RecoverAfterCut) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(kSeg);
  {
    auto md = WAL::Create(dir, "metadata", o);
    WAL_ASSERT_OK(md);
    for (uint64_t i = 0; i < 10; ++i) {
      WAL_ASSERT_OK((*md)->SaveSnapshot(Snapshot{i, 0}));
      WAL_ASSERT_OK((*md)->Save(HardState{}, std::vector<Entry>{Ent(i)}));
      WAL_ASSERT_OK((*md)->Cut());
    }
    WAL_ASSERT_OK((*md)->Close());
  }
  ASSERT_EQ(::unlink(SegPath(dir, 4, 4).c_str()), 0);
  for (uint64_t i = 0; i < 10; ++i) {
    auto w = WAL::Open(dir, Snapshot{i, 0}, o);
    if (i <= 4) {
      WAL_EXPECT_CODE(w, StatusCode::kFileNotFound) << "#" << i;
      continue;
    }
    WAL_ASSERT_OK(w) << "#" << i;
    auto r = (*w)->ReadAll();
    WAL_ASSERT_OK(r) << "#" << i;
    EXPECT_EQ(r->metadata, "metadata");
    for (size_t j = 0; j < r->entries.size(); ++j) EXPECT_EQ(r->entries[j].index, j + i + 1) << "#" << i;
    EXPECT_EQ(r->entries.size(), 9 - i);
    WAL_EXPECT_OK((*w)->Close());
  }
}

// TestOpenAtUncommittedIndex: a WAL whose only entry has index 0 reads back.
TEST(WalTest, OpenAtUncommittedIndex) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  {
    auto w = WAL::Create(dir, std::string_view(), SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->SaveSnapshot(Snapshot{}));
    WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(0)}));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = OpenReadAll(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(r);
  EXPECT_TRUE(r->entries.empty());  // index 0 <= snapshot index 0
}

// TestOpenForRead: OpenForRead reads every segment while a writer holds
// (some of) their locks.
TEST(WalTest, OpenForRead) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, std::string_view(), SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  for (uint64_t i = 0; i < 10; ++i) {
    WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(i)}));
    WAL_ASSERT_OK((*w)->Cut());
  }
  WAL_ASSERT_OK((*w)->ReleaseLockTo(5));
  // Writer still holds the tail: a second writer cannot open.
  WAL_EXPECT_CODE(WAL::Open(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kLocked);
  auto w2 = WAL::OpenForRead(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(w2);
  auto r = (*w2)->ReadAll();
  WAL_ASSERT_OK(r);
  ASSERT_FALSE(r->entries.empty());
  EXPECT_EQ(r->entries.back().index, 9u);
  EXPECT_EQ(Indexes(r->entries), Range(1, 9));
  // The writer is unaffected.
  WAL_EXPECT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(10)}));
  WAL_EXPECT_OK((*w)->Close());
}

// TestOpenWithMaxIndex: an entry index far past the end is
// ErrSliceOutOfRange, not a crash.
TEST(WalTest, OpenWithMaxIndex) {
  for (uint64_t big : {static_cast<uint64_t>(INT64_MAX), UINT64_MAX, UINT64_MAX - 1}) {
    TempDir tmp;
    const std::string dir = tmp.path() + "/wal";
    {
      auto w = WAL::Create(dir, std::string_view(), SmallOptions(kSeg));
      WAL_ASSERT_OK(w);
      WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(big)}));
      WAL_ASSERT_OK((*w)->Close());
    }
    WAL_EXPECT_CODE(OpenReadAll(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kSliceOutOfRange) << big;
    WAL_EXPECT_CODE(ReadOnlyReadAll(dir, Snapshot{}, SmallOptions(kSeg)), StatusCode::kSliceOutOfRange)
        << big;
    auto w = WAL::OpenAtIndex(dir, 0, SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kSliceOutOfRange) << big;
  }
}

// TestSaveEmpty: saving an empty hard state writes nothing.
TEST(WalTest, SaveEmpty) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, "m", SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 1}, Ents(1, 1)));
  const std::string before = testutil::ReadFile(SegPath(dir, 0, 0));
  const WalStats st = (*w)->stats();
  WAL_EXPECT_OK((*w)->SaveState(HardState{}));
  WAL_EXPECT_OK((*w)->Save(HardState{}, {}));
  WAL_EXPECT_OK((*w)->Sync());  // flush anything that might have been buffered
  EXPECT_EQ(testutil::ReadFile(SegPath(dir, 0, 0)), before);
  EXPECT_EQ((*w)->stats().bytes_written, st.bytes_written);
  WAL_EXPECT_OK((*w)->Close());
  EXPECT_EQ(testutil::ReadFile(SegPath(dir, 0, 0)), before);
}

// TestReleaseLockTo: no-op with one file; after 10 cuts ReleaseLockTo(5)
// keeps the segments starting at 4..10, ReleaseLockTo(15) only the last.
// etcd inspects w.locks; here each segment's lock is probed.
TEST(WalTest, ReleaseLockTo) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, std::string_view(), SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_EXPECT_OK((*w)->ReleaseLockTo(10));
  WAL_EXPECT_CODE(ProbeLock(SegPath(dir, 0, 0)), StatusCode::kLocked);

  for (uint64_t i = 0; i < 10; ++i) {
    WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(i)}));
    WAL_ASSERT_OK((*w)->Cut());
  }
  // Segments 0-0, 1-1, ..., 9-9, 10-a: all locked.
  for (uint64_t i = 0; i <= 10; ++i) {
    WAL_EXPECT_CODE(ProbeLock(SegPath(dir, i, i)), StatusCode::kLocked) << i;
  }

  WAL_EXPECT_OK((*w)->ReleaseLockTo(5));
  for (uint64_t i = 0; i <= 10; ++i) {
    if (i < 4) {
      WAL_EXPECT_OK(ProbeLock(SegPath(dir, i, i))) << i;
    } else {
      WAL_EXPECT_CODE(ProbeLock(SegPath(dir, i, i)), StatusCode::kLocked) << i;
    }
  }

  WAL_EXPECT_OK((*w)->ReleaseLockTo(15));
  for (uint64_t i = 0; i <= 10; ++i) {
    if (i < 10) {
      WAL_EXPECT_OK(ProbeLock(SegPath(dir, i, i))) << i;
    } else {
      WAL_EXPECT_CODE(ProbeLock(SegPath(dir, i, i)), StatusCode::kLocked) << i;
    }
  }
  // Released segments can be purged; the WAL still works.
  for (uint64_t i = 0; i < 10; ++i) ASSERT_EQ(::unlink(SegPath(dir, i, i).c_str()), 0);
  WAL_EXPECT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(10)}));
  WAL_EXPECT_OK((*w)->Close());
  WAL_EXPECT_OK(ProbeLock(SegPath(dir, 10, 10)));
}

// The doc comment's example: holding 1..6, ReleaseLockTo(4) releases 1,2
// and keeps 3; ReleaseLockTo(5) releases 1,2,3 and keeps 4.
TEST(WalTest, ReleaseLockToDocExample) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(kSeg);
  {
    auto w = WAL::Create(dir, std::string_view(), o);
    WAL_ASSERT_OK(w);
    for (uint64_t i = 0; i < 6; ++i) {  // segments 1-1 .. 6-6
      WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(i)}));
      WAL_ASSERT_OK((*w)->Cut());
    }
    WAL_ASSERT_OK((*w)->Close());
  }
  for (uint64_t release : {4u, 5u}) {
    auto w = WAL::Open(dir, Snapshot{1, 0}, o);  // holds 1-1 .. 6-6
    WAL_ASSERT_OK(w);
    WAL_EXPECT_OK(ProbeLock(SegPath(dir, 0, 0)));
    for (uint64_t i = 1; i <= 6; ++i) WAL_EXPECT_CODE(ProbeLock(SegPath(dir, i, i)), StatusCode::kLocked);
    WAL_EXPECT_OK((*w)->ReleaseLockTo(release));
    for (uint64_t i = 1; i <= 6; ++i) {
      if (i < release - 1) {
        WAL_EXPECT_OK(ProbeLock(SegPath(dir, i, i))) << "release " << release << " seg " << i;
      } else {
        WAL_EXPECT_CODE(ProbeLock(SegPath(dir, i, i)), StatusCode::kLocked)
            << "release " << release << " seg " << i;
      }
    }
    // Releasing below the first held segment does nothing.
    WAL_EXPECT_OK((*w)->ReleaseLockTo(0));
    WAL_EXPECT_CODE(ProbeLock(SegPath(dir, release - 1, release - 1)), StatusCode::kLocked);
    WAL_EXPECT_OK((*w)->Close());
  }
}

// TestTailWriteNoSlackSpace: a tail with no preallocated space left (cut
// at its data end) reopens, appends and reads back.
TEST(WalTest, TailWriteNoSlackSpace) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(kSeg);
  {
    auto w = WAL::Create(dir, "metadata", o);
    WAL_ASSERT_OK(w);
    for (uint64_t i = 1; i <= 5; ++i) {
      std::vector<Entry> es{Ent(i, 1, std::string(1, static_cast<char>(i)))};
      WAL_ASSERT_OK((*w)->Save(HardState{1, 0, 0}, es));
    }
    WAL_ASSERT_OK((*w)->Close());
  }
  const std::string tail = SegPath(dir, 0, 0);
  const uint64_t end = testutil::DataEnd(tail);
  testutil::TruncateFile(tail, end);
  ASSERT_EQ(testutil::FileSizeOf(tail), end);
  {
    auto w = WAL::Open(dir, Snapshot{}, o);
    WAL_ASSERT_OK(w);
    auto r = (*w)->ReadAll();
    WAL_ASSERT_OK(r);
    ASSERT_EQ(r->entries.size(), 5u);
    for (uint64_t i = 6; i <= 10; ++i) {
      std::vector<Entry> es{Ent(i, 1, std::string(1, static_cast<char>(i)))};
      WAL_ASSERT_OK((*w)->Save(HardState{1, 0, 0}, es));
    }
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = OpenReadAll(dir, Snapshot{}, o);
  WAL_ASSERT_OK(r);
  EXPECT_EQ(Indexes(r->entries), Range(1, 10));
}

// TestRestartCreateWal: a leftover <dir>.tmp (interrupted Create) is
// replaced; the metadata reads back.
TEST(WalTest, RestartCreateWal) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const std::string tmpdir = dir + ".tmp";
  ASSERT_EQ(::mkdir(tmpdir.c_str(), 0700), 0);
  testutil::WriteFile(tmpdir + "/test", "");
  testutil::WriteFile(tmpdir + "/" + SegmentFileName(0, 0), "junk");
  {
    auto w = WAL::Create(dir, "abc", SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Close());
  }
  EXPECT_FALSE(testutil::PathExistsPosix(tmpdir));
  EXPECT_FALSE(testutil::PathExistsPosix(dir + "/test"));
  auto r = ReadOnlyReadAll(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(r);
  EXPECT_EQ(r->metadata, "abc");
}

// TestOpenOnTornWrite: one record in the middle of the tail zeroed (a torn
// write): Open+ReadAll stops there without error and zeroes the rest, new
// writes overwrite from there, and a reread has 19 + 5 entries with no CRC
// error from the old records beyond the tear.
TEST(WalTest, OpenOnTornWrite) {
  constexpr uint64_t kMaxEntries = 40;
  constexpr uint64_t kClobberIdx = 20;
  constexpr uint64_t kOverwrite = 5;
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(kSeg);
  {
    auto w = WAL::Create(dir, std::string_view(), o);
    WAL_ASSERT_OK(w);
    for (uint64_t i = 0; i < kMaxEntries; ++i)
      WAL_ASSERT_OK((*w)->Save(HardState{}, std::vector<Entry>{Ent(i)}));
    WAL_ASSERT_OK((*w)->Close());
  }
  const std::string fn = SegPath(dir, 0, 0);
  // offsets[i] = end of entry i's frame (etcd: tail offset after each Save).
  auto log = DecodeFile(fn);
  WAL_ASSERT_OK(log.end);
  std::vector<uint64_t> offsets;
  for (const auto& rec : log.records)
    if (rec.type == kEntryType) offsets.push_back(rec.offset + rec.frame_bytes);
  ASSERT_EQ(offsets.size(), kMaxEntries);
  const uint64_t data_end = offsets.back();
  // Clobber entry 21 with zeros.
  testutil::WriteAt(fn, offsets[kClobberIdx],
                    std::string(offsets[kClobberIdx + 1] - offsets[kClobberIdx], '\0'));
  {
    auto w = WAL::Open(dir, Snapshot{}, o);
    WAL_ASSERT_OK(w);
    auto r = (*w)->ReadAll();
    WAL_ASSERT_OK(r);
    EXPECT_EQ(Indexes(r->entries), Range(1, kClobberIdx));
    // The records after the tear (never durable) are zeroed on disk.
    const std::string bytes = testutil::ReadFile(fn);
    EXPECT_EQ(bytes.find_first_not_of('\0', offsets[kClobberIdx]), std::string::npos)
        << "bytes up to " << data_end << " must be zeroed";
    EXPECT_EQ(bytes.size(), kSeg);
    for (uint64_t i = 0; i < kOverwrite; ++i) {
      std::vector<Entry> es{Ent(i + kClobberIdx, 0, "new")};
      WAL_ASSERT_OK((*w)->Save(HardState{}, es));
    }
    WAL_ASSERT_OK((*w)->Close());
  }
  auto r = ReadOnlyReadAll(dir, Snapshot{}, o);
  WAL_ASSERT_OK(r);  // a CRC error here: the old records were not zeroed
  EXPECT_EQ(r->entries.size(), (kClobberIdx - 1) + kOverwrite);
  EXPECT_EQ(Indexes(r->entries), Range(1, kClobberIdx + kOverwrite - 1));
  EXPECT_EQ(r->entries.back().data, "new");
}

// TestValidSnapshotEntries: the snapshots at or below the last commit.
TEST(WalTest, ValidSnapshotEntries) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Snapshot snap0{0, 0}, snap1{1, 1}, snap2{2, 1}, snap3{3, 2}, snap4{4, 2};
  const HardState state1{1, 0, 1}, state2{2, 0, 3};
  {
    auto w = WAL::Create(dir, std::string_view(), SmallOptions(kSeg));
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->SaveSnapshot(snap1));
    WAL_ASSERT_OK((*w)->Save(state1, {}));
    WAL_ASSERT_OK((*w)->SaveSnapshot(snap2));
    WAL_ASSERT_OK((*w)->SaveSnapshot(snap3));
    WAL_ASSERT_OK((*w)->Save(state2, {}));
    WAL_ASSERT_OK((*w)->SaveSnapshot(snap4));  // beyond commit 3: orphaned
    // Works without locks while the writer is open.
    auto snaps = ValidSnapshotEntries(dir, SmallOptions(kSeg));
    WAL_ASSERT_OK(snaps);
    EXPECT_EQ(*snaps, (std::vector<Snapshot>{snap0, snap1, snap2, snap3}));
    WAL_ASSERT_OK((*w)->Close());
  }
  auto snaps = ValidSnapshotEntries(dir, SmallOptions(kSeg));
  WAL_ASSERT_OK(snaps);
  EXPECT_EQ(*snaps, (std::vector<Snapshot>{snap0, snap1, snap2, snap3}));
  TempDir empty;
  WAL_EXPECT_CODE(ValidSnapshotEntries(empty.path(), SmallOptions(kSeg)), StatusCode::kFileNotFound);
}

// TestValidSnapshotEntriesAfterPurgeWal: many tiny segments; after the
// first one is purged a fresh decoder starts with CRC 0 and adopts the
// first crc record.
TEST(WalTest, ValidSnapshotEntriesAfterPurgeWal) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  const Options o = SmallOptions(64);
  const Snapshot snap1{1, 1}, snap2{2, 1}, snap3{3, 2};
  const HardState state1{1, 0, 1}, state2{2, 0, 3};
  {
    auto w = WAL::Create(dir, std::string_view(), o);
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->SaveSnapshot(snap1));
    WAL_ASSERT_OK((*w)->Save(state1, {}));
    WAL_ASSERT_OK((*w)->SaveSnapshot(snap2));
    WAL_ASSERT_OK((*w)->SaveSnapshot(snap3));
    for (int i = 0; i < 128; ++i) WAL_ASSERT_OK((*w)->Save(state2, {}));
    WAL_ASSERT_OK((*w)->Close());
  }
  // 0-0, 1-2, 2-4: commit-only state saves are neither synced nor cut.
  auto names = WalNames(dir);
  ASSERT_EQ(names,
            (std::vector<std::string>{SegmentFileName(0, 0), SegmentFileName(1, 2), SegmentFileName(2, 4)}));
  ASSERT_EQ(::unlink((dir + "/" + names[0]).c_str()), 0);
  auto snaps = ValidSnapshotEntries(dir, o);
  WAL_ASSERT_OK(snaps);
  EXPECT_EQ(*snaps, (std::vector<Snapshot>{snap2, snap3}));
}

// TestReadAllFail: ReadAll on the WAL returned by Create is
// ErrDecoderNotFound (also after Close, and a second ReadAll).
TEST(WalTest, ReadAllFail) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, "metadata", SmallOptions(kSeg));
  WAL_ASSERT_OK(w);
  WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kDecoderNotFound);
  WAL_ASSERT_OK((*w)->Close());
  WAL_EXPECT_CODE((*w)->ReadAll(), StatusCode::kDecoderNotFound);

  auto w2 = WAL::Open(dir, Snapshot{}, SmallOptions(kSeg));
  WAL_ASSERT_OK(w2);
  WAL_ASSERT_OK((*w2)->ReadAll());
  WAL_EXPECT_CODE((*w2)->ReadAll(), StatusCode::kDecoderNotFound);
}

// TestFilePipeline / TestFilePipelineFailPreallocate /
// TestFilePipelineFailLockFile: the pipeline hands out a locked,
// preallocated tmp file; an impossible size or a missing dir is an error.
TEST(WalTest, FilePipeline) {
  TempDir tmp;
  {
    internal::SegmentPipeline fp(FileSystem::Default(), tmp.path(), 4096, /*background=*/true);
    std::string path;
    auto f = fp.Take(&path);
    WAL_ASSERT_OK(f);
    EXPECT_EQ(testutil::FileSizeOf(path), 4096u);
    EXPECT_EQ(testutil::PermBits(path), 0600u);
    WAL_EXPECT_CODE(ProbeLock(path), StatusCode::kLocked);
    WAL_EXPECT_OK((*f)->Close());
    fp.Close();
  }
  {
    internal::SegmentPipeline fp(FileSystem::Default(), tmp.path(), static_cast<uint64_t>(INT64_MAX), true);
    std::string path;
    EXPECT_FALSE(fp.Take(&path).has_value());
  }
  {
    internal::SegmentPipeline fp(FileSystem::Default(), tmp.path() + "/missing", 4096, false);
    std::string path;
    EXPECT_FALSE(fp.Take(&path).has_value());
  }
}

}  // namespace
}  // namespace wal
