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
#ifndef WAL_SRC_RECORD_READER_H_
#define WAL_SRC_RECORD_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "src/proto.h"
#include "wal/file_system.h"
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
  // Bytes the frame of the last returned record takes (header+record+pad).
  uint64_t record_frame_bytes() const { return frame_bytes_; }

 private:
  Status EnsureLoaded(uint64_t offset, size_t n, const uint8_t** out);
  bool IsTorn(uint64_t data_offset, const uint8_t* data, size_t n) const;
  bool OnlyZerosAfter(uint64_t frame_end);
  bool GenuineFrameAt(uint64_t pos);
  Status Fail(StatusCode code, uint64_t offset, const std::string& what) const;
  Status SizeCurrent();

  std::vector<SegmentInput> inputs_;
  size_t chunk_bytes_;
  TornWriteRule rule_;
  size_t seg_ = 0;
  uint64_t seg_size_ = 0;
  bool seg_size_known_ = false;
  uint64_t offset_ = 0;
  uint64_t record_offset_ = 0;
  uint64_t frame_bytes_ = 0;
  uint32_t crc_ = 0;
  std::vector<uint8_t> buf_;
  uint64_t buf_offset_ = 0;  // file offset of buf_[0]
  size_t buf_len_ = 0;
};

}  // namespace wal::internal

#endif  // WAL_SRC_RECORD_READER_H_
