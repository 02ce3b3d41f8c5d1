// Segment file names: %016x-%016x.wal = <sequence>-<first raft index>.
#ifndef WAL_SRC_SEGMENT_NAMES_H_
#define WAL_SRC_SEGMENT_NAMES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wal/file_system.h"
#include "wal/inspect.h"
#include "wal/status.h"

namespace wal::internal {

struct SegmentName {
  uint64_t seq = 0;
  uint64_t index = 0;
  std::string name;
};

std::string SegmentFileName(uint64_t seq, uint64_t index);
// Accepts exactly 16 hex digits, '-', 16 hex digits, ".wal" (either case, as
// Go's Sscanf does). Anything else (*.tmp, *.broken, stray files) is not a
// segment.
std::optional<SegmentName> ParseSegmentName(std::string_view name);

// All segment names in `dir`, sorted. kFileNotFound when there are none (or
// the directory does not exist).
Result<std::vector<SegmentName>> ListSegments(FileSystem* fs, const std::string& dir);

// etcd's searchIndex: the last segment whose first index <= `index`.
std::optional<size_t> SearchIndex(const std::vector<SegmentName>& segs, uint64_t index);

// etcd's isValidSeq, including its quirk: the comparison is skipped while the
// previous sequence is 0, so a gap right after seq 0 passes (the CRC chain
// then catches it).
bool IsValidSeq(const std::vector<SegmentName>& segs, size_t from);
// The first segment of the run that IsValidSeq accepts ending at segs[at]:
// IsValidSeq(segs[0..at], from) holds exactly when from >= SeqRunStart.
size_t SeqRunStart(const std::vector<SegmentName>& segs, size_t at);

// Public in wal/inspect.h (for tools); the same functions here.
using ::wal::CleanPath;
using ::wal::JoinPath;
// The directory containing `path` ("." for a bare name), ignoring trailing
// slashes.
std::string ParentDir(const std::string& path);

}  // namespace wal::internal

#endif  // WAL_SRC_SEGMENT_NAMES_H_
