// Unit tests of walctl's etcd decoding: what counts as etcd's data, the
// JSON number rules, the entry-type names, the stream decoder's answers.
#include "tools/etcd_decode.h"

#include <string>

#include <gtest/gtest.h>

#include "etcdserver.pb.h"
#include "raft.pb.h"
#include "raft_internal.pb.h"
#include "tools/stream_decoder.h"
#include "tools/text.h"

namespace walctl::etcd {
namespace {

wal::Entry Normal(std::string data) { return wal::Entry{1, 1, wal::EntryType::kNormal, std::move(data)}; }

std::string PutRequest(const std::string& key) {
  etcdserverpb::InternalRaftRequest r;
  r.mutable_header()->set_id(7);
  r.mutable_put()->set_key(key);
  return r.SerializeAsString();
}

TEST(EtcdDecode, InternalRaftRequest) {
  const Decoded d = DecodeEntry(Normal(PutRequest("foo")));
  EXPECT_EQ(d.payload, Payload::kInternalRaftRequest);
  EXPECT_EQ(d.kind, "put");
  EXPECT_EQ(DecodedText(d), "request=put header={ID=7} put={key=\"foo\"}");
  EXPECT_EQ(
      DecodedJson(d),
      "\"request\": {\"kind\": \"put\", \"message\": \"InternalRaftRequest\", \"header\": {\"ID\": \"7\"}, "
      "\"put\": {\"key\": \"foo\"}}");
}

TEST(EtcdDecode, UnknownFieldsAreNotEtcds) {
  // Field 15 (not an InternalRaftRequest field), then a put: etcd's decoder
  // would skip the unknown field; walctl will not call such bytes etcd's.
  EXPECT_EQ(DecodeEntry(Normal("\x78\x01" + PutRequest("foo"))).payload, Payload::kNone);
  // A known field with the wrong wire type (put as a varint).
  EXPECT_EQ(DecodeEntry(Normal(std::string("\x20\x01", 2))).payload, Payload::kNone);
  // An unknown field inside the put.
  etcdserverpb::InternalRaftRequest r;
  r.mutable_put()->set_key("k");
  std::string put = r.put().SerializeAsString() + "\x48\x01";  // field 9
  std::string irr = "\x22" + std::string(1, static_cast<char>(put.size())) + put;
  EXPECT_EQ(DecodeEntry(Normal(irr)).payload, Payload::kNone);
}

TEST(EtcdDecode, NoRequestIsNotEtcds) {
  etcdserverpb::InternalRaftRequest r;
  r.set_id(5);  // parses, but holds no request
  EXPECT_EQ(DecodeEntry(Normal(r.SerializeAsString())).payload, Payload::kNone);
}

TEST(EtcdDecode, V2RequestNeedsWhatGogoAlwaysWrites) {
  etcdserverpb::Request r;
  r.set_id(1);
  r.set_method("QGET");
  EXPECT_EQ(DecodeEntry(Normal(r.SerializeAsString())).payload, Payload::kNone);  // no Path field
  r.set_path("/a");
  const Decoded d = DecodeEntry(Normal(r.SerializeAsString()));
  EXPECT_EQ(d.payload, Payload::kRequest);
  EXPECT_EQ(DecodedText(d), "request=v2 v2={ID=1 Method=\"QGET\" Path=\"/a\"}");
}

TEST(EtcdDecode, TextIsNotEtcds) {
  for (const char* s : {"hello, world", "e1:ddkedxzyxruwmnjtrzovo", "{\"a\":1}", "x", "\xff\xfe"})
    EXPECT_EQ(DecodeEntry(Normal(s)).payload, Payload::kNone) << s;
  EXPECT_EQ(DecodeEntry(Normal("")).payload, Payload::kEmpty);
}

TEST(EtcdDecode, ConfChangeWithMember) {
  raftpb::ConfChange cc;
  cc.set_type(raftpb::ConfChangeAddNode);
  cc.set_node_id(0x8e9e05c52164694d);
  cc.set_id(0);
  cc.set_context(R"({"id":10276657743932975437,"peerURLs":["http://localhost:2380"],"name":"default"})");
  const Decoded d = DecodeEntry(wal::Entry{1, 1, wal::EntryType::kConfChange, cc.SerializeAsString()});
  ASSERT_EQ(d.payload, Payload::kConfChange);
  EXPECT_EQ(DecodedKind(d), "ConfChangeAddNode");
  EXPECT_EQ(DecodedText(d),
            "conf_change={type=ConfChangeAddNode node_id=8e9e05c52164694d} member={id=8e9e05c52164694d "
            "peerURLs=[\"http://localhost:2380\"] name=\"default\"}");
  cc.set_context("not json");
  const Decoded raw = DecodeEntry(wal::Entry{1, 1, wal::EntryType::kConfChange, cc.SerializeAsString()});
  EXPECT_EQ(DecodedText(raw),
            "conf_change={type=ConfChangeAddNode node_id=8e9e05c52164694d context=\"not json\"}");
}

TEST(EtcdDecode, Metadata) {
  etcdserverpb::Metadata m;
  m.set_nodeid(0x2e1259d415f2a040);
  EXPECT_FALSE(DecodeMetadata(m.SerializeAsString()).has_value());  // gogo always writes both
  m.set_clusterid(0);
  auto md = DecodeMetadata(m.SerializeAsString());
  ASSERT_TRUE(md.has_value());
  EXPECT_EQ(IdHex(md->node_id), "2e1259d415f2a040");
  EXPECT_FALSE(DecodeMetadata("walctl-demo seed=7").has_value());
}

TEST(EtcdDecode, SecretsAreRedacted) {
  etcdserverpb::InternalRaftRequest r;
  r.mutable_auth_user_add()->set_name("root");
  r.mutable_auth_user_add()->set_password("pw");
  const Decoded d = DecodeEntry(Normal(r.SerializeAsString()));
  EXPECT_EQ(DecodedText(d), "request=auth_user_add auth_user_add={name=\"root\" password=<redacted>}");
}

TEST(EtcdDecode, JsonNumbers) {
  EXPECT_EQ(JsonUint(0), "0");
  EXPECT_EQ(JsonUint(9007199254740992), "9007199254740992");
  EXPECT_EQ(JsonUint(9007199254740993), "\"9007199254740993\"");
  EXPECT_EQ(JsonUint(UINT64_MAX), "\"18446744073709551615\"");
  EXPECT_EQ(JsonInt(-9007199254740992), "-9007199254740992");
  EXPECT_EQ(JsonInt(-9007199254740993), "\"-9007199254740993\"");
  EXPECT_EQ(JsonInt(INT64_MIN), "\"-9223372036854775808\"");
}

TEST(EtcdDecode, BinaryBytes) {
  const Decoded d = DecodeEntry(Normal(PutRequest(std::string("a\0b", 3))));
  EXPECT_EQ(DecodedText(d), "request=put header={ID=7} put={key=hex:610062}");
  EXPECT_NE(DecodedJson(d).find("\"key\": {\"hex\": \"610062\"}"), std::string::npos);
  EXPECT_TRUE(IsText("tab\there\nnext, caf\xc3\xa9"));
  EXPECT_FALSE(IsText("\x01"));
  EXPECT_FALSE(IsText("\xc3"));
}

TEST(EntryTypeFilter, Names) {
  auto f = EntryTypeFilter::Parse("IRRPut,ConfigChange");
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->Matches(Normal(PutRequest("k")), DecodeEntry(Normal(PutRequest("k")))));
  const wal::Entry cc{1, 1, wal::EntryType::kConfChangeV2, ""};
  EXPECT_TRUE(f->Matches(cc, DecodeEntry(cc)));
  EXPECT_FALSE(f->Matches(Normal("x"), DecodeEntry(Normal("x"))));
  for (const char* name : {"IRRRange", "IRRPut", "IRRDeleteRange", "IRRTxn", "IRRCompaction", "IRRLeaseGrant",
                           "IRRLeaseRevoke", "IRRLeaseCheckpoint", "IRRAlarm", "IRRAuthEnable",
                           "IRRAuthenticate", "IRRAuthUserChangePassword", "IRRClusterMemberAttrSet",
                           "IRRDowngradeInfoSet", "IRRV2", "Normal", "Request", "InternalRaftRequest"})
    EXPECT_TRUE(EntryTypeFilter::Parse(name).has_value()) << name;
  EXPECT_FALSE(EntryTypeFilter::Parse("IRRput").has_value());
  EXPECT_FALSE(EntryTypeFilter::Parse("IRRPut,").has_value());
  EXPECT_FALSE(EntryTypeFilter::Parse("").has_value());
}

TEST(StreamDecoder, Answers) {
  EXPECT_EQ(ParseDecoderAnswer("OK|abc").status, "OK");
  EXPECT_EQ(ParseDecoderAnswer("OK|abc").data, "abc");
  EXPECT_EQ(ParseDecoderAnswer("abc").status, "decoder output format is not right, print output anyway");
  EXPECT_EQ(ParseDecoderAnswer("a|b|c").data, "bc");
  EXPECT_EQ(ParseDecoderAnswer("|").status, "");
}

TEST(StreamDecoder, RoundTrip) {
  auto d = StreamDecoder::Start("sed -u s/^/OK|/", 5);
  ASSERT_TRUE(d.has_value());
  auto a = (*d)->Decode(std::string("\x01\xff", 2), 1);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, "OK|01ff");
  auto big = (*d)->Decode(std::string(1 << 20, 'x'), 2);  // larger than a pipe's buffer
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->size(), 3u + (2u << 20));
  EXPECT_TRUE((*d)->Finish().ok());
}

}  // namespace
}  // namespace walctl::etcd
