#include "tools/log_read.h"

#include <memory>
#include <vector>

#include "src/proto.h"
#include "src/record_reader.h"
#include "wal/file_system.h"

namespace walctl {

namespace internal = wal::internal;
using wal::Status;
using wal::StatusCode;

namespace {

// The entry placement of ReadAll for the inclusive (OpenAtIndex) mode: an
// entry at an index already read replaces it and drops what follows.
Status PlaceInclusive(wal::Entry&& e, uint64_t* base, std::vector<wal::Entry>* ents) {
  const uint64_t idx = e.index;
  // A log that starts at raft index 1 (etcd v2+) read from index 0.
  if (*base == 0 && ents->empty() && idx == 1) *base = 1;
  if (idx < *base) {
    ents->clear();  // it replaces an entry before the first kept: all kept entries are gone
    return Status::Ok();
  }
  const uint64_t off = idx - *base;
  if (off > ents->size()) {
    return Status(StatusCode::kSliceOutOfRange, "entry index " + std::to_string(idx) +
                                                    " leaves a gap (expected at most index " +
                                                    std::to_string(*base + ents->size()) + ")");
  }
  ents->resize(static_cast<size_t>(off));
  ents->push_back(std::move(e));
  return Status::Ok();
}

class Reader {
 public:
  Reader(const WalDir& d, const LogReadOptions& o) : dir_(d), opt_(o) {}

  wal::Result<LogReadResult> Run(size_t from) {
    std::unique_ptr<ProgressFileSystem> pfs;
    wal::FileSystem* fs = wal::FileSystem::Default();
    if (opt_.progress) {
      pfs = std::make_unique<ProgressFileSystem>(fs, opt_.progress);
      fs = pfs.get();
    }
    std::vector<std::unique_ptr<wal::File>> files;
    std::vector<internal::SegmentInput> inputs;
    for (size_t i = from; i < dir_.segments.size(); ++i) {
      auto f = fs->Open(dir_.segments[i].path, wal::OpenOptions{});  // read-only, no lock
      if (!f.has_value()) return Rephrase(f.error(), dir_.segments[i].path);
      inputs.push_back({dir_.segments[i].name.name, f->get()});
      files.push_back(std::move(*f));
    }
    internal::RecordDecoder d(std::move(inputs), opt_.chunk_bytes);
    internal::RecordView rec;
    while (true) {
      auto r = d.Next(&rec);
      if (!r.has_value()) return Stopped(d, r.error(), d.last_valid_offset());
      if (!*r) break;
      // Apply's errors name no place; the record's is added here.
      Status s = Apply(rec);
      if (!s.ok() && !opt_.check_bodies && opt_.mode == LogReadOptions::Mode::kTrack) continue;
      if (!s.ok()) {
        if (opt_.mode == LogReadOptions::Mode::kInclusive) {
          return Status(s.code(), std::string(s.message()) + ": " + Where(d, d.record_offset()));
        }
        return Stopped(d, s, d.record_offset());
      }
    }
    return Finish();
  }

 private:
  std::string PathOf(const internal::RecordDecoder& d) const {
    return internal::JoinPath(dir_.dir, d.segment_name());
  }
  std::string Where(const internal::RecordDecoder& d, uint64_t offset) const {
    return PathOf(d) + " at offset " + std::to_string(offset);
  }

  wal::Result<LogReadResult> Stopped(const internal::RecordDecoder& d, const Status& s, uint64_t offset) {
    const bool os_error = s.code() == StatusCode::kIoError || s.code() == StatusCode::kPermissionDenied;
    if (os_error) return Rephrase(s, PathOf(d));
    out_.stop = Status(s.code(), ReasonOnly(s.message(), d.segment_name()));
    out_.stop_path = PathOf(d);
    out_.stop_offset = offset;
    // Read mode tolerates a torn last record; anything else fails the read.
    if (opt_.mode == LogReadOptions::Mode::kInclusive && !out_.torn()) {
      return Status(s.code(), std::string(out_.stop.message()) + ": " + Where(d, offset));
    }
    return Finish();
  }

  wal::Result<LogReadResult> Finish() {
    if (opt_.mode == LogReadOptions::Mode::kInclusive) {
      // ReadAll's term-order rule: cut before the first entry whose term is
      // lower than its predecessor's.
      auto& ents = out_.data.entries;
      for (size_t i = 1; i < ents.size(); ++i) {
        if (ents[i].term < ents[i - 1].term) {
          ents.resize(i);
          out_.last_index = ents.back().index;
          break;
        }
      }
      const uint64_t last = out_.last_index.value_or(0);
      if (last < opt_.at_index) {
        return Status(StatusCode::kIndexNotFound, "index " + std::to_string(opt_.at_index) +
                                                      " not found; the log ends at index " +
                                                      std::to_string(last) + ": " + dir_.dir);
      }
    }
    return std::move(out_);
  }

  Status Apply(const internal::RecordView& rec) {
    const bool inclusive = opt_.mode == LogReadOptions::Mode::kInclusive;
    switch (rec.type) {
      case internal::kEntryType: {
        wal::Entry e;
        Status s = internal::DecodeEntry(rec.data, &e);
        if (!s.ok()) return Status(StatusCode::kCorruption, std::string(s.message()));
        out_.last_index = e.index;
        ++out_.entry_records;
        if (inclusive) return PlaceInclusive(std::move(e), &base_, &out_.data.entries);
        return Status::Ok();
      }
      case internal::kStateType: {
        Status s = internal::DecodeHardState(rec.data, &out_.data.state);
        if (!s.ok()) return Status(StatusCode::kCorruption, std::string(s.message()));
        return Status::Ok();
      }
      case internal::kMetadataType:
        // ReadAll's rule: a metadata record must match the last non-nil one.
        if (out_.has_metadata && out_.data.metadata != rec.data) {
          return Status(StatusCode::kMetadataConflict, "conflicting metadata");
        }
        out_.has_metadata = rec.has_data;
        out_.data.metadata = std::string(rec.data);
        return Status::Ok();
      case internal::kCrcType:
        return Status::Ok();  // checked by the decoder
      case internal::kSnapshotType: {
        wal::Snapshot snap;
        Status s = internal::DecodeSnapshot(rec.data, &snap);
        if (!s.ok()) return Status(StatusCode::kCorruption, std::string(s.message()));
        return Status::Ok();
      }
      default:
        return Status(StatusCode::kCorruption, "unexpected record type " + std::to_string(rec.type));
    }
  }

  const WalDir& dir_;
  const LogReadOptions& opt_;
  LogReadResult out_;
  uint64_t base_ = opt_.at_index;
};

}  // namespace

wal::Result<LogReadResult> ReadLog(const WalDir& wal_dir, size_t from, const LogReadOptions& options) {
  Reader r(wal_dir, options);
  return r.Run(from);
}

}  // namespace walctl
