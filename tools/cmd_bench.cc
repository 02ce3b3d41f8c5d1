// walctl bench: the performance suite, on a temp dir of the file system the
// user points at. Each mode prints one JSON line with the same fields as the
// etcd interop program's bench (entries, bytes, seconds, entries_per_sec,
// mb_per_sec), so bench/compare.sh can put both side by side; `--mode all`
// runs everything and prints a table.
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"
#include "wal/inspect.h"
#include "wal/wal.h"

namespace walctl {

namespace {

using Clock = std::chrono::steady_clock;

struct BenchFlags {
  std::string dir;
  std::string mode = "all";
  uint64_t entries = 0;  // 0 = the mode's default
  uint64_t size = 100;
  uint64_t batch = 1000;
  int threads = 8;
  double seconds = 2.0;  // time budget for open-ended modes
  bool keep = false;
  bool quick = false;
  std::string read_path = "both";  // --mode read: both (all three) | readall | arena | mapped
};

bool g_no_fsync = false;                                // --no-fsync: measure CPU, not the disk
bool g_prezero = false;                                 // --prezero: Options::prezero_segments
bool g_direct_io = false;                               // --direct-io: Options::direct_io
uint64_t g_writeback = wal::Options{}.writeback_bytes;  // --writeback-bytes (default: the library's)
bool g_raw_new_file = false;  // --raw-new-file: raw mode writes into a new file, not a preallocated one

wal::Options BenchOptions() {
  wal::Options o;
  o.unsafe_no_fsync = g_no_fsync;
  o.prezero_segments = g_prezero;
  o.direct_io = g_direct_io;
  o.writeback_bytes = g_writeback;
  return o;
}

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

uint64_t PeakRssBytes() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

std::string Payload(uint64_t size, uint64_t salt) {
  std::mt19937_64 rng(salt);
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

struct Figure {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // payload bytes
  double seconds = 0;
  std::string extra;  // more JSON fields, starting with ','
};

void PrintJson(const std::string& mode, const Figure& f) {
  double s = f.seconds > 0 ? f.seconds : 1e-9;
  std::printf(
      "{\"mode\":\"%s\",\"entries\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"entries_per_sec\":%.1f,"
      "\"mb_per_sec\":%.3f%s}\n",
      mode.c_str(), static_cast<unsigned long long>(f.entries), static_cast<unsigned long long>(f.bytes),
      f.seconds, static_cast<double>(f.entries) / s, static_cast<double>(f.bytes) / s / 1e6, f.extra.c_str());
  std::fflush(stdout);
}

wal::Status Fresh(const std::string& dir) { return wal::RemoveAll(wal::FileSystem::Default(), dir); }

// Save batches of `batch` entries of `size` bytes; every Save syncs (entries
// present), as in etcd's benchmark matrix.
// The entries a write run saves, built before the clock starts (as etcd's
// benchmark and interop/etcd's bench do), so that both sides time the WAL,
// not the construction of the caller's entries.
std::vector<wal::Entry> MakeEntries(uint64_t n, uint64_t size) {
  const std::string data = Payload(size, 1);
  std::vector<wal::Entry> all;
  all.reserve(n);
  for (uint64_t i = 1; i <= n; ++i) all.push_back(wal::Entry{1, i, wal::EntryType::kNormal, data});
  return all;
}

// How the syncs were made: fdatasync calls, RWF_DSYNC writes
// (Options::direct_io), and whether the tail was written with O_DIRECT.
std::string SyncFields(const wal::WalStats& st) {
  return ",\"fdatasyncs\":" + std::to_string(st.syncs - st.durable_writes) +
         ",\"durable_writes\":" + std::to_string(st.durable_writes) +
         ",\"direct_io\":" + (st.direct_io ? "true" : "false");
}

wal::Result<Figure> BenchWrite(const std::string& dir, uint64_t n, uint64_t size, uint64_t batch) {
  WAL_RETURN_IF_ERROR(Fresh(dir));
  WAL_ASSIGN_OR_RETURN(auto w, wal::WAL::Create(dir, "bench", BenchOptions()));
  const std::vector<wal::Entry> all = MakeEntries(n, size);
  const std::span<const wal::Entry> ents(all);
  auto t0 = Clock::now();
  for (uint64_t lo = 0; lo < n; lo += batch) {
    const uint64_t k = std::min(batch, n - lo);
    WAL_RETURN_IF_ERROR(w->Save(wal::HardState{1, 1, lo + k}, ents.subspan(lo, k)));
  }
  WAL_RETURN_IF_ERROR(w->Close());  // timed, as etcd's bench times it
  double secs = Since(t0);
  return Figure{n, n * size, secs, SyncFields(w->stats())};
}

// All entries in ONE Save: one fdatasync at the end (etcd's unsynced run).
wal::Result<Figure> BenchUnsynced(const std::string& dir, uint64_t n, uint64_t size) {
  WAL_RETURN_IF_ERROR(Fresh(dir));
  WAL_ASSIGN_OR_RETURN(auto w, wal::WAL::Create(dir, "bench", BenchOptions()));
  const std::vector<wal::Entry> all = MakeEntries(n, size);
  auto t0 = Clock::now();
  WAL_RETURN_IF_ERROR(w->Save(wal::HardState{1, 1, n}, all));
  WAL_RETURN_IF_ERROR(w->Close());
  double secs = Since(t0);
  return Figure{n, n * size, secs, SyncFields(w->stats())};
}

// Pipelined: SaveAsync batches, every batch made durable.
wal::Result<Figure> BenchAsync(const std::string& dir, uint64_t n, uint64_t size, uint64_t batch) {
  WAL_RETURN_IF_ERROR(Fresh(dir));
  WAL_ASSIGN_OR_RETURN(auto w, wal::WAL::Create(dir, "bench", BenchOptions()));
  const std::vector<wal::Entry> all = MakeEntries(n, size);
  const std::span<const wal::Entry> ents(all);
  auto t0 = Clock::now();
  uint64_t ticket = 0;
  for (uint64_t lo = 0; lo < n; lo += batch) {
    const uint64_t k = std::min(batch, n - lo);
    WAL_ASSIGN_OR_RETURN(ticket, w->SaveAsync(wal::HardState{1, 1, lo + k}, ents.subspan(lo, k)));
  }
  WAL_RETURN_IF_ERROR(w->WaitDurable(ticket));
  double secs = Since(t0);
  const uint64_t written = w->stats().bytes_written, syncs = w->stats().syncs;
  WAL_RETURN_IF_ERROR(w->Close());
  return Figure{n, n * size, secs,
                ",\"fdatasyncs\":" + std::to_string(syncs) +
                    ",\"file_mb_per_sec\":" + std::to_string(static_cast<double>(written) / secs / 1e6)};
}

// The streaming reader: entries/s and the process's peak RSS.
wal::Result<Figure> BenchStream(const std::string& dir) {
  uint64_t n = 0, bytes = 0;
  auto t0 = Clock::now();
  WAL_ASSIGN_OR_RETURN(auto r, wal::LogReader::Open(dir, wal::Snapshot{}));
  wal::LogRecord rec;
  while (true) {
    WAL_ASSIGN_OR_RETURN(bool more, r->Next(&rec));
    if (!more) break;
    if (rec.kind == wal::LogRecord::Kind::kEntry) {
      ++n;
      bytes += rec.entry.data.size();
    }
  }
  double secs = Since(t0);
  uint64_t rss = PeakRssBytes();
  char extra[160];
  std::snprintf(extra, sizeof(extra), ",\"peak_rss_bytes\":%llu,\"rss_over_returned\":%.3f",
                static_cast<unsigned long long>(rss),
                bytes ? static_cast<double>(rss) / static_cast<double>(bytes) : 0);
  return Figure{n, bytes, secs, extra};
}

// One OpenForRead + ReadAll (or ReadAllArena), timed like etcd's bench
// (open and read; not the release of the result). `data_bytes` is what the
// entries carry; `footprint_bytes` the memory holding the result (ReadAll:
// the Entry array plus each string's heap chunk; arena: views + blocks).
struct ReadFigure {
  uint64_t entries = 0;
  uint64_t data_bytes = 0;
  uint64_t footprint_bytes = 0;
  uint64_t mapped_bytes = 0;  // ReadAllMapped: segment bytes mapped (page cache, not in the footprint)
  double touch_seconds = 0;   // arena paths: reading every entry's bytes once afterwards
  uint64_t touch_sum = 0;     // (what that read computed, so it is not optimised away)
  double seconds = 0;
  uint64_t peak_rss = 0;
  char error[512] = {};
};

// The read paths: ReadAll, ReadAllArena, ReadAllMapped.
enum class ReadPath { kReadAll, kArena, kMapped };

ReadFigure ReadOnce(const std::string& dir, ReadPath path) {
  ReadFigure f;
  auto fail = [&](const wal::Status& s) {
    std::snprintf(f.error, sizeof(f.error), "%s", s.ToString().c_str());
    return f;
  };
  auto t0 = Clock::now();
  auto w = wal::WAL::OpenForRead(dir, wal::Snapshot{});
  if (!w.has_value()) return fail(w.error());
  if (path != ReadPath::kReadAll) {
    auto all = path == ReadPath::kArena ? (*w)->ReadAllArena() : (*w)->ReadAllMapped();
    f.seconds = Since(t0);
    if (!all.has_value()) return fail(all.error());
    f.entries = all->size();
    f.data_bytes = all->data_bytes();
    f.footprint_bytes = all->memory_bytes();
    f.mapped_bytes = all->mapped_bytes();
    // What a consumer of the views pays on top: the first read of every
    // entry's bytes (for the mapped result, the page faults and TLB misses
    // of the mapping). Not in `seconds`.
    auto t1 = Clock::now();
    uint64_t sum = 0;
    for (const wal::EntryView& v : all->entries()) {
      for (char c : v.data) sum += static_cast<unsigned char>(c);
    }
    f.touch_seconds = Since(t1);
    f.touch_sum = sum;
  } else {
    auto all = (*w)->ReadAll();
    f.seconds = Since(t0);
    if (!all.has_value()) return fail(all.error());
    f.entries = all->entries.size();
    f.footprint_bytes = all->entries.size() * sizeof(wal::Entry);
    for (const auto& e : all->entries) {
      f.data_bytes += e.data.size();
      // A string longer than its inline buffer owns a heap chunk (with
      // glibc's 8-byte header).
      if (e.data.capacity() > 15)
        f.footprint_bytes += ::malloc_usable_size(const_cast<char*>(e.data.data())) + 8;
    }
  }
  f.peak_rss = PeakRssBytes();
  return f;
}

// Runs ReadOnce in a child process: peak RSS never goes down within a
// process, so each path gets a process of its own.
wal::Result<ReadFigure> ReadInChild(const std::string& dir, ReadPath path) {
  int fds[2];
  if (::pipe(fds) != 0) return wal::Status(wal::StatusCode::kIoError, "pipe failed");
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid < 0) return wal::Status(wal::StatusCode::kIoError, "fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    ReadFigure f = ReadOnce(dir, path);
    ssize_t put = ::write(fds[1], &f, sizeof(f));
    ::_exit(put == static_cast<ssize_t>(sizeof(f)) ? 0 : 1);
  }
  ::close(fds[1]);
  ReadFigure f;
  size_t got = 0;
  while (got < sizeof(f)) {
    ssize_t n = ::read(fds[0], reinterpret_cast<char*>(&f) + got, sizeof(f) - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  if (got != sizeof(f) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return wal::Status(wal::StatusCode::kIoError, "the reading child process failed");
  if (f.error[0] != '\0') return wal::Status(wal::StatusCode::kIoError, f.error);
  f.peak_rss = static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  return f;
}

// ReadAll, ReadAllArena and ReadAllMapped of the same log, each in its own
// process. The main figures (seconds, entries_per_sec, rss_over_returned)
// are ReadAll's, arena_* the arena's, mapped_* the mapped read's. "returned"
// is the entries' data bytes; *_rss_over_footprint divides by the memory
// that holds the result; mapped_memory_over_returned is the mapped result's
// own memory (its views) over the data it returns (the mapped pages are the
// page cache; peak RSS counts the ones touched).
wal::Result<Figure> BenchRead(const std::string& dir) {
  WAL_ASSIGN_OR_RETURN(ReadFigure all, ReadInChild(dir, ReadPath::kReadAll));
  WAL_ASSIGN_OR_RETURN(ReadFigure arena, ReadInChild(dir, ReadPath::kArena));
  WAL_ASSIGN_OR_RETURN(ReadFigure mapped, ReadInChild(dir, ReadPath::kMapped));
  auto ratio = [](uint64_t a, uint64_t b) {
    return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
  };
  auto rate = [](const ReadFigure& f) {
    return f.seconds > 0 ? static_cast<double>(f.entries) / f.seconds : 0.0;
  };
  char extra[1536];
  std::snprintf(
      extra, sizeof(extra),
      ",\"returned\":\"entry data bytes\",\"peak_rss_bytes\":%llu,\"rss_over_returned\":%.3f,"
      "\"footprint_bytes\":%llu,\"rss_over_footprint\":%.3f,"
      "\"arena_seconds\":%.6f,\"arena_entries_per_sec\":%.1f,\"arena_peak_rss_bytes\":%llu,"
      "\"arena_rss_over_returned\":%.3f,\"arena_footprint_bytes\":%llu,\"arena_rss_over_footprint\":%.3f,"
      "\"mapped_seconds\":%.6f,\"mapped_entries_per_sec\":%.1f,\"mapped_peak_rss_bytes\":%llu,"
      "\"mapped_footprint_bytes\":%llu,\"mapped_memory_over_returned\":%.3f,\"mapped_bytes\":%llu,"
      "\"arena_touch_seconds\":%.6f,\"mapped_touch_seconds\":%.6f",
      static_cast<unsigned long long>(all.peak_rss), ratio(all.peak_rss, all.data_bytes),
      static_cast<unsigned long long>(all.footprint_bytes), ratio(all.peak_rss, all.footprint_bytes),
      arena.seconds, rate(arena), static_cast<unsigned long long>(arena.peak_rss),
      ratio(arena.peak_rss, arena.data_bytes), static_cast<unsigned long long>(arena.footprint_bytes),
      ratio(arena.peak_rss, arena.footprint_bytes), mapped.seconds, rate(mapped),
      static_cast<unsigned long long>(mapped.peak_rss),
      static_cast<unsigned long long>(mapped.footprint_bytes),
      ratio(mapped.footprint_bytes, mapped.data_bytes), static_cast<unsigned long long>(mapped.mapped_bytes),
      arena.touch_seconds, mapped.touch_seconds);
  if (arena.entries != all.entries || arena.data_bytes != all.data_bytes)
    return wal::Status(wal::StatusCode::kCorruption, "ReadAll and ReadAllArena returned different entries");
  if (mapped.entries != all.entries || mapped.data_bytes != all.data_bytes ||
      mapped.touch_sum != arena.touch_sum)
    return wal::Status(wal::StatusCode::kCorruption, "ReadAll and ReadAllMapped returned different entries");
  return Figure{all.entries, all.data_bytes, all.seconds, extra};
}

// The physical limit for synced writes: pwrite the same frame bytes with the
// same fdatasync cadence into a preallocated file (--raw-new-file: into a
// new, empty file, whose blocks the fdatasync allocates), nothing else. The bytes
// come from a buffer as large as the whole run, as a WAL's come from the
// caller's n entries: a 1 MiB buffer rewritten from cache would be a limit
// no WAL can reach (writing 1 GB from memory took 1.3-1.5x as long as reusing 1 MiB,
// measured here).
wal::Result<Figure> BenchRaw(const std::string& dir, uint64_t n, uint64_t size, uint64_t batch) {
  WAL_RETURN_IF_ERROR(Fresh(dir));
  WAL_RETURN_IF_ERROR(wal::CreateDirAll(wal::FileSystem::Default(), dir, 0700));
  const std::string path = dir + "/raw";
  int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return wal::Status(wal::StatusCode::kIoError, "open " + path + ": " + std::strerror(errno));
  wal::Entry e{1, 1, wal::EntryType::kNormal, Payload(size, 1)};
  const uint64_t frame = wal::EntryFrameBytes(e);
  const uint64_t total = frame * n + (1 << 20);
  if (!g_raw_new_file && ::fallocate(fd, 0, 0, static_cast<off_t>(total)) != 0 &&
      ::ftruncate(fd, static_cast<off_t>(total)) != 0) {
    ::close(fd);
    return wal::Status(wal::StatusCode::kIoError, "preallocate " + path);
  }
  ::fdatasync(fd);
  std::string buf(frame * n, 'x');
  auto t0 = Clock::now();
  uint64_t off = 0;
  for (uint64_t done = 0; done < n;) {
    uint64_t k = std::min(batch, n - done);
    if (::pwrite(fd, buf.data() + off, frame * k, static_cast<off_t>(off)) !=
            static_cast<ssize_t>(frame * k) ||
        ::fdatasync(fd) != 0) {
      ::close(fd);
      return wal::Status(wal::StatusCode::kIoError, "raw write failed");
    }
    off += frame * k;
    done += k;
  }
  double secs = Since(t0);
  ::close(fd);
  return Figure{n, n * size, secs, ",\"frame_bytes\":" + std::to_string(frame)};
}

// Sequential write bandwidth of the disk: 1 MiB blocks, one fdatasync at
// the end (dd conv=fdatasync).
wal::Result<Figure> BenchSeqWrite(const std::string& dir, uint64_t mib) {
  WAL_RETURN_IF_ERROR(Fresh(dir));
  WAL_RETURN_IF_ERROR(wal::CreateDirAll(wal::FileSystem::Default(), dir, 0700));
  const std::string path = dir + "/seq";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return wal::Status(wal::StatusCode::kIoError, "open " + path);
  std::string block = Payload(1 << 20, 7);
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < mib; ++i) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) {
      ::close(fd);
      return wal::Status(wal::StatusCode::kIoError, "write failed");
    }
  }
  ::fdatasync(fd);
  double secs = Since(t0);
  ::close(fd);
  return Figure{0, mib << 20, secs, ""};
}

// Reading the segment files sequentially, as cat > /dev/null does.
wal::Result<Figure> BenchSeqRead(const std::string& dir) {
  WAL_ASSIGN_OR_RETURN(auto segs, wal::ListSegmentFiles(dir));
  std::vector<char> buf(1 << 20);
  uint64_t bytes = 0;
  auto t0 = Clock::now();
  for (const auto& s : segs) {
    int fd = ::open((dir + "/" + s.name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return wal::Status(wal::StatusCode::kIoError, "open " + s.name);
    ssize_t got;
    while ((got = ::read(fd, buf.data(), buf.size())) > 0) bytes += static_cast<uint64_t>(got);
    ::close(fd);
  }
  return Figure{0, bytes, Since(t0), ""};
}

// Synced single-entry Saves: latency percentiles.
wal::Result<Figure> BenchLatency(const std::string& dir, uint64_t n, uint64_t size) {
  WAL_RETURN_IF_ERROR(Fresh(dir));
  WAL_ASSIGN_OR_RETURN(auto w, wal::WAL::Create(dir, "bench", BenchOptions()));
  const std::string data = Payload(size, 1);
  std::vector<double> us;
  us.reserve(n);
  auto t0 = Clock::now();
  for (uint64_t i = 1; i <= n; ++i) {
    auto s0 = Clock::now();
    WAL_RETURN_IF_ERROR(
        w->Save(wal::HardState{1, 1, i}, std::vector<wal::Entry>{{1, i, wal::EntryType::kNormal, data}}));
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s0).count());
  }
  double secs = Since(t0);
  WAL_RETURN_IF_ERROR(w->Close());
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) {
    return us[std::min(us.size() - 1, static_cast<size_t>(p * static_cast<double>(us.size())))];
  };
  char extra[160];
  std::snprintf(extra, sizeof(extra), ",\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f",
                pct(0.5), pct(0.99), pct(0.999), us.back());
  return Figure{n, n * size, secs, extra};
}

// T threads doing synced single-entry Saves for `seconds`: group commit.
wal::Result<Figure> BenchConcurrent(const std::string& dir, int threads, uint64_t size, double seconds) {
  WAL_RETURN_IF_ERROR(Fresh(dir));
  WAL_ASSIGN_OR_RETURN(auto w, wal::WAL::Create(dir, "bench", BenchOptions()));
  const std::string data = Payload(size, 1);
  std::atomic<uint64_t> total{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> ts;
  auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      uint64_t i = 0;
      while (Since(t0) < seconds && !failed) {
        // Each writer keeps its own term so keys stay distinct.
        wal::Entry e{uint64_t(t + 1), ++i, wal::EntryType::kNormal, data};
        if (!w->Save(wal::HardState{}, std::vector<wal::Entry>{e}).ok()) failed = true;
        ++total;
      }
    });
  }
  for (auto& t : ts) t.join();
  double secs = Since(t0);
  if (failed) return wal::Status(wal::StatusCode::kIoError, "a concurrent Save failed");
  const wal::WalStats st = w->stats();
  WAL_RETURN_IF_ERROR(w->Close());
  // Where the time goes (issue 14, part 4): rounds are serial, so the wall
  // time is the fdatasyncs plus the gaps between them (waking the next
  // leader, appending, handing over); throughput is saves per round over
  // the time per round.
  const double sync_secs = static_cast<double>(st.sync_micros) / 1e6;
  const double rounds = st.syncs ? static_cast<double>(st.syncs) : 1.0;
  char extra[384];
  std::snprintf(extra, sizeof(extra),
                ",\"threads\":%d,\"fdatasyncs\":%llu,\"saves_per_fdatasync\":%.2f,\"fdatasync_us_mean\":%.1f,"
                "\"fdatasync_share\":%.3f,\"gap_us_per_round\":%.1f",
                threads, static_cast<unsigned long long>(st.syncs),
                static_cast<double>(total.load()) / rounds, sync_secs * 1e6 / rounds,
                secs > 0 ? sync_secs / secs : 0.0, (secs - sync_secs) * 1e6 / rounds);
  return Figure{total.load(), total.load() * size, secs, extra};
}

