// The file-system seam. Every byte the library reads or writes, and every
// directory operation, goes through these interfaces, so that tests can run
// the WAL on an in-memory file system that knows which bytes are durable
// (wal/mem_file_system.h) and inject faults.
//
// Thread safety: a FileSystem may be used from several threads at once.
// A File is used by one thread at a time.
#ifndef WAL_FILE_SYSTEM_H_
#define WAL_FILE_SYSTEM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "wal/status.h"

namespace wal {

// The alignment this library uses for direct I/O (OpenOptions::direct): the
// page size, which covers both 512-byte and 4 KiB logical sectors.
inline constexpr std::size_t kDirectIoAlignment = 4096;

struct OpenOptions {
  bool read = true;
  bool write = false;
  bool create = false;     // O_CREAT
  bool exclusive = false;  // O_EXCL (with create)
  bool truncate = false;   // O_TRUNC
  // O_DIRECT: reads and writes bypass the page cache. Every offset, length
  // and buffer address must then be a multiple of kDirectIoAlignment (else
  // the call fails with sys_errno() EINVAL). A file system that cannot do
  // direct I/O (tmpfs, some FUSE) refuses the open with EINVAL.
  bool direct = false;
  uint32_t mode = 0600;  // permission bits for a created file
};

// A file's bytes mapped read-only into memory (File::Map). The bytes stay
// readable while this object lives, also after the file is closed, renamed
// or removed.
class FileMapping {
 public:
  virtual ~FileMapping() = default;
  virtual std::span<const std::byte> bytes() const = 0;
};

// An open file with positional I/O. Offsets are absolute; there is no cursor.
class File {
 public:
  virtual ~File() = default;
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  virtual const std::string& path() const = 0;
  // Reads up to out.size() bytes at `offset`. Returns fewer only at end of
  // file (0 at or past the end). Retries EINTR and short reads.
  virtual Result<std::size_t> ReadAt(uint64_t offset, std::span<std::byte> out) = 0;
  // Writes all of `data` at `offset` (retrying short writes and EINTR) or
  // fails. After a failure, the bytes in the range are unspecified.
  virtual Status WriteAt(uint64_t offset, std::span<const std::byte> data) = 0;
  // Writes all of `data` at `offset` and makes those bytes durable before
  // returning (POSIX: pwritev2 with RWF_DSYNC, where the file system may
  // answer with a FUA write). Unlike Sync, nothing written earlier is
  // covered: only this range, and the size if the write extended the file.
  // The default is WriteAt then Sync (stronger). After a failure, as WriteAt.
  virtual Status WriteAtDurable(uint64_t offset, std::span<const std::byte> data);
  virtual Result<uint64_t> Size() = 0;
  // ftruncate: shrinks or extends (with zeros) to exactly `size` bytes.
  virtual Status Truncate(uint64_t size) = 0;
  // Reserves blocks for [0, size) and extends the file to at least `size`
  // bytes (fallocate mode 0; falls back to ftruncate where unsupported). The
  // new bytes read as zeros.
  virtual Status Allocate(uint64_t size) = 0;
  // Makes the file's data durable (fdatasync). The directory entry is not
  // covered: see FileSystem::SyncDir.
  virtual Status Sync() = 0;
  // Takes an exclusive whole-file lock held by this open file (Linux OFD
  // lock, the family etcd uses). TryLock returns kLocked when it is held by
  // another open file; Lock waits. Closing the file releases it.
  virtual Status TryLock() = 0;
  virtual Status Lock() = 0;
  // Closes the descriptor. Later calls fail. Idempotent.
  virtual Status Close() = 0;
  // Maps the bytes [0, Size()) read-only (POSIX: mmap PROT_READ,
  // MAP_SHARED; the in-memory file system: a copy). Bytes written to the
  // file later may or may not show in the mapping. If the file is shrunk
  // while the mapping lives (by another process: this library never shrinks
  // a file below bytes it has read; see doc/recovery.md), reading a mapped
  // page past the new end raises SIGBUS. The default, for file systems that
  // cannot map, fails with kFailedPrecondition: callers then use ReadAt.
  virtual Result<std::shared_ptr<const FileMapping>> Map();
  // A hint: starts writing the bytes [offset, offset + length) back to the
  // device without waiting (POSIX: sync_file_range SYNC_FILE_RANGE_WRITE),
  // so a later Sync finds less to write. Makes nothing durable and promises
  // nothing: a Sync is still needed, and failures are left for it to report.
  // The default does nothing.
  virtual void StartWriteback(uint64_t offset, uint64_t length);
};

struct FileInfo {
  bool is_dir = false;
  uint64_t size = 0;
  uint32_t mode = 0;  // permission bits
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& options) = 0;
  // Names of the entries of `dir` (no "." or ".."), in no particular order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // kNotFound when `path` does not exist.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // Creates one directory level; kAlreadyExists if `path` exists.
  virtual Status CreateDir(const std::string& path, uint32_t mode) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status RemoveDir(const std::string& path) = 0;
  // rename(2): atomically replaces `to` (a file, or an empty directory).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // fsync on the directory: makes entries created, renamed or removed in it
  // durable. Without it a crash may undo them.
  virtual Status SyncDir(const std::string& dir) = 0;

