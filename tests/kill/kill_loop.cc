// Kill loop: real processes, the POSIX file system, SIGKILL at random times.
//
//   kill_loop [CYCLES [MIN_SAVES_PER_CYCLE]]  the test (parent); 200 cycles, 1 save
//   kill_loop --child DIR FD SEED  the writer (started by the parent)
//
// The child opens the WAL in DIR (creating it if needed) and recovers it the
// way etcd's server does (Open + ReadAll; on kUnexpectedEof one Repair and a
// reopen), then appends forever: batches of 1..50 entries of 1..2000 bytes
// whose content is a function of the index, each Save with a HardState and
// therefore synced. After each Save returns OK it writes the last index of
// the batch, 8 bytes, to the pipe FD: that index is acknowledged.
//
// The parent (seeded by WAL_TEST_SEED, or a fixed default it prints) starts
// the child from /proc/self/exe, lets it run 1..30 ms (counted from the
// child's "recovered" message in 3 cycles out of 4, from the start in the
// others, so kills also land inside Create, ReadAll and Repair), SIGKILLs it,
// drains the pipe, and recovers the WAL itself with Open + ReadAll (+ Repair
// and reopen). Every acknowledged index must be there, entries contiguous
// from 1 with the right content, and the hard state must cover the last
// acknowledged index. When the directory grows past 24 MiB it starts a new
// epoch with an empty directory, to keep each recovery short.
//
// A loop whose children never get to acknowledge anything proves nothing:
// the run fails unless the children acknowledged at least
// MIN_SAVES_PER_CYCLE saves per cycle on average (default 1; about 40 is
// usual) and at least half of the cycles that kill after the child's
// "recovered" message acknowledged a save.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "wal/wal.h"

