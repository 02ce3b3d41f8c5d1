// The segment set: which segments of a directory a read selects, and how a
// run of them becomes one record stream whose CRC chain starts right
// (segment_set.h).
#include "src/segment_set.h"

#include <algorithm>

#include "src/proto.h"

namespace wal::internal {

Status CheckOptions(const Options& o) {
  if (o.segment_size_bytes == 0)
    return Status(StatusCode::kInvalidArgument, "segment_size_bytes must be > 0");
  if (o.read_chunk_bytes == 0) return Status(StatusCode::kInvalidArgument, "read_chunk_bytes must be > 0");
  return Status::Ok();
}

FileSystem* FileSystemOf(const Options& o) { return o.file_system ? o.file_system : FileSystem::Default(); }

Result<std::vector<std::unique_ptr<File>>> OpenSegmentsReadOnly(FileSystem* fs, const std::string& dir,
                                                                const std::vector<SegmentName>& segs,
                                                                size_t from) {
  std::vector<std::unique_ptr<File>> files;
  OpenOptions ro;  // read-only, no lock: never conflicts with a writer
  for (size_t i = from; i < segs.size(); ++i) {
    WAL_ASSIGN_OR_RETURN(auto f, fs->Open(JoinPath(dir, segs[i].name), ro));
    files.push_back(std::move(f));
  }
  return files;
}

Result<SelectedSegments> SelectSegments(FileSystem* fs, const std::string& dir, uint64_t index) {
  WAL_ASSIGN_OR_RETURN(auto segs, ListSegments(fs, dir));
  auto i = SearchIndex(segs, index);
  if (!i) {
    return Status(StatusCode::kFileNotFound, "wal: no segment in " + dir + " can hold index " +
                                                 std::to_string(index) + " (first segment starts at " +
                                                 std::to_string(segs.front().index) + ")");
  }
  if (!IsValidSeq(segs, *i)) {
    return Status(StatusCode::kFileNotFound, "wal: segment sequence numbers in " + dir +
                                                 " do not increase continuously from " + segs[*i].name);
  }
  return SelectedSegments{std::move(segs), *i};
}

namespace {

// Whether `f` starts with a crc record, the head that carries the chain. Only
// the first record is needed: one small read, not a whole read chunk (1 MiB
// by default) on every open.
bool StartsWithChain(const SegmentName& seg, File* f) {
  RecordDecoder probe({SegmentInput{seg.name, f}}, kPageBytes, TornWriteRule::kEtcd);
  RecordView rec;
  auto r = probe.Next(&rec);
  return r.has_value() && *r && rec.type == kCrcType;
}

}  // namespace

uint32_t ChainInto(FileSystem* fs, const std::string& dir, const std::vector<SegmentName>& segs, size_t at,
                   File* at_file, const Options& options) {
  if (StartsWithChain(segs[at], at_file)) return 0;  // the head carries the chain
  // A reader reaches segs[at] only through the run of continuous sequence
  // numbers ending there, and whichever segment it starts at, it passed the
  // nearest crc head before segs[at] (or started after it, and then its own
  // start chained from that head): the chain comes from that head, never
  // from the segments before it (a gap there must not change the answer).
  const size_t start = SeqRunStart(segs, at);
  std::vector<std::unique_ptr<File>> files;  // segs[from..at-1], last first
  size_t from = at;
  OpenOptions ro;
  while (from > start) {
    --from;
    auto f = fs->Open(JoinPath(dir, segs[from].name), ro);
    if (!f.has_value()) return 0;
    const bool head = StartsWithChain(segs[from], f->get());
    files.push_back(std::move(f).value());
    if (head) break;
  }
  if (files.empty()) return 0;
  std::reverse(files.begin(), files.end());
  const std::vector<SegmentName> run(segs.begin() + static_cast<std::ptrdiff_t>(from),
                                     segs.begin() + static_cast<std::ptrdiff_t>(at));
  RecordDecoder d(InputsOf(run, 0, files), options.read_chunk_bytes, TornWriteRule::kEtcd);
  RecordView rec;
  while (true) {
    auto r = d.Next(&rec);
    if (!r.has_value()) return 0;
    if (!*r) return d.crc();
  }
}

Result<SegmentStream> OpenSegmentStream(FileSystem* fs, const std::string& dir, std::vector<SegmentName> segs,
                                        size_t from, const Options& options) {
  SegmentStream out;
  out.segments = std::move(segs);
  out.from = from;
  WAL_ASSIGN_OR_RETURN(out.files, OpenSegmentsReadOnly(fs, dir, out.segments, from));
  out.decoder = std::make_unique<RecordDecoder>(InputsOf(out.segments, from, out.files),
                                                options.read_chunk_bytes, options.torn_write_rule);
  out.decoder->set_initial_crc(ChainInto(fs, dir, out.segments, from, out.files.front().get(), options));
  return out;
}

std::vector<SegmentInput> InputsOf(const std::vector<SegmentName>& names, size_t from,
                                   const std::vector<std::unique_ptr<File>>& files) {
  std::vector<SegmentInput> in;
  for (size_t i = 0; i < files.size(); ++i) in.push_back({names[from + i].name, files[i].get()});
  return in;
}

}  // namespace wal::internal
