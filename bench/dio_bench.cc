// wal_dio_bench: is a direct-I/O write path worth building? (issue
// "performance, wave 2", point 5). Measures synced appends of N-byte
// records, `batch` records per sync, as raw loops with no WAL around them:
//
//   buffered        pwrite into a fallocated file + fdatasync (today's path)
//   buffered_zeroed the same into a file whose blocks were written and synced
//                   first (no unwritten-extent conversion in the fdatasync)
//   direct          O_DIRECT: the 4 KiB-aligned blocks covering the new bytes
//                   (the partial last block rewritten each time, as a direct
//                   tail writer must) + fdatasync
//   direct_dsync    O_DIRECT with RWF_DSYNC per write (pwritev2), no fdatasync
//   direct_dsync_zeroed  the same into a pre-zeroed file (raft_uv's path:
//                   O_DIRECT into preallocated, written segments)
//
// Prints one JSON line per mode with appends/s and the ratio to `buffered`.
// A measurement, not a test: it never fails on a timing.
//   wal_dio_bench DIR [--size 100] [--batch 1] [--count 2000]
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr size_t kBlock = 4096;

struct Args {
  std::string dir;
  size_t size = 100;
  size_t batch = 1;
  size_t count = 2000;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "wal_dio_bench: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

size_t FileBytes(const Args& a) { return (a.size + 8) * a.count + 2 * kBlock; }

int OpenFile(const std::string& path, int extra, size_t bytes, bool zeroed) {
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("open " + path);
  if (zeroed) {
    std::vector<char> z(1 << 20, 0);
    for (size_t off = 0; off < bytes; off += z.size()) {
      if (::pwrite(fd, z.data(), std::min(z.size(), bytes - off), static_cast<off_t>(off)) < 0) Die("zero");
    }
  } else if (::posix_fallocate(fd, 0, static_cast<off_t>(bytes)) != 0) {
    Die("fallocate");
  }
  if (::fsync(fd) != 0) Die("fsync");
  ::close(fd);
  fd = ::open(path.c_str(), O_RDWR | extra);
  if (fd < 0) Die("reopen " + path);
  return fd;
}

// Appends count records of `size` bytes (+ an 8-byte length word, as a WAL
// frame), syncing every `batch`; returns appends per second.
double Run(const Args& a, const std::string& mode) {
  const bool direct = mode.rfind("direct", 0) == 0;
  const bool dsync = mode.find("dsync") != std::string::npos;
  const bool zeroed = mode.find("zeroed") != std::string::npos;
  const size_t bytes = FileBytes(a);
  const std::string path = a.dir + "/dio_bench." + mode;
  const int fd = OpenFile(path, direct ? O_DIRECT : 0, bytes, zeroed);
  const size_t frame = a.size + 8;
  // Direct I/O needs an aligned buffer; it holds the whole run so the
  // partial tail block is always in memory (a real writer keeps one block).
  void* mem = nullptr;
  if (::posix_memalign(&mem, kBlock, bytes) != 0) Die("posix_memalign");
  std::unique_ptr<char, decltype(&std::free)> buf(static_cast<char*>(mem), &std::free);
  std::memset(buf.get(), 0, bytes);
  for (size_t i = 0; i < a.count; ++i)
    std::memset(buf.get() + i * frame + 8, 'a' + static_cast<int>(i % 26), a.size);

  size_t offset = 0;   // bytes appended
  size_t written = 0;  // buffered: bytes handed to pwrite
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < a.count; i += a.batch) {
    const size_t n = std::min(a.batch, a.count - i);
    offset += n * frame;
    if (direct) {
      const size_t from = (written / kBlock) * kBlock;  // rewrite the partial block
      const size_t to = (offset + kBlock - 1) / kBlock * kBlock;
      iovec iov{buf.get() + from, to - from};
      const ssize_t w = ::pwritev2(fd, &iov, 1, static_cast<off_t>(from), dsync ? RWF_DSYNC : 0);
      if (w != static_cast<ssize_t>(to - from)) Die("pwritev2 (O_DIRECT)");
      if (!dsync && ::fdatasync(fd) != 0) Die("fdatasync");
    } else {
      if (::pwrite(fd, buf.get() + written, offset - written, static_cast<off_t>(written)) !=
          static_cast<ssize_t>(offset - written))
        Die("pwrite");
      if (::fdatasync(fd) != 0) Die("fdatasync");
    }
    written = offset;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  ::unlink(path.c_str());
  return static_cast<double>(a.count) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    std::fprintf(stderr, "usage: wal_dio_bench DIR [--size N] [--batch N] [--count N]\n");
    return 1;
  }
  a.dir = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const size_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (k == "--size")
      a.size = v;
    else if (k == "--batch")
      a.batch = v ? v : 1;
    else if (k == "--count")
      a.count = v ? v : 1;
    else {
      std::fprintf(stderr, "wal_dio_bench: unknown flag %s\n", k.c_str());
      return 1;
    }
  }
  const char* modes[] = {"buffered", "buffered_zeroed", "direct", "direct_dsync", "direct_dsync_zeroed"};
  double base = 0;
  for (const char* m : modes) {
    const double r = Run(a, m);
    if (base == 0) base = r;
    std::printf(
        "{\"mode\":\"%s\",\"size\":%zu,\"batch\":%zu,\"count\":%zu,\"appends_per_sec\":%.0f,"
        "\"vs_buffered\":%.2f}\n",
        m, a.size, a.batch, a.count, r, r / base);
    std::fflush(stdout);
  }
  return 0;
}
