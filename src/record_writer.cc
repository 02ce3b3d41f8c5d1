#include "src/record_writer.h"

#include <cstring>
#include <utility>

#include "src/coding.h"
#include "src/crc32c.h"
#include "src/proto.h"

namespace wal::internal {

RecordWriter::RecordWriter(File* file, uint64_t offset, size_t buffer_bytes, uint32_t crc)
    : pages_(file, offset, buffer_bytes), crc_(crc) {}

RecordWriter::RecordWriter(File* file, std::unique_ptr<File> direct, uint64_t offset, size_t buffer_bytes,
                           uint32_t crc, std::span<const uint8_t> head)
    : pages_(file, std::move(direct), offset, buffer_bytes, head), crc_(crc) {}

// The frame goes straight into the page buffer when it fits there (the
// payload's bytes are copied once); otherwise it is built in `scratch_` and
// written as etcd writes it: the 8-byte length word, then record + padding,
// so that the page writer flushes at etcd's points either way.
Result<size_t> RecordWriter::WriteRecord(int64_t type, bool has_data, std::span<const uint8_t> head,
                                         std::string_view tail) {
  const size_t payload_len = head.size() + tail.size();
  // The payload is copied first, at the place it has when the stored CRC
  // takes a 5-byte varint (15 times in 16), so the CRC is one ISA-L call
  // over contiguous bytes; a shorter varint moves it down a little.
  const size_t max_rec_len = RecordEncodedSize(type, 0xFFFFFFFFu, has_data, payload_len);
  const size_t max_frame_len = kFrameHeaderBytes + max_rec_len + PadBytes(max_rec_len);
  uint8_t* frame = pages_.ReserveInBuffer(max_frame_len);
  const bool direct = frame != nullptr;
  if (!direct) {
    if (scratch_.size() < max_frame_len) scratch_.resize(max_frame_len);
    frame = scratch_.data();
  }
  uint8_t* payload = frame + kFrameHeaderBytes + (max_rec_len - payload_len);
  if (!head.empty()) std::memcpy(payload, head.data(), head.size());
  if (!tail.empty()) std::memcpy(payload + head.size(), tail.data(), tail.size());
  const uint32_t rec_crc = type == kCrcType ? crc_ : Crc32cExtend(crc_, payload, payload_len);
  const size_t rec_len = RecordEncodedSize(type, rec_crc, has_data, payload_len);
  const size_t frame_len = kFrameHeaderBytes + rec_len + PadBytes(rec_len);
  EncodeFixed64LE(frame, EncodeFrameWord(rec_len));
  uint8_t* p = EncodeRecordPrefix(type, rec_crc, has_data, payload_len, frame + kFrameHeaderBytes);
  if (p != payload) std::memmove(p, payload, payload_len);
  p += payload_len;
  std::memset(p, 0, static_cast<size_t>(frame + frame_len - p));
  if (direct) {
    pages_.Commit(frame_len);
  } else {
    // etcd's two writes: the length word, then record + padding.
    WAL_RETURN_IF_ERROR(pages_.Write(frame, kFrameHeaderBytes));
    WAL_RETURN_IF_ERROR(pages_.Write(frame + kFrameHeaderBytes, frame_len - kFrameHeaderBytes));
  }
  crc_ = rec_crc;
  return frame_len;
}

Result<size_t> RecordWriter::WriteEntry(const EntryView& e) {
  uint8_t head[kMaxEntryHeaderBytes];
  const uint8_t* end = EncodeEntryHeader(e, head);
  return WriteRecord(kEntryType, true, std::span<const uint8_t>(head, end), e.data);
}

Result<size_t> RecordWriter::WriteState(const HardState& s) {
  uint8_t head[3 * (1 + 10)];
  const uint8_t* end = EncodeHardState(s, head);
  return WriteRecord(kStateType, true, std::span<const uint8_t>(head, end), {});
}

Result<size_t> RecordWriter::WriteSnapshot(const Snapshot& s) {
  uint8_t head[2 * (1 + 10)];
  const uint8_t* end = EncodeSnapshot(s, head);
  return WriteRecord(kSnapshotType, true, std::span<const uint8_t>(head, end), {});
}

Result<size_t> RecordWriter::WriteMetadata(const std::optional<std::string>& m) {
  return WriteRecord(kMetadataType, m.has_value(), {}, m ? std::string_view(*m) : std::string_view());
}

Result<size_t> RecordWriter::WriteCrc() { return WriteRecord(kCrcType, false, {}, {}); }

}  // namespace wal::internal
