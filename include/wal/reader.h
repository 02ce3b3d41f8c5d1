// LogReader: streams the records of a WAL in file order without holding them
// all, in bounded memory (one read chunk, or one record if larger). For logs
// too large for ReadAll, for tools, and for replaying into a raft storage
// that applies raft's overwrite rule itself (an entry at index i replaces i
// and everything after it).
//
// It reads like OpenForRead: no locks, the segments selected for `snap`
// (the last one whose first index <= snap.index, and all after it), a torn
// last record ends the stream cleanly (torn() tells), every other problem is
// an error naming the file and offset. Metadata conflicts, snapshot matching
// and entry-index continuity are left to the caller (ReadAll checks them).
//
// Thread safety: one thread at a time.
#ifndef WAL_READER_H_
#define WAL_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wal/options.h"
#include "wal/status.h"
#include "wal/types.h"

namespace wal {

struct LogRecord {
  enum class Kind { kMetadata, kEntry, kState, kSnapshot };
  Kind kind = Kind::kEntry;
  Entry entry;               // kEntry
  HardState state;           // kState
  Snapshot snapshot;         // kSnapshot
  std::string metadata;      // kMetadata
  std::string_view segment;  // file name; valid until the next Next()
  uint64_t offset = 0;       // of the record's frame in that file
};

class LogReader {
 public:
  static Result<std::unique_ptr<LogReader>> Open(const std::string& dir, const Snapshot& snap,
                                                 const Options& options = {});
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // The next metadata, entry, state or snapshot record (crc records are
  // checked, not returned). false at the end of the log.
  Result<bool> Next(LogRecord* out);
  // True once the stream ended at a torn last record (kUnexpectedEof).
  bool torn() const;

  struct Impl;

 private:
  explicit LogReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wal

#endif  // WAL_READER_H_
