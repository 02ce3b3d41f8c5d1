// Ports of etcd v3.4's wal/record_test.go (TestReadRecord, TestWriteRecord)
// plus the framing rules of the writer. etcd decodes from a bytes.Buffer;
// our decoder reads files (its size checks need the file size), so each case
// is written to a real segment file first, as etcd main's port does.
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/coding.h"
#include "src/crc32c.h"
#include "src/proto.h"
#include "src/segment_names.h"
#include "tests/test_util.h"
#include "tests/wal_test_helpers.h"
#include "wal/wal.h"

namespace wal {
namespace {

using testutil::DecodeFile;
using testutil::DecodeFiles;
using testutil::SegmentBuilder;
using testutil::SegPath;
using testutil::SmallOptions;
using testutil::TempDir;

// etcd's infoRecord: an UNPADDED (pre-3.0) frame, header 0e 00 00 00 00 00
// 00 00 = 14 bytes, holding a metadata record {type 1, crc, data}.
const std::string kInfoData("\b\xef\xfd\x02", 4);
const std::string kInfoRecord =
    std::string("\x0e\x00\x00\x00\x00\x00\x00\x00\b\x01\x10\x99\xb5\xe4\xd0\x03\x1a\x04", 18) + kInfoData;

testutil::DecodedLog DecodeBytes(const TempDir& tmp, const std::string& bytes,
                                 TornWriteRule rule = Options{}.torn_write_rule) {
  const std::string path = SegPath(tmp.path(), 0, 0);
  testutil::WriteFile(path, bytes);
  return DecodeFile(path, rule);
}

// TestReadRecord: the good unpadded frame, EOF on empty input, truncations
// as ErrUnexpectedEOF, a flipped last byte as a CRC mismatch (with etcd's
// torn-write rule; see ReadRecordFlippedLastByteUnderZeroTailRule).
TEST(RecordTest, ReadRecord) {
  ASSERT_EQ(kInfoRecord.size(), 22u);
  TempDir tmp;
  {
    auto log = DecodeBytes(tmp, kInfoRecord);
    WAL_ASSERT_OK(log.end);
    ASSERT_EQ(log.records.size(), 1u);
    EXPECT_EQ(log.records[0].type, 1);
    EXPECT_EQ(log.records[0].crc, internal::Crc32c(kInfoData));
    EXPECT_TRUE(log.records[0].has_data);
    EXPECT_EQ(log.records[0].data, kInfoData);
    EXPECT_EQ(log.records[0].frame_bytes, 22u) << "no padding on an unpadded frame";
    EXPECT_EQ(log.last_valid_offset, 22u);
  }
  {
    auto log = DecodeBytes(tmp, "");
    WAL_EXPECT_OK(log.end);  // io.EOF: a clean end
    EXPECT_TRUE(log.records.empty());
  }
  const size_t cuts[] = {8, kInfoRecord.size() - kInfoData.size() - 8, kInfoRecord.size() - kInfoData.size(),
                         kInfoRecord.size() - 8};
  for (size_t n : cuts) {
    auto log = DecodeBytes(tmp, kInfoRecord.substr(0, n));
    WAL_EXPECT_CODE(log.end, StatusCode::kUnexpectedEof) << "truncated to " << n;
    EXPECT_TRUE(log.records.empty());
    EXPECT_EQ(log.last_valid_offset, 0u);
  }
  // A partial length word is torn too.
  for (size_t n : {1u, 5u, 7u}) {
    auto log = DecodeBytes(tmp, kInfoRecord.substr(0, n));
    WAL_EXPECT_CODE(log.end, StatusCode::kUnexpectedEof) << "truncated to " << n;
  }
  std::string bad = kInfoRecord;
  bad.back() = 'a';
  {
    auto log = DecodeBytes(tmp, bad, TornWriteRule::kEtcd);
    WAL_EXPECT_CODE(log.end, StatusCode::kCrcMismatch);
    EXPECT_TRUE(log.records.empty());
  }
  for (TornWriteRule rule : {TornWriteRule::kEtcd, TornWriteRule::kZeroTail}) {
    for (size_t n : cuts) {
      WAL_EXPECT_CODE(DecodeBytes(tmp, kInfoRecord.substr(0, n), rule).end, StatusCode::kUnexpectedEof);
    }
  }
}

// The library's default rule (kZeroTail) also calls a damaged record torn
// when nothing but never-written zeros follows the sector it ends in: the
// same flipped last byte, as the last thing in the file, is kUnexpectedEof.
// Followed by more data beyond its sector, it is a CRC mismatch again.
TEST(RecordTest, ReadRecordFlippedLastByteUnderZeroTailRule) {
  TempDir tmp;
  std::string bad = kInfoRecord;
  bad.back() = 'a';
  WAL_EXPECT_CODE(DecodeBytes(tmp, bad, TornWriteRule::kZeroTail).end, StatusCode::kUnexpectedEof);
  WAL_EXPECT_CODE(DecodeBytes(tmp, bad + std::string(4096, '\0'), TornWriteRule::kZeroTail).end,
                  StatusCode::kUnexpectedEof);
  WAL_EXPECT_CODE(DecodeBytes(tmp, bad + std::string(4096, '\0'), TornWriteRule::kEtcd).end,
                  StatusCode::kCrcMismatch);
  std::string followed = bad + std::string(512 - bad.size(), '\0') + std::string(8, '\x01');
  WAL_EXPECT_CODE(DecodeBytes(tmp, followed, TornWriteRule::kZeroTail).end, StatusCode::kCrcMismatch);
  WAL_EXPECT_CODE(DecodeBytes(tmp, followed, TornWriteRule::kEtcd).end, StatusCode::kCrcMismatch);
}

// The same damage in a segment that is NOT the last one is corruption, not a
// repairable torn tail; a CRC mismatch stays a CRC mismatch.
TEST(RecordTest, ReadRecordInNonLastSegment) {
  TempDir tmp;
  const std::string first = SegPath(tmp.path(), 0, 0);
  const std::string second = SegPath(tmp.path(), 1, 1);
  testutil::WriteFile(second, SegmentBuilder().Crc().bytes());
  for (size_t n : {5u, 8u, 10u, 14u, 18u}) {
    testutil::WriteFile(first, kInfoRecord.substr(0, n));
    auto log = DecodeFiles({first, second});
    WAL_EXPECT_CODE(log.end, StatusCode::kCorruption) << "truncated to " << n;
  }
  std::string bad = kInfoRecord;
  bad.back() = 'a';
  testutil::WriteFile(first, bad);
  WAL_EXPECT_CODE(DecodeFiles({first, second}).end, StatusCode::kCrcMismatch);
  // Intact first segment, but the second one's crc record holds 0 while the
  // running chain is non-zero: the crc record is checked and mismatches.
  // With the right value both segments decode.
  testutil::WriteFile(first, kInfoRecord);
  WAL_EXPECT_CODE(DecodeFiles({first, second}).end, StatusCode::kCrcMismatch);
  testutil::WriteFile(second, SegmentBuilder(internal::Crc32c(kInfoData)).Crc().bytes());
  auto log = DecodeFiles({first, second});
  WAL_EXPECT_OK(log.end);
  EXPECT_EQ(log.records.size(), 2u);
}

// An entry, state or snapshot record without payload passes the CRC check
// (the CRC of no bytes is the chain itself) but was never written: etcd and
// this library always encode their non-nullable fields. It is the shape a
// crc record takes when its type byte is damaged (found by the round-trip
// fuzzer: the reader took it for entry index 0 and last_index() fell to 0).
TEST(RecordTest, PayloadlessEntryStateOrSnapshotIsDamage) {
  TempDir tmp;
  const std::string first = SegPath(tmp.path(), 0, 0);
  const std::string second = SegPath(tmp.path(), 1, 1);
  for (int64_t type : {internal::kEntryType, internal::kStateType, internal::kSnapshotType}) {
    for (bool has_data : {false, true}) {
      SegmentBuilder head;
      head.Head(std::string("md")).Ent(Entry{1, 1, EntryType::kNormal, "x"});
      SegmentBuilder damaged(head.crc());
      damaged.Record(type, has_data, "");
      // In a segment that is not the last: corruption, naming the record.
      testutil::WriteFile(first, head.bytes());
      testutil::WriteFile(second, damaged.bytes() + SegmentBuilder(head.crc()).Crc().bytes());
      testutil::WriteFile(SegPath(tmp.path(), 2, 1), SegmentBuilder(head.crc()).Crc().bytes());
      auto log = DecodeFiles({first, second, SegPath(tmp.path(), 2, 1)});
      WAL_EXPECT_CODE(log.end, StatusCode::kCorruption) << "type " << type;
      EXPECT_NE(log.end.message().find("without payload"), std::string::npos) << log.end.ToString();
      std::remove(SegPath(tmp.path(), 2, 1).c_str());
      // As the last thing in the last segment, followed by zeros: torn.
      testutil::WriteFile(second, damaged.bytes() + std::string(4096, '\0'));
      WAL_EXPECT_CODE(DecodeFiles({first, second}).end, StatusCode::kUnexpectedEof) << "type " << type;
    }
  }
}

// TestWriteRecord: encode a record of type 0xABCD with "Hello world!" and
// decode it back.
TEST(RecordTest, WriteRecord) {
  TempDir tmp;
  const std::string data = "Hello world!";
  SegmentBuilder b;
  b.Record(0xABCD, true, data);
  const std::string& bytes = b.bytes();
  // The golden frame, from an independent encoder (see golden_test.cc):
  // length 0x18, no pad; type 0xABCD, crc32c("Hello world!") = 0x7B98E751.
  EXPECT_EQ(testutil::Hex(bytes), "180000000000000008cdd70210d1cee3dc071a0c48656c6c6f20776f726c6421");
  ASSERT_EQ(bytes.size() % 8, 0u);
  const uint64_t word = internal::DecodeFixed64LE(reinterpret_cast<const uint8_t*>(bytes.data()));
  const uint64_t rec_len = word & internal::kFrameLengthMask;
  EXPECT_EQ(rec_len, internal::EncodeRecordToString(0xABCD, internal::Crc32c(data), true, data).size());
  const uint64_t pad = internal::PadBytes(rec_len);
  EXPECT_EQ(word >> 56, pad == 0 ? 0u : (0x80u | pad));
  EXPECT_EQ(bytes.size(), 8 + rec_len + pad);
  auto log = DecodeBytes(tmp, bytes);
  WAL_ASSERT_OK(log.end);
  ASSERT_EQ(log.records.size(), 1u);
  EXPECT_EQ(log.records[0].type, 0xABCD);
  EXPECT_EQ(log.records[0].data, data);
  EXPECT_EQ(log.records[0].crc, internal::Crc32c(data));
}

// The real writer frames every record as etcd v3 does: each frame is a
// multiple of 8 bytes, the top byte of the length word is 0x80|pad when
// pad != 0 (else 0), and the pad bytes are zero. Data sizes 0..17 exercise
// every pad value.
TEST(RecordTest, WriterFramesArePaddedTo8) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  std::vector<Entry> ents;
  {
    auto w = WAL::Create(dir, "md", SmallOptions(64 * 1024));
    WAL_ASSERT_OK(w);
    for (uint64_t i = 1; i <= 18; ++i) {
      ents.push_back(testutil::Ent(i, 1, std::string(i - 1, 'x')));
      WAL_ASSERT_OK((*w)->Save(HardState{1, 0, i}, std::span(&ents.back(), 1)));
    }
    WAL_ASSERT_OK((*w)->Close());
  }
  const std::string path = SegPath(dir, 0, 0);
  const std::string bytes = testutil::ReadFile(path);
  auto log = DecodeFile(path);
  WAL_ASSERT_OK(log.end);
  std::set<uint64_t> pads;
  for (const auto& r : log.records) {
    EXPECT_EQ(r.offset % 8, 0u);
    EXPECT_EQ(r.frame_bytes % 8, 0u);
    const uint64_t word =
        internal::DecodeFixed64LE(reinterpret_cast<const uint8_t*>(bytes.data() + r.offset));
    const uint64_t len = word & internal::kFrameLengthMask;
    const uint64_t pad = internal::PadBytes(len);
    pads.insert(pad);
    EXPECT_EQ(r.frame_bytes, 8 + len + pad);
    EXPECT_EQ(word >> 56, pad == 0 ? 0u : (0x80u | pad)) << "record at " << r.offset;
    EXPECT_EQ(bytes.substr(r.offset + 8 + len, pad), std::string(pad, '\0'));
  }
  EXPECT_EQ(pads.size(), 8u) << "every pad value 0..7 was exercised";
  auto rd = testutil::OpenReadAll(dir);
  WAL_ASSERT_OK(rd);
  EXPECT_EQ(rd->entries, ents);
}

// A pre-3.0 (unpadded) log: the 14-byte metadata frame of etcd's test is
// exactly what a v2 writer produced. It reads through the public API, and
// appending (padded frames after unpadded ones) keeps it readable.
TEST(RecordTest, UnpaddedLegacySegmentReadsAndAppends) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  ASSERT_TRUE(CreateDirAll(FileSystem::Default(), dir, 0700).ok());
  SegmentBuilder b;
  b.Unpadded().Crc();
  const size_t crc_frame = b.size();
  b.Metadata(kInfoData);
  EXPECT_EQ(testutil::Hex(b.bytes().substr(crc_frame)), testutil::Hex(kInfoRecord))
      << "the builder reproduces etcd's unpadded frame";
  b.Snap(Snapshot{})
      .Ent(testutil::Ent(1, 1, "a"))
      .Ent(testutil::Ent(2, 1, "bcdefghij"))
      .State(HardState{1, 1, 2});
  b.Ent(testutil::Ent(3, 1, "k"));
  b.WriteTo(SegPath(dir, 0, 0));

