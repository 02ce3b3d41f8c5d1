// The segment set: selecting the segments a read starts at (etcd's
// selectWALFiles), opening them, and the one way to turn a run of them into a
// record stream. Shared by the WAL and the stand-alone checks (Verify,
// Repair, ValidSnapshotEntries, LogReader, inspect.h).
#ifndef WAL_SRC_SEGMENT_SET_H_
#define WAL_SRC_SEGMENT_SET_H_

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
// Where the CRC chain starts for a decoder whose first input is segs[at]
// (open as `at_file`). A segment normally starts with a crc record, which
// carries the chain: then 0, and the record is adopted (etcd's rule). A
// segment whose head was lost (etcd's Repair cut it to nothing and etcd then
// appended) starts with some other record, chained from the segments before
// it: then the chain at its start as decoded from the nearest earlier
// segment with a crc head, when the segments from there on are present, in
// sequence (etcd's isValidSeq) and read cleanly, else 0. Segments before
// that head (a sequence gap among them) do not change it: every reader that
// reaches segs[at] went through that head. Every reader of the log (ReadAll,
// Verify, LogReader) and Repair start from this one value, so their verdicts
// on the same bytes agree whatever segment the snapshot selects. (etcd starts
// at 0, so it cannot read a headless first selected segment that it wrote
// itself.)
uint32_t ChainInto(FileSystem* fs, const std::string& dir, const std::vector<SegmentName>& segs, size_t at,
                   File* at_file, const Options& options);

// The one way to read a run of segments as a record stream: segs[from..]
// opened read-only, no locks, and a decoder over them whose CRC chain
// starts where ChainInto says. Used by Verify, LogReader, CheckLog,
// ValidSnapshotEntries and ScanLog (ReadAll opens its own files, locked in
// write mode, and starts its decoder from the same ChainInto).
struct SegmentStream {
  std::vector<SegmentName> segments;
  size_t from = 0;
  std::vector<std::unique_ptr<File>> files;  // of segments[from..]
  std::unique_ptr<RecordDecoder> decoder;
};
Result<SegmentStream> OpenSegmentStream(FileSystem* fs, const std::string& dir, std::vector<SegmentName> segs,
                                        size_t from, const Options& options);

std::vector<SegmentInput> InputsOf(const std::vector<SegmentName>& names, size_t from,
                                   const std::vector<std::unique_ptr<File>>& files);

}  // namespace wal::internal

#endif  // WAL_SRC_SEGMENT_SET_H_
