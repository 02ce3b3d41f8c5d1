#include "src/offset_index.h"

#include <algorithm>

namespace wal::internal {

void OffsetIndex::Clear() {
  blocks_.clear();
  last_cap_ = 0;
  head_ = 0;
  size_ = 0;
  runs_.clear();
}

void OffsetIndex::Reset(uint64_t first, std::optional<uint64_t> prev_term) {
  first_ = first;
  prev_term_ = prev_term;
  Clear();
}

void OffsetIndex::TruncateTo(size_t n) {
  if (n >= size_) return;
  size_ = n;
  // Keep the blocks still used, and one spare for the appends that follow.
  const size_t used = (head_ + size_ + kBlockSlots - 1) / kBlockSlots;
  if (blocks_.size() > used + 1) {
    blocks_.resize(used + 1);
    last_cap_ = kBlockSlots;  // the spare kept was a whole block
  }
  const uint64_t end = first_ + n;  // first index dropped
  while (!runs_.empty() && runs_.back().first >= end) runs_.pop_back();
}

bool OffsetIndex::Append(uint64_t index, uint64_t term, const EntryPlace& place) {
  if (empty()) {
    if (index != first_) prev_term_.reset();  // a start elsewhere: entry index-1 is not known
    first_ = index;
    seq_base_ = place.seq;
    head_ = 0;
    runs_.clear();
  }
  if (index != first_ + size_ || place.seq < seq_base_ || place.seq - seq_base_ > kMaxSegments ||
      place.offset > kMaxOffset || place.frame_len > kMaxFrameLen)
    return false;
  const size_t capacity = blocks_.empty() ? 0 : (blocks_.size() - 1) * kBlockSlots + last_cap_;
  if (head_ + size_ == capacity) {
    if (blocks_.empty() || last_cap_ == kBlockSlots) {
      blocks_.push_back(std::make_unique<Slot[]>(kFirstBlockSlots));
      last_cap_ = kFirstBlockSlots;
    } else {
      ResizeLastBlock(std::min(kBlockSlots, last_cap_ * 2));
    }
  }
  ++size_;
  slot(size_ - 1) = Slot{(place.seq - seq_base_) << 40 | place.offset, place.prev_crc,
                         static_cast<uint32_t>(place.frame_len)};
  if (runs_.empty() || runs_.back().second != term) runs_.emplace_back(index, term);
  return true;
}

void OffsetIndex::DropFront(size_t n) {
  if (n == 0) return;
  const uint64_t new_first = first_ + n;
  prev_term_ = term(new_first - 1);
  // The run holding the new first entry stays, starting there.
  auto it = std::upper_bound(runs_.begin(), runs_.end(), new_first,
                             [](uint64_t i, const std::pair<uint64_t, uint64_t>& r) { return i < r.first; });
  if (it != runs_.begin()) --it;
  runs_.erase(runs_.begin(), it);
  if (!runs_.empty() && runs_.front().first < new_first) runs_.front().first = new_first;
  first_ = new_first;
  size_ -= n;
  head_ += n;
  if (size_ == 0) {
    Clear();
    return;
  }
  const size_t freed = head_ / kBlockSlots;  // < blocks_.size(): an entry is left
  blocks_.erase(blocks_.begin(), blocks_.begin() + static_cast<std::ptrdiff_t>(freed));
  head_ -= freed * kBlockSlots;
}

void OffsetIndex::DropSegmentsBefore(uint64_t seq) {
  if (empty() || seq <= seq_base_) return;
  const uint64_t rel = seq - seq_base_;
  // Segments never decrease along the index: binary search for the first
  // entry at or after segment `seq`; it ends the prefix.
  size_t lo = 0, hi = size_;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if ((slot(mid).pos >> 40) < rel)
      lo = mid + 1;
    else
      hi = mid;
  }
  DropFront(lo);
}

EntryPlace OffsetIndex::place(uint64_t index) const {
  const Slot& s = slot(static_cast<size_t>(index - first_));
  return EntryPlace{seq_base_ + (s.pos >> 40), s.pos & kMaxOffset, s.prev_crc, s.frame_len};
}

std::optional<uint64_t> OffsetIndex::term(uint64_t index) const {
  if (index + 1 == first_) return prev_term_;
  auto it = std::upper_bound(runs_.begin(), runs_.end(), index,
                             [](uint64_t i, const std::pair<uint64_t, uint64_t>& r) { return i < r.first; });
  return std::prev(it)->second;
}

size_t OffsetIndex::TermOrderedPrefix(uint64_t from, uint64_t floor) const {
  for (size_t r = 0; r < runs_.size(); ++r) {
    const uint64_t end = r + 1 < runs_.size() ? runs_[r + 1].first : last() + 1;
    if (end <= from) continue;
    if (runs_[r].second < floor) return static_cast<size_t>(std::max(runs_[r].first, from) - first_);
    floor = runs_[r].second;
  }
  return size();
}

void OffsetIndex::ResizeLastBlock(size_t slots) {
  auto block = std::make_unique<Slot[]>(slots);
  std::copy_n(blocks_.back().get(), std::min(slots, last_cap_), block.get());
  blocks_.back() = std::move(block);
  last_cap_ = slots;
}

void OffsetIndex::Trim() {
  if (blocks_.empty()) return;
  const size_t used = head_ + size_ - (blocks_.size() - 1) * kBlockSlots;
  if (used == 0 && blocks_.size() > 1) {
    blocks_.pop_back();  // the one before is whole
    last_cap_ = kBlockSlots;
  } else if (used > 0 && used < last_cap_) {
    ResizeLastBlock(used);
  }
}

uint64_t OffsetIndex::memory_bytes() const {
  const size_t slots = blocks_.empty() ? 0 : (blocks_.size() - 1) * kBlockSlots + last_cap_;
  return slots * sizeof(Slot) + blocks_.capacity() * sizeof(blocks_[0]) + runs_.capacity() * sizeof(runs_[0]);
}

}  // namespace wal::internal
