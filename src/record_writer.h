// The record writer: etcd's encoder. Frames records (length word, record,
// padding to 8 bytes), carries the CRC chain from record to record and hands
// the frames to a PageWriter, which decides when they reach the file. One
// writer per segment; a cut starts the next one from the chain value the
// last one ended with. doc/format.md describes the bytes.
#ifndef WAL_SRC_RECORD_WRITER_H_
#define WAL_SRC_RECORD_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/page_writer.h"
#include "wal/file_system.h"
#include "wal/status.h"
#include "wal/types.h"

namespace wal::internal {

class RecordWriter {
 public:
  // `file` must outlive the writer; records start at `offset`, chained from
  // `crc` (0 for a new log, else the chain value the log ends with).
  RecordWriter(File* file, uint64_t offset, size_t buffer_bytes, uint32_t crc);
  // Direct mode (see PageWriter): `direct` is the same file opened
  // O_DIRECT, `head` its bytes from `offset` rounded down to 4 KiB.
  RecordWriter(File* file, std::unique_ptr<File> direct, uint64_t offset, size_t buffer_bytes, uint32_t crc,
               std::span<const uint8_t> head);

  // Each appends one record and returns the size of its frame. After an
  // error the writer's state is unknown: its owner must stop using it.
  [[nodiscard]] Result<size_t> WriteEntry(const EntryView& e);
  [[nodiscard]] Result<size_t> WriteState(const HardState& s);  // s non-empty
  [[nodiscard]] Result<size_t> WriteSnapshot(const Snapshot& s);
  [[nodiscard]] Result<size_t> WriteMetadata(const std::optional<std::string>& m);  // nullopt: no data field
  [[nodiscard]] Result<size_t> WriteCrc();  // carries the chain into a segment's head

  [[nodiscard]] Status Flush() { return pages_.Flush(); }
  // See PageWriter::FlushDurable and MarkSynced.
  [[nodiscard]] Result<bool> FlushDurable() { return pages_.FlushDurable(); }
  void MarkSynced() { pages_.MarkSynced(); }
  bool direct() const { return pages_.direct(); }
  void set_writeback_bytes(uint64_t bytes) { pages_.set_writeback_bytes(bytes); }
  // etcd's decision point for a cut: the bytes flushed to the file so far.
  uint64_t flushed_offset() const { return pages_.flushed_offset(); }
  // Where the next record's frame starts.
  uint64_t end_offset() const { return pages_.end_offset(); }
  // See PageWriter::CopyBuffered: for reading back records not yet flushed.
  uint64_t CopyBuffered(uint64_t from, uint64_t to, uint8_t* out) const {
    return pages_.CopyBuffered(from, to, out);
  }
  File* file() const { return pages_.file(); }
  uint32_t crc() const { return crc_; }

 private:
  // One record whose payload is `head` followed by `tail` (has_data = false:
  // no data field).
  Result<size_t> WriteRecord(int64_t type, bool has_data, std::span<const uint8_t> head,
                             std::string_view tail);

  PageWriter pages_;
  uint32_t crc_;
  std::vector<uint8_t> scratch_;  // frames too large for the page buffer
};

}  // namespace wal::internal

#endif  // WAL_SRC_RECORD_WRITER_H_
