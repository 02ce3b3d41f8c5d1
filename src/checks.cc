// Verify and ValidSnapshotEntries: whole-log checks that do not need a WAL
// object (Repair is in inspect.cc, beside the plan it carries out).
#include <algorithm>

#include "src/proto.h"
#include "src/record_reader.h"
#include "src/replay.h"
#include "src/segment_set.h"
#include "wal/wal.h"

namespace wal {

using namespace internal;  // NOLINT

namespace {

// Replays every record of the stream through `replay`, calling
// on_record(rec, out) after each; a torn last record ends the stream, as in
// read mode.
template <class OnRecord>
Status ReplayStream(RecordDecoder& d, Replay& replay, OnRecord on_record) {
  ReplayedRecord out;
  RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (!r.has_value()) {
      if (r.error().code() == StatusCode::kUnexpectedEof) return Status::Ok();
      return r.error();
    }
    if (!*r) return Status::Ok();
    WAL_RETURN_IF_ERROR(replay.Apply(rec, d, &out));
    on_record(rec, out);
  }
}

}  // namespace

Status Verify(const std::string& dir, const Snapshot& snap, const Options& options) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  WAL_ASSIGN_OR_RETURN(auto sel, SelectSegments(fs, dir, snap.index));
  WAL_ASSIGN_OR_RETURN(auto stream, OpenSegmentStream(fs, dir, std::move(sel.segments), sel.from, options));
  // Entries and states are not needed to validate the log (etcd's Verify
  // skips them too).
  Replay replay(ReplayRules{.decode_entries = false, .decode_states = false, .snapshot = snap});
  WAL_RETURN_IF_ERROR(ReplayStream(*stream.decoder, replay, [](const RecordView&, const ReplayedRecord&) {}));
  if (!replay.snapshot_matched()) {
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
  std::vector<Snapshot> snaps;
  HardState state;
  // Other types, known or not, are skipped, as etcd does here.
  Replay replay(
      ReplayRules{.decode_entries = false, .check_metadata = false, .unknown_types_are_errors = false});
  WAL_RETURN_IF_ERROR(
      ReplayStream(*stream.decoder, replay, [&](const RecordView& rec, const ReplayedRecord& out) {
        if (rec.type == kSnapshotType) snaps.push_back(out.snapshot);
        if (rec.type == kStateType) state = out.state;
      }));
  // Only snapshots the cluster had committed are safe to load (#10219).
  std::erase_if(snaps, [&](const Snapshot& s) { return s.index > state.commit; });
  return snaps;
}

}  // namespace wal