  // The POSIX file system; owned by the library, lives forever.
  static FileSystem* Default();
};

// Wrappers that forward every call to a target (LevelDB's EnvWrapper):
// subclass one and override only the calls you want to change, so a new
// virtual added here needs no edit in the wrappers built on them.
//
// FileWrapper owns its target; FileSystemWrapper does not (the target must
// outlive it). FileSystemWrapper::Open returns the target's file unwrapped:
// override Open to wrap files too.
class FileWrapper : public File {
 public:
  explicit FileWrapper(std::unique_ptr<File> target) : target_(std::move(target)) {}

  File* target() const { return target_.get(); }

  const std::string& path() const override { return target_->path(); }
  Result<std::size_t> ReadAt(uint64_t offset, std::span<std::byte> out) override {
    return target_->ReadAt(offset, out);
  }
  Status WriteAt(uint64_t offset, std::span<const std::byte> data) override {
    return target_->WriteAt(offset, data);
  }
  Status WriteAtDurable(uint64_t offset, std::span<const std::byte> data) override {
    return target_->WriteAtDurable(offset, data);
  }
  Result<uint64_t> Size() override { return target_->Size(); }
  Status Truncate(uint64_t size) override { return target_->Truncate(size); }
  Status Allocate(uint64_t size) override { return target_->Allocate(size); }
  Status Sync() override { return target_->Sync(); }
  Status TryLock() override { return target_->TryLock(); }
  Status Lock() override { return target_->Lock(); }
  Status Close() override { return target_->Close(); }
  Result<std::shared_ptr<const FileMapping>> Map() override { return target_->Map(); }
  void StartWriteback(uint64_t offset, uint64_t length) override { target_->StartWriteback(offset, length); }

 private:
  std::unique_ptr<File> target_;
};

class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem* target) : target_(target) {}

  FileSystem* target() const { return target_; }

  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& options) override {
    return target_->Open(path, options);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override { return target_->ListDir(dir); }
  Result<FileInfo> Stat(const std::string& path) override { return target_->Stat(path); }
  Status CreateDir(const std::string& path, uint32_t mode) override { return target_->CreateDir(path, mode); }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Status RemoveDir(const std::string& path) override { return target_->RemoveDir(path); }
  Status Rename(const std::string& from, const std::string& to) override { return target_->Rename(from, to); }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }

 private:
  FileSystem* target_;
};

// Helpers built on the interface.
// mkdir -p with `mode` for each created level. With `sync_parents`, the
// parent of each created level is synced so the new entries are durable.
Status CreateDirAll(FileSystem* fs, const std::string& path, uint32_t mode, bool sync_parents = false);
// rm -rf; OK when `path` does not exist.
Status RemoveAll(FileSystem* fs, const std::string& path);
bool PathExists(FileSystem* fs, const std::string& path);

}  // namespace wal

#endif  // WAL_FILE_SYSTEM_H_
