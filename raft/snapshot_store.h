// walraft's snapshot side files: one file per raft snapshot in DIR/snap,
// holding the snapshot's index, term, configuration (with its index) and
// payload, closed by a CRC-32C of everything before it. The WAL records only
// {index, term} (its snapshot record); the side file holds the rest.
//
// File name: <index:%016x>-<term:%016x>.raftsnap. Layout, all integers
// little-endian u64 (doc/raft.md):
//   magic "WRSNAP01" | index | term | configuration_index | n_servers |
//   n_servers x (id | role | address length | address bytes) |
//   payload length | payload bytes | crc (CRC-32C of all the bytes before it)
//
// Durability: Put writes <name>.tmp, fsyncs it, renames it into place and
// fsyncs the directory, so after a crash a name either holds the complete
// file or does not exist. All I/O goes through the wal::FileSystem seam.
//
// Threading: not thread-safe; walraft uses it from the loop thread only.
#ifndef WAL_RAFT_SNAPSHOT_STORE_H_
#define WAL_RAFT_SNAPSHOT_STORE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wal/file_system.h"
#include "wal/status.h"

namespace wal::internal {

struct SnapshotServer {
  uint64_t id = 0;
  uint64_t role = 0;
  std::string address;
};

struct SnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t configuration_index = 0;
  std::vector<SnapshotServer> servers;
};

struct StoredSnapshot {
  SnapshotMeta meta;
  std::string payload;
};

struct SnapshotId {
  uint64_t index = 0;
  uint64_t term = 0;
  friend bool operator==(const SnapshotId&, const SnapshotId&) = default;
};

class SnapshotStore {
 public:
  // `fs` must outlive this object. `sync` = false skips every fsync (the
  // WAL's unsafe_no_fsync, for benchmarks only).
  SnapshotStore(FileSystem* fs, std::string dir, bool sync);

  // Creates the directory (parents synced) and removes leftover *.tmp files
  // of an interrupted Put.
  Status Init();
  // The snapshots stored, newest (highest index) first.
  Result<std::vector<SnapshotId>> List() const;
  // Writes the snapshot whose payload is the concatenation of `payload`.
  // Durable when it returns OK.
  Status Put(const SnapshotMeta& meta, std::span<const std::string_view> payload);
  // Reads and checks one snapshot. kCorruption for a bad magic, length or CRC.
  Result<StoredSnapshot> Load(const SnapshotId& id) const;
  // Removes all but the newest `keep` snapshots (directory synced).
  Status Prune(size_t keep);

  static std::string FileName(const SnapshotId& id);

 private:
  std::string PathOf(const SnapshotId& id) const;
  FileSystem* fs_;  // not owned
  std::string dir_;
  bool sync_;
};

}  // namespace wal::internal

#endif  // WAL_RAFT_SNAPSHOT_STORE_H_
