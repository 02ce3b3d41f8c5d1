// A tolerant scanner over the frame format, for `walctl records` and
// `walctl info`. Unlike the library's RecordDecoder it does not stop at the
// first bad record: it marks it and goes on wherever the frame boundaries
// can still be trusted (a CRC mismatch or a malformed record whose length
// word fits the file), and gives up on a file only when the length word
// itself cannot be right. It reads in chunks and never allocates more than
// the file holds.
#ifndef WAL_TOOLS_SCANNER_H_
#define WAL_TOOLS_SCANNER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tools/progress.h"
#include "wal/file_system.h"
#include "wal/status.h"
#include "wal/types.h"

namespace walctl {

struct ScannedRecord {
  uint64_t offset = 0;   // of the length word
  uint64_t length = 0;   // record bytes
  uint64_t padding = 0;  // zero bytes after the record
  bool decoded = false;  // the walpb.Record itself parsed
  int64_t type = 0;
  uint32_t stored_crc = 0;
  // The chained CRC this record should hold: for a crc record, the chain so
  // far; for any other record, the chain extended with its data.
  uint32_t computed_crc = 0;
  // false for a crc record met while the chain is still 0 (etcd does not
  // check those either).
  bool crc_checked = false;
  bool has_data = false;
  std::string_view data;  // valid during the callback only
  std::optional<wal::Entry> entry;
  std::optional<wal::HardState> state;
  std::optional<wal::Snapshot> snapshot;
  std::string bad;  // why the record is bad; empty when it is sound
};

enum class SegmentEndKind {
  kEndOfFile,  // the last frame ends exactly at the end of the file
  kZeroWord,   // a zero length word: the rest is preallocated space
  kStopped,    // an unusable length word: the rest of the file was skipped
};

struct SegmentEnd {
  SegmentEndKind kind = SegmentEndKind::kEndOfFile;
  uint64_t offset = 0;  // where the records end
  std::string bad;      // kStopped: why
  // kZeroWord: bytes after the zero word that were checked to be zero, and
  // the first non-zero byte found there, if any (a sign of a torn write).
  uint64_t zeros_checked = 0;
  bool checked_to_end = true;
  std::optional<uint64_t> nonzero_at;
};

struct ScanOptions {
  size_t chunk_bytes = 1 << 20;
  // Bytes after a zero length word that are checked for stray data.
  uint64_t trailing_check_limit = 64ull << 20;
  Progress* progress = nullptr;
};

// Scans one segment from `start` to its end. `chain` is the running CRC,
// carried from the previous segment and updated. `last` marks the last
// segment, where a damaged frame may be a torn write (said in `bad`).
// Returns an error only when the file cannot be read.
wal::Status ScanSegment(wal::File* file, uint64_t size, bool last, uint64_t start, uint32_t* chain,
                        const ScanOptions& options,
                        const std::function<void(const ScannedRecord&)>& on_record, SegmentEnd* end);

}  // namespace walctl

#endif  // WAL_TOOLS_SCANNER_H_
