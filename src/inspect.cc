// wal/inspect.h: ScanLog, CheckLog, PlanRepair and Repair over the one record
// decoder (src/record_reader.h) and the one segment stream (OpenSegmentStream).
#include "wal/inspect.h"

#include <algorithm>
#include <memory>

#include "src/format.h"
#include "src/mutants.h"
#include "src/proto.h"
#include "src/record_reader.h"
#include "src/replay.h"
#include "src/segment_names.h"
#include "src/segment_set.h"
#include "wal/wal.h"

namespace wal {

using namespace internal;  // NOLINT

std::optional<SegmentFileInfo> ParseSegmentFileName(std::string_view name) {
  auto n = ParseSegmentName(name);
  if (!n) return std::nullopt;
  return SegmentFileInfo{n->seq, n->index, std::move(n->name)};
}

Result<std::vector<SegmentFileInfo>> ListSegmentFiles(const std::string& dir, const Options& options) {
  WAL_ASSIGN_OR_RETURN(auto segs, ListSegments(FileSystemOf(options), dir));
  std::vector<SegmentFileInfo> out;
  out.reserve(segs.size());
  for (auto& s : segs) out.push_back({s.seq, s.index, std::move(s.name)});
  return out;
}

Result<size_t> SelectSegmentFiles(const std::vector<SegmentFileInfo>& segs, uint64_t index,
                                  const std::string& dir) {
  std::vector<SegmentName> names;
  names.reserve(segs.size());
  for (const auto& s : segs) names.push_back({s.seq, s.index, s.name});
  if (names.empty()) return Status(StatusCode::kFileNotFound, "not a WAL directory (no *.wal files): " + dir);
  auto i = SearchIndex(names, index);
  if (!i) {
    return Status(StatusCode::kFileNotFound, "no segment can hold index " + std::to_string(index) +
                                                 " (the first segment starts at index " +
                                                 std::to_string(names.front().index) + "): " + dir);
  }
  if (!IsValidSeq(names, *i)) {
    return Status(StatusCode::kFileNotFound,
                  "segment sequence numbers do not increase one by one from " + names[*i].name + ": " + dir);
  }
  return *i;
}

uint64_t EntryFrameBytes(const Entry& e) {
  const size_t rec = RecordEncodedSize(kEntryType, 0xFFFFFFFF, true, EntryEncodedSize(e));
  return kFrameHeaderBytes + rec + PadBytes(rec);
}

namespace {

bool IsOsError(const Status& s) {
  return s.code() == StatusCode::kIoError || s.code() == StatusCode::kPermissionDenied ||
         s.code() == StatusCode::kNoSpace || s.code() == StatusCode::kNotFound;
}

// Decodes an entry, state or snapshot body (also after a bad CRC, so the
// operator sees what the record claims); the reason when it fails or the
// type is unknown, else empty.
std::string DecodeBody(ScannedRecord* r) {
  Status s;
  switch (r->type) {
    case kEntryType:
      s = DecodeEntry(r->data, &r->entry.emplace());
      break;
    case kStateType:
      s = DecodeHardState(r->data, &r->state.emplace());
      break;
    case kSnapshotType:
      s = DecodeSnapshot(r->data, &r->snapshot.emplace());
      break;
    case kMetadataType:
    case kCrcType:
      return {};
    default:
      return "unknown record type " + std::to_string(r->type);
  }
  if (s.ok()) return {};
  r->entry.reset();
  r->state.reset();
  r->snapshot.reset();
  return "malformed " + std::string(RecordTypeName(r->type)) + " record: " + std::string(s.message());
}

// Segment ends for ScanLog: counts records per segment and, after a zero
// length word, checks that only zeros follow (up to a limit).
class ScanEnds final : public RecordDecoder::EndSink {
 public:
  ScanEnds(ScanReporter* reporter, const SegmentStream& stream, const ScanOptions& scan, size_t chunk)
      : reporter_(reporter), stream_(stream), scan_(scan), chunk_(std::max<size_t>(chunk, kPageBytes)) {}

  void SegmentEnded(const SegmentEnd& e) override {
    SegmentEnd end = e;
    end.records = records;
    records = 0;
    if (end.kind == SegmentEnd::Kind::kZeroWord) {
      Status s = CheckTrailingZeros(stream_.files[end.segment].get(), end.offset + kFrameHeaderBytes, &end);
      if (!s.ok() && io_error.ok()) io_error = s;
    }
    reporter_->OnSegmentEnd(end);
  }

  uint64_t records = 0;
  Status io_error;

