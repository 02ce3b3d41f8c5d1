// The system calls the POSIX file system makes, through a table of function
// pointers so tests can inject EINTR, short reads/writes, ENOSPC and EIO
// into the real implementation (SQLite's aSyscall pattern). Only the
// test-only build (wal_testing, WAL_ENABLE_MUTANTS) can change the table; in
// the installed library it is a constant.
#ifndef WAL_SRC_POSIX_SYSCALLS_H_
#define WAL_SRC_POSIX_SYSCALLS_H_

#include <fcntl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>

namespace wal::internal {

struct PosixSyscalls {
  ssize_t (*pread)(int fd, void* buf, size_t n, off_t off);
  ssize_t (*pwrite)(int fd, const void* buf, size_t n, off_t off);
  // pwrite whose bytes are durable on return (pwritev2 with RWF_DSYNC).
  ssize_t (*pwrite_dsync)(int fd, const void* buf, size_t n, off_t off);
  int (*fdatasync)(int fd);
  int (*fallocate)(int fd, int mode, off_t off, off_t len);
  int (*ftruncate)(int fd, off_t len);
};

inline ssize_t PwriteDsync(int fd, const void* buf, size_t n, off_t off) {
  struct iovec v = {const_cast<void*>(buf), n};
  return ::pwritev2(fd, &v, 1, off, RWF_DSYNC);
}

inline constexpr PosixSyscalls kPosixSyscalls = {::pread,     ::pwrite,    PwriteDsync,
                                                 ::fdatasync, ::fallocate, ::ftruncate};

#ifdef WAL_ENABLE_MUTANTS
// The table in use. Tests may replace entries and must restore them.
PosixSyscalls& Syscalls();
#else
inline const PosixSyscalls& Syscalls() { return kPosixSyscalls; }
#endif

}  // namespace wal::internal

#endif  // WAL_SRC_POSIX_SYSCALLS_H_
