// The POSIX file system: the only file that makes system calls.
//
// fsync subtleties, written down where they happen:
// - File::Sync is fdatasync: it flushes the data and the metadata needed to
//   read it back (including a size change), not timestamps. Segments are
//   preallocated, so a steady-state fdatasync writes data blocks only.
// - A newly created, renamed or removed file is durable only after an fsync
//   of its directory (SyncDir). The WAL does that after every such change.
// - EINTR is retried (bounded); a short write continues where it stopped.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "src/errno_status.h"
#include "src/posix_syscalls.h"
#include "wal/file_system.h"

namespace wal {

#ifdef WAL_ENABLE_MUTANTS
namespace internal {
PosixSyscalls& Syscalls() {
  static PosixSyscalls table = kPosixSyscalls;
  return table;
}
}  // namespace internal
#endif

namespace {

using internal::Syscalls;

constexpr int kMaxEintrRetries = 1000;

using internal::ErrnoStatus;

// A read-only shared mapping of a whole file; unmapped when the last owner
// lets go. An empty file has no pages to map: its mapping holds no bytes.
class PosixMapping final : public FileMapping {
 public:
  PosixMapping(void* base, size_t size) : base_(base), size_(size) {}
  ~PosixMapping() override {
    if (size_ > 0) ::munmap(base_, size_);
  }
  std::span<const std::byte> bytes() const override { return {static_cast<const std::byte*>(base_), size_}; }

 private:
  void* base_;
  size_t size_;
};

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  const std::string& path() const override { return path_; }

  Result<std::size_t> ReadAt(uint64_t offset, std::span<std::byte> out) override {
    if (fd_ < 0) return Closed();
    size_t done = 0;
    int eintr = 0;
    while (done < out.size()) {
      ssize_t n =
          Syscalls().pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR && ++eintr < kMaxEintrRetries) continue;
        return ErrnoStatus("pread", path_, errno);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status WriteAt(uint64_t offset, std::span<const std::byte> data) override {
    return WriteLoop(offset, data, Syscalls().pwrite, "pwrite");
  }

  // RWF_DSYNC: the write returns once its bytes (and the size, if it grew)
  // are durable. Kernels or file systems without pwritev2's flag answer
  // EOPNOTSUPP/ENOSYS; then the write is followed by an fdatasync.
  Status WriteAtDurable(uint64_t offset, std::span<const std::byte> data) override {
    if (!no_dsync_) {
      Status s = WriteLoop(offset, data, Syscalls().pwrite_dsync, "pwritev2(RWF_DSYNC)");
      if (s.ok() || (s.sys_errno() != EOPNOTSUPP && s.sys_errno() != ENOSYS)) return s;
      no_dsync_ = true;
    }
    return File::WriteAtDurable(offset, data);
  }

  // Errors (EIO from a failed writeback, EBADF) are not lost: the Sync that
  // must follow reports them.
  void StartWriteback(uint64_t offset, uint64_t length) override {
    if (fd_ >= 0)
      (void)::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(length),
                              SYNC_FILE_RANGE_WRITE);
  }

