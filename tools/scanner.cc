#include "tools/scanner.h"

#include <algorithm>
#include <vector>

#include "src/coding.h"
#include "src/crc32c.h"
#include "src/proto.h"
#include "tools/text.h"

namespace walctl {

namespace internal = wal::internal;

namespace {

constexpr uint64_t kSectorBytes = 512;

// A window over a file: Load(offset, n) returns n contiguous bytes, reading
// max(n, chunk) bytes at a time, never past the file size.
class ChunkReader {
 public:
  ChunkReader(wal::File* file, uint64_t size, size_t chunk, Progress* progress)
      : file_(file), size_(size), chunk_(std::max<size_t>(chunk, 4096)), progress_(progress) {}

  // The caller guarantees offset + n <= size. Returns nullptr (with *short_read
  // set) when the file turned out shorter than its size.
  wal::Result<const uint8_t*> Load(uint64_t offset, size_t n, bool* short_read) {
    *short_read = false;
    if (offset >= buf_off_ && offset + n <= buf_off_ + buf_len_) return buf_.data() + (offset - buf_off_);
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(size_ - offset, std::max<uint64_t>(n, chunk_)));
    if (buf_.size() < want) buf_.resize(want);
    WAL_ASSIGN_OR_RETURN(size_t got,
                         file_->ReadAt(offset, std::span(reinterpret_cast<std::byte*>(buf_.data()), want)));
    if (progress_) progress_->Add(got);
    buf_off_ = offset;
    buf_len_ = got;
    if (got < n) {
      *short_read = true;
      return static_cast<const uint8_t*>(nullptr);
    }
    return buf_.data();
  }

 private:
  wal::File* file_;
  uint64_t size_;
  size_t chunk_;
  Progress* progress_;
  std::vector<uint8_t> buf_;
  uint64_t buf_off_ = 0;
  size_t buf_len_ = 0;
};

// etcd's torn-write test: some 512-byte sector piece of the frame is all
// zeros (never written; segments are preallocated with zeros).
bool HasZeroedSector(uint64_t file_off, const uint8_t* p, size_t n) {
  size_t pos = 0;
  while (pos < n) {
    const size_t piece =
        static_cast<size_t>(std::min<uint64_t>(kSectorBytes - file_off % kSectorBytes, n - pos));
    if (std::all_of(p + pos, p + pos + piece, [](uint8_t b) { return b == 0; })) return true;
    pos += piece;
    file_off += piece;
  }
  return false;
}

// Decodes the body of an entry/state/snapshot record into `r` (even after a
// CRC mismatch, so the operator sees what the record claims); adds to
// r->bad when the body is malformed or the type is unknown.
void DecodeBody(ScannedRecord* r) {
  wal::Status s;
  switch (r->type) {
    case internal::kEntryType:
      s = internal::DecodeEntry(r->data, &r->entry.emplace());
      break;
    case internal::kStateType:
      s = internal::DecodeHardState(r->data, &r->state.emplace());
      break;
    case internal::kSnapshotType:
      s = internal::DecodeSnapshot(r->data, &r->snapshot.emplace());
      break;
    case internal::kMetadataType:
    case internal::kCrcType:
      return;
    default:
      if (!r->bad.empty()) r->bad += "; ";
      r->bad += "unknown record type " + std::to_string(r->type);
      return;
  }
  if (!s.ok()) {
    r->entry.reset();
    r->state.reset();
    r->snapshot.reset();
    if (!r->bad.empty()) r->bad += "; ";
    r->bad += "malformed " + std::string(internal::RecordTypeName(r->type)) +
              " record: " + std::string(s.message());
  }
}

// Checks the record's CRC against the chain and moves the chain on. After a
// mismatch the chain continues from the stored value, so one damaged record
// does not make every later one look bad.
void CheckCrc(ScannedRecord* r, uint32_t* chain) {
  if (r->type == internal::kCrcType) {
    r->computed_crc = *chain;
    r->crc_checked = *chain != 0;
  } else {
    r->computed_crc = internal::Crc32cExtend(*chain, r->data);
    r->crc_checked = true;
  }
  if (r->crc_checked && r->computed_crc != r->stored_crc) {
    r->bad = r->type == internal::kCrcType ? "crc record holds " + CrcHex(r->stored_crc) +
                                                 " but the chain so far is " + CrcHex(r->computed_crc)
                                           : "crc mismatch (stored " + CrcHex(r->stored_crc) + ", computed " +
                                                 CrcHex(r->computed_crc) + ")";
  }
  *chain = r->stored_crc;
}

wal::Status CheckTrailingZeros(ChunkReader* reader, uint64_t from, uint64_t size, const ScanOptions& options,
                               SegmentEnd* end) {
  const uint64_t stop = std::min<uint64_t>(size, from + options.trailing_check_limit);
  end->checked_to_end = stop == size;
  uint64_t off = from;
  while (off < stop) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(stop - off, options.chunk_bytes));
    bool short_read;
    WAL_ASSIGN_OR_RETURN(const uint8_t* p, reader->Load(off, n, &short_read));
    if (short_read) break;
    const uint8_t* nz = std::find_if(p, p + n, [](uint8_t b) { return b != 0; });
    if (nz != p + n) {
      end->nonzero_at = off + static_cast<uint64_t>(nz - p);
      break;
    }
    off += n;
  }
  end->zeros_checked = (end->nonzero_at ? *end->nonzero_at : off) - from;
  return wal::Status::Ok();
}

}  // namespace

