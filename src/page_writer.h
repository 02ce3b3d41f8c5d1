// The write buffer in front of the tail segment. It reproduces etcd's page
// writer (pkg/ioutil/pagewriter.go, v3.1+) decision for decision, because the
// segment cut is decided on the bytes already flushed to the file: the same
// sequence of writes must flush at the same points for our segments to be
// cut where etcd's are. Flushes happen in 4 KiB-aligned chunks (relative to
// the file), so a torn flush tears whole sectors, which is what makes the
// zero-sector torn-write detection sound.
#ifndef WAL_SRC_PAGE_WRITER_H_
#define WAL_SRC_PAGE_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "src/format.h"
#include "wal/file_system.h"

namespace wal::internal {

class PageWriter {
 public:
  // `file` must outlive this object. Writes start at `offset`.
  PageWriter(File* file, uint64_t offset, size_t watermark_bytes);
  PageWriter(const PageWriter&) = delete;
  PageWriter& operator=(const PageWriter&) = delete;

  Status Write(const uint8_t* p, size_t n);
  // Room for `n` bytes at the end of the buffer, for the caller to encode
  // into, when Write()s totalling n bytes would all just be buffered (no
  // flush, so the flush points are the same as with Write); else nullptr.
  // Commit(n) then counts them as written.
  uint8_t* ReserveInBuffer(size_t n) {
    return buffered_ + n <= watermark_ ? buf_.get() + buffered_ : nullptr;
  }
  void Commit(size_t n) { buffered_ += n; }
  // Writes every buffered byte to the file (possibly unaligned).
  Status Flush();

  // The file offset after the last flushed byte: etcd's Seek(0, SeekCurrent).
  uint64_t flushed_offset() const { return flushed_; }
  // The offset the next byte written will have.
  uint64_t end_offset() const { return flushed_ + buffered_; }
  size_t buffered_bytes() const { return buffered_; }
  // Copies the bytes [from, to) that are still in the buffer (those at or
  // past flushed_offset(); to <= end_offset()) to out + (byte - from), and
  // returns the offset where they start (to itself when none are).
  uint64_t CopyBuffered(uint64_t from, uint64_t to, uint8_t* out) const;
  File* file() const { return file_; }

 private:
  File* file_;
  uint64_t flushed_;
  size_t buffered_ = 0;
  size_t watermark_;
  std::unique_ptr<uint8_t[]> buf_;  // watermark_ + kPageBytes
};

}  // namespace wal::internal

#endif  // WAL_SRC_PAGE_WRITER_H_
