// A progress bar on stderr for long reads, shown only when stderr is a
// terminal and the work is large (> 100 MB), plus a FileSystem wrapper that
// feeds it with the bytes the library reads.
#ifndef WAL_TOOLS_PROGRESS_H_
#define WAL_TOOLS_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "wal/file_system.h"

namespace walctl {

inline constexpr uint64_t kProgressThresholdBytes = 100'000'000;

class Progress {
 public:
  // Enabled when stderr is a terminal and `total` > kProgressThresholdBytes,
  // unless the command streams its output to stdout while reading
  // (`streams_stdout`) and stdout is a terminal too: the lines would clash.
  Progress(std::string label, uint64_t total, bool streams_stdout = false);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool enabled() const { return enabled_; }
  // Counts `bytes` more as done; redraws at most ten times a second.
  void Add(uint64_t bytes);
  // Erases the bar. Idempotent.
  void Finish();

 private:
  void Draw(uint64_t done);

  std::string label_;
  uint64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::atomic<uint64_t> done_{0};
  std::atomic<int64_t> last_draw_ms_{-1000};
  std::chrono::steady_clock::time_point start_;
};

// Forwards every call to `base`; bytes returned by File::ReadAt are added to
// `progress`. Lets library calls (ReadAll, Verify) drive the bar.
class ProgressFileSystem final : public wal::FileSystemWrapper {
 public:
  ProgressFileSystem(wal::FileSystem* base, Progress* progress)
      : FileSystemWrapper(base), progress_(progress) {}

  wal::Result<std::unique_ptr<wal::File>> Open(const std::string& path,
                                               const wal::OpenOptions& options) override;

 private:
  Progress* progress_;
};

}  // namespace walctl

#endif  // WAL_TOOLS_PROGRESS_H_