// Reading by index on a log larger than what a reader wants to hold
// (issue 14, part 2): counts the bytes every read of the files returns.
class CountingFile : public wal::FileWrapper {
 public:
  CountingFile(std::unique_ptr<wal::File> f, std::atomic<uint64_t>* bytes, std::atomic<uint64_t>* reads)
      : FileWrapper(std::move(f)), bytes_(bytes), reads_(reads) {}
  wal::Result<std::size_t> ReadAt(uint64_t offset, std::span<std::byte> out) override {
    auto n = FileWrapper::ReadAt(offset, out);
    reads_->fetch_add(1, std::memory_order_relaxed);
    if (n.has_value()) bytes_->fetch_add(*n, std::memory_order_relaxed);
    return n;
  }

 private:
  std::atomic<uint64_t>* bytes_;
  std::atomic<uint64_t>* reads_;
};

class CountingFileSystem : public wal::FileSystemWrapper {
 public:
  CountingFileSystem() : FileSystemWrapper(wal::FileSystem::Default()) {}
  wal::Result<std::unique_ptr<wal::File>> Open(const std::string& path, const wal::OpenOptions& o) override {
    WAL_ASSIGN_OR_RETURN(auto f, FileSystemWrapper::Open(path, o));
    return std::unique_ptr<wal::File>(std::make_unique<CountingFile>(std::move(f), &bytes, &reads));
  }
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> reads{0};
};