  auto r = testutil::ReadOnlyReadAll(dir);
  WAL_ASSERT_OK(r);
  EXPECT_EQ(r->metadata, kInfoData);
  EXPECT_EQ(testutil::Indexes(r->entries), testutil::Range(1, 3));
  EXPECT_EQ(r->state, (HardState{1, 1, 2}));
  WAL_EXPECT_OK(Verify(dir, Snapshot{}));

  {
    auto w = WAL::Open(dir, Snapshot{}, SmallOptions());
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->ReadAll());
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 4}, testutil::Ents(4, 5)));
    WAL_ASSERT_OK((*w)->Cut());
    WAL_ASSERT_OK((*w)->Save(HardState{}, testutil::Ents(6, 6)));
    WAL_ASSERT_OK((*w)->Close());
  }
  r = testutil::OpenReadAll(dir);
  WAL_ASSERT_OK(r);
  EXPECT_EQ(testutil::Indexes(r->entries), testutil::Range(1, 6));
  EXPECT_EQ(r->metadata, kInfoData);
  WAL_EXPECT_OK(Verify(dir, Snapshot{}));
}

// A length word's bits 59..62 are ignored (masked with the top byte), and
// bit 63 clear means "no padding" even for a length that is not a multiple
// of 8.
TEST(RecordTest, LengthWordTopByteRules) {
  TempDir tmp;
  const std::string rec =
      internal::EncodeRecordToString(internal::kMetadataType, internal::Crc32c("abc"), true, "abc");
  const uint64_t pad = internal::PadBytes(rec.size());
  ASSERT_NE(pad, 0u);
  // Padded, with junk in flag bits 59..62: top byte 1111 1ppp.
  SegmentBuilder b;
  b.Word(rec.size() | ((0xF8 | pad) << 56)).Raw(rec).Raw(std::string(pad, '\0'));
  auto log = DecodeBytes(tmp, b.bytes());
  WAL_ASSERT_OK(log.end);
  ASSERT_EQ(log.records.size(), 1u);
  EXPECT_EQ(log.records[0].data, "abc");
  EXPECT_EQ(log.records[0].frame_bytes, 8 + rec.size() + pad);
  // Unpadded (bit 63 clear) with the same junk bits: no pad is skipped, the
  // next frame follows right after the record.
  SegmentBuilder u;
  u.Word(rec.size() | (uint64_t{0x78} << 56)).Raw(rec);
  const std::string rec2 =
      internal::EncodeRecordToString(internal::kMetadataType, internal::Crc32c("abcabc"), true, "abc");
  u.Word(rec2.size()).Raw(rec2);
  log = DecodeBytes(tmp, u.bytes());
  WAL_ASSERT_OK(log.end);
  ASSERT_EQ(log.records.size(), 2u);
  EXPECT_EQ(log.records[1].offset, 8 + rec.size());
}

}  // namespace
}  // namespace wal