namespace {

constexpr uint64_t kReady = ~uint64_t{0};  // the child's "recovered" message
constexpr char kMetadata[] = "kill-loop";
constexpr uint64_t kEpochBytes = 24ull << 20;

wal::Options WalOptions() {
  wal::Options o;
  o.segment_size_bytes = 256 * 1024;  // small, so that kills land around cuts too
  // WAL_KILL_DIRECT_IO=1: the writer uses Options::direct_io (inherited by
  // the child, so writer and recovery agree).
  if (const char* d = std::getenv("WAL_KILL_DIRECT_IO")) o.direct_io = std::string(d) == "1";
  return o;
}

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The content of entry `index`: 1..2000 bytes, a function of the index only.
std::string Payload(uint64_t index) {
  const size_t len = 1 + Mix(index) % 2000;
  std::string s(len, '\0');
  uint64_t x = Mix(index ^ 0xC0FFEE);
  for (size_t i = 0; i < len; ++i) {
    if (i % 8 == 0) x = Mix(x);
    s[i] = static_cast<char>(x >> (8 * (i % 8)));
  }
  return s;
}

bool WriteAll(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

struct Recovered {
  std::vector<wal::Entry> entries;
  wal::HardState state;
  bool repaired = false;
};

// etcd's restart: Open + ReadAll; on a torn tail, Repair once and reopen.
// Returns the WAL in append mode (or an error) and what ReadAll returned.
wal::Result<std::unique_ptr<wal::WAL>> Recover(const std::string& dir, Recovered* out) {
  const wal::Options o = WalOptions();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto w = wal::WAL::Open(dir, wal::Snapshot{}, o);
    if (!w.has_value()) return w.error();
    auto r = (*w)->ReadAll();
    if (r.has_value()) {
      out->entries = std::move(r->entries);
      out->state = r->state;
      return std::move(w).value();
    }
    if (r.error().code() != wal::StatusCode::kUnexpectedEof || attempt == 1) return r.error();
    w->reset();  // release the locks before Repair
    auto fixed = wal::Repair(dir, o);
    if (!fixed.has_value()) return fixed.error();
    if (!*fixed) return wal::Status(wal::StatusCode::kCorruption, "Repair refused: " + r.error().ToString());
    out->repaired = true;
  }
  return wal::Status(wal::StatusCode::kCorruption, "unreachable");
}

[[noreturn]] void ChildFail(const char* what, const wal::Status& s) {
  std::fprintf(stderr, "kill_loop child: %s: %s\n", what, s.ToString().c_str());
  std::_Exit(3);
}

int RunChild(const std::string& dir, int fd, uint64_t seed) {
  std::unique_ptr<wal::WAL> w;
  uint64_t next = 1;
  if (!wal::Exist(dir)) {
    auto c = wal::WAL::Create(dir, kMetadata, WalOptions());
    if (!c.has_value()) ChildFail("Create", c.error());
    w = std::move(c).value();
  } else {
    Recovered rec;
    auto r = Recover(dir, &rec);
    if (!r.has_value()) ChildFail("recovery", r.error());
    w = std::move(r).value();
    if (!rec.entries.empty()) next = rec.entries.back().index + 1;
  }
  if (!WriteAll(fd, &kReady, 8)) std::_Exit(4);
  std::mt19937_64 rng(seed);
  std::vector<wal::Entry> batch;
  while (true) {
    const int n = 1 + static_cast<int>(rng() % 50);
    batch.clear();
    for (int i = 0; i < n; ++i)
      batch.push_back({1, next + static_cast<uint64_t>(i), wal::EntryType::kNormal, Payload(next + i)});
    const uint64_t last = next + static_cast<uint64_t>(n) - 1;
    wal::Status s = w->Save(wal::HardState{1, 1, last}, batch);
    if (!s.ok()) ChildFail("Save", s);
    if (!WriteAll(fd, &last, 8)) std::_Exit(4);
    next = last + 1;
  }
}

uint64_t DirBytes(const std::string& dir) {
  std::error_code ec;
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct CycleResult {
  bool ok = true;
  std::string error;
  uint64_t max_ack = 0;  // highest index acknowledged in this cycle (0: none)
  uint64_t acks = 0;     // Saves acknowledged
  bool ready = false;
};

CycleResult RunCycle(const std::string& dir, uint64_t child_seed, int64_t delay_ns, bool from_ready) {
  CycleResult res;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {false, std::string("pipe: ") + std::strerror(errno)};
  const std::string fd_arg = std::to_string(fds[1]);
  const std::string seed_arg = std::to_string(child_seed);
  pid_t pid = fork();
  if (pid < 0) return {false, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    // The write end must survive exec.
    fcntl(fds[1], F_SETFD, 0);
    execl("/proc/self/exe", "kill_loop", "--child", dir.c_str(), fd_arg.c_str(), seed_arg.c_str(),
          static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  close(fds[1]);
  const int rfd = fds[0];

  std::string pending;
  auto consume = [&](const char* p, size_t n) {
    pending.append(p, n);
    size_t i = 0;
    for (; i + 8 <= pending.size(); i += 8) {
      uint64_t v;
      std::memcpy(&v, pending.data() + i, 8);
      if (v == kReady) {
        res.ready = true;
      } else {
        res.max_ack = std::max(res.max_ack, v);
        ++res.acks;
      }
    }
    pending.erase(0, i);
  };

  const int64_t start = NowNs();
  int64_t deadline = from_ready ? -1 : start + delay_ns;
  bool eof = false;
  char buf[4096];
  while (!eof) {
    const int64_t now = NowNs();
    if (deadline >= 0 && now >= deadline) break;
    if (deadline < 0 && now - start > 20'000'000'000) {
      res = {false, "the child did not recover the WAL within 20 s"};
      break;
    }
    const int64_t wait = deadline >= 0 ? deadline - now : 50'000'000;
    struct timespec ts {
      static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)
    };
    struct pollfd pfd {
      rfd, POLLIN, 0
    };
    int pr = ppoll(&pfd, 1, &ts, nullptr);
    if (pr < 0 && errno != EINTR) break;
    if (pr > 0) {
      ssize_t n = read(rfd, buf, sizeof(buf));
      if (n > 0) {
        const bool was_ready = res.ready;
        consume(buf, static_cast<size_t>(n));
        if (!was_ready && res.ready && deadline < 0) deadline = NowNs() + delay_ns;
      } else if (n == 0) {
        eof = true;  // the child exited by itself
      }
    }
  }
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // Drain what the child wrote before it died.
  while (true) {
    ssize_t n = read(rfd, buf, sizeof(buf));
    if (n > 0) {
      consume(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(rfd);
  if (res.ok && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
    res.ok = false;
    res.error = WIFEXITED(status)
                    ? "the child exited by itself with status " + std::to_string(WEXITSTATUS(status))
                    : "the child died of signal " + std::to_string(WTERMSIG(status));
  }
  return res;
}

// Checks the recovered log against what was acknowledged. Returns "" or
// what is wrong.
std::string CheckRecovered(const Recovered& rec, uint64_t acked) {
  const auto& e = rec.entries;
  for (size_t i = 0; i < e.size(); ++i) {
    const uint64_t want = i + 1;
    if (e[i].index != want) {
      return "entry " + std::to_string(i) + " has index " + std::to_string(e[i].index) + ", expected " +
             std::to_string(want);
    }
    if (e[i].term != 1 || e[i].type != wal::EntryType::kNormal || e[i].data != Payload(want)) {
      return "entry " + std::to_string(want) + " has the wrong term, type or data (" +
             std::to_string(e[i].data.size()) + " bytes)";
    }
  }
  if (e.size() < acked) {
    return "lost " + std::to_string(acked - e.size()) + " acknowledged entries: the log ends at " +
           std::to_string(e.size()) + ", " + std::to_string(acked) + " were acknowledged";
  }
  if (rec.state.commit < acked || rec.state.commit > e.size()) {
    return "hard state commit " + std::to_string(rec.state.commit) + " outside [" + std::to_string(acked) +
           ", " + std::to_string(e.size()) + "]";
  }
  return "";
}

int RunParent(int cycles, double min_saves_per_cycle) {
  uint64_t seed = 0x6b696c6c6c6f6f70ull;  // "killloop"
  if (const char* s = std::getenv("WAL_TEST_SEED"); s != nullptr && *s != '\0')
    seed = std::strtoull(s, nullptr, 0);
  std::printf("kill loop: seed %" PRIu64 " (set WAL_TEST_SEED to change), %d cycles\n", seed, cycles);
  std::fflush(stdout);

  std::string base = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  base += "/wal-kill-loop-XXXXXX";
  std::vector<char> tmpl(base.begin(), base.end());
  tmpl.push_back('\0');
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  base = tmpl.data();
  const std::string dir = base + "/wal";

  std::mt19937_64 rng(seed);
  uint64_t acked = 0;  // highest acknowledged index of this epoch
  uint64_t total_acked_entries = 0, total_saves = 0, repairs = 0, cycles_with_acks = 0, epochs = 1;
  uint64_t max_log = 0;
  uint64_t ready_cycles = 0, ready_cycles_with_acks = 0;  // kills timed from "recovered"
  const int64_t t0 = NowNs();
  int done = 0;
  for (int c = 0; c < cycles; ++c) {
    const int64_t delay_ns = 1'000'000 + static_cast<int64_t>(rng() % 29'000'001);
    const bool from_ready = rng() % 4 != 0;
    const uint64_t child_seed = rng();
    CycleResult cr = RunCycle(dir, child_seed, delay_ns, from_ready);
    if (!cr.ok) {
      std::printf("kill loop: cycle %d: %s (directory kept: %s)\n", c, cr.error.c_str(), base.c_str());
      std::printf("kill loop: FAILED\n");
      return 1;
    }
    total_saves += cr.acks;
    if (cr.acks > 0) ++cycles_with_acks;
    if (from_ready) {
      ++ready_cycles;
      if (cr.acks > 0) ++ready_cycles_with_acks;
    }
    if (cr.max_ack > acked) {
      total_acked_entries += cr.max_ack - acked;
      acked = cr.max_ack;
    }

    // Recover as a restarting server would, and check.
    std::string problem;
    if (!wal::Exist(dir)) {
      if (acked > 0)
        problem = "the WAL directory is gone but " + std::to_string(acked) + " entries were acknowledged";
    } else {
      Recovered rec;
      auto w = Recover(dir, &rec);
      if (!w.has_value()) {
        problem = "recovery failed: " + w.error().ToString();
      } else {
        if (rec.repaired) ++repairs;
        problem = CheckRecovered(rec, acked);
        max_log = std::max<uint64_t>(max_log, rec.entries.size());
        wal::Status s = (*w)->Close();
        if (problem.empty() && !s.ok()) problem = "Close after recovery: " + s.ToString();
      }
    }
    if (!problem.empty()) {
      std::printf("kill loop: cycle %d (epoch %" PRIu64 ", %" PRIu64
                  " acknowledged): %s (directory kept: %s)\n",
                  c, epochs, acked, problem.c_str(), base.c_str());
      std::printf("kill loop: FAILED\n");
      return 1;
    }
    ++done;
    if (DirBytes(dir) > kEpochBytes) {
      std::filesystem::remove_all(dir);
      acked = 0;
      ++epochs;
    }
  }
  std::filesystem::remove_all(base);
  const double secs = static_cast<double>(NowNs() - t0) / 1e9;
  std::printf("kill loop: %d cycles in %.1f s, %" PRIu64 " epochs, %" PRIu64
              " cycles with acknowledged saves, %" PRIu64 " saves and %" PRIu64
              " entries acknowledged, %" PRIu64 " repairs, longest log %" PRIu64 " entries\n",
              done, secs, epochs, cycles_with_acks, total_saves, total_acked_entries, repairs, max_log);
  if (static_cast<double>(total_saves) < min_saves_per_cycle * done ||
      ready_cycles_with_acks * 2 < ready_cycles) {
    std::printf("kill loop: too little was acknowledged to prove anything: %" PRIu64
                " saves in %d cycles (want >= %.1f"
                " per cycle), %" PRIu64 " of %" PRIu64
                " cycles killed after recovery acknowledged a save (want half)\n",
                total_saves, done, min_saves_per_cycle, ready_cycles_with_acks, ready_cycles);
    std::printf("kill loop: FAILED\n");
    return 1;
  }
  std::printf("kill loop: 0 lost\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--child") == 0) {
    if (argc != 5) return 2;
    return RunChild(argv[2], std::atoi(argv[3]), std::strtoull(argv[4], nullptr, 10));
  }
  int cycles = 200;
  double min_saves = 1;
  if (argc >= 2) cycles = std::atoi(argv[1]);
  if (argc >= 3) min_saves = std::atof(argv[2]);
  if (cycles <= 0 || argc > 3 || min_saves < 0) {
    std::fprintf(stderr, "usage: %s [CYCLES [MIN_SAVES_PER_CYCLE]]\n", argv[0]);
    return 2;
  }
  return RunParent(cycles, min_saves);
}