 private:
  Status CheckTrailingZeros(File* f, uint64_t from, SegmentEnd* end) {
    WAL_ASSIGN_OR_RETURN(uint64_t size, f->Size());
    const uint64_t stop = std::min<uint64_t>(size, from + scan_.trailing_check_limit);
    end->checked_to_end = stop >= size;
    std::vector<std::byte> buf(chunk_);
    uint64_t off = from;
    while (off < stop) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(stop - off, buf.size()));
      WAL_ASSIGN_OR_RETURN(size_t got, f->ReadAt(off, std::span(buf.data(), n)));
      if (got == 0) break;
      auto nz = std::find_if(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(got),
                             [](std::byte b) { return b != std::byte{0}; });
      if (nz != buf.begin() + static_cast<std::ptrdiff_t>(got)) {
        end->nonzero_at = off + static_cast<uint64_t>(nz - buf.begin());
        break;
      }
      off += got;
    }
    end->zeros_checked = (end->nonzero_at ? *end->nonzero_at : std::min(off, stop)) - from;
    return Status::Ok();
  }

  ScanReporter* reporter_;
  const SegmentStream& stream_;
  const ScanOptions& scan_;
  size_t chunk_;
};

class NoEnds final : public RecordDecoder::EndSink {
 public:
  void SegmentEnded(const SegmentEnd&) override {}
};

}  // namespace

Status ScanLog(const std::string& dir, ScanReporter* reporter, const ScanOptions& scan,
               const Options& options) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  WAL_ASSIGN_OR_RETURN(auto segs, ListSegments(fs, dir));
  WAL_ASSIGN_OR_RETURN(auto stream, OpenSegmentStream(fs, dir, std::move(segs), 0, options));
  RecordDecoder& d = *stream.decoder;
  d.set_initial_crc(0);  // every segment is scanned: the chain starts at the first
  ScanEnds ends(reporter, stream, scan, options.read_chunk_bytes);
  d.set_tolerant(&ends);
  RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (!r.has_value()) return r.error();  // only OS errors in tolerant mode
    if (!ends.io_error.ok()) return ends.io_error;
    if (!*r) break;
    ScannedRecord out;
    out.segment = d.segment_index();
    out.offset = d.record_offset();
    out.length = d.record_bytes();
    out.padding = d.record_frame_bytes() - kFrameHeaderBytes - d.record_bytes();
    out.decoded = d.decoded();
    out.problem = d.problem();
    if (out.decoded) {
      out.type = rec.type;
      out.stored_crc = rec.crc;
      out.computed_crc = d.computed_crc();
      out.crc_checked = d.crc_checked();
      out.has_data = rec.has_data;
      out.data = rec.data;
      if (std::string body = DecodeBody(&out); !body.empty()) {
        out.problem = out.problem.ok()
                          ? Status(StatusCode::kCorruption, body)
                          : Status(out.problem.code(), std::string(out.problem.message()) + "; " + body);
      }
    }
    ++ends.records;
    reporter->OnRecord(out);
  }
  return ends.io_error;
}

Result<LogCheck> CheckLog(const std::string& dir, size_t from, bool check_bodies, const Options& options) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  WAL_ASSIGN_OR_RETURN(auto segs, ListSegments(fs, dir));
  if (from >= segs.size()) {
    return Status(StatusCode::kInvalidArgument, "wal: CheckLog from segment " + std::to_string(from) +
                                                    " of " + std::to_string(segs.size()) + " in " + dir);
  }
  WAL_ASSIGN_OR_RETURN(auto stream, OpenSegmentStream(fs, dir, std::move(segs), from, options));
  RecordDecoder& d = *stream.decoder;
  LogCheck out;
  auto stop = [&](StatusCode code, std::string why, uint64_t offset) {
    out.stop = Status(code, std::move(why));
    out.stop_segment = d.segment_name();
    out.stop_offset = offset;
  };
  Replay replay(ReplayRules{});
  ReplayedRecord body;
  RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (!r.has_value()) {
      if (IsOsError(r.error())) return r.error();
      stop(r.error().code(), d.fail_reason(), d.last_valid_offset());
      break;
    }
    if (!*r) break;
    Status s = replay.Apply(rec, d, &body);
    if (s.ok()) {
      if (rec.type == kEntryType) {
        out.last_index = body.entry.index;
        ++out.entry_records;
      }
      if (rec.type == kMetadataType) out.has_metadata = rec.has_data;
      continue;
    }
    if (!check_bodies) continue;
    stop(s.code(), s.place()->what, d.record_offset());
    break;
  }
  return out;
}

