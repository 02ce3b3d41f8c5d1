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
#include <span>

#include "src/format.h"
#include "wal/file_system.h"

namespace wal::internal {

// Direct mode (a second descriptor opened with OpenOptions::direct): the
// same flush points, but each flush writes whole 4 KiB blocks from an
// aligned buffer: the bytes of the partial block before the flushed offset
// (kept from the last flush, or read at the start), the new bytes, zeros to
// the block's end. The zeros land where the file holds zeros already
// (preallocated or truncated-and-extended space past the last record), so
// the file's bytes are the buffered writer's; only a tail grown past its
// preallocated size ends up to 4095 zero bytes longer. The partial last
// block is rewritten by the next flush, with the same leading bytes.
class PageWriter {
 public:
  // `file` must outlive this object. Writes start at `offset`.
  PageWriter(File* file, uint64_t offset, size_t watermark_bytes);
  // Direct mode: writes go to `direct` (the same file opened O_DIRECT);
  // `head` holds the file's bytes [offset rounded down to 4 KiB, offset).
  PageWriter(File* file, std::unique_ptr<File> direct, uint64_t offset, size_t watermark_bytes,
             std::span<const uint8_t> head);
  ~PageWriter();
  PageWriter(const PageWriter&) = delete;
  PageWriter& operator=(const PageWriter&) = delete;

  Status Write(const uint8_t* p, size_t n);
  // Room for `n` bytes at the end of the buffer, for the caller to encode
  // into, when Write()s totalling n bytes would all just be buffered (no
  // flush, so the flush points are the same as with Write); else nullptr.
  // Commit(n) then counts them as written.
  uint8_t* ReserveInBuffer(size_t n) { return buffered_ + n <= watermark_ ? data() + buffered_ : nullptr; }
  void Commit(size_t n) { buffered_ += n; }
  // Writes every buffered byte to the file (possibly unaligned; in direct
  // mode, the blocks that hold them).
  Status Flush();
  // Direct mode, when every byte written to the file since the last
  // MarkSynced() is still buffered: flushes with File::WriteAtDurable and
  // returns true, so the bytes written so far are durable without an
  // fdatasync. Otherwise Flush() and false (the caller syncs the file).
  Result<bool> FlushDurable();
  // Every byte flushed so far will be covered by an fdatasync the caller
  // issues before it relies on FlushDurable again (a failed one stops the
  // WAL): what a group-commit round does after its Flush.
  void MarkSynced() { unsynced_writes_ = false; }
  bool direct() const { return direct_ != nullptr; }
  // Buffered mode: once `bytes` (> 0) more have been flushed, asks the file
  // to start writing them back (File::StartWriteback), so a large Save's
  // fdatasync finds less dirty; 0 leaves writeback to the kernel.
  void set_writeback_bytes(uint64_t bytes) { writeback_bytes_ = bytes; }

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
  // Where the buffered bytes start: after the partial block's leading
  // bytes in direct mode.
  uint8_t* data() { return buf_ + lead_; }
  const uint8_t* data() const { return buf_ + lead_; }
  Status WriteOut(uint64_t offset, const uint8_t* p, size_t n, bool durable);
  Status FlushImpl(bool durable);
  // Direct mode: writes the caller's whole pages through the aligned buffer.
  Status WritePagesDirect(const uint8_t* p, size_t n);
  void MaybeStartWriteback();

  File* file_;
  std::unique_ptr<File> direct_;  // null: buffered
  uint64_t flushed_;
  size_t buffered_ = 0;
  size_t watermark_;
  // Direct mode: flushed_ % kPageBytes, the bytes of the partial block
  // already in the file, kept at buf_[0, lead_).
  size_t lead_ = 0;
  size_t capacity_;              // bytes at buf_
  uint8_t* buf_;                 // watermark_ + kPageBytes (+ a block of lead and padding in direct mode)
  bool unsynced_writes_ = true;  // something written since MarkSynced (or ever)
  uint64_t writeback_bytes_ = 0;
  uint64_t writeback_from_ = flushed_;  // where the next StartWriteback starts
};

}  // namespace wal::internal

#endif  // WAL_SRC_PAGE_WRITER_H_
