// Pieces shared by the WAL and the stand-alone checks (Verify, Repair,
// ValidSnapshotEntries).
#ifndef WAL_SRC_WAL_INTERNAL_H_
#define WAL_SRC_WAL_INTERNAL_H_

#include <memory>
#include <string>
#include <vector>

#include "src/record_reader.h"
#include "src/segment_names.h"
#include "wal/file_system.h"
#include "wal/options.h"
#include "wal/status.h"

namespace wal::internal {

Status CheckOptions(const Options& o);
FileSystem* FileSystemOf(const Options& o);

struct SelectedSegments {
  std::vector<SegmentName> segments;  // every segment of the directory, sorted
  size_t from = 0;                    // the first selected one
};
// etcd's selectWALFiles: the segments from the last one whose first index <=
// `index`, which must have consecutive sequence numbers. kFileNotFound else.
Result<SelectedSegments> SelectSegments(FileSystem* fs, const std::string& dir, uint64_t index);

Result<std::vector<std::unique_ptr<File>>> OpenSegmentsReadOnly(FileSystem* fs, const std::string& dir,
                                                                const std::vector<SegmentName>& segs,
                                                                size_t from);
std::vector<SegmentInput> InputsOf(const std::vector<SegmentName>& names, size_t from,
                                   const std::vector<std::unique_ptr<File>>& files);

}  // namespace wal::internal

#endif  // WAL_SRC_WAL_INTERNAL_H_