namespace {

// The one decision behind PlanRepair and Repair: decode the last segment
// alone (open as `f`) from the chain into it, as every reader starts it.
Result<RepairPlan> PlanOn(FileSystem* fs, const std::string& dir, const std::vector<SegmentName>& segs,
                          File* f, const Options& options) {
  const SegmentName& last = segs.back();
  RepairPlan plan;
  plan.segment = internal::JoinPath(dir, last.name);
  WAL_ASSIGN_OR_RETURN(plan.segment_size, f->Size());
  RecordDecoder d({SegmentInput{last.name, f}}, options.read_chunk_bytes, options.torn_write_rule);
  d.set_initial_crc(ChainInto(fs, dir, segs, segs.size() - 1, f, options));
  RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (r.has_value()) {
      if (!*r) return plan;  // ends cleanly: nothing to repair
      if (Entry e; rec.type == kEntryType && DecodeEntry(rec.data, &e).ok()) plan.last_good_index = e.index;
      continue;
    }
    if (IsOsError(r.error())) return r.error();
    plan.offset = d.last_valid_offset();
    plan.problem = Status(r.error().code(), d.fail_reason());
    if (r.error().code() != StatusCode::kUnexpectedEof) {
      plan.action = RepairPlan::Action::kRefuse;  // not a torn tail: leave it alone
      return plan;
    }
    break;
  }
  plan.action = RepairPlan::Action::kCut;
  plan.broken_copy = plan.segment + ".broken";
  // What the cut removes that still decodes as an entry (the chain is not
  // the point here).
  RecordDecoder rest({SegmentInput{last.name, f}}, options.read_chunk_bytes, options.torn_write_rule);
  NoEnds no_ends;
  rest.set_tolerant(&no_ends);
  rest.set_start_offset(plan.offset);
  while (true) {
    WAL_ASSIGN_OR_RETURN(bool more, rest.Next(&rec));
    if (!more) break;
    Entry e;
    if (!rest.decoded() || rec.type != kEntryType || !DecodeEntry(rec.data, &e).ok()) continue;
    ++plan.lost_entries;
    if (!plan.lost_first) plan.lost_first = e.index;
    plan.lost_last = e.index;
  }
  return plan;
}

Status CopyFile(File* from, File* to) {
  WAL_ASSIGN_OR_RETURN(uint64_t size, from->Size());
  std::vector<std::byte> buf(static_cast<size_t>(std::min<uint64_t>(size, 1 << 20)));
  for (uint64_t off = 0; off < size;) {
    WAL_ASSIGN_OR_RETURN(size_t n, from->ReadAt(off, std::span(buf.data(), buf.size())));
    if (n == 0) break;
    WAL_RETURN_IF_ERROR(to->WriteAt(off, std::span(buf.data(), n)));
    off += n;
  }
  return Status::Ok();
}

}  // namespace

Result<RepairPlan> PlanRepair(const std::string& dir, const Options& options) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  WAL_ASSIGN_OR_RETURN(auto segs, ListSegments(fs, dir));
  WAL_ASSIGN_OR_RETURN(auto f, fs->Open(internal::JoinPath(dir, segs.back().name), OpenOptions{}));
  auto plan = PlanOn(fs, dir, segs, f.get(), options);
  f->Close().IgnoreError();  // read-only
  return plan;
}

Result<RepairPlan> RepairWithPlan(const std::string& dir, const Options& options) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  WAL_ASSIGN_OR_RETURN(auto segs, ListSegments(fs, dir));
  const std::string path = internal::JoinPath(dir, segs.back().name);
  OpenOptions rw;
  rw.write = true;
  WAL_ASSIGN_OR_RETURN(auto f, fs->Open(path, rw));
  // A writer holds this lock; repairing under it would corrupt its appends.
  // (etcd blocks here; we report kLocked instead of hanging.)
  WAL_RETURN_IF_ERROR(f->TryLock());
  WAL_ASSIGN_OR_RETURN(RepairPlan plan, PlanOn(fs, dir, segs, f.get(), options));
  if (plan.action != RepairPlan::Action::kCut) {
    WAL_RETURN_IF_ERROR(f->Close());
    return plan;
  }
  // Keep the whole damaged file for the operator before cutting it.
  OpenOptions bo;
  bo.write = true;
  bo.create = true;
  bo.truncate = true;
  bo.mode = 0600;
  WAL_ASSIGN_OR_RETURN(auto broken, fs->Open(plan.broken_copy, bo));
  WAL_RETURN_IF_ERROR(CopyFile(f.get(), broken.get()));
  // The copy (its bytes and its name) is durable before the cut is made: a
  // power loss after the cut never takes the only copy of what it removed.
  // (etcd syncs neither the copy's name nor, before the cut, its bytes.)
  if (!options.unsafe_no_fsync && !MutantActive(Mutant::kSkipRepairBrokenSync))
    WAL_RETURN_IF_ERROR(broken->Sync());
  WAL_RETURN_IF_ERROR(broken->Close());
  if (!options.unsafe_no_fsync && !MutantActive(Mutant::kSkipRepairDirSync))
    WAL_RETURN_IF_ERROR(fs->SyncDir(dir));
  WAL_RETURN_IF_ERROR(f->Truncate(plan.offset));
  // Repair's answer holds after a power loss: the torn tail stays cut.
  if (!options.unsafe_no_fsync && !MutantActive(Mutant::kSkipRepairTruncateSync))
    WAL_RETURN_IF_ERROR(f->Sync());
  WAL_RETURN_IF_ERROR(f->Close());
  return plan;
}

Result<bool> Repair(const std::string& dir, const Options& options) {
  WAL_ASSIGN_OR_RETURN(RepairPlan plan, RepairWithPlan(dir, options));
  return plan.action != RepairPlan::Action::kRefuse;
}

}  // namespace wal
