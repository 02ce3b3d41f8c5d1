#include "src/replay.h"

#include <utility>

namespace wal::internal {

Status Replay::ErrorAt(const RecordDecoder& d, StatusCode code, std::string what,
                       std::optional<uint64_t> index) {
  return Status::At(code, ErrorPlace{std::move(what), d.segment_name(), d.record_offset(), index});
}

Status Replay::Apply(const RecordView& rec, const RecordDecoder& d, ReplayedRecord* out) {
  out->type = rec.type;
  auto bad_body = [&](const Status& s) {
    return ErrorAt(d, StatusCode::kCorruption, std::string(s.message()));
  };
  switch (rec.type) {
    case kEntryType:
      if (rules_.decode_entries) {
        Status s = DecodeEntryView(rec.data, &out->entry);
        if (!s.ok()) return bad_body(s);
      }
      return Status::Ok();
    case kStateType:
      if (rules_.decode_states) {
        Status s = DecodeHardState(rec.data, &out->state);
        if (!s.ok()) return bad_body(s);
      }
      return Status::Ok();
    case kMetadataType:
      if (!rules_.check_metadata) return Status::Ok();
      if (metadata_ && *metadata_ != rec.data)
        return ErrorAt(d, StatusCode::kMetadataConflict, "conflicting metadata found");
      if (rec.has_data)
        metadata_ = std::string(rec.data);
      else
        metadata_.reset();
      return Status::Ok();
    case kCrcType:
      return Status::Ok();  // checked and adopted by the decoder
    case kSnapshotType: {
      Status s = DecodeSnapshot(rec.data, &out->snapshot);
      if (!s.ok()) return bad_body(s);
      const Snapshot& snap = out->snapshot;
      if (rules_.snapshot && snap.index == rules_.snapshot->index) {
        if (snap.term != rules_.snapshot->term) {
          return ErrorAt(d, StatusCode::kSnapshotMismatch,
                         "snapshot at index " + std::to_string(snap.index) + " has term " +
                             std::to_string(snap.term) + ", expected " +
                             std::to_string(rules_.snapshot->term));
        }
        snapshot_matched_ = true;
      }
      return Status::Ok();
    }
    default:
      if (!rules_.unknown_types_are_errors) return Status::Ok();
      return ErrorAt(d, StatusCode::kCorruption, "unexpected block type " + std::to_string(rec.type));
  }
}

}  // namespace wal::internal
