// Where ReadAll puts the entries it keeps. ReadAll's semantics (raft
// overwrite, snapshot match, metadata, write mode) live once, in
// WAL::Impl::ReadAllInto; a sink only stores entries. Each sink offers:
//   size_t size() const;               entries kept so far
//   void TruncateTo(size_t n);         drop entries n.. (n <= size())
//   Status Append(const EntryView& e, const char* mapped, uint64_t consumed, uint64_t total);
//   uint64_t last_index() const;       index of the last kept entry (size() > 0)
//   uint64_t term_at(size_t i) const;  term of kept entry i (i < size())
//   Mappings* mappings();              where to keep segment mappings, or
//                                      nullptr to read without mapping
// `mapped`: where e.data's bytes lie in a segment mapping kept in
// *mappings() (and so live as long as the result), or nullptr; e.data
// itself points into the decoder's buffer, which the next record reuses.
// `consumed` and `total` are the bytes of segment read so far and the bytes
// of all selected segments: from them a sink sizes its arrays once, close to
// the final count, instead of doubling.
#ifndef WAL_SRC_READ_SINKS_H_
#define WAL_SRC_READ_SINKS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "src/offset_index.h"
#include "wal/status.h"
#include "wal/types.h"
#include "wal/wal.h"

namespace wal::internal {

using Mappings = std::vector<std::shared_ptr<const FileMapping>>;

// Asks for transparent huge pages over the whole 2 MiB pages inside
// [p, p+bytes): 512 times fewer page faults while the array fills. A hint
// about memory we own (the advice ends with the mapping); failure changes
// nothing.
void AdviseHugePages(void* p, size_t bytes);

// Capacity for an array of `n` entries that is full after `consumed` of
// `total` segment bytes: the final count extrapolated from the bytes, 1/8
// over, never less than 1.5x (so growth stays amortised O(1) when the
// estimate is low: e.g. small entries first, big ones later). Doubling
// would peak at 1.5x the final array while copying, and leave up to half of
// it unused; pages reserved here but never written take no RAM.
size_t NextCapacity(size_t n, uint64_t consumed, uint64_t total);

// ReadAll's std::vector<Entry>: one std::string per entry (the API's).
class VectorSink {
 public:
  explicit VectorSink(std::vector<Entry>* out) : out_(out) {}
  size_t size() const { return out_->size(); }
  void TruncateTo(size_t n) { out_->resize(n); }
  Status Append(const EntryView& e, const char* /*mapped*/, uint64_t consumed, uint64_t total) {
    if (out_->size() == out_->capacity()) Grow(consumed, total);
    out_->push_back(Entry{e.term, e.index, e.type, std::string(e.data)});
    return Status::Ok();
  }
  uint64_t last_index() const { return out_->back().index; }
  uint64_t term_at(size_t i) const { return (*out_)[i].term; }
  Mappings* mappings() { return nullptr; }  // every entry is copied: reading in chunks is cheaper

 private:
  void Grow(uint64_t consumed, uint64_t total);
  std::vector<Entry>* out_;
};

// ReadAllArena's: views into large data blocks. With `map` (ReadAllMapped),
// views into the mapped segments wherever the decoder could map them.
class ArenaSink {
 public:
  ArenaSink(ReadAllArenaResult* out, bool map) : out_(out), map_(map) {}
  size_t size() const { return out_->size_; }
  void TruncateTo(size_t n) { out_->size_ = n; }
  Status Append(const EntryView& e, const char* mapped, uint64_t consumed, uint64_t total);
  uint64_t last_index() const { return out_->views_[out_->size_ - 1].index; }
  uint64_t term_at(size_t i) const { return out_->views_[i].term; }
  Mappings* mappings() { return map_ ? &out_->mappings_ : nullptr; }

 private:
  Result<char*> Store(size_t n, uint64_t consumed, uint64_t total);
  Status GrowViews(uint64_t consumed, uint64_t total);
  ReadAllArenaResult* out_;
  bool map_;
};

// ReadIndexed's: no entry kept, only its place in the offset index. (With
// Options::index_entries the other two sinks' reads fill the index beside
// them: see WAL::Impl::PlaceEntry.)
class IndexSink {
 public:
  explicit IndexSink(OffsetIndex* index) : index_(index) {}
  size_t size() const { return index_->size(); }
  void TruncateTo(size_t n) { index_->TruncateTo(n); }
  Status Append(const EntryView& e, const EntryPlace& place);
  uint64_t last_index() const { return index_->last(); }
  uint64_t term_at(size_t i) const { return index_->term_at(i); }
  Mappings* mappings() { return nullptr; }

 private:
  OffsetIndex* index_;
};

// The error for an entry the offset index cannot hold (a segment offset
// past OffsetIndex::kMaxOffset, or too many segments).
Status IndexLimitError(uint64_t index, const EntryPlace& place);

}  // namespace wal::internal

#endif  // WAL_SRC_READ_SINKS_H_
