// Verify, ValidSnapshotEntries and Repair: whole-log checks that do not need
// a WAL object.
#include <algorithm>

#include "src/mutants.h"
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
  WAL_ASSIGN_OR_RETURN(auto files, OpenSegmentsReadOnly(fs, dir, sel.segments, sel.from));
  RecordDecoder d(InputsOf(sel.segments, sel.from, files), options.read_chunk_bytes, options.torn_write_rule);
  d.set_initial_crc(ChainInto(fs, dir, sel.segments, sel.from, files.front().get(), options));
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
  WAL_ASSIGN_OR_RETURN(auto files, OpenSegmentsReadOnly(fs, dir, segs, 0));
  RecordDecoder d(InputsOf(segs, 0, files), options.read_chunk_bytes, options.torn_write_rule);
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

Result<bool> Repair(const std::string& dir, const Options& options) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  WAL_ASSIGN_OR_RETURN(auto segs, ListSegments(fs, dir));
  const SegmentName& last = segs.back();
  const std::string path = JoinPath(dir, last.name);
  OpenOptions rw;
  rw.write = true;
  WAL_ASSIGN_OR_RETURN(auto f, fs->Open(path, rw));
  // A writer holds this lock; repairing under it would corrupt its appends.
  // (etcd blocks here; we report kLocked instead of hanging.)
  WAL_RETURN_IF_ERROR(f->TryLock());
  RecordDecoder d({SegmentInput{last.name, f.get()}}, options.read_chunk_bytes, options.torn_write_rule);
  d.set_initial_crc(ChainInto(fs, dir, segs, segs.size() - 1, f.get(), options));
  RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (r.has_value()) {
      if (!*r) return true;  // ends cleanly: nothing to repair
      continue;
    }
    if (r.error().code() != StatusCode::kUnexpectedEof) return false;  // not a torn tail: leave it alone
    break;
  }
  const uint64_t cut = d.last_valid_offset();
  // Keep the whole damaged file for the operator before cutting it.
  OpenOptions bo;
  bo.write = true;
  bo.create = true;
  bo.truncate = true;
  bo.mode = 0600;
  WAL_ASSIGN_OR_RETURN(auto broken, fs->Open(path + ".broken", bo));
  WAL_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  std::vector<std::byte> buf(static_cast<size_t>(std::min<uint64_t>(size, 1 << 20)));
  for (uint64_t off = 0; off < size;) {
    WAL_ASSIGN_OR_RETURN(size_t n, f->ReadAt(off, std::span(buf.data(), buf.size())));
    if (n == 0) break;
    WAL_RETURN_IF_ERROR(broken->WriteAt(off, std::span(buf.data(), n)));
    off += n;
  }
  // The copy (its bytes and its name) is durable before the cut is made: a
  // power loss after the cut never takes the only copy of what it removed.
  // (etcd syncs neither the copy's name nor, before the cut, its bytes.)
  if (!options.unsafe_no_fsync && !MutantActive(Mutant::kSkipRepairBrokenSync))
    WAL_RETURN_IF_ERROR(broken->Sync());
  WAL_RETURN_IF_ERROR(broken->Close());
  if (!options.unsafe_no_fsync && !MutantActive(Mutant::kSkipRepairDirSync))
    WAL_RETURN_IF_ERROR(fs->SyncDir(dir));
  WAL_RETURN_IF_ERROR(f->Truncate(cut));
  // Repair's answer (true) holds after a power loss: the torn tail stays cut.
  if (!options.unsafe_no_fsync && !MutantActive(Mutant::kSkipRepairTruncateSync))
    WAL_RETURN_IF_ERROR(f->Sync());
  WAL_RETURN_IF_ERROR(f->Close());
  return true;
}

}  // namespace wal