  Result<uint64_t> Size() override {
    if (fd_ < 0) return Closed();
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status Truncate(uint64_t size) override {
    if (fd_ < 0) return Closed();
    int eintr = 0;
    while (Syscalls().ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      if (errno == EINTR && ++eintr < kMaxEintrRetries) continue;
      return ErrnoStatus("ftruncate", path_, errno);
    }
    return Status::Ok();
  }

  Status Allocate(uint64_t size) override {
    if (fd_ < 0) return Closed();
    if (size == 0) return Status::Ok();
    int eintr = 0;
    while (true) {
      if (Syscalls().fallocate(fd_, 0, 0, static_cast<off_t>(size)) == 0) return Status::Ok();
      int err = errno;
      if (err == EINTR && ++eintr < kMaxEintrRetries) continue;
      if (err == EOPNOTSUPP || err == ENOSYS || err == EINTR) break;  // fall back, as etcd does
      return ErrnoStatus("fallocate", path_, err);
    }
    WAL_ASSIGN_OR_RETURN(uint64_t cur, Size());
    if (cur >= size) return Status::Ok();
    return Truncate(size);
  }

  Status Sync() override {
    if (fd_ < 0) return Closed();
    // No EINTR retry loop here on purpose: fdatasync is not interrupted by
    // signals on Linux, and after any failure the page-cache state is
    // unknown (fsyncgate), so the caller must stop, not retry.
    if (Syscalls().fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::Ok();
  }

  Result<std::shared_ptr<const FileMapping>> Map() override {
    WAL_ASSIGN_OR_RETURN(uint64_t size, Size());
    if (size == 0) return std::shared_ptr<const FileMapping>(std::make_shared<PosixMapping>(nullptr, 0));
    // No MAP_POPULATE and no access-pattern advice: the library reads
    // through ReadAt and hands out addresses; the caller touches what it
    // uses, in its own order (MAP_POPULATE would also map a preallocated
    // tail's unused zeros).
    void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return ErrnoStatus("mmap", path_, errno);
    return std::shared_ptr<const FileMapping>(std::make_shared<PosixMapping>(p, static_cast<size_t>(size)));
  }

  Status TryLock() override { return LockImpl(F_OFD_SETLK); }
  Status Lock() override { return LockImpl(F_OFD_SETLKW); }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int fd = fd_;
    fd_ = -1;
    // close(2) must not be retried on EINTR on Linux: the fd is gone.
    if (::close(fd) != 0 && errno != EINTR) return ErrnoStatus("close", path_, errno);
    return Status::Ok();
  }

 private:
  Status Closed() const { return Status(StatusCode::kFailedPrecondition, path_ + ": file is closed"); }

  using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
  Status WriteLoop(uint64_t offset, std::span<const std::byte> data, PwriteFn write, const char* what) {
    if (fd_ < 0) return Closed();
    size_t done = 0;
    int eintr = 0;
    while (done < data.size()) {
      ssize_t n = write(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR && ++eintr < kMaxEintrRetries) continue;
        return ErrnoStatus(what, path_, errno);
      }
      if (n == 0) return Status(StatusCode::kIoError, std::string(what) + " " + path_ + ": wrote 0 bytes");
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Status LockImpl(int cmd) {
    if (fd_ < 0) return Closed();
    struct flock fl;
    std::memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;
    int eintr = 0;
    while (::fcntl(fd_, cmd, &fl) != 0) {
      int err = errno;
      if (err == EINTR && ++eintr < kMaxEintrRetries) continue;
      if (err == EAGAIN || err == EACCES)
        return Status(StatusCode::kLocked, "lock " + path_ + ": file already locked by another process", err);
      return ErrnoStatus("fcntl(F_OFD_SETLK)", path_, err);
    }
    return Status::Ok();
  }

  std::string path_;
  int fd_;
  bool no_dsync_ = false;  // RWF_DSYNC refused once: WriteAt + fdatasync
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& o) override {
    int flags = O_CLOEXEC;
    if (o.read && o.write)
      flags |= O_RDWR;
    else if (o.write)
      flags |= O_WRONLY;
    else
      flags |= O_RDONLY;
    if (o.create) flags |= O_CREAT;
    if (o.exclusive) flags |= O_EXCL;
    if (o.truncate) flags |= O_TRUNC;
    if (o.direct) flags |= O_DIRECT;
    int fd;
    int eintr = 0;
    while ((fd = ::open(path.c_str(), flags, o.mode)) < 0) {
      if (errno == EINTR && ++eintr < kMaxEintrRetries) continue;
      return ErrnoStatus("open", path, errno);
    }
    if (o.create) {
      // The umask may have narrowed the mode; a new file gets exactly the
      // requested bits (0600 for WAL files).
      struct stat st;
      if (::fstat(fd, &st) == 0 && (st.st_mode & 07777) != o.mode && st.st_size == 0) {
        if (::fchmod(fd, o.mode) != 0) {
          int err = errno;
          ::close(fd);
          return ErrnoStatus("fchmod", path, err);
        }
      }
    }
    return std::unique_ptr<File>(new PosixFile(path, fd));
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus("opendir", dir, errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n(e->d_name);
      if (n != "." && n != "..") names.emplace_back(n);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus("readdir", dir, err);
    return names;
  }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    FileInfo info;
    info.is_dir = S_ISDIR(st.st_mode);
    info.size = static_cast<uint64_t>(st.st_size);
    info.mode = st.st_mode & 07777;
    return info;
  }

  Status CreateDir(const std::string& path, uint32_t mode) override {
    if (::mkdir(path.c_str(), mode) != 0) return ErrnoStatus("mkdir", path, errno);
    // Like Create's files, a new directory gets exactly `mode` despite umask.
    if (::chmod(path.c_str(), mode) != 0) return ErrnoStatus("chmod", path, errno);
    return Status::Ok();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return Status::Ok();
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoStatus("rmdir", path, errno);
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename " + from + " to", to, errno);
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open directory", dir, errno);
    // fsync, not fdatasync: the directory's entries are its metadata.
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fsync directory", dir, err);
    return Status::Ok();
  }
};

}  // namespace

FileSystem* FileSystem::Default() {
  static PosixFileSystem* fs = new PosixFileSystem();  // never destroyed: outlives every WAL
  return fs;
}

}  // namespace wal
