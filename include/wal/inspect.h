// Looking inside a WAL without opening it: what tools (walctl) and operators
// need, through the library's own record decoder, segment selection and CRC
// chain, so a tool's verdict on a log is the library's verdict.
//
//   - ListSegmentFiles / SelectSegmentFiles: the directory's segments and
//     etcd's selection of the ones a snapshot index needs;
//   - ScanLog: every record of every segment in file order, bad ones
//     included (a tolerant mode of the decoder: it goes on wherever the
//     frame boundaries can still be trusted), for `walctl records`/`info`;
//   - CheckLog: where the library's strict decoding of the selected
//     segments stops and why (torn tail or corruption), with the last good
//     entry index, for `walctl verify` and `dump`;
//   - PlanRepair: exactly what Repair would do, computed by the same code
//     that Repair runs (RepairWithPlan applies it and returns it), so a dry
//     run and the real run cannot disagree.
//
// All of these open files read-only, take no locks (except RepairWithPlan)
// and never modify the log. Thread safety: each call is independent.
#ifndef WAL_INSPECT_H_
#define WAL_INSPECT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wal/options.h"
#include "wal/status.h"
#include "wal/types.h"

namespace wal {

// One segment file: <seq>-<first index>.wal (16 hex digits each).
struct SegmentFileInfo {
  uint64_t seq = 0;
  uint64_t index = 0;  // the first raft index the segment may hold
  std::string name;    // base name
};
// Parses a segment file name; nullopt for anything else (*.tmp, *.broken).
std::optional<SegmentFileInfo> ParseSegmentFileName(std::string_view name);
// The segments of `dir`, sorted by name. kFileNotFound when there is none.
Result<std::vector<SegmentFileInfo>> ListSegmentFiles(const std::string& dir, const Options& options = {});
// etcd's selectWALFiles over `segs` (sorted): the position of the last
// segment whose first index <= `index`, when the sequence numbers from there
// on are consecutive. kFileNotFound otherwise, with a message that says which
// rule failed and names `dir`.
Result<size_t> SelectSegmentFiles(const std::vector<SegmentFileInfo>& segs, uint64_t index,
                                  const std::string& dir);

// The bytes an entry record of `e` takes in a segment at most: frame
// header, record and padding (its CRC field's varint at its longest).
uint64_t EntryFrameBytes(const Entry& e);

// "<dir>/<name>" (no doubled slash), and a path without trailing slashes.
std::string JoinPath(const std::string& dir, std::string_view name);
std::string CleanPath(const std::string& path);

// ---------------------------------------------------------------- ScanLog

struct ScannedRecord {
  size_t segment = 0;    // position in ListSegmentFiles' list
  uint64_t offset = 0;   // of the frame's length word
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
  std::optional<Entry> entry;
  std::optional<HardState> state;
  std::optional<Snapshot> snapshot;
  // OK for a sound record. Otherwise why it is bad (message without a
  // place: segment and offset are the fields above); kUnexpectedEof when
  // the library's decoder takes it for a torn write (see doc/recovery.md),
  // kCrcMismatch or kCorruption else. After a bad CRC the chain continues
  // from the stored value, so one damaged record does not condemn the rest.
  Status problem;
};

struct SegmentEnd {
  enum class Kind {
    kEndOfFile,  // the last frame ends exactly at the end of the file
    kZeroWord,   // a zero length word: the rest is preallocated space
    kStopped,    // an unusable length word: the rest of the file was skipped
  };
  size_t segment = 0;
  Kind kind = Kind::kEndOfFile;
  uint64_t offset = 0;   // where the records end
  uint64_t records = 0;  // records reported for this segment
  Status problem;        // kStopped: why (kUnexpectedEof in the last segment)
  // kZeroWord: bytes after the zero word checked to be zero, whether that
  // reached the end of the file, and the first non-zero byte found there (a
  // sign of a torn write or of damage).
  uint64_t zeros_checked = 0;
  bool checked_to_end = true;
  std::optional<uint64_t> nonzero_at;
};

class ScanReporter {
 public:
  virtual ~ScanReporter() = default;
  virtual void OnRecord(const ScannedRecord& record) = 0;
  // After the last record of each segment, every segment in order.
  virtual void OnSegmentEnd(const SegmentEnd& end) = 0;
};

struct ScanOptions {
  // Bytes after a zero length word that are checked for stray data.
  uint64_t trailing_check_limit = 64ull << 20;
};

// Scans every segment of `dir` (the CRC chain runs across them). Returns an
// error only when the directory or a file cannot be read; damage goes to
// the reporter. options.file_system and read_chunk_bytes apply.
Status ScanLog(const std::string& dir, ScanReporter* reporter, const ScanOptions& scan = {},
               const Options& options = {});

// ---------------------------------------------------------------- CheckLog

struct LogCheck {
  std::optional<uint64_t> last_index;  // of the last entry decoded before any stop
  uint64_t entry_records = 0;
  bool has_metadata = false;  // the last metadata record read had data
  // Why and where the decoder stopped before a clean end; OK when it did
  // not. kUnexpectedEof = a torn last record (Repair cuts it).
  Status stop;
  std::string stop_segment;  // base name
  uint64_t stop_offset = 0;
  bool torn() const { return stop.code() == StatusCode::kUnexpectedEof; }
};

// Decodes segments [from, end) of ListSegmentFiles(dir) as ReadAll does
// (the same decoder, the chain into `from` as ReadAll starts it) and reports
// where it stops. check_bodies: also decode entry, state and snapshot
// bodies, check metadata consistency and reject unknown record types, as
// ReadAll does; false: frames and CRCs only, as Repair looks at them.
// Decoding problems go to `stop`; only an OS error is returned.
Result<LogCheck> CheckLog(const std::string& dir, size_t from, bool check_bodies = true,
                          const Options& options = {});

// ---------------------------------------------------------------- repair

struct RepairPlan {
  enum class Action {
    kNothing,  // the last segment ends cleanly
    kCut,      // a torn tail: cut at cut_offset, keep a .broken copy
    kRefuse,   // damage that is not a torn tail: Repair leaves it alone
  };
  Action action = Action::kNothing;
  std::string segment;  // path of the last segment
  uint64_t segment_size = 0;
  // kCut: the offset of the torn record (the new size); kRefuse: where
  // the damage is. `problem` says what it is.
  uint64_t offset = 0;
  Status problem;
  std::optional<uint64_t> last_good_index;  // in the last segment
  // kCut: entry records that still decode in the removed bytes (ReadAll
  // already stops before them).
  uint64_t lost_entries = 0;
  std::optional<uint64_t> lost_first, lost_last;
  std::string broken_copy;  // kCut: <segment>.broken
};

// What Repair(dir) would do now, read-only and without the lock (a writer
// may append before a later Repair). The same function decides for Repair.
Result<RepairPlan> PlanRepair(const std::string& dir, const Options& options = {});
// Repair, returning the plan it carried out (computed under the lock).
Result<RepairPlan> RepairWithPlan(const std::string& dir, const Options& options = {});

}  // namespace wal

#endif  // WAL_INSPECT_H_
