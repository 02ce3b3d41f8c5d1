#include "tools/scanner.h"

#include <memory>

namespace walctl {

namespace {

// Keeps the segment order promise of ScanCallbacks: begin(i) comes before
// the first report about segment i, whatever the report is.
class Reporter final : public wal::ScanReporter {
 public:
  explicit Reporter(const ScanCallbacks& cb) : cb_(cb) {}
  void OnRecord(const wal::ScannedRecord& r) override {
    Begin(r.segment);
    cb_.record(r);
  }
  void OnSegmentEnd(const wal::SegmentEnd& e) override {
    Begin(e.segment);
    cb_.end(e);
  }

 private:
  void Begin(size_t segment) {
    while (next_ <= segment) cb_.begin(next_++);
  }
  const ScanCallbacks& cb_;
  size_t next_ = 0;
};

}  // namespace

wal::Status ScanWalDir(const WalDir& d, Progress* progress, const ScanCallbacks& callbacks) {
  ProgressFileSystem fs(wal::FileSystem::Default(), progress);
  wal::Options opts;
  opts.file_system = &fs;
  Reporter reporter(callbacks);
  wal::Status s = wal::ScanLog(d.dir, &reporter, wal::ScanOptions{}, opts);
  return s.ok() ? s : Rephrase(s, d.dir);
}

wal::Result<wal::LogCheck> CheckWalDir(const WalDir& d, size_t from, bool check_bodies, Progress* progress,
                                       wal::TornWriteRule rule) {
  wal::Options opts;
  opts.torn_write_rule = rule;
  std::unique_ptr<ProgressFileSystem> fs;
  if (progress) {
    fs = std::make_unique<ProgressFileSystem>(wal::FileSystem::Default(), progress);
    opts.file_system = fs.get();
  }
  auto r = wal::CheckLog(d.dir, from, check_bodies, opts);
  if (!r.has_value()) return Rephrase(r.error(), d.dir);
  return r;
}

std::string StopPath(const WalDir& d, const wal::LogCheck& c) { return wal::JoinPath(d.dir, c.stop_segment); }

std::string BadText(const wal::ScannedRecord& r) { return std::string(r.problem.message()); }

std::string StopText(const wal::SegmentEnd& e) {
  if (e.kind != wal::SegmentEnd::Kind::kStopped) return {};
  std::string s(e.problem.message());
  if (e.problem.code() == wal::StatusCode::kUnexpectedEof) s += " (torn write at the tail)";
  return s;
}

bool EndIsBad(const wal::SegmentEnd& e) {
  return e.kind == wal::SegmentEnd::Kind::kStopped || e.nonzero_at.has_value();
}

}  // namespace walctl
