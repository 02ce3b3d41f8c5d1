#include <vector>

#include "src/proto.h"
#include "src/record_reader.h"
#include "src/replay.h"
#include "src/segment_set.h"
#include "wal/reader.h"

namespace wal {

using namespace internal;  // NOLINT

struct LogReader::Impl {
  SegmentStream stream;
  RecordDecoder* decoder = nullptr;
  bool torn = false;
  bool done = false;
  // Every record as it is (metadata is reported, not compared).
  Replay replay{ReplayRules{.check_metadata = false}};
  ReplayedRecord out;
};

LogReader::LogReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogReader::~LogReader() = default;

Result<std::unique_ptr<LogReader>> LogReader::Open(const std::string& dir, const Snapshot& snap,
                                                   const Options& options) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  auto impl = std::make_unique<Impl>();
  WAL_ASSIGN_OR_RETURN(auto sel, SelectSegments(fs, dir, snap.index));
  WAL_ASSIGN_OR_RETURN(impl->stream, OpenSegmentStream(fs, dir, std::move(sel.segments), sel.from, options));
  impl->decoder = impl->stream.decoder.get();
  return std::unique_ptr<LogReader>(new LogReader(std::move(impl)));
}

bool LogReader::torn() const { return impl_->torn; }

Result<bool> LogReader::Next(LogRecord* out) {
  Impl& r = *impl_;
  RecordView rec;
  while (!r.done) {
    auto n = r.decoder->Next(&rec);
    if (!n.has_value()) {
      if (n.error().code() != StatusCode::kUnexpectedEof) return n.error();
      r.torn = true;
      r.done = true;
      return false;
    }
    if (!*n) {
      r.done = true;
      return false;
    }
    if (rec.type == kCrcType) continue;
    out->segment = r.decoder->segment_name();
    out->offset = r.decoder->record_offset();
    WAL_RETURN_IF_ERROR(r.replay.Apply(rec, *r.decoder, &r.out));
    switch (rec.type) {
      case kMetadataType:
        out->kind = LogRecord::Kind::kMetadata;
        out->metadata.assign(rec.data);
        break;
      case kEntryType:
        out->kind = LogRecord::Kind::kEntry;
        out->entry =
            Entry{r.out.entry.term, r.out.entry.index, r.out.entry.type, std::string(r.out.entry.data)};
        break;
      case kStateType:
        out->kind = LogRecord::Kind::kState;
        out->state = r.out.state;
        break;
      case kSnapshotType:
        out->kind = LogRecord::Kind::kSnapshot;
        out->snapshot = r.out.snapshot;
        break;
    }
    return true;
  }
  return false;
}

}  // namespace wal
