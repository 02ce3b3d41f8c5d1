// One test per row of the decision table in doc/recovery.md: what ReadAll
// (write mode and read mode), Verify and Repair do with each state of a log.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/coding.h"
#include "src/crc32c.h"
#include "src/proto.h"
#include "src/record_reader.h"
#include "src/segment_names.h"
#include "tests/test_util.h"
#include "wal/wal.h"

namespace wal {
namespace {

class RecoveryTable : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() + "/wal";
    opts_.segment_size_bytes = 8192;
  }

  // Three segments of entries 1..n, closed cleanly.
  void Build(int n = 60) {
    auto w = WAL::Create(dir_, "meta", opts_);
    ASSERT_TRUE(w.has_value()) << w.error().ToString();
    for (int i = 1; i <= n; i += 5) {
      std::vector<Entry> b;
      for (int j = i; j < i + 5; ++j)
        b.push_back(Entry{1, uint64_t(j), EntryType::kNormal, std::string(300, 'a' + j % 26)});
      ASSERT_TRUE((*w)->Save(HardState{1, 1, uint64_t(i)}, b).ok());
    }
    // End with a Save that did not cut, so the last segment holds entries.
    uint64_t next = uint64_t(n) + 1;
    while (true) {
      const uint64_t cuts = (*w)->stats().cuts;
      std::vector<Entry> b;
      for (int j = 0; j < 3; ++j, ++next)
        b.push_back(Entry{1, next, EntryType::kNormal, std::string(300, 'q')});
      ASSERT_TRUE((*w)->Save(HardState{1, 1, next - 1}, b).ok());
      if ((*w)->stats().cuts == cuts) break;
    }
    ASSERT_TRUE((*w)->Close().ok());
    segs_ = *internal::ListSegments(FileSystem::Default(), dir_);
    ASSERT_GE(segs_.size(), 3u);
  }
  std::string Seg(size_t i) const { return dir_ + "/" + segs_[i].name; }
  std::string Last() const { return Seg(segs_.size() - 1); }

  // Offset just past the last record of a segment (its zero tail starts there).
  uint64_t EndOfRecords(const std::string& path) const {
    std::string b = testutil::ReadFile(path);
    uint64_t off = 0;
    while (off + 8 <= b.size()) {
      uint64_t word = 0;
      std::memcpy(&word, b.data() + off, 8);
      if (word == 0) break;
      uint64_t len = word & 0x00FFFFFFFFFFFFFFull, pad = (word >> 63) ? (word >> 56) & 7 : 0;
      off += 8 + len + pad;
    }
    return off;
  }
  // Offset of the last frame of a segment.
  uint64_t LastFrame(const std::string& path) const {
    std::string b = testutil::ReadFile(path);
    uint64_t off = 0, last = 0;
    while (off + 8 <= b.size()) {
      uint64_t word = 0;
      std::memcpy(&word, b.data() + off, 8);
      if (word == 0) break;
      last = off;
      off += 8 + (word & 0x00FFFFFFFFFFFFFFull) + ((word >> 63) ? (word >> 56) & 7 : 0);
    }
    return last;
  }
  void Patch(const std::string& path, uint64_t off, const std::string& bytes) {
    std::string b = testutil::ReadFile(path);
    ASSERT_LE(off + bytes.size(), b.size());
    b.replace(off, bytes.size(), bytes);
    testutil::WriteFile(path, b);
  }
  // Appends a record with a correct chained CRC after the last record of
  // the last segment (hand-crafting what the API cannot write).
  void AppendRawRecord(int64_t type, const std::string& data) {
    auto f = FileSystem::Default()->Open(Last(), OpenOptions{});
    ASSERT_TRUE(f.has_value());
    std::vector<std::unique_ptr<File>> files;
    std::vector<internal::SegmentInput> in;
    for (size_t i = 0; i < segs_.size(); ++i) {
      files.push_back(std::move(FileSystem::Default()->Open(Seg(i), OpenOptions{})).value());
      in.push_back({segs_[i].name, files.back().get()});
    }
    internal::RecordDecoder d(in, 1 << 16);
    internal::RecordView rec;
    while (true) {
      auto r = d.Next(&rec);
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      if (!*r) break;
    }
    const uint32_t crc = internal::Crc32cExtend(d.crc(), data);
    std::string body = internal::EncodeRecordToString(type, crc, true, data);
    std::string frame(8, '\0');
    internal::EncodeFixed64LE(reinterpret_cast<uint8_t*>(frame.data()),
                              internal::EncodeFrameWord(body.size()));
    frame += body;
    frame.append(internal::PadBytes(body.size()), '\0');
    Patch(Last(), d.last_valid_offset(), frame);
  }
  // Flips bit 0 of the last byte of the record of the frame at `frame`:
  // still a well-formed protobuf (a varint's last byte), but a CRC mismatch.
  void FlipLastRecordByte(const std::string& path, uint64_t frame) {
    std::string b = testutil::ReadFile(path);
    uint64_t word;
    std::memcpy(&word, b.data() + frame, 8);
    const uint64_t at = frame + 8 + (word & 0x00FFFFFFFFFFFFFFull) - 1;
    ASSERT_EQ(static_cast<uint8_t>(b[at]) & 0x80, 0);
    b[at] = static_cast<char>(b[at] ^ 1);
    testutil::WriteFile(path, b);
  }
  void Resize(const std::string& path, uint64_t size) {
    std::string b = testutil::ReadFile(path);
    b.resize(size, '\0');
    testutil::WriteFile(path, b);
  }

