// MemFileSystem: an in-memory FileSystem that knows which bytes and which
// directory entries are durable, so tests can simulate a power loss at any
// point and inject faults before any mutating operation.
//
// What it models (and what it deliberately does not):
// - Every file (inode) has two images: `live` (what readers see now) and
//   `durable` (the live image as of the last successful File::Sync on it).
// - Every directory has two entry tables: `live` and `durable` (the live table
//   as of its last SyncDir, or File::Sync on the directory opened as a File).
//   Create, Rename, RemoveFile, RemoveDir and CreateDir change only live
//   tables. A new directory is itself an entry of its parent, so it is
//   volatile until the parent is synced. Each directory's table reverts
//   independently: a rename across directories whose destination was synced
//   but whose source was not leaves the file under both names (a hard link).
// - File::WriteAtDurable (RWF_DSYNC) is a write followed by a durability
//   step for its range only: earlier unsynced writes stay unsynced.
// - OpenOptions::direct files check O_DIRECT's alignment (offsets, lengths
//   and buffer addresses multiples of kDirectIoAlignment; EINVAL otherwise)
//   but are otherwise the same: a direct write is durable only once synced
//   (the disk's cache may hold it). A rewrite of bytes with the bytes they
//   already hold changes nothing, durable or not: the crash model assumes,
//   as etcd's torn-write rule does, that a disk writes 512-byte sectors
//   atomically, so rewriting a partly durable sector cannot lose its
//   durable part.
// - File modes are metadata and are always durable; permissions are never
//   enforced (tests run as any user).
// - Paths: one root; "/a/b" and "a/b" name the same node. Empty and "."
//   components are dropped, ".." is resolved lexically, a trailing '/' is
//   ignored. There are no symlinks.
// - Open files reference the inode, so a renamed or unlinked file stays usable
//   through them, as on POSIX. Locks are OFD locks: owned by the open File,
//   released by Close (or its destructor).
//
// Crash model (SimulateCrash), applied to every file reachable from the root
// through the durable entry tables, after every directory's live table has
// reverted to its durable one (kKeepAll excepted). For a file let D be the
// durable image and L the live one, f the first and e-1 the last position
// where they differ (a position past one image's end but inside the other's
// counts as differing), and n = e - f:
// - kDropUnsynced:     file = D.
// - kKeepRandomPrefix: k is drawn uniformly from [0, n]. k == n keeps L
//   exactly (including a shrink). Otherwise the file is D with bytes
//   [f, min(f + k, size(L))) taken from L, and its size is
//   max(size(D), min(f + k, size(L))): a prefix of the unsynced writes made it
//   to disk, a shrink did not. Bytes before f are never changed.
// - kTearLastSector:   as kKeepRandomPrefix; then, if any byte was taken from
//   L, the 512-byte-aligned sector holding the last such byte is torn: its
//   part at or after f and before the file's end becomes zeros
//   (tear_with_zeros) or random garbage. Durable bytes before f survive.
// - kReorderHole:      as kKeepRandomPrefix; then one sector of [f, kept end)
//   reverts to D (zeros past D's end): pages written back out of order.
// - kKeepAll:          a process crash: live data and entries stay, durable
//   images stay as they were (a later power loss can still lose them).
// Randomness comes from `seed` mixed with each file's path, so the same seed
// and the same history give the same image. After any crash every open File
// fails with kIoError ("file invalidated by crash") and all locks are gone.
//
// Thread safety: all methods may be called from several threads at once (one
// mutex). The op hook runs without that mutex held, so it may call any method,
// including SimulateCrash.
#ifndef WAL_MEM_FILE_SYSTEM_H_
#define WAL_MEM_FILE_SYSTEM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wal/file_system.h"
#include "wal/status.h"