wal::Status ScanSegment(wal::File* file, uint64_t size, bool last, uint64_t start, uint32_t* chain,
                        const ScanOptions& options,
                        const std::function<void(const ScannedRecord&)>& on_record, SegmentEnd* end) {
  ChunkReader reader(file, size, options.chunk_bytes, options.progress);
  const std::string torn_hint = last ? " (torn write at the tail)" : "";
  uint64_t off = start;
  // Each pass consumes at least one 8-byte frame header or ends the scan.
  while (true) {
    *end = SegmentEnd{};
    end->offset = off;
    if (off >= size) return wal::Status::Ok();
    if (size - off < internal::kFrameHeaderBytes) {
      end->kind = SegmentEndKind::kStopped;
      end->bad =
          "partial length word (" + std::to_string(size - off) + " bytes at the end of the file)" + torn_hint;
      return wal::Status::Ok();
    }
    bool short_read;
    WAL_ASSIGN_OR_RETURN(const uint8_t* p, reader.Load(off, internal::kFrameHeaderBytes, &short_read));
    if (short_read) {
      end->kind = SegmentEndKind::kStopped;
      end->bad = "the file ended while reading it";
      return wal::Status::Ok();
    }
    const uint64_t word = internal::DecodeFixed64LE(p);
    if (word == 0) {
      end->kind = SegmentEndKind::kZeroWord;
      return CheckTrailingZeros(&reader, off + internal::kFrameHeaderBytes, size, options, end);
    }
    const internal::FrameSize fs = internal::DecodeFrameWord(word);
    const uint64_t room = size - off - internal::kFrameHeaderBytes;
    if (fs.record_bytes > room || fs.pad_bytes > room - fs.record_bytes) {
      end->kind = SegmentEndKind::kStopped;
      end->bad = "record length " + std::to_string(fs.record_bytes) + " (+" + std::to_string(fs.pad_bytes) +
                 " pad) exceeds the " + std::to_string(room) + " bytes left in the file" + torn_hint;
      return wal::Status::Ok();
    }
    const size_t total = static_cast<size_t>(fs.record_bytes + fs.pad_bytes);
    WAL_ASSIGN_OR_RETURN(p, reader.Load(off + internal::kFrameHeaderBytes, total, &short_read));
    if (short_read) {
      end->kind = SegmentEndKind::kStopped;
      end->bad = "the file ended while reading a record";
      return wal::Status::Ok();
    }
    ScannedRecord r;
    r.offset = off;
    r.length = fs.record_bytes;
    r.padding = fs.pad_bytes;
    internal::RecordView view;
    wal::Status s = internal::DecodeRecord(
        std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(fs.record_bytes)), &view);
    if (s.ok()) s = internal::CheckRecordPayload(view);
    if (!s.ok()) {
      r.bad = "malformed record: " + std::string(s.message());
    } else {
      r.decoded = true;
      r.type = view.type;
      r.stored_crc = view.crc;
      r.has_data = view.has_data;
      r.data = view.data;
      CheckCrc(&r, chain);
      DecodeBody(&r);
    }
    if (!r.bad.empty() && last && HasZeroedSector(off + internal::kFrameHeaderBytes, p, total)) {
      r.bad += " (torn write: a zeroed sector)";
    }
    on_record(r);
    off += internal::kFrameHeaderBytes + total;
  }
}

}  // namespace walctl