  StatusCode WriteModeRead() {
    auto w = WAL::Open(dir_, Snapshot{}, opts_);
    if (!w) return w.error().code();
    auto r = (*w)->ReadAll();
    return r ? StatusCode::kOk : r.error().code();
  }
  Result<ReadAllResult> ReadModeRead(Snapshot snap = {}) {
    WAL_ASSIGN_OR_RETURN(auto w, WAL::OpenForRead(dir_, snap, opts_));
    return w->ReadAll();
  }
  // Repair must refuse and leave every byte alone.
  void ExpectRepairRefuses() {
    std::string before = testutil::ReadFile(Last());
    auto r = Repair(dir_, opts_);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_FALSE(*r);
    EXPECT_EQ(testutil::ReadFile(Last()), before);
  }
  // Repair must cut the torn record, then a write-mode read succeeds.
  void ExpectRepairFixes(size_t min_entries) {
    auto r = Repair(dir_, opts_);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_TRUE(*r);
    EXPECT_TRUE(PathExists(FileSystem::Default(), Last() + ".broken"));
    EXPECT_EQ(WriteModeRead(), StatusCode::kOk);
    auto all = ReadModeRead();
    ASSERT_TRUE(all.has_value());
    EXPECT_GE(all->entries.size(), min_entries);
  }

  testutil::TempDir tmp_;
  std::string dir_;
  Options opts_;
  std::vector<internal::SegmentName> segs_;
};

TEST_F(RecoveryTable, R01_CleanEnd) {
  Build();
  EXPECT_EQ(WriteModeRead(), StatusCode::kOk);
  EXPECT_TRUE(Verify(dir_, Snapshot{}, opts_).ok());
  auto r = Repair(dir_, opts_);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(*r);
  EXPECT_FALSE(PathExists(FileSystem::Default(), Last() + ".broken")) << "nothing to repair, nothing copied";
}

TEST_F(RecoveryTable, R02_PartialLengthWordAtTheEnd) {
  Build();
  const uint64_t end = EndOfRecords(Last());
  Resize(Last(), end + 5);
  Patch(Last(), end, "\x11\x22\x33\x44\x55");
  EXPECT_EQ(WriteModeRead(), StatusCode::kUnexpectedEof);
  EXPECT_TRUE(ReadModeRead().has_value()) << "read mode stops before a torn tail";
  ExpectRepairFixes(60);
}

TEST_F(RecoveryTable, R03_FrameRunsPastTheEndOfTheLastSegment) {
  Build();
  const uint64_t last = LastFrame(Last());
  Resize(Last(), last + 20);  // the last record is cut short
  EXPECT_EQ(WriteModeRead(), StatusCode::kUnexpectedEof);
  ExpectRepairFixes(55);
}

TEST_F(RecoveryTable, R04_BadRecordWithAZeroedSector) {
  Build();
  // Zero a whole sector that starts inside an entry record (so the record's
  // own length word survives) with more records after it: etcd's zero-sector
  // rule calls it torn.
  std::string b = testutil::ReadFile(Last());
  uint64_t pos = 0, sector = 0;
  while (pos + 8 <= b.size()) {
    uint64_t word;
    std::memcpy(&word, b.data() + pos, 8);
    if (word == 0) break;
    uint64_t end = pos + 8 + (word & 0x00FFFFFFFFFFFFFFull) + ((word >> 63) ? (word >> 56) & 7 : 0);
    uint64_t s = (pos + 8 + 511) / 512 * 512;
    if (s > pos + 8 && s + 8 < end) {
      sector = s;
      break;
    }
    pos = end;
  }
  ASSERT_GT(sector, 0u);
  Patch(Last(), sector, std::string(512, '\0'));
  opts_.torn_write_rule = TornWriteRule::kEtcd;
  EXPECT_EQ(WriteModeRead(), StatusCode::kUnexpectedEof);
  ExpectRepairFixes(50);
}