namespace wal {

enum class CrashMode {
  kDropUnsynced,
  kKeepRandomPrefix,
  kTearLastSector,
  kKeepAll,
  // As kKeepRandomPrefix, then one random 512-byte sector inside the kept
  // unsynced range reverts to its durable bytes (zeros past the durable
  // end): the file system wrote back a later page before an earlier one.
  kReorderHole,
};

struct CrashPolicy {
  CrashMode mode = CrashMode::kDropUnsynced;
  uint64_t seed = 0;
  // kTearLastSector: tear to zeros instead of random garbage.
  bool tear_with_zeros = false;
  // Deterministic variants, for exhaustive enumeration. With keep_until
  // (kKeepRandomPrefix, kTearLastSector, kReorderHole) k is not drawn: the
  // kept unsynced range of every file ends at absolute offset
  // min(max(keep_until, f), e) (at e the live image is kept exactly,
  // including a shrink). With hole_at, kReorderHole reverts the sector that
  // holds that absolute offset (nothing if it is outside the kept range).
  // Garbage in a torn sector still comes from `seed`.
  std::optional<uint64_t> keep_until;
  std::optional<uint64_t> hole_at;
};

// A file whose live and durable images differ in [first, end) (see the crash
// model above): what a crash may keep or lose.
struct UnsyncedRange {
  std::string path;
  uint64_t first = 0;
  uint64_t end = 0;
};

// The mutating operations, in the order op_count() counts them.
enum class OpKind {
  kOpen,  // Open with create or truncate set
  kWriteAt,
  kTruncate,
  kAllocate,
  kSync,  // File::Sync; also the second step of File::WriteAtDurable
  kSyncDir,
  kRename,
  kRemoveFile,
  kRemoveDir,
  kCreateDir,
};

std::string_view OpKindName(OpKind kind);

struct OpInfo {
  OpKind kind = OpKind::kOpen;
  // The path as the caller passed it (File::path() for File operations; the
  // source for Rename).
  std::string path;
  std::string to;       // Rename's destination; empty otherwise
  uint64_t offset = 0;  // WriteAt's offset (and WriteAtDurable's kSync)
  uint64_t length = 0;  // WriteAt's byte count; Truncate's and Allocate's size;
                        // WriteAtDurable's kSync: the bytes made durable (0: Sync)
  uint64_t index = 0;   // 0-based position of this op in op_count() order
};

namespace internal {
struct MemFsState;
}  // namespace internal

class MemFileSystem final : public FileSystem {
 public:
  // Called before each mutating op. A non-OK result fails the op with that
  // Status and the op changes nothing. May run on several threads at once.
  using OpHook = std::function<Status(const OpInfo&)>;

  MemFileSystem();
  ~MemFileSystem() override;
  MemFileSystem(const MemFileSystem&) = delete;
  MemFileSystem& operator=(const MemFileSystem&) = delete;

  // FileSystem. Error codes follow the POSIX implementation's errno mapping
  // (ENOENT -> kNotFound, EEXIST/ENOTEMPTY -> kAlreadyExists, ENOTDIR, EISDIR,
  // EBADF, EINVAL, EBUSY -> kIoError), with the same sys_errno values.
  // Open files may outlive the MemFileSystem.
  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& options) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Result<FileInfo> Stat(const std::string& path) override;  // size 0 for directories
  Status CreateDir(const std::string& path, uint32_t mode) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;

  // Power loss (or, with kKeepAll, a process crash): see the crash model
  // above. Not counted as an op and does not call the hook.
  void SimulateCrash(const CrashPolicy& policy);

  // Replaces the hook; an empty function removes it.
  void SetOpHook(OpHook hook);
  // Mutating ops attempted so far (each call that reached the hook point,
  // whether or not it then failed). Ops on closed or crashed files are not
  // counted.
  uint64_t op_count() const;

  // Test inspection and fixtures; none of these counts as an op.
  // Every regular file reachable through live entries, as "/a/b", sorted.
  std::vector<std::string> ListAllFiles() const;
  // Every file reachable through live entries whose unsynced range is not
  // empty, sorted by path (a file with several names once).
  std::vector<UnsyncedRange> UnsyncedRanges() const;
  // The live contents of a file.
  Result<std::string> ReadFileToString(const std::string& path) const;
  // The durable contents of the file currently at `path` (what
  // kDropUnsynced would leave, if its entries are durable too).
  Result<std::string> ReadDurableFileToString(const std::string& path) const;
  // Creates or replaces a file whose data and entry are already durable,
  // creating missing parent directories (mode 0700) and making every
  // directory on the path durable in its parent.
  Status WriteFileFromString(const std::string& path, std::string_view bytes, uint32_t mode = 0600);

 private:
  std::shared_ptr<internal::MemFsState> state_;
};

}  // namespace wal

#endif  // WAL_MEM_FILE_SYSTEM_H_
