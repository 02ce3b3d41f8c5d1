#include "src/read_sinks.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "src/format.h"

namespace wal {

namespace {

constexpr size_t kMaxBlockBytes = size_t{64} << 20;
using internal::kPageBytes;  // the arena allocates whole pages
constexpr size_t kHugePageBytes = size_t{2} << 20;

Status MapFailed(const char* what, size_t bytes) {
  return Status(StatusCode::kIoError, std::string("wal: ReadAllArena could not map ") + what + " of " +
                                          std::to_string(bytes) + " bytes: " + std::strerror(errno));
}

// Anonymous, private, zero-filled. Pages never written take no RAM. With
// `huge`, transparent huge pages are asked for: the view array's page faults
// drop ~500-fold (RSS then grows in 2 MiB steps, at most one huge page of
// rounding). Data blocks do not ask: with the usual defrag=madvise setting
// each huge-page fault may compact memory first, and over a 1 GB log of
// 1000 B entries that made ReadAllArena 2-3x slower than 4 KiB pages
// (measured here); for 100 B entries the difference was within the noise.
void* MapAnonymous(size_t bytes, bool huge) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  if (huge) internal::AdviseHugePages(p, bytes);
  return p;
}

}  // namespace

ReadAllArenaResult::ReadAllArenaResult() = default;
ReadAllArenaResult::~ReadAllArenaResult() { Release(); }

