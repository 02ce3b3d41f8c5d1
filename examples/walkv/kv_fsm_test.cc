// Unit tests of walkv's state machine: command and snapshot encodings, the state hash.
#include "examples/walkv/kv_fsm.h"

#include <cstdlib>
#include <random>

#include <gtest/gtest.h>

namespace walkv {
namespace {

TEST(KvFsm, PutRoundTripsWithEmptyAndBinaryParts) {
  const std::string key("k\0/ey", 5);
  for (const std::string& value : {std::string(), std::string("v"), std::string("\0\xff", 2)}) {
    std::string payload = EncodePut(key, value);
    auto cmd = DecodePut(payload);
    ASSERT_TRUE(cmd.has_value());
    EXPECT_EQ(cmd->key, key);
    EXPECT_EQ(cmd->value, value);
  }
}

TEST(KvFsm, PutPayloadsArePaddedTo8) {
  for (size_t n = 0; n < 20; ++n) {
    std::string payload = EncodePut(std::string(n, 'k'), std::string(n / 2, 'v'));
    EXPECT_EQ(payload.size() % 8, 0u) << n;
    auto cmd = DecodePut(payload);
    ASSERT_TRUE(cmd.has_value()) << n;
    EXPECT_EQ(cmd->key.size(), n);
    EXPECT_EQ(cmd->value.size(), n / 2);
  }
}

TEST(KvFsm, MalformedPutIsRejected) {
  std::string payload = EncodePut("key", "value!");  // 8 + 9 = 17 bytes, padded to 24
  ASSERT_EQ(payload.size(), 24u);
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    EXPECT_FALSE(DecodePut(payload.substr(0, cut)).has_value()) << cut;
  }
  EXPECT_FALSE(DecodePut(payload + std::string(8, '\0')).has_value());  // over-padded
}

TEST(KvFsm, HashDependsOnContentsNotOnOrder) {
  KvMap a, b;
  a.Put("x", "1");
  a.Put("y", "2");
  a.Put("x", "3");
  b.Put("y", "2");
  b.Put("x", "3");
  EXPECT_EQ(a.state_hash(), b.state_hash());
  EXPECT_EQ(a.size(), 2u);
  b.Put("x", "4");
  EXPECT_NE(a.state_hash(), b.state_hash());
  // The key/value boundary is part of the hash.
  KvMap c, d;
  c.Put("ab", "c");
  d.Put("a", "bc");
  EXPECT_NE(c.state_hash(), d.state_hash());
  EXPECT_EQ(KvMap().state_hash(), 0u);
}

TEST(KvFsm, SnapshotRoundTripsRandomMaps) {
  unsigned seed = std::random_device{}();
  if (const char* env = std::getenv("WAL_TEST_SEED"))
    seed = static_cast<unsigned>(std::strtoul(env, nullptr, 10));
  std::printf("WAL_TEST_SEED=%u\n", seed);
  std::mt19937 rng(seed);
  for (int round = 0; round < 50; ++round) {
    KvMap m;
    int puts = static_cast<int>(rng() % 200);
    for (int i = 0; i < puts; ++i) {
      std::string key(rng() % 8, 'a'), value(rng() % 300, 'v');
      for (auto& c : key) c = static_cast<char>(rng());
      for (auto& c : value) c = static_cast<char>(rng());
      m.Put(key, value);
    }
    KvMap restored;
    restored.Put("stale", "gone after restore");
    ASSERT_TRUE(restored.Restore(m.Serialize()));
    EXPECT_EQ(restored.size(), m.size());
    EXPECT_EQ(restored.state_hash(), m.state_hash());
    EXPECT_EQ(restored.Find("stale"), nullptr);
  }
}

TEST(KvFsm, MalformedSnapshotLeavesTheMapAlone) {
  KvMap m;
  m.Put("a", "1");
  m.Put("b", "2");
  const std::string image = m.Serialize();
  KvMap target;
  target.Put("keep", "me");
  const uint64_t before = target.state_hash();
  for (size_t cut = 0; cut < image.size(); ++cut) {
    EXPECT_FALSE(target.Restore(image.substr(0, cut))) << cut;
  }
  EXPECT_FALSE(target.Restore(image + "x"));  // trailing garbage
  std::string lying = image;
  lying[4] = 100;  // count says 100 pairs
  EXPECT_FALSE(target.Restore(lying));
  EXPECT_EQ(target.state_hash(), before);
  ASSERT_NE(target.Find("keep"), nullptr);
}

}  // namespace
}  // namespace walkv