TEST_F(RecoveryTable, R05_BadLastRecordFollowedOnlyByZeros) {
  Build();
  const uint64_t last = LastFrame(Last());
  Patch(Last(), last + 12, "\xff\xfe");  // inside the last record's crc field
  opts_.torn_write_rule = TornWriteRule::kEtcd;
  EXPECT_EQ(WriteModeRead(), StatusCode::kCrcMismatch) << "etcd's rule: corruption";
  opts_.torn_write_rule = TornWriteRule::kZeroTail;
  EXPECT_EQ(WriteModeRead(), StatusCode::kUnexpectedEof) << "zero-tail rule: the last thing written, torn";
  ExpectRepairFixes(55);
}

TEST_F(RecoveryTable, R06_BadRecordFollowedByMoreData) {
  Build();
  const uint64_t end = EndOfRecords(Last());
  // A record two records before the end: complete, non-zero, followed by data.
  const uint64_t off = LastFrame(Last()) - 400;
  std::string b = testutil::ReadFile(Last());
  uint64_t frame = 0, pos = 0;
  while (pos < off) {  // find the frame containing `off`
    uint64_t word;
    std::memcpy(&word, b.data() + pos, 8);
    frame = pos;
    pos += 8 + (word & 0x00FFFFFFFFFFFFFFull) + ((word >> 63) ? (word >> 56) & 7 : 0);
  }
  ASSERT_LT(frame + 60, end);
  Patch(Last(), frame + 50, "\x01");
  EXPECT_EQ(WriteModeRead(), StatusCode::kCrcMismatch);
  auto r = ReadModeRead();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kCrcMismatch);
  EXPECT_NE(r.error().ToString().find(segs_.back().name), std::string::npos) << r.error().ToString();
  // The place is data too, so tools need not parse the message.
  const ErrorPlace* place = r.error().place();
  ASSERT_NE(place, nullptr) << r.error().ToString();
  EXPECT_EQ(place->file, segs_.back().name);
  EXPECT_EQ(place->offset, frame);
  EXPECT_TRUE(place->what.starts_with("crc mismatch")) << place->what;
  const Status v = Verify(dir_, Snapshot{}, opts_);
  EXPECT_EQ(v.code(), StatusCode::kCrcMismatch);
  ASSERT_NE(v.place(), nullptr);
  EXPECT_EQ(v.place()->offset, frame);
  ExpectRepairRefuses();
}

TEST_F(RecoveryTable, R07_DamageInAnEarlierSegment) {
  Build();
  const uint64_t last = LastFrame(Seg(0));
  FlipLastRecordByte(Seg(0), last);
  EXPECT_EQ(WriteModeRead(), StatusCode::kCrcMismatch);
  EXPECT_EQ(ReadModeRead().error().code(), StatusCode::kCrcMismatch);
  // Repair looks at the last segment only; it is fine, so nothing is cut,
  // and the log still does not read: synced data is never "repaired" away.
  auto r = Repair(dir_, opts_);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(WriteModeRead(), StatusCode::kCrcMismatch);
  // A frame that runs past the end of an earlier segment is corruption too.
  Resize(Seg(0), last + 20);
  EXPECT_EQ(WriteModeRead(), StatusCode::kCorruption);
}

TEST_F(RecoveryTable, R08_ZeroLengthWordInAnEarlierSegment) {
  Build();
  const uint64_t last = LastFrame(Seg(0));
  Patch(Seg(0), last, std::string(8, '\0'));  // the reader skips the rest of segment 0
  EXPECT_EQ(WriteModeRead(), StatusCode::kCrcMismatch) << "caught by the next segment's crc record";
}

TEST_F(RecoveryTable, R09_MissingSegment) {
  Build(120);
  ASSERT_GE(segs_.size(), 5u);
  // etcd's isValidSeq does not see a gap right after seq 0; the CRC chain
  // (the crc record at the head of seq 2) does.
  std::remove(Seg(1).c_str());
  EXPECT_EQ(WriteModeRead(), StatusCode::kCrcMismatch);
  // Any other gap is refused when the segments are selected.
  std::remove(Seg(3).c_str());
  EXPECT_EQ(WriteModeRead(), StatusCode::kFileNotFound);
}

