// etcd's payloads in a WAL: what walctl dump shows of an entry's data and of
// the metadata when they are etcd's (etcd v3.4/v3.5), through etcd's
// messages declared in tools/etcd/*.proto and libprotobuf's reflection.
//
// An EntryNormal holds an etcdserverpb.InternalRaftRequest or, from etcd's
// v2 API (and v3.4's publish and SYNC), a bare etcdserverpb.Request; etcd's
// apply (EtcdServer.applyEntryNormal) tries InternalRaftRequest first and
// falls back to Request, as etcd-dump-logs does. EntryConfChange and
// EntryConfChangeV2 hold raftpb.ConfChange / ConfChangeV2, whose context is
// the JSON of a membership.Member when etcd adds or updates a member.
//
// Data that does not decode as one of these (another application's WAL) is
// not etcd's: DecodeEntry returns kNone and the caller prints it raw. To keep
// such data from passing for etcd's, a decode must be exact: it parses, has
// no unknown fields at any depth, and carries what etcd always writes (an
// InternalRaftRequest has a request field set; gogo-protobuf writes every
// non-nullable field of a proto2 Request, Metadata and ConfChange, so those
// fields must be present).
#ifndef WAL_TOOLS_ETCD_DECODE_H_
#define WAL_TOOLS_ETCD_DECODE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wal/status.h"
#include "wal/types.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace walctl::etcd {

// etcdserverpb.Metadata, the WAL's metadata record.
struct Metadata {
  uint64_t node_id = 0;
  uint64_t cluster_id = 0;
};
std::optional<Metadata> DecodeMetadata(std::string_view data);

enum class Payload {
  kNone,                 // not etcd's: print the data raw
  kEmpty,                // EntryNormal without data: a new leader's no-op
  kInternalRaftRequest,  // etcdserverpb.InternalRaftRequest
  kRequest,              // etcdserverpb.Request (v2)
  kConfChange,           // raftpb.ConfChange
  kConfChangeV2,         // raftpb.ConfChangeV2
};

struct Decoded {
  Payload payload = Payload::kNone;
  // The request kind: the InternalRaftRequest field that is set ("put",
  // "delete_range", "lease_grant", "auth_user_add", "cluster_version_set",
  // "v2", ...; "v2" for a bare Request too). Empty for other payloads.
  std::string kind;
  std::shared_ptr<const google::protobuf::Message> message;
  // A conf change's context parsed as etcd's member JSON; null when the
  // context is empty or is not that JSON (then it is shown as bytes).
  std::shared_ptr<const google::protobuf::Message> member;
};
Decoded DecodeEntry(const wal::Entry& e);

// One line of text for a decoded entry (payload != kNone), without the
// index/term/type prefix: `request=put header={ID=...} put={key="a" value="b"}`
// or `conf_change={type=ConfChangeAddNode node_id=...} member={id=... name="x"}`.
// Bytes are quoted when they are text (UTF-8 without control characters
// other than tab, CR, LF), else "hex:..."; IDs in hex; secrets <redacted>.
std::string DecodedText(const Decoded& d);
// The JSON members for a decoded entry (payload != kNone), to follow a comma:
// `"request": {"kind": "put", "message": "InternalRaftRequest", "header":
// {...}, "put": {...}}` or `"conf_change": {...}, "member": {...}`. Bytes are
// a JSON string when they are text, else {"hex": "..."}; IDs are hex strings;
// other 64-bit integers are numbers up to 2^53 in magnitude, decimal strings
// beyond.
std::string DecodedJson(const Decoded& d);

// A short name for what a decoded entry holds: the request kind ("put",
// "v2", ...), the conf change type ("ConfChangeAddNode", ...) or
// "ConfChangeV2"; empty when it is not etcd's (or empty).
std::string DecodedKind(const Decoded& d);

// A 64-bit integer for JSON: a number when |v| <= 2^53, else a decimal string.
std::string JsonUint(uint64_t v);
std::string JsonInt(int64_t v);
// An ID as etcd prints it: "%x".
std::string IdHex(uint64_t id);
// raftpb.EntryType's name ("EntryNormal"), or "EntryType(<n>)".
std::string EntryTypeEnumName(wal::EntryType type);

// dump --entry-type: etcd-dump-logs' names, comma-separated: Normal,
// ConfigChange (ConfChange and ConfChangeV2), Request, InternalRaftRequest,
// and IRR<Kind> for every InternalRaftRequest field in CamelCase (IRRRange,
// IRRPut, IRRDeleteRange, IRRTxn, IRRCompaction, IRRLeaseGrant,
// IRRLeaseRevoke, IRRLeaseCheckpoint as etcd-dump-logs; also IRRAlarm,
// IRRAuthEnable, IRRAuthUserAdd, IRRClusterVersionSet, IRRV2, ...).
class EntryTypeFilter {
 public:
  // kInvalidArgument for an unknown name (the message lists the valid ones).
  static wal::Result<EntryTypeFilter> Parse(std::string_view list);
  bool Matches(const wal::Entry& e, const Decoded& d) const;
  // Every valid name, comma-separated.
  static std::string ValidNames();

 private:
  bool normal_ = false;
  bool conf_change_ = false;
  bool request_ = false;
  bool internal_raft_request_ = false;
  std::vector<std::string> kinds_;  // InternalRaftRequest field names
};

}  // namespace walctl::etcd

#endif  // WAL_TOOLS_ETCD_DECODE_H_
