// Read-only passes over a WAL with the library's RecordDecoder (the same
// decoding rules as ReadAll, Verify and Repair), for what the public API
// cannot do without opening the WAL for writing:
//   - kTrack: find where the decoder stops and the last good entry index
//     (verify, repair --dry-run);
//   - kInclusive: the seed's OpenAtIndex semantics (entries from `at_index`
//     on, inclusive; kIndexNotFound when the log ends before it) without
//     taking locks and without zeroing the tail (dump --at-index).
#ifndef WAL_TOOLS_LOG_READ_H_
#define WAL_TOOLS_LOG_READ_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "tools/common.h"
#include "tools/progress.h"
#include "wal/status.h"
#include "wal/types.h"

namespace walctl {

struct LogReadOptions {
  enum class Mode { kTrack, kInclusive };
  Mode mode = Mode::kTrack;
  uint64_t at_index = 0;  // kInclusive
  // kTrack: also decode entry/state/snapshot bodies and reject unknown
  // record types, as ReadAll does. false = frames and CRCs only, as
  // wal::Repair decodes (bodies that fail to decode are skipped).
  bool check_bodies = true;
  size_t chunk_bytes = 1 << 20;
  Progress* progress = nullptr;
};

struct LogReadResult {
  wal::ReadAllResult data;  // kInclusive only: metadata, last state, entries
  bool has_metadata = false;
  std::optional<uint64_t> last_index;  // last entry index decoded before any stop
  uint64_t entry_records = 0;
  // Why and where the decoder stopped before a clean end (OK when it did
  // not). kUnexpectedEof = a torn last record (repairable).
  wal::Status stop;
  std::string stop_path;
  uint64_t stop_offset = 0;
  bool torn() const { return stop.code() == wal::StatusCode::kUnexpectedEof; }
};

// Reads segments [from, end) of `wal_dir`, opened read-only, without locks.
// kTrack: every decoding problem goes to `stop`; only an OS error is
// returned. kInclusive: as ReadAll in read mode: a torn last record ends
// the read (recorded in `stop`), any other problem is returned.
wal::Result<LogReadResult> ReadLog(const WalDir& wal_dir, size_t from, const LogReadOptions& options);

}  // namespace walctl

#endif  // WAL_TOOLS_LOG_READ_H_
