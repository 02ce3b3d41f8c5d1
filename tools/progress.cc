#include "tools/progress.h"

#include <unistd.h>

#include <cstdio>

namespace walctl {

Progress::Progress(std::string label, uint64_t total, bool streams_stdout)
    : label_(std::move(label)),
      total_(total),
      enabled_(total > kProgressThresholdBytes && ::isatty(STDERR_FILENO) == 1 &&
               !(streams_stdout && ::isatty(STDOUT_FILENO) == 1)),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { Finish(); }

void Progress::Add(uint64_t bytes) {
  if (!enabled_) return;
  const uint64_t done = done_.fetch_add(bytes) + bytes;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_)
          .count();
  int64_t last = last_draw_ms_.load();
  if (now_ms - last < 100) return;
  if (!last_draw_ms_.compare_exchange_strong(last, now_ms)) return;  // another thread draws
  Draw(done);
}

void Progress::Draw(uint64_t done) {
  constexpr int kWidth = 30;
  const uint64_t shown = done < total_ ? done : total_;
  const int filled =
      total_ ? static_cast<int>(static_cast<double>(shown) / static_cast<double>(total_) * kWidth) : kWidth;
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  const double pct = total_ ? 100.0 * static_cast<double>(shown) / static_cast<double>(total_) : 100.0;
  std::fprintf(stderr, "\r%s [%s] %5.1f%% %.1f/%.1f MB", label_.c_str(), bar, pct,
               static_cast<double>(shown) / 1e6, static_cast<double>(total_) / 1e6);
  std::fflush(stderr);
}

void Progress::Finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

namespace {

class ProgressFile final : public wal::FileWrapper {
 public:
  ProgressFile(std::unique_ptr<wal::File> base, Progress* progress)
      : FileWrapper(std::move(base)), progress_(progress) {}
  wal::Result<std::size_t> ReadAt(uint64_t offset, std::span<std::byte> out) override {
    auto n = FileWrapper::ReadAt(offset, out);
    if (n.has_value()) progress_->Add(*n);
    return n;
  }

 private:
  Progress* progress_;
};

}  // namespace

wal::Result<std::unique_ptr<wal::File>> ProgressFileSystem::Open(const std::string& path,
                                                                 const wal::OpenOptions& options) {
  WAL_ASSIGN_OR_RETURN(auto f, FileSystemWrapper::Open(path, options));
  return std::unique_ptr<wal::File>(std::make_unique<ProgressFile>(std::move(f), progress_));
}

}  // namespace walctl
