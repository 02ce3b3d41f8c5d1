// walkv's state machine: an ordered string map, the encoding of its commands (the raft entry
// payloads) and of its snapshot, and an order-independent hash of its contents.
//
// Threading: a KvMap is not synchronised; walkv touches it only on the raft loop thread.
// Nothing here depends on raft, so it is tested on its own (kv_fsm_test.cc).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace walkv {

// A PUT command: key and value. The encoding (the raft entry's payload) is
//   [u32 key length][u32 value length][key bytes][value bytes][0-7 zero bytes]
// (little-endian), padded to a multiple of 8 bytes: raft_uv (canonical raft 0.15) writes entries
// of other lengths without the padding its reader expects, and then cannot load its own log
// (canonical/raft issues 189 and 304).
struct PutCommand {
  std::string_view key;
  std::string_view value;
};
std::string EncodePut(std::string_view key, std::string_view value);
// Returns nullopt when `payload` is not such an encoding (lengths beyond it, or not padded to 8). The views
// point into payload.
std::optional<PutCommand> DecodePut(std::string_view payload);

class KvMap {
 public:
  void Put(std::string_view key, std::string_view value);
  // nullptr when absent; valid until the next Put or Restore.
  const std::string* Find(const std::string& key) const;
  size_t size() const { return map_.size(); }
  // XOR over all pairs of a 64-bit hash of (key, value): equal contents give equal hashes
  // whatever order the puts came in; kept up to date on every Put in O(1).
  uint64_t state_hash() const { return hash_; }

  // Snapshot encoding: "WKV1", u64 count, then per pair (in key order) u32 key length,
  // u32 value length, key, value; all integers little-endian.
  std::string Serialize() const;
  // Replaces the whole map. Returns false (and leaves the map untouched) on a malformed image.
  bool Restore(std::string_view image);

 private:
  std::map<std::string, std::string, std::less<>> map_;
  uint64_t hash_ = 0;
};

uint64_t PairHash(std::string_view key, std::string_view value);

}  // namespace walkv