TEST_F(RecoveryTable, R10_GapInEntryIndexes) {
  auto w = WAL::Create(dir_, "meta", opts_);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->Save(HardState{1, 1, 1}, std::vector<Entry>{Entry{1, 1}, Entry{1, 2}}).ok());
  ASSERT_TRUE((*w)->Save(HardState{}, std::vector<Entry>{Entry{1, 5}}).ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(WriteModeRead(), StatusCode::kSliceOutOfRange);
  EXPECT_EQ(ReadModeRead().error().code(), StatusCode::kSliceOutOfRange);
}

TEST_F(RecoveryTable, R11_MetadataConflict) {
  Build();
  AppendRawRecord(internal::kMetadataType, "other");
  EXPECT_EQ(WriteModeRead(), StatusCode::kMetadataConflict);
  EXPECT_EQ(ReadModeRead().error().code(), StatusCode::kMetadataConflict);
  EXPECT_EQ(Verify(dir_, Snapshot{}, opts_).code(), StatusCode::kMetadataConflict);
}

TEST_F(RecoveryTable, R12_SnapshotTermMismatch) {
  auto w = WAL::Create(dir_, "meta", opts_);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->Save(HardState{1, 1, 3}, std::vector<Entry>{Entry{1, 1}, Entry{1, 2}, Entry{1, 3}}).ok());
  ASSERT_TRUE((*w)->SaveSnapshot(Snapshot{2, 1}).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto o = WAL::Open(dir_, Snapshot{2, 7}, opts_);
  ASSERT_TRUE(o.has_value());
  auto r = (*o)->ReadAll();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kSnapshotMismatch);
  EXPECT_EQ(Verify(dir_, Snapshot{2, 7}, opts_).code(), StatusCode::kSnapshotMismatch);
}

TEST_F(RecoveryTable, R13_SnapshotNotRecorded) {
  Build();
  EXPECT_EQ(ReadModeRead(Snapshot{4, 1}).error().code(), StatusCode::kSnapshotNotFound);
  EXPECT_EQ(Verify(dir_, Snapshot{4, 1}, opts_).code(), StatusCode::kSnapshotNotFound);
  auto w = WAL::Open(dir_, Snapshot{4, 1}, opts_);  // write mode: not an error, as in etcd
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE((*w)->ReadAll().has_value());
}

TEST_F(RecoveryTable, R14_UnknownRecordType) {
  Build();
  const uint64_t end = EndOfRecords(Last());
  AppendRawRecord(9, "x");
  auto r = ReadModeRead();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kCorruption);
  EXPECT_NE(r.error().ToString().find("unexpected block type 9"), std::string::npos) << r.error().ToString();
  EXPECT_NE(r.error().ToString().find("offset " + std::to_string(end)), std::string::npos)
      << r.error().ToString();
  EXPECT_NE(r.error().ToString().find(segs_.back().name), std::string::npos);
  EXPECT_EQ(Verify(dir_, Snapshot{}, opts_).code(), StatusCode::kCorruption);
  // Repair looks for torn writes only (record types are not its business, as
  // in etcd): it finds none, changes nothing, and the log still fails.
  const std::string before = testutil::ReadFile(Last());
  auto rep = Repair(dir_, opts_);
  ASSERT_TRUE(rep.has_value());
  EXPECT_TRUE(*rep);
  EXPECT_EQ(testutil::ReadFile(Last()), before);
  EXPECT_EQ(WriteModeRead(), StatusCode::kCorruption);
}

TEST_F(RecoveryTable, R15_NoSegments) {
  ASSERT_TRUE(CreateDirAll(FileSystem::Default(), dir_, 0700).ok());
  EXPECT_EQ(WriteModeRead(), StatusCode::kFileNotFound);
  EXPECT_EQ(Verify(dir_, Snapshot{}, opts_).code(), StatusCode::kFileNotFound);
  EXPECT_EQ(Repair(dir_, opts_).error().code(), StatusCode::kFileNotFound);
}

TEST_F(RecoveryTable, R16_LockedByAWriter) {
  Build();
  auto w = WAL::Open(dir_, Snapshot{}, opts_);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(WriteModeRead(), StatusCode::kLocked);
  EXPECT_EQ(Repair(dir_, opts_).error().code(), StatusCode::kLocked);
  EXPECT_TRUE(ReadModeRead().has_value()) << "readers take no locks";
}

}  // namespace
}  // namespace wal
