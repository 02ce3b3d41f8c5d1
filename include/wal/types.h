// Plain value types mirroring raftpb.Entry, raftpb.HardState and walpb.Snapshot.
#ifndef WAL_TYPES_H_
#define WAL_TYPES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wal {

// raftpb.EntryType. Values outside this enum read from disk are kept as-is.
enum class EntryType : int32_t { kNormal = 0, kConfChange = 1, kConfChangeV2 = 2 };

// The record types of etcd's walpb.Record.
enum RecordType : int64_t {
  kRecordMetadata = 1,
  kRecordEntry = 2,
  kRecordState = 3,
  kRecordCrc = 4,
  kRecordSnapshot = 5,
};
// "metadata", "entry", "state", "crc", "snapshot", or "unknown".
std::string_view RecordTypeName(int64_t type);

// raftpb.Entry. `data` is opaque. An empty `data` is written without a Data
// field, as etcd does for a nil slice.
struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// An entry whose data lives elsewhere (WAL::ReadAllArena's blocks): the
// fields of raftpb.Entry without an allocation of its own.
struct EntryView {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  std::string_view data;

  Entry ToEntry() const { return Entry{term, index, type, std::string(data)}; }
  friend bool operator==(const EntryView& a, const Entry& b) {
    return a.term == b.term && a.index == b.index && a.type == b.type && a.data == b.data;
  }
};

// raftpb.HardState. All-zero is "empty": Save does not write it.
struct HardState {
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t commit = 0;

  bool empty() const { return term == 0 && vote == 0 && commit == 0; }
  friend bool operator==(const HardState&, const HardState&) = default;
};

// walpb.Snapshot {index=1, term=2}. etcd v3.5+ adds conf_state (field 3);
// readers skip it, this library never writes it (etcd v3.4 format).
struct Snapshot {
  uint64_t index = 0;
  uint64_t term = 0;

  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

struct ReadAllResult {
  std::string metadata;
  HardState state;
  std::vector<Entry> entries;
};

// What WAL::ReadIndexed returns: ReadAll's metadata and state, and the range
// of entries the offset index holds (Entries reads them from disk).
struct ReadIndexedResult {
  std::string metadata;
  HardState state;
  uint64_t first_index = 0;  // the first entry readable
  uint64_t last_index = 0;   // the last; first_index - 1 when there is none
};

}  // namespace wal

#endif  // WAL_TYPES_H_
