// The streaming record decoder under ReadAll, Verify, ValidSnapshotEntries
// and Repair. It reads the selected segments in large sequential chunks and
// never holds more than one chunk (or one record, if larger) in memory.
//
// Decoding rules (doc/format.md, doc/recovery.md), per segment:
//   - end of file, or a zero length word (preallocated space), ends the
//     segment; the decoder moves to the next one;
//   - a length word whose frame does not fit in the rest of the file, a
//     partial length word, a malformed record or a CRC mismatch is an error;
//     in the LAST segment it is reported as kUnexpectedEof (a torn write that
//     Repair may cut off) when the frame runs past the end of the file or
//     when some 512-byte sector of the record is all zeros (etcd's rule), or
//     when nothing but zeros follows the sector where the record ends (a
//     write torn at any byte, or a garbage last sector: see doc/recovery.md);
//     otherwise it is kCrcMismatch (bad CRC) or kCorruption;
//   - crc records are checked against the running CRC when it is non-zero,
//     then adopted (etcd's rule), so a chain broken across segments is caught.
// Every error message names the segment file and the byte offset.
//
// Tolerant mode (set_tolerant, for ScanLog in wal/inspect.h): Next() does not
// stop at a bad record whose frame fits in the file. It returns it with
// problem() set (the code the strict mode would have returned: torn,
// CRC mismatch or corruption) and goes on; after a bad CRC the chain
// continues from the stored value. A length word that cannot be right ends
// its segment; every segment end (clean or not) goes to the EndSink and
// decoding goes on with the next segment.
#ifndef WAL_SRC_RECORD_READER_H_
#define WAL_SRC_RECORD_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/proto.h"
#include "wal/file_system.h"
#include "wal/inspect.h"
#include "wal/options.h"

namespace wal::internal {

struct SegmentInput {
  std::string name;  // base name, for messages
  File* file;        // not owned; must outlive the decoder
};

class RecordDecoder {
 public:
  RecordDecoder(std::vector<SegmentInput> inputs, size_t chunk_bytes,
                TornWriteRule rule = TornWriteRule::kZeroTail);
  RecordDecoder(const RecordDecoder&) = delete;
  RecordDecoder& operator=(const RecordDecoder&) = delete;

  // Decodes the next record into *rec (valid until the next call). Returns
  // true for a record, false at a clean end of the last segment, or an error.
  Result<bool> Next(RecordView* rec);

  class EndSink {
   public:
    virtual ~EndSink() = default;
    // segment, kind, offset and problem are set.
    virtual void SegmentEnded(const SegmentEnd& end) = 0;
  };
  void set_tolerant(EndSink* sink) { end_sink_ = sink; }
  // Tolerant mode: why the record last returned is bad (OK when sound);
  // whether the walpb.Record parsed; the CRC it should hold; whether that
  // was checked (not for a crc record while the chain is 0).
  const Status& problem() const { return problem_; }
  bool decoded() const { return decoded_; }
  uint32_t computed_crc() const { return computed_crc_; }
  bool crc_checked() const { return crc_checked_; }
  // Mapped mode (before Next()): each segment is also mapped (File::Map)
  // when the decoder reaches it, and the mappings go to *keep, so that a
  // caller can point at a record's bytes inside the file (MappedAddress)
  // instead of copying them out of the decoder's buffer. Decoding itself
  // still reads in chunks: the kernel copies page-cache pages through its
  // own huge-page mapping into a buffer that stays in cache, where walking
  // the 4 KiB user mapping of a large file costs a TLB miss and a fault per
  // few pages (a mapped decode of a 1 GB log ran at 1.4 GB/s of entry data,
  // 54 % of it in the CRC waiting on memory; cat read the files at 18 GB/s;
  // measured here). A segment that cannot be mapped has no addresses.
  void set_map_segments(std::vector<std::shared_ptr<const FileMapping>>* keep) { keep_ = keep; }
  // Where `bytes`, a piece of the record last returned, lies in the mapping
  // of its segment (the same bytes of the same file); nullptr when the
  // segment is not mapped or `bytes` is empty.
  const char* MappedAddress(std::string_view bytes) const {
    if (map_ == nullptr || bytes.empty()) return nullptr;
    return reinterpret_cast<const char*>(map_) + buf_offset_ +
           (bytes.data() - reinterpret_cast<const char*>(buf_.data()));
  }
  // Starts the first segment at `offset` instead of 0 (before Next()).
  void set_start_offset(uint64_t offset) { offset_ = offset; }

  // The running CRC (of every record's data so far, chained).
  uint32_t crc() const { return crc_; }
  // Starts the chain at `crc` instead of 0 (before the first Next()): the
  // value at the end of the segments before the first input.
  void set_initial_crc(uint32_t crc) { crc_ = crc; }
  // Offset just past the last good record in the current segment.
  uint64_t last_valid_offset() const { return offset_; }
  // Offset of the frame of the record last returned.
  uint64_t record_offset() const { return record_offset_; }
  size_t segment_index() const { return seg_; }
  const std::string& segment_name() const;
  bool in_last_segment() const { return seg_ + 1 >= inputs_.size(); }
  // Bytes the frame of the last returned record takes (header+record+pad),
  // and its record bytes alone.
  uint64_t record_frame_bytes() const { return frame_bytes_; }
  uint64_t record_bytes() const { return record_bytes_; }
  // The last error's reason alone, without "wal: " and the place (segment
  // and offset: see segment_name() and last_valid_offset()).
  const std::string& fail_reason() const { return fail_reason_; }

 private:
  Status EnsureLoaded(uint64_t offset, size_t n, const uint8_t** out);
  bool IsTorn(uint64_t data_offset, const uint8_t* data, size_t n) const;
  bool OnlyZerosAfter(uint64_t frame_end);
  bool GenuineFrameAt(uint64_t pos);
  Status Fail(StatusCode code, uint64_t offset, const std::string& what) const;
  Status SizeCurrent();
  // Ends the current segment (reported in tolerant mode); false when it was
  // the last one.
  bool EndSegment(SegmentEnd::Kind kind, uint64_t offset, Status problem);
  // Tolerant mode: the record at `off` is bad; returns it.
  bool ReturnBad(StatusCode code, std::string why, uint64_t off, uint64_t frame_bytes);

  std::vector<SegmentInput> inputs_;
  size_t chunk_bytes_;
  TornWriteRule rule_;
  size_t seg_ = 0;
  uint64_t seg_size_ = 0;
  bool seg_size_known_ = false;
  uint64_t offset_ = 0;
  uint64_t record_offset_ = 0;
  uint64_t frame_bytes_ = 0;
  uint64_t record_bytes_ = 0;
  mutable std::string fail_reason_;
  uint32_t crc_ = 0;
  EndSink* end_sink_ = nullptr;
  bool ended_ = false;
  Status problem_;
  bool decoded_ = false;
  uint32_t computed_crc_ = 0;
  bool crc_checked_ = false;
  std::vector<std::shared_ptr<const FileMapping>>* keep_ = nullptr;
  const uint8_t* map_ = nullptr;  // the current segment's mapped bytes (mapped mode)
  std::vector<uint8_t> buf_;
  uint64_t buf_offset_ = 0;  // file offset of buf_[0]
  size_t buf_len_ = 0;
};

}  // namespace wal::internal

#endif  // WAL_SRC_RECORD_READER_H_