ReadAllArenaResult::ReadAllArenaResult(ReadAllArenaResult&& o) noexcept
    : metadata(std::move(o.metadata)),
      state(o.state),
      views_(std::exchange(o.views_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      capacity_(std::exchange(o.capacity_, 0)),
      blocks_(std::move(o.blocks_)),
      mappings_(std::move(o.mappings_)) {
  o.blocks_.clear();
  o.mappings_.clear();
}

ReadAllArenaResult& ReadAllArenaResult::operator=(ReadAllArenaResult&& o) noexcept {
  if (this != &o) {
    Release();
    metadata = std::move(o.metadata);
    state = o.state;
    views_ = std::exchange(o.views_, nullptr);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    blocks_ = std::move(o.blocks_);
    o.blocks_.clear();
    mappings_ = std::move(o.mappings_);
    o.mappings_.clear();
  }
  return *this;
}

void ReadAllArenaResult::Release() {
  if (views_ != nullptr) ::munmap(views_, capacity_ * sizeof(EntryView));
  views_ = nullptr;
  size_ = capacity_ = 0;
  for (const Block& b : blocks_) ::munmap(b.base, b.capacity);
  blocks_.clear();
  mappings_.clear();
}

std::vector<Entry> ReadAllArenaResult::ToEntries() const {
  std::vector<Entry> out;
  out.reserve(size_);
  for (const EntryView& v : entries()) out.push_back(v.ToEntry());
  return out;
}

uint64_t ReadAllArenaResult::data_bytes() const {
  uint64_t n = 0;
  for (const EntryView& v : entries()) n += v.data.size();
  return n;
}

uint64_t ReadAllArenaResult::mapped_bytes() const {
  uint64_t n = 0;
  for (const auto& m : mappings_) n += m->bytes().size();
  return n;
}

uint64_t ReadAllArenaResult::memory_bytes() const {
  uint64_t n = size_ * sizeof(EntryView);
  for (const Block& b : blocks_) n += b.used;
  return n;
}

namespace internal {

void AdviseHugePages(void* p, size_t bytes) {
  const uintptr_t begin =
      static_cast<uintptr_t>(internal::RoundUpTo(reinterpret_cast<uintptr_t>(p), kHugePageBytes));
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) / kHugePageBytes * kHugePageBytes;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

void VectorSink::Grow(uint64_t consumed, uint64_t total) {
  out_->reserve(NextCapacity(out_->size(), consumed, total));
  // A large array comes from its own mmap in malloc (above its mmap
  // threshold); the advice covers only whole pages inside it.
  AdviseHugePages(out_->data(), out_->capacity() * sizeof(Entry));
}

size_t NextCapacity(size_t n, uint64_t consumed, uint64_t total) {
  size_t grow = n + n / 2 + 1024;
  if (consumed > 0 && total > consumed) {
    // An entry frame takes at least 24 bytes, so no log holds more than
    // total/16 entries (with room to spare): a cap for a wild estimate.
    const double bound = static_cast<double>(total / 16 + 1024);
    double est = static_cast<double>(n) * static_cast<double>(total) / static_cast<double>(consumed);
    est = std::min(est * 1.125 + 1024, bound);
    grow = std::max(grow, static_cast<size_t>(est));
  }
  return grow;
}

Status ArenaSink::GrowViews(uint64_t consumed, uint64_t total) {
  ReadAllArenaResult& r = *out_;
  const size_t cap = NextCapacity(r.capacity_, consumed, total);
  const size_t bytes = static_cast<size_t>(internal::RoundUpTo(cap * sizeof(EntryView), kPageBytes));
  void* p;
  if (r.views_ == nullptr) {
    p = MapAnonymous(bytes, /*huge=*/true);
    if (p == nullptr) return MapFailed("the entry views", bytes);
  } else {
    // The kernel moves the pages, not their contents: no copy, and no
    // moment with the old and the new array both in memory.
    p = ::mremap(r.views_, r.capacity_ * sizeof(EntryView), bytes, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) return MapFailed("the entry views", bytes);
    AdviseHugePages(p, bytes);
  }
  r.views_ = static_cast<EntryView*>(p);
  r.capacity_ = bytes / sizeof(EntryView);
  return Status::Ok();
}

Result<char*> ArenaSink::Store(size_t n, uint64_t consumed, uint64_t total) {
  auto& blocks = out_->blocks_;
  if (blocks.empty() || blocks.back().capacity - blocks.back().used < n) {
    // Entry data lies inside the segment files, so what is left to read
    // bounds what is left to store: a block never needs to be larger, and
    // small logs get small blocks.
    uint64_t left = total > consumed ? total - consumed : 0;
    size_t want = static_cast<size_t>(std::min<uint64_t>(left + n, kMaxBlockBytes));
    want = static_cast<size_t>(internal::RoundUpTo(std::max(want, n), kPageBytes));
    void* p = MapAnonymous(want, /*huge=*/false);
    if (p == nullptr) return MapFailed("a data block", want);
    blocks.push_back({static_cast<char*>(p), want, 0});
  }
  ReadAllArenaResult::Block& b = blocks.back();
  char* dst = b.base + b.used;
  b.used += n;
  return dst;
}

Status ArenaSink::Append(const EntryView& e, const char* mapped, uint64_t consumed, uint64_t total) {
  ReadAllArenaResult& r = *out_;
  if (r.size_ == r.capacity_) WAL_RETURN_IF_ERROR(GrowViews(consumed, total));
  EntryView& v = r.views_[r.size_];
  v = e;
  if (mapped != nullptr) {                             // only when mappings() asked the decoder to map
    v.data = std::string_view(mapped, e.data.size());  // the same bytes, in the file
  } else if (!e.data.empty()) {
    WAL_ASSIGN_OR_RETURN(char* dst, Store(e.data.size(), consumed, total));
    std::memcpy(dst, e.data.data(), e.data.size());
    v.data = std::string_view(dst, e.data.size());
  }
  ++r.size_;
  return Status::Ok();
}

Status IndexSink::Append(const EntryView& e, const EntryPlace& place) {
  if (!index_->Append(e.index, e.term, place)) return IndexLimitError(e.index, place);
  return Status::Ok();
}

Status IndexLimitError(uint64_t index, const EntryPlace& place) {
  return Status(StatusCode::kInvalidArgument,
                "wal: the offset index cannot hold entry " + std::to_string(index) + " (segment " +
                    std::to_string(place.seq) + ", offset " + std::to_string(place.offset) + ", frame of " +
                    std::to_string(place.frame_len) +
                    " bytes): it holds offsets below 2^40 within 2^24 segments and frames below 4 GiB");
}

}  // namespace internal
}  // namespace wal
