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
#include "wal/status.h"
#include "wal/types.h"

namespace walctl {

// Exit codes; the --help footer lists them.
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,    // bad command line, conflicting flags, refused request
  kExitCorrupt = 2,  // corruption, not a WAL, or verify failure (incl. a torn tail)
  kExitIo = 3,       // I/O error, permission denied, missing directory
  kExitLocked = 4,   // another process holds the WAL's lock
};
int ExitCodeFor(wal::StatusCode code);

// Prints "walctl: <message>" on stderr and returns ExitCodeFor(code).
int ReportError(const wal::Status& s);
// Prints "walctl: warning: <message>" on stderr.
void Warn(std::string_view message);

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
  std::string dir;                       // as given, without trailing slashes
  std::vector<SegmentFile> segments;     // sorted by name (= sequence)
  std::vector<std::string> other_files;  // every other entry's name, sorted
  uint64_t total_bytes = 0;              // of the segments
};

// Looks at `dir` without modifying anything: it must be a directory holding
// at least one segment file, each a readable regular file. Warns about
// *.wal files whose names are not segment names (the library ignores them).
// Errors, with codes chosen for ExitCodeFor: kNotFound (no such directory),
// kFileNotFound ("not a WAL directory"), kCorruption (a segment that is not
// a regular file), kPermissionDenied, kIoError.
wal::Result<WalDir> InspectWalDir(const std::string& dir);

// etcd's segment selection for a snapshot index (wal::SelectSegmentFiles):
// the last segment whose first index <= `index`, with consecutive sequence
// numbers from there.
wal::Result<size_t> SelectFrom(const WalDir& wal_dir, uint64_t index);

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
