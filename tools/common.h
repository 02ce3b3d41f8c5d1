// What every walctl subcommand shares: exit codes, the one-line error
// format ("walctl: <what>: <where>"), and the read-only look at a WAL
// directory that each command does before anything else.
#ifndef WAL_TOOLS_COMMON_H_
#define WAL_TOOLS_COMMON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wal/inspect.h"
#include "wal/options.h"
#include "wal/status.h"
#include "wal/types.h"

namespace walctl {

// Exit codes; the --help footer (cli.cc) and tools/README.md list them, and
// tools/walctl_test.sh checks each. Corruption has its code to itself, so
// that monitoring can alert on it alone.
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,       // bad command line, conflicting flags, refused request
  kExitCorrupt = 2,     // corruption in synced data: not repairable
  kExitIo = 3,          // I/O error, permission denied, no space
  kExitLocked = 4,      // another process holds the WAL's lock
  kExitNoSuchPath = 5,  // the path given does not exist
  kExitNotWal = 6,      // not a WAL directory, nor an etcd data dir with member/wal
  kExitNoSnapshot = 7,  // the snapshot (or index) asked for cannot be read from, or none is usable
  kExitTorn = 8,        // a torn tail: repairable (walctl repair; etcd repairs it at startup)
};
// kNotFound: no such path; kFileNotFound: not a WAL directory;
// kSnapshotNotFound / kSnapshotMismatch / kIndexNotFound: no usable snapshot
// or index; kUnexpectedEof: a torn tail.
int ExitCodeFor(wal::StatusCode code);

// Prints "walctl: <message>" on stderr and returns ExitCodeFor(code).
int ReportError(const wal::Status& s);
// Prints "walctl: warning: <message>" on stderr.
void Warn(std::string_view message);
// Prints "walctl: note: <message>" on stderr: what walctl chose for the operator.
void Note(std::string_view message);

// A library error rephrased for the operator: for an error at a place in the
// log (Status::place()), "<what>: <where>/<segment> at offset <n>"; else the
// "wal: " prefix dropped and ": <where>" appended unless the message already
// names `where`.
wal::Status Rephrase(const wal::Status& s, const std::string& where);

struct SegmentFile {
  wal::SegmentFileInfo name;
  std::string path;
  uint64_t size = 0;
};

struct WalDir {
  std::string dir;                       // the WAL directory, without trailing slashes
  std::string data_dir;                  // the etcd data dir given, when dir = data_dir/member/wal
  std::string snap_dir;                  // etcd's snapshot directory beside the WAL (../snap), if any
  std::vector<SegmentFile> segments;     // sorted by name (= sequence)
  std::vector<std::string> other_files;  // every other entry's name, sorted
  uint64_t total_bytes = 0;              // of the segments
};

// Looks at `dir` without modifying anything: it must be a directory holding
// at least one segment file, each a readable regular file, or an etcd data
// dir (DIR/member/wal holds the WAL; then a note on stderr says so). Warns
// about *.wal files whose names are not segment names (the library ignores
// them). Errors, with codes chosen for ExitCodeFor: kNotFound (no such
// directory), kFileNotFound ("not a WAL directory"), kCorruption (a segment
// that is not a regular file), kPermissionDenied, kIoError.
wal::Result<WalDir> InspectWalDir(const std::string& dir);

// etcd's segment selection for a snapshot index (wal::SelectSegmentFiles):
// the last segment whose first index <= `index`, with consecutive sequence
// numbers from there. kSnapshotNotFound when no segment can hold it.
wal::Result<size_t> SelectFrom(const WalDir& wal_dir, uint64_t index);

// etcd's snapshot files (member/snap/<term>-<index>.snap), newest first.
struct SnapFile {
  std::string name;
  uint64_t term = 0;
  uint64_t index = 0;
};
std::vector<SnapFile> ListSnapFiles(const WalDir& d);

// Where a read starts when no snapshot flag is given, as etcd would start:
// the newest snapshot file whose {index, term} the WAL records as valid
// (etcd's ValidSnapshotEntries + LoadNewestAvailable, chosen by file name),
// else {0, 0} when the log still starts at index 0, else (old segments
// purged) the newest valid snapshot record the remaining segments hold.
// `why` says which rule chose it (empty for {0, 0}); a note on stderr
// repeats it. kSnapshotNotFound when nothing is usable.
struct StartPoint {
  wal::Snapshot snap;
  std::string why;
};
wal::Result<StartPoint> DefaultStart(const WalDir& d, const wal::Options& options = {});

// Is the segment locked by a writer? "free", "LOCKED" or "unknown (<why>)".
// Takes the (OFD) lock for a moment on a read/write descriptor; writes nothing.
std::string ProbeLock(const std::string& path);
// Warns when a running process (a live etcd member) holds the WAL's lock.
void WarnIfLocked(const WalDir& d);

// --torn-write-rule etcd|zero-tail (the library's default).
wal::TornWriteRule ParseTornWriteRule(const std::string& name);

// Reports `s` as ReportError does and, for --format json, also prints
// {"error": {"code": "<StatusCodeName>", "message": "..."}} on stdout.
int ReportFailure(const wal::Status& s, bool json);

// Buffered writes to stdout (large dumps). Finish() flushes and reports a
// failed write (e.g. a full disk behind a redirect) as kIoError.
class Output {
 public:
  Output() = default;
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output();
  Output& operator<<(std::string_view s);
  Output& operator<<(uint64_t v);
  wal::Status Finish();

 private:
  void Flush();
  std::string buf_;
};

// "term=1 vote=1 commit=5".
std::string HardStateText(const wal::HardState& s);

// What went wrong, without the place: the error's place()->what, or else
// its message without a "wal: " prefix.
std::string Reason(const wal::Status& s);

}  // namespace walctl

#endif  // WAL_TOOLS_COMMON_H_