// Drops the log's pages from the page cache (written back first), so the
// next reads come from the disk: posix_fadvise needs no privileges.
void EvictLog(const std::vector<wal::SegmentFileInfo>& segs, const std::string& dir) {
  ::sync();
  for (const auto& seg : segs) {
    const int fd = ::open((dir + "/" + seg.name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// --mode index: writes `n` entries of `size` bytes (unsynced, one fsync at
// the end: the log is the subject, not its writing) with a snapshot record
// at 99 % of them, then, from a cold page cache: OpenForRead + ReadIndexed
// of the whole log (index bytes per entry), random Entries(i, i + 1) cold
// and warm (preads per call, microseconds), and ReadIndexed after opening
// at the snapshot (bytes read against the log's size).
wal::Result<Figure> BenchIndex(const std::string& dir, uint64_t n, uint64_t size) {
  WAL_RETURN_IF_ERROR(Fresh(dir));
  const uint64_t snap_at = n - n / 100;
  auto t0 = Clock::now();
  {
    wal::Options o = BenchOptions();
    o.unsafe_no_fsync = true;
    WAL_ASSIGN_OR_RETURN(auto w, wal::WAL::Create(dir, "bench", o));
    const std::string data = Payload(size, 1);
    std::vector<wal::Entry> batch;
    for (uint64_t lo = 1; lo <= n; lo += 1000) {
      batch.clear();
      for (uint64_t i = lo; i < lo + 1000 && i <= n; ++i)
        batch.push_back(wal::Entry{1 + i / 1'000'000, i, wal::EntryType::kNormal, data});
      WAL_RETURN_IF_ERROR(
          w->Save(wal::HardState{1 + batch.back().index / 1'000'000, 1, batch.back().index}, batch));
      if (lo <= snap_at && snap_at < lo + 1000) {
        WAL_RETURN_IF_ERROR(w->SaveSnapshot(wal::Snapshot{snap_at, 1 + snap_at / 1'000'000}));
      }
    }
    WAL_RETURN_IF_ERROR(w->Close());
  }
  const double build_secs = Since(t0);
  WAL_ASSIGN_OR_RETURN(const auto segs, wal::ListSegmentFiles(dir));
  uint64_t log_bytes = 0;
  for (const auto& seg : segs) {
    WAL_ASSIGN_OR_RETURN(const auto st, wal::FileSystem::Default()->Stat(dir + "/" + seg.name));
    log_bytes += st.size;
  }

  // The whole log, cold.
  EvictLog(segs, dir);
  CountingFileSystem fs;
  wal::Options ro;
  ro.file_system = &fs;
  t0 = Clock::now();
  WAL_ASSIGN_OR_RETURN(auto w, wal::WAL::OpenForRead(dir, wal::Snapshot{}, ro));
  WAL_ASSIGN_OR_RETURN(auto r, w->ReadIndexed());
  const double index_secs = Since(t0);
  const wal::WalStats st = w->stats();
  const uint64_t full_read_bytes = fs.bytes.load();

  // Random single entries: cold (each from the disk), then warm.
  std::mt19937_64 rng(7);
  auto random_reads = [&](int calls, uint64_t* max_preads, double* micros) -> wal::Status {
    *max_preads = 0;
    auto t = Clock::now();
    for (int k = 0; k < calls; ++k) {
      const uint64_t i = r.first_index + rng() % (r.last_index - r.first_index + 1);
      // The preads that reached the file seam (no WAL lock taken to count).
      const uint64_t at = fs.reads.load();
      WAL_ASSIGN_OR_RETURN(auto got, w->Entries(i, i + 1));
      if (got.size() != 1 || got[0].index != i || got[0].data.size() != size)
        return wal::Status(wal::StatusCode::kCorruption,
                           "Entries(" + std::to_string(i) + ") read back wrong");
      *max_preads = std::max(*max_preads, fs.reads.load() - at);
    }
    *micros = Since(t) * 1e6 / calls;
    return wal::Status::Ok();
  };
  EvictLog(segs, dir);
  uint64_t cold_max = 0, warm_max = 0;
  double cold_us = 0, warm_us = 0;
  const uint64_t reads0 = fs.reads.load();
  WAL_RETURN_IF_ERROR(random_reads(2000, &cold_max, &cold_us));
  // Warm: every segment read once, as cat would leave the page cache.
  if (auto warmed = BenchSeqRead(dir); !warmed.has_value()) return warmed.error();  // raw reads, not via fs
  WAL_RETURN_IF_ERROR(random_reads(20000, &warm_max, &warm_us));
  const double preads_per_call = static_cast<double>(fs.reads.load() - reads0) / 22000.0;
  WAL_RETURN_IF_ERROR(w->Close());
  w.reset();

  // Opening at the snapshot near the end, cold.
  EvictLog(segs, dir);
  CountingFileSystem fs2;
  ro.file_system = &fs2;
  t0 = Clock::now();
  WAL_ASSIGN_OR_RETURN(auto w2,
                       wal::WAL::OpenForRead(dir, wal::Snapshot{snap_at, 1 + snap_at / 1'000'000}, ro));
  WAL_ASSIGN_OR_RETURN(auto r2, w2->ReadIndexed());
  const double snap_secs = Since(t0);
  const uint64_t frame_bytes = full_read_bytes / n;  // about: frames plus the few other records
  char extra[1024];
  std::snprintf(
      extra, sizeof(extra),
      ",\"log_bytes\":%llu,\"build_seconds\":%.3f,\"index_seconds_cold\":%.3f,\"index_read_bytes\":%llu,"
      "\"index_entries\":%llu,\"index_bytes_per_entry\":%.2f,\"peak_rss_bytes\":%llu,"
      "\"random_entry_preads_max\":%llu,\"random_entry_preads_avg\":%.3f,\"random_entry_us_cold\":%.1f,"
      "\"random_entry_us_warm\":%.2f,\"snapshot_index\":%llu,\"snapshot_open_seconds_cold\":%.3f,"
      "\"snapshot_open_read_bytes\":%llu,\"bytes_after_snapshot\":%llu,\"snapshot_first_index\":%llu",
      static_cast<unsigned long long>(log_bytes), build_secs, index_secs,
      static_cast<unsigned long long>(full_read_bytes), static_cast<unsigned long long>(st.index_entries),
      st.index_entries ? static_cast<double>(st.index_memory_bytes) / static_cast<double>(st.index_entries)
                       : 0.0,
      static_cast<unsigned long long>(PeakRssBytes()),
      static_cast<unsigned long long>(std::max(cold_max, warm_max)), preads_per_call, cold_us, warm_us,
      static_cast<unsigned long long>(snap_at), snap_secs, static_cast<unsigned long long>(fs2.bytes.load()),
      static_cast<unsigned long long>((n - snap_at) * frame_bytes),
      static_cast<unsigned long long>(r2.first_index));
  return Figure{st.index_entries, st.index_entries * size, index_secs, extra};
}

int Report(const wal::Result<Figure>& r, const std::string& mode) {
  if (!r.has_value()) return ReportError(r.error());
  PrintJson(mode, *r);
  return kExitOk;
}

double Rate(const wal::Result<Figure>& r) {
  return r.has_value() && r->seconds > 0 ? static_cast<double>(r->entries) / r->seconds : 0;
}

int RunAll(const BenchFlags& f, const std::string& dir) {
  const uint64_t big = f.quick ? 100'000 : 1'000'000;
  std::printf("walctl bench in %s (%s)\n\n", dir.c_str(), f.quick ? "quick" : "full");
  std::printf("%-44s %14s %12s\n", "workload", "entries/s", "MB/s");
  auto row = [](const std::string& name, const wal::Result<Figure>& r) {
    if (!r.has_value()) {
      std::printf("%-44s failed: %s\n", name.c_str(), r.error().ToString().c_str());
      return;
    }
    double s = r->seconds > 0 ? r->seconds : 1e-9;
    std::printf("%-44s %14.0f %12.1f\n", name.c_str(), static_cast<double>(r->entries) / s,
                static_cast<double>(r->bytes) / s / 1e6);
    std::fflush(stdout);
  };
  row("unsynced appends, 100 B, one fsync", BenchUnsynced(dir, big, 100));
  for (uint64_t size : {100, 1000}) {
    for (uint64_t batch : {1, 10, 100, 500, 1000}) {
      uint64_t n = std::min<uint64_t>(big, batch * (f.quick ? 200 : 1000));
      auto ours = BenchWrite(dir, n, size, batch);
      auto raw = BenchRaw(dir, n, size, batch);
      char name[96];
      std::snprintf(name, sizeof(name), "synced %llu B, fsync every %llu",
                    static_cast<unsigned long long>(size), static_cast<unsigned long long>(batch));
      row(name, ours);
      double ratio = Rate(raw) > 0 ? Rate(ours) / Rate(raw) : 0;
      std::snprintf(name, sizeof(name), "  raw pwrite+fdatasync (ours = %.2fx)", ratio);
      row(name, raw);
    }
  }
  row("pipelined SaveAsync, 100 B, batches of 1000", BenchAsync(dir, big, 100, 1000));
  row("disk sequential write, 1 MiB blocks", BenchSeqWrite(dir, f.quick ? 64 : 512));
  if (BenchWrite(dir, big, 100, 1000).has_value()) {
    auto read = BenchRead(dir);
    row("ReadAll, 100 B entries (warm cache)", read);
    if (read.has_value()) {
      auto at = [&](const char* key) {
        auto p = read->extra.find(std::string("\"") + key + "\":");
        return p == std::string::npos ? 0.0 : std::atof(read->extra.c_str() + p + std::strlen(key) + 3);
      };
      std::printf("%-44s %14.0f %12.1f\n", "ReadAllArena, 100 B entries (warm cache)",
                  at("arena_entries_per_sec"), static_cast<double>(read->bytes) / at("arena_seconds") / 1e6);
      std::printf("%-44s %14.0f %12.1f\n", "ReadAllMapped, 100 B entries (warm cache)",
                  at("mapped_entries_per_sec"),
                  static_cast<double>(read->bytes) / at("mapped_seconds") / 1e6);
    }
    row("LogReader stream, 100 B entries", BenchStream(dir));
  }
  row("synced single-entry Save (latency run)", BenchLatency(dir, f.quick ? 300 : 2000, 100));
  for (int t : {1, 2, 4, 8, 16})
    row("concurrent synced writers: " + std::to_string(t), BenchConcurrent(dir, t, 100, f.quick ? 0.5 : 2));
  return kExitOk;
}

constexpr char kMarker[] = ".walctl-bench";

// The scratch root must be new, empty, or one of ours (it holds the marker):
// bench never deletes a directory it did not make.
wal::Status PrepareScratch(const std::string& root) {
  wal::FileSystem* fs = wal::FileSystem::Default();
  auto names = fs->ListDir(root);
  if (names.has_value() && !names->empty() &&
      std::find(names->begin(), names->end(), kMarker) == names->end()) {
    return wal::Status(
        wal::StatusCode::kInvalidArgument,
        "refusing to use " + root + " as scratch space: it is not empty and not made by walctl bench");
  }
  WAL_RETURN_IF_ERROR(wal::CreateDirAll(fs, root, 0700));
  wal::OpenOptions o;
  o.write = true;
  o.create = true;
  WAL_ASSIGN_OR_RETURN(auto marker, fs->Open(root + "/" + kMarker, o));
  return marker->Close();
}

int RunBench(const BenchFlags& f) {
  const uint64_t n = f.entries ? f.entries : 1'000'000;
  if (f.mode == "read" && f.read_path != "both") {  // one path in this process (for profilers)
    ReadFigure r = ReadOnce(f.dir, f.read_path == "arena"    ? ReadPath::kArena
                                   : f.read_path == "mapped" ? ReadPath::kMapped
                                                             : ReadPath::kReadAll);
    if (r.error[0] != '\0') return ReportError(wal::Status(wal::StatusCode::kIoError, r.error));
    char extra[160];
    std::snprintf(extra, sizeof(extra), ",\"path\":\"%s\",\"peak_rss_bytes\":%llu,\"footprint_bytes\":%llu",
                  f.read_path.c_str(), static_cast<unsigned long long>(r.peak_rss),
                  static_cast<unsigned long long>(r.footprint_bytes));
    return Report(Figure{r.entries, r.data_bytes, r.seconds, extra}, f.mode);
  }
  if (f.mode == "read") return Report(BenchRead(f.dir), f.mode);  // an existing log, read only
  if (f.mode == "stream") return Report(BenchStream(f.dir), f.mode);
  if (f.mode == "seqread") return Report(BenchSeqRead(f.dir), f.mode);
  const std::string root = f.dir.empty() ? "walctl-bench.tmp" : f.dir;
  if (wal::Status s = PrepareScratch(root); !s.ok()) return ReportError(s);
  const std::string dir = root + "/wal";
  int rc;
  if (f.mode == "all") {
    rc = RunAll(f, dir);
    if (!f.keep) Fresh(root).IgnoreError();
    return rc;
  }
  if (f.mode == "write")
    rc = Report(BenchWrite(dir, n, f.size, f.batch), f.mode);
  else if (f.mode == "unsynced")
    rc = Report(BenchUnsynced(dir, n, f.size), f.mode);
  else if (f.mode == "async")
    rc = Report(BenchAsync(dir, n, f.size, f.batch), f.mode);
  else if (f.mode == "raw")
    rc = Report(BenchRaw(dir, n, f.size, f.batch), f.mode);
  else if (f.mode == "seqwrite")
    rc = Report(BenchSeqWrite(dir, f.entries ? f.entries : 512), f.mode);
  else if (f.mode == "latency")
    rc = Report(BenchLatency(dir, f.entries ? f.entries : 2000, f.size), f.mode);
  else if (f.mode == "concurrent")
    rc = Report(BenchConcurrent(dir, f.threads, f.size, f.seconds), f.mode);
  else if (f.mode == "index")
    rc = Report(BenchIndex(dir, f.entries ? f.entries : 10'000'000, f.size), f.mode);
  else
    return ReportError(wal::Status(wal::StatusCode::kInvalidArgument, "unknown --mode " + f.mode));
  if (!f.keep) Fresh(root).IgnoreError();
  return rc;
}

}  // namespace

Command AddBenchCommand(CLI::App& parent) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* app = parent.add_subcommand(
      "bench",
      "Measure write, read, latency and group-commit throughput in a scratch directory (DIR, default "
      "./walctl-bench.tmp: new, empty or made by bench; removed afterwards unless --keep). `read`, `stream` "
      "and "
      "`seqread` read the existing WAL in DIR, changing nothing.");
  app->add_option("DIR", f->dir, "scratch directory (its contents are replaced)");
  app->add_option(
         "--mode", f->mode,
         "all (a table) | write | unsynced | async | raw | read | stream | seqread | seqwrite | latency | "
         "concurrent | index (one JSON line each; index: --entries of --size bytes, default 10 M, read by "
         "index from a cold cache)")
      ->check(CLI::IsMember({"all", "write", "unsynced", "async", "raw", "read", "stream", "seqread",
                             "seqwrite", "latency", "concurrent", "index"}));
  app->add_option("--entries", f->entries, "entries to write (seqwrite: MiB)");
  app->add_option("--size", f->size, "entry data bytes")->check(CLI::Range(uint64_t{0}, uint64_t{64} << 20));
  app->add_option("--batch", f->batch, "entries per Save (one fdatasync each)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 24));
  app->add_option("--threads", f->threads, "concurrent writers")->check(CLI::Range(1, 256));
  app->add_option("--seconds", f->seconds, "time budget of the concurrent mode")
      ->check(CLI::Range(0.01, 3600.0));
  app->add_option("--read-path", f->read_path,
                  "read mode: both (ReadAll, ReadAllArena and ReadAllMapped, each in a child process; one "
                  "JSON line), or only readall, arena or mapped, in this process")
      ->check(CLI::IsMember({"both", "readall", "arena", "mapped"}));
  app->add_flag("--keep", f->keep, "keep the scratch WAL");
  app->add_flag("--quick", f->quick, "smaller runs (for smoke tests)");
  app->add_flag("--raw-new-file", g_raw_new_file,
                "raw mode: write into a new, empty file instead of a preallocated one");
  app->add_flag("--prezero", g_prezero,
                "Options::prezero_segments: zero and sync each prepared segment in the background");
  app->add_flag("--direct-io", g_direct_io,
                "Options::direct_io: write the tail with O_DIRECT (RWF_DSYNC writes where they suffice)");
  app->add_option("--writeback-bytes", g_writeback,
                  "Options::writeback_bytes: start writeback every N bytes written (0: the kernel decides; "
                  "default 1 MiB)");
  app->add_flag("--no-fsync", g_no_fsync, "skip fdatasync (Options::unsafe_no_fsync): CPU cost only");
  return {app, [f] { return RunBench(*f); }};
}

}  // namespace walctl
