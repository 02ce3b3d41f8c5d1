#include "src/offset_index.h"

#include <algorithm>

namespace wal::internal {

void OffsetIndex::Reset(uint64_t first, std::optional<uint64_t> prev_term) {
  first_ = first;
  prev_term_ = prev_term;
  slots_.clear();
  head_ = 0;
  runs_.clear();
}

void OffsetIndex::TruncateTo(size_t n) {
  if (n >= size()) return;
  slots_.resize(head_ + n);
  const uint64_t end = first_ + n;  // first index dropped
  while (!runs_.empty() && runs_.back().first >= end) runs_.pop_back();
}

bool OffsetIndex::Append(uint64_t index, uint64_t term, const EntryPlace& place) {
  if (empty()) {
    if (index != first_) prev_term_.reset();  // a start elsewhere: entry index-1 is not known
    first_ = index;
    seq_base_ = place.seq;
    slots_.clear();
    head_ = 0;
    runs_.clear();
  }
  if (index != first_ + size() || place.seq < seq_base_ || place.seq - seq_base_ > kMaxSegments ||
      place.offset > kMaxOffset)
    return false;
  slots_.push_back(Slot{(place.seq - seq_base_) << 40 | place.offset, place.prev_crc, place.frame_len});
  if (runs_.empty() || runs_.back().second != term) runs_.emplace_back(index, term);
  return true;
}

void OffsetIndex::DropFront(size_t n) {
  if (n == 0) return;
  const uint64_t new_first = first_ + n;
  prev_term_ = term(new_first - 1);
  head_ += n;
  first_ = new_first;
  // The run holding the new first entry stays, starting there.
  auto it = std::upper_bound(runs_.begin(), runs_.end(), new_first,
                             [](uint64_t i, const std::pair<uint64_t, uint64_t>& r) { return i < r.first; });
  if (it != runs_.begin()) --it;
  runs_.erase(runs_.begin(), it);
  if (!runs_.empty() && runs_.front().first < new_first) runs_.front().first = new_first;
  if (empty()) {
    slots_.clear();
    head_ = 0;
    runs_.clear();
  } else if (head_ > slots_.size() / 2) {
    // Amortised O(1) per dropped entry: the live half moves down once it
    // is no larger than what was dropped.
    slots_.erase(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void OffsetIndex::DropSegmentsBefore(uint64_t seq) {
  if (empty() || seq <= seq_base_) return;
  const uint64_t rel = seq - seq_base_;
  // Segments never decrease along the index: the first slot at or after
  // segment `seq` ends the prefix.
  auto it = std::lower_bound(slots_.begin() + static_cast<std::ptrdiff_t>(head_), slots_.end(), rel,
                             [](const Slot& s, uint64_t r) { return (s.pos >> 40) < r; });
  DropFront(static_cast<size_t>(it - (slots_.begin() + static_cast<std::ptrdiff_t>(head_))));
}

EntryPlace OffsetIndex::place(uint64_t index) const {
  const Slot& s = slots_[head_ + (index - first_)];
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

uint64_t OffsetIndex::memory_bytes() const {
  return slots_.capacity() * sizeof(Slot) + runs_.capacity() * sizeof(runs_[0]);
}

void OffsetIndex::ShrinkToFit() {
  // By copy: libstdc++'s shrink_to_fit does nothing without exceptions.
  std::vector<Slot>(slots_.begin() + static_cast<std::ptrdiff_t>(head_), slots_.end()).swap(slots_);
  head_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>>(runs_.begin(), runs_.end()).swap(runs_);
}

}  // namespace wal::internal
