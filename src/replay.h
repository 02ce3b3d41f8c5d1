// Replay: what a decoded record means to a reader of the log, decided in one
// place for ReadAll, Verify, ValidSnapshotEntries, LogReader and CheckLog.
//
// The decoder (record_reader.h) owns framing and the CRC chain; Replay takes
// each record it returns, decodes the body, and applies the log-wide rules:
//   - a metadata record must equal the last non-nil one (etcd's
//     ErrMetadataConflict); a nil one resets the comparison;
//   - a snapshot record at the index being opened must have its term
//     (ErrSnapshotMismatch), and one that has it is the match;
//   - an unknown record type is corruption (etcd: "unexpected block type"),
//     except where etcd skips it (ValidSnapshotEntries);
//   - crc records were checked and adopted by the decoder: nothing to do.
// Every error it returns carries its place (segment, offset; the entry index
// where it concerns one) as Status data. Where an entry goes in a result
// (the raft overwrite rule) is the result's business: see wal.cc.
#ifndef WAL_SRC_REPLAY_H_
#define WAL_SRC_REPLAY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "src/proto.h"
#include "src/record_reader.h"
#include "wal/status.h"
#include "wal/types.h"

namespace wal::internal {

struct ReplayRules {
  bool decode_entries = true;  // Verify and ValidSnapshotEntries do not look at entries
  bool decode_states = true;   // Verify does not look at states
  bool check_metadata = true;  // ValidSnapshotEntries does not
  bool unknown_types_are_errors = true;
  // Snapshot records at this index must carry its term.
  std::optional<Snapshot> snapshot;
};

// The decoded body of the record last applied (the field of its type).
struct ReplayedRecord {
  int64_t type = 0;
  EntryView entry;  // data points into the decoder's buffer
  HardState state;
  Snapshot snapshot;
};

class Replay {
 public:
  explicit Replay(ReplayRules rules) : rules_(std::move(rules)) {}

  // Applies `rec`, just returned by `d`. On error the log is not valid from
  // this record on; `out` is then unspecified.
  Status Apply(const RecordView& rec, const RecordDecoder& d, ReplayedRecord* out);

  // The last metadata record's data (nullopt: none yet, or the last was nil).
  const std::optional<std::string>& metadata() const { return metadata_; }
  // A snapshot record matched rules.snapshot.
  bool snapshot_matched() const { return snapshot_matched_; }

  // An error at the record `d` returned last (kCorruption-class problems of
  // a body, a gap in entry indexes, ...), with its place.
  static Status ErrorAt(const RecordDecoder& d, StatusCode code, std::string what,
                        std::optional<uint64_t> index = std::nullopt);

 private:
  ReplayRules rules_;
  std::optional<std::string> metadata_;
  bool snapshot_matched_ = false;
};

}  // namespace wal::internal

#endif  // WAL_SRC_REPLAY_H_
