// Verify and ValidSnapshotEntries: whole-log checks that do not need a WAL
// object (Repair is in inspect.cc, beside the plan it carries out).
#include <algorithm>

#include "src/proto.h"
#include "src/record_reader.h"
#include "src/wal_internal.h"
#include "wal/wal.h"

namespace wal {

using namespace internal;  // NOLINT

Status Verify(const std::string& dir, const Snapshot& snap, const Options& options) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  WAL_ASSIGN_OR_RETURN(auto sel, SelectSegments(fs, dir, snap.index));
  WAL_ASSIGN_OR_RETURN(auto stream, OpenSegmentStream(fs, dir, std::move(sel.segments), sel.from, options));
  RecordDecoder& d = *stream.decoder;
  std::optional<std::string> md;
  bool match = false;
  RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (!r.has_value()) {
      // A torn last record is tolerated, as in read mode.
      if (r.error().code() == StatusCode::kUnexpectedEof) break;
      return r.error();
    }
    if (!*r) break;
    const std::string where = " in " + d.segment_name() + " at offset " + std::to_string(d.record_offset());
    switch (rec.type) {
      case kMetadataType:
        if (md && *md != rec.data)
          return Status(StatusCode::kMetadataConflict, "wal: conflicting metadata found" + where);
        if (rec.has_data)
          md = std::string(rec.data);
        else
          md.reset();
        break;
      case kSnapshotType: {
        Snapshot s;
        Status st = DecodeSnapshot(rec.data, &s);
        if (!st.ok()) return Status(StatusCode::kCorruption, "wal: " + std::string(st.message()) + where);
        if (s.index == snap.index) {
          if (s.term != snap.term) {
            return Status(StatusCode::kSnapshotMismatch,
                          "wal: snapshot at index " + std::to_string(s.index) + " has term " +
                              std::to_string(s.term) + ", expected " + std::to_string(snap.term) + where);
          }
          match = true;
        }
        break;
      }
      case kCrcType:
      case kEntryType:
      case kStateType:
        break;  // entries and states are not needed to validate the log
      default:
        return Status(StatusCode::kCorruption,
                      "wal: unexpected block type " + std::to_string(rec.type) + where);
    }
  }
  if (!match) {
    return Status(StatusCode::kSnapshotNotFound, "wal: snapshot {index " + std::to_string(snap.index) +
                                                     ", term " + std::to_string(snap.term) +
                                                     "} not found in " + dir);
  }
  return Status::Ok();
}

Result<std::vector<Snapshot>> ValidSnapshotEntries(const std::string& dir, const Options& options) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  WAL_ASSIGN_OR_RETURN(auto segs, ListSegments(fs, dir));
  WAL_ASSIGN_OR_RETURN(auto stream, OpenSegmentStream(fs, dir, std::move(segs), 0, options));
  RecordDecoder& d = *stream.decoder;
  std::vector<Snapshot> snaps;
  HardState state;
  RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (!r.has_value()) {
      if (r.error().code() == StatusCode::kUnexpectedEof) break;
      return r.error();
    }
    if (!*r) break;
    const std::string where = " in " + d.segment_name() + " at offset " + std::to_string(d.record_offset());
    if (rec.type == kSnapshotType) {
      Snapshot s;
      Status st = DecodeSnapshot(rec.data, &s);
      if (!st.ok()) return Status(StatusCode::kCorruption, "wal: " + std::string(st.message()) + where);
      snaps.push_back(s);
    } else if (rec.type == kStateType) {
      Status st = DecodeHardState(rec.data, &state);
      if (!st.ok()) return Status(StatusCode::kCorruption, "wal: " + std::string(st.message()) + where);
    }
    // Other types, known or not, are skipped as etcd does here.
  }
  // Only snapshots the cluster had committed are safe to load (#10219).
  std::erase_if(snaps, [&](const Snapshot& s) { return s.index > state.commit; });
  return snaps;
}

}  // namespace wal
