#include "src/page_writer.h"

#include <algorithm>
#include <cstring>

namespace wal::internal {

PageWriter::PageWriter(File* file, uint64_t offset, size_t watermark_bytes)
    : file_(file),
      flushed_(offset),
      watermark_(watermark_bytes < kPageBytes ? kPageBytes : watermark_bytes),
      buf_(new uint8_t[watermark_ + kPageBytes]) {}

Status PageWriter::Write(const uint8_t* p, size_t n) {
  // Bounded: each pass either returns or strictly shrinks n below a page.
  while (true) {
    if (buffered_ + n <= watermark_) {
      std::memcpy(buf_.get() + buffered_, p, n);
      buffered_ += n;
      return Status::Ok();
    }
    // Top up the partial page at the end of the buffer so the flush ends on
    // a page boundary of the file. If there is not enough input to complete
    // it, keep buffering (past the watermark, into the one-page slack)
    // rather than flush unaligned.
    size_t slack = kPageBytes - static_cast<size_t>((flushed_ + buffered_) % kPageBytes);
    if (slack != kPageBytes) {
      bool partial = slack > n;
      if (partial) slack = n;
      std::memcpy(buf_.get() + buffered_, p, slack);
      buffered_ += slack;
      p += slack;
      n -= slack;
      if (partial) return Status::Ok();
    }
    WAL_RETURN_IF_ERROR(Flush());
    // Whole pages go straight from the caller's bytes.
    if (n > kPageBytes) {
      size_t direct = n / kPageBytes * kPageBytes;
      WAL_RETURN_IF_ERROR(file_->WriteAt(flushed_, std::span(reinterpret_cast<const std::byte*>(p), direct)));
      flushed_ += direct;
      p += direct;
      n -= direct;
    }
  }
}

Status PageWriter::Flush() {
  if (buffered_ == 0) return Status::Ok();
  Status s = file_->WriteAt(flushed_, std::span(reinterpret_cast<const std::byte*>(buf_.get()), buffered_));
  // etcd advances its page offset even when the write fails; the WAL is
  // poisoned by then, so only success matters here.
  if (!s.ok()) return s;
  flushed_ += buffered_;
  buffered_ = 0;
  return Status::Ok();
}

uint64_t PageWriter::CopyBuffered(uint64_t from, uint64_t to, uint8_t* out) const {
  const uint64_t start = std::max(from, flushed_);
  if (start >= to) return to;
  std::memcpy(out + (start - from), buf_.get() + (start - flushed_), static_cast<size_t>(to - start));
  return start;
}

}  // namespace wal::internal
