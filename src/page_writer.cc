#include "src/page_writer.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "src/mutants.h"

namespace wal::internal {

namespace {

constexpr size_t kAlign = kDirectIoAlignment;
static_assert(kAlign == kPageBytes, "direct blocks are the page writer's pages");

}  // namespace

PageWriter::PageWriter(File* file, uint64_t offset, size_t watermark_bytes)
    : file_(file),
      flushed_(offset),
      watermark_(watermark_bytes < kPageBytes ? kPageBytes : watermark_bytes),
      capacity_(watermark_ + kPageBytes),
      buf_(new (std::align_val_t{kAlign}) uint8_t[capacity_]) {}

PageWriter::PageWriter(File* file, std::unique_ptr<File> direct, uint64_t offset, size_t watermark_bytes,
                       std::span<const uint8_t> head)
    : file_(file),
      direct_(std::move(direct)),
      flushed_(offset),
      watermark_(watermark_bytes < kPageBytes ? kPageBytes : watermark_bytes),
      lead_(static_cast<size_t>(offset % kAlign)),
      // The lead (< a block), the watermark, the one-page slack past it,
      // and the padding of the last block.
      capacity_(watermark_ + 3 * kPageBytes),
      buf_(new (std::align_val_t{kAlign}) uint8_t[capacity_]) {
  // An empty head (a start on a block boundary) may have no data pointer.
  if (lead_ != 0) std::memcpy(buf_, head.data(), std::min(head.size(), lead_));
}

PageWriter::~PageWriter() { ::operator delete[](buf_, std::align_val_t{kAlign}); }

Status PageWriter::Write(const uint8_t* p, size_t n) {
  // Bounded: each pass either returns or strictly shrinks n below a page.
  while (true) {
    if (buffered_ + n <= watermark_) {
      std::memcpy(data() + buffered_, p, n);
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
      std::memcpy(data() + buffered_, p, slack);
      buffered_ += slack;
      p += slack;
      n -= slack;
      if (partial) return Status::Ok();
    }
    WAL_RETURN_IF_ERROR(Flush());
    // Whole pages go straight from the caller's bytes (through the aligned
    // buffer in direct mode).
    if (n > kPageBytes) {
      size_t whole = n / kPageBytes * kPageBytes;
      if (direct_) {
        WAL_RETURN_IF_ERROR(WritePagesDirect(p, whole));
      } else {
        WAL_RETURN_IF_ERROR(WriteOut(flushed_, p, whole, false));
      }
      flushed_ += whole;
      MaybeStartWriteback();
      p += whole;
      n -= whole;
    }
  }
}

Status PageWriter::WritePagesDirect(const uint8_t* p, size_t n) {
  // After the Flush that precedes it, flushed_ is on a page boundary: no lead.
  const size_t step = watermark_ / kPageBytes * kPageBytes;  // >= one page
  for (size_t done = 0; done < n; done += step) {
    const size_t chunk = std::min(step, n - done);
    std::memcpy(buf_, p + done, chunk);
    WAL_RETURN_IF_ERROR(WriteOut(flushed_ + done, buf_, chunk, false));
  }
  return Status::Ok();
}

void PageWriter::MaybeStartWriteback() {
  // Direct writes reach the device as they are made.
  if (writeback_bytes_ == 0 || direct_ || flushed_ - writeback_from_ < writeback_bytes_) return;
  file_->StartWriteback(writeback_from_, flushed_ - writeback_from_);
  writeback_from_ = flushed_;
}

Status PageWriter::WriteOut(uint64_t offset, const uint8_t* p, size_t n, bool durable) {
  auto bytes = std::span(reinterpret_cast<const std::byte*>(p), n);
  File* f = direct_ ? direct_.get() : file_;
  unsynced_writes_ = unsynced_writes_ || !durable;
  return durable ? f->WriteAtDurable(offset, bytes) : f->WriteAt(offset, bytes);
}

Status PageWriter::Flush() { return FlushImpl(false); }

Result<bool> PageWriter::FlushDurable() {
  if (!direct_ || (unsynced_writes_ && !MutantActive(Mutant::kDurableWriteCoversEarlierWrites))) {
    WAL_RETURN_IF_ERROR(FlushImpl(false));
    return false;
  }
  // Nothing new: everything written is durable already.
  if (buffered_ == 0) return true;
  WAL_RETURN_IF_ERROR(FlushImpl(true));
  return true;
}

Status PageWriter::FlushImpl(bool durable) {
  if (buffered_ == 0) return Status::Ok();
  if (!direct_) {
    // etcd advances its page offset even when the write fails; the WAL is
    // poisoned by then, so only success matters here.
    WAL_RETURN_IF_ERROR(WriteOut(flushed_, buf_, buffered_, durable));
    flushed_ += buffered_;
    buffered_ = 0;
    MaybeStartWriteback();
    return Status::Ok();
  }
  const size_t end = lead_ + buffered_;
  const size_t padded = static_cast<size_t>(RoundUpTo(end, kAlign));
  std::memset(buf_ + end, 0, padded - end);
  WAL_RETURN_IF_ERROR(WriteOut(flushed_ - lead_, buf_, padded, durable));
  flushed_ += buffered_;
  buffered_ = 0;
  // Keep the new partial block's leading bytes for the next flush.
  lead_ = end % kAlign;
  if (lead_ != 0 && padded > kAlign) std::memmove(buf_, buf_ + padded - kAlign, lead_);
  return Status::Ok();
}

uint64_t PageWriter::CopyBuffered(uint64_t from, uint64_t to, uint8_t* out) const {
  const uint64_t start = std::max(from, flushed_);
  if (start >= to) return to;
  std::memcpy(out + (start - from), data() + (start - flushed_), static_cast<size_t>(to - start));
  return start;
}

}  // namespace wal::internal
