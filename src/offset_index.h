// The offset index: where each entry of the log lies on disk, so that a WAL
// can answer Entries(lo, hi) and Term(i) without holding the entries
// (Options::index_entries, WAL::ReadIndexed). 16 bytes per entry: the
// segment (by sequence number) and the frame's byte offset, the CRC chain
// value before the record (so a lone record read back is checked as the
// decoder checks it) and the frame's length (so one pread gets it whole),
// plus one 16-byte run per change of term.
//
// It holds the entries first() .. last() of the log as raft sees it: an
// append at an index at or below last() replaces that entry and drops every
// later one (raft's overwrite rule), exactly as ReadAll places entries
// (TruncateTo / Append mirror a read sink's). Entries below first() are gone
// (below the snapshot the log was opened at, or in released segments);
// term(first() - 1) is known when the index starts at a snapshot.
//
// Segments in the log are contiguous and an append always goes to the
// newest one, so the segments along the index never decrease: dropping the
// oldest segments drops a prefix of the index.
//
// Not thread-safe: the WAL guards it with its mutex.
#ifndef WAL_SRC_OFFSET_INDEX_H_
#define WAL_SRC_OFFSET_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace wal::internal {

struct EntryPlace {
  uint64_t seq = 0;        // segment sequence number
  uint64_t offset = 0;     // of the record's frame in that segment
  uint32_t prev_crc = 0;   // CRC chain value before the record
  uint64_t frame_len = 0;  // header + record + padding (the index holds 32 bits)
};

class OffsetIndex {
 public:
  // Largest frame offset and segment distance a place can hold.
  static constexpr uint64_t kMaxOffset = (uint64_t{1} << 40) - 1;
  static constexpr uint64_t kMaxSegments = (uint64_t{1} << 24) - 1;
  static constexpr uint64_t kMaxFrameLen = (uint64_t{1} << 32) - 1;

  // An empty index whose next entry is `first`; `prev_term` is the term of
  // entry first-1 when known (a snapshot's term).
  void Reset(uint64_t first, std::optional<uint64_t> prev_term);

  uint64_t first() const { return first_; }
  uint64_t last() const { return first_ + size() - 1; }  // first() - 1 when empty
  size_t size() const { return size_; }
  bool empty() const { return size() == 0; }

  // Keeps the first `n` entries (n <= size()).
  void TruncateTo(size_t n);
  // Appends entry first()+size(), of `term`, at `place`. The first append
  // into an empty index may also start it anywhere (first() becomes
  // `index`). False when `place` cannot be held (see kMax*): the index is
  // then unchanged and no longer usable.
  bool Append(uint64_t index, uint64_t term, const EntryPlace& place);
  // Drops the entries that lie in segments older than `seq` (a prefix).
  void DropSegmentsBefore(uint64_t seq);
  // Drops the entries before `index` (first() <= index <= last() + 1).
  void DropBefore(uint64_t index) { DropFront(static_cast<size_t>(index - first_)); }

  // index in [first(), last()].
  EntryPlace place(uint64_t index) const;
  // index in [first() - 1, last()]; nullopt for first() - 1 when unknown.
  std::optional<uint64_t> term(uint64_t index) const;
  // Of entry i (0-based from first()), for the read sink's term rule.
  uint64_t term_at(size_t i) const { return *term(first_ + i); }

  // How many entries to keep so that every one from `from` on has a term
  // >= `floor` and none is lower than the one before it (ReadAll's term
  // rule, for a snapshot saved into a live index).
  size_t TermOrderedPrefix(uint64_t from, uint64_t floor) const;
  // Sets the term of entry first() - 1 (a snapshot saved at that index).
  void set_prev_term(uint64_t term) { prev_term_ = term; }

  // Bytes this index holds: its blocks (allocated, not only used) and runs.
  uint64_t memory_bytes() const;
  // Shrinks the last block to the slots it uses (after a read: appends grow
  // it again).
  void Trim();

 private:
  struct Slot {
    uint64_t pos;  // (seq - seq_base_) << 40 | offset
    uint32_t prev_crc;
    uint32_t frame_len;
  };
  static_assert(sizeof(Slot) == 16);
  // Slots live in blocks of 1 MiB: growing never moves the index (a vector
  // would briefly hold 1.5-3x of it while it reallocates), and dropping a
  // prefix frees whole blocks. Only the last block may be smaller: it starts
  // at 16 KiB and doubles, so a small log's index stays small, and a read
  // trims it to what it holds (Trim).
  static constexpr size_t kBlockSlots = 65536;
  static constexpr size_t kFirstBlockSlots = 1024;

  Slot& slot(size_t i) { return blocks_[(head_ + i) / kBlockSlots][(head_ + i) % kBlockSlots]; }
  const Slot& slot(size_t i) const { return blocks_[(head_ + i) / kBlockSlots][(head_ + i) % kBlockSlots]; }
  void DropFront(size_t n);
  void Clear();
  void ResizeLastBlock(size_t slots);

  uint64_t first_ = 1;
  std::optional<uint64_t> prev_term_ = 0;
  uint64_t seq_base_ = 0;
  std::vector<std::unique_ptr<Slot[]>> blocks_;
  size_t last_cap_ = 0;  // slots of the last block (every other one has kBlockSlots)
  size_t head_ = 0;      // slot of entry first_ in blocks_[0] (< kBlockSlots)
  size_t size_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> runs_;  // (first index, term), ascending, covering the entries
};

}  // namespace wal::internal

#endif  // WAL_SRC_OFFSET_INDEX_H_
