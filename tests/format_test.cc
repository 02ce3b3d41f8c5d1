// Byte-level format: CRC vectors, frame words, the 72-byte golden head of a
// fresh WAL, record encodings from etcd's own tests.
#include <string>

#include <gtest/gtest.h>

#include "src/crc32c.h"
#include "src/proto.h"
#include "tests/test_util.h"
#include "wal/wal.h"

namespace wal {
namespace {

using internal::Crc32c;
using internal::Crc32cExtend;
using internal::Crc32cExtendPortable;

TEST(Crc32c, CheckValueAndChaining) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("somedata"), 0x741F6A05u);
  // Chaining equals the CRC of the concatenation (Go's crc32.Update).
  EXPECT_EQ(Crc32cExtend(Crc32c("some"), "data"), Crc32c("somedata"));
  std::string snap("\x08\x00\x10\x00", 4);
  EXPECT_EQ(Crc32cExtend(Crc32c("somedata"), snap), 0x18206D80u);
}

TEST(Crc32c, IsalMatchesPortableOnRandomInput) {
  const uint64_t seed = testutil::Seed();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 200; ++i) {
    std::string s = testutil::RandomBytes(rng, rng() % 5000);
    uint32_t prev = static_cast<uint32_t>(rng());
    ASSERT_EQ(Crc32cExtend(prev, s), Crc32cExtendPortable(prev, s.data(), s.size())) << "seed " << seed;
  }
}

// Every length on both sides of the switch from ISA-L's short-buffer
// variant to its dispatcher (src/crc32c.cc), at every alignment mod 8.
TEST(Crc32c, EveryShortLengthMatchesPortable) {
  std::mt19937_64 rng(7);
  const std::string s = testutil::RandomBytes(rng, 1024 + 8);
  for (size_t align = 0; align < 8; ++align) {
    for (size_t n = 0; n <= 1024; ++n) {
      const uint32_t prev = static_cast<uint32_t>(n * 2654435761u + align);
      ASSERT_EQ(Crc32cExtend(prev, s.data() + align, n), Crc32cExtendPortable(prev, s.data() + align, n))
          << "length " << n << " at alignment " << align;
    }
  }
}

TEST(Frame, WordEncodesPaddingInTopByte) {
  EXPECT_EQ(internal::EncodeFrameWord(8), 8u);
  EXPECT_EQ(internal::EncodeFrameWord(4), 0x8400000000000004ull);
  EXPECT_EQ(internal::EncodeFrameWord(18), 0x8600000000000012ull);
  auto fs = internal::DecodeFrameWord(0x8600000000000012ull);
  EXPECT_EQ(fs.record_bytes, 18u);
  EXPECT_EQ(fs.pad_bytes, 6u);
  // Pre-3.0 unpadded frame: bit 63 clear, length not a multiple of 8.
  fs = internal::DecodeFrameWord(14);
  EXPECT_EQ(fs.record_bytes, 14u);
  EXPECT_EQ(fs.pad_bytes, 0u);
  // Bits 59..62 are ignored (masked with the top byte).
  fs = internal::DecodeFrameWord(0xF900000000000007ull);
  EXPECT_EQ(fs.record_bytes, 7u);
  EXPECT_EQ(fs.pad_bytes, 1u);
}

TEST(Proto, EtcdExampleEncodings) {
  Entry e;
  e.term = 2;
  e.index = 3;
  EXPECT_EQ(testutil::Hex(internal::EncodeEntryToString(e)), "080010021803");
  HardState hs{1, 1, 1};
  EXPECT_EQ(testutil::Hex(internal::EncodeHardStateToString(hs)), "080110011801");
  EXPECT_EQ(testutil::Hex(internal::EncodeSnapshotToString(Snapshot{})), "08001000");
  // Record without data (nil metadata / crc record) vs with empty data.
  EXPECT_EQ(testutil::Hex(internal::EncodeRecordToString(1, 0, false, "")), "08011000");
  EXPECT_EQ(testutil::Hex(internal::EncodeRecordToString(1, 0, true, "")), "080110001a00");
}

// Create(dir, "somedata") writes exactly these 72 bytes, then zeros up to the
// preallocated segment size (etcd's testdata/TestNew.wal).
TEST(Format, GoldenHeadOfANewWal) {
  testutil::TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  auto w = WAL::Create(dir, "somedata");
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  ASSERT_TRUE((*w)->Close().ok());
  std::string bytes = testutil::ReadFile(dir + "/0000000000000000-0000000000000000.wal");
  ASSERT_EQ(bytes.size(), 64'000'000u);
  const std::string want =
      "0400000000000084"
      "0804100000000000"
      "1200000000000086"
      "08011085d4fda007"
      "1a08736f6d656461"
      "7461000000000000"
      "0e00000000000082"
      "08051080db81c101"
      "1a04080010000000";
  EXPECT_EQ(testutil::Hex(bytes.substr(0, 72)), want);
  EXPECT_EQ(bytes.find_first_not_of('\0', 72), std::string::npos) << "preallocated tail must be zeros";
}

TEST(Format, NilMetadataHasNoDataField) {
  testutil::TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  Options o;
  o.segment_size_bytes = 4096;
  auto w = WAL::Create(dir, std::string_view(), o);
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  ASSERT_TRUE((*w)->Close().ok());
  std::string bytes = testutil::ReadFile(dir + "/0000000000000000-0000000000000000.wal");
  EXPECT_EQ(testutil::Hex(bytes.substr(16, 16)),
            "0400000000000084"
            "0801100000000000");
}

}  // namespace
}  // namespace wal
