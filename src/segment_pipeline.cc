#include "src/segment_pipeline.h"

#include <algorithm>
#include <vector>

#include "src/segment_names.h"

namespace wal::internal {

Status WriteZeros(File* f, uint64_t bytes) {
  std::vector<std::byte> zeros(static_cast<size_t>(std::min<uint64_t>(bytes, 1 << 20)));
  for (uint64_t off = 0; off < bytes; off += zeros.size()) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), bytes - off));
    WAL_RETURN_IF_ERROR(f->WriteAt(off, std::span(zeros.data(), n)));
  }
  return Status::Ok();
}

SegmentPipeline::SegmentPipeline(FileSystem* fs, std::string dir, uint64_t segment_bytes, bool background,
                                 bool prezero)
    : fs_(fs),
      dir_(std::move(dir)),
      segment_bytes_(segment_bytes),
      background_(background),
      prezero_(prezero) {
  if (background_) thread_ = std::thread([this] { Run(); });
}

SegmentPipeline::~SegmentPipeline() { Close(); }

std::string SegmentPipeline::NextPath() {
  // Alternate names so the file being handed out is never the one being made.
  return JoinPath(dir_, std::to_string(count_++ % 2) + ".tmp");
}

Result<std::unique_ptr<File>> SegmentPipeline::Prepare(const std::string& path, uint64_t bytes) {
  OpenOptions o;
  o.read = true;
  o.write = true;
  o.create = true;
  o.mode = 0600;
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs_->Open(path, o));
  Status s = f->Lock();
  // Truncate only once we hold the lock: a stale tmp file from a crash may
  // hold a half-written head; its bytes must not survive into a new segment.
  if (s.ok()) s = f->Truncate(0);
  if (s.ok()) s = f->Allocate(bytes);
  if (s.ok() && prezero_) {
    // Write real zeros over the preallocated (unwritten) extents and sync
    // them, here, off the hot path: later fdatasyncs of this segment then
    // flush data blocks only, with no extent conversion to journal.
    s = WriteZeros(f.get(), bytes);
    if (s.ok()) s = f->Sync();
  }
  if (!s.ok()) {
    f->Close().IgnoreError();
    fs_->RemoveFile(path).IgnoreError();  // best effort; a leftover .tmp is harmless
    return s;
  }
  return f;
}

void SegmentPipeline::Run() {
  MutexLock lock(&mu_);
  while (true) {
    while (!closing_ && have_ready_) mu_.Wait(cv_);
    if (closing_) return;
    std::string path = NextPath();
    mu_.Unlock();
    auto r = Prepare(path, segment_bytes_);
    mu_.Lock();
    have_ready_ = true;
    ready_path_ = path;
    if (r.has_value()) {
      ready_file_ = std::move(r).value();
      ready_status_ = Status::Ok();
    } else {
      ready_status_ = r.error();
    }
    cv_.notify_all();
  }
}

Result<std::unique_ptr<File>> SegmentPipeline::TakeSized(std::string* path, uint64_t bytes) {
  if (!background_) {
    std::string p = NextPath();
    auto r = Prepare(p, bytes);
    if (r.has_value()) *path = p;
    return r;
  }
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<File> f, Take(path));
  Status s = f->Truncate(0);
  if (s.ok()) s = f->Allocate(bytes);
  if (!s.ok()) {
    f->Close().IgnoreError();
    return s;
  }
  return f;
}

Result<std::unique_ptr<File>> SegmentPipeline::Take(std::string* path) {
  if (!background_) return TakeSized(path, segment_bytes_);
  MutexLock lock(&mu_);
  while (!have_ready_ && !closing_) mu_.Wait(cv_);
  if (!have_ready_) return Status(StatusCode::kFailedPrecondition, "wal: segment pipeline closed");
  have_ready_ = false;
  Status s = std::move(ready_status_);
  ready_status_ = Status::Ok();
  std::unique_ptr<File> f = std::move(ready_file_);
  *path = ready_path_;
  cv_.notify_all();  // let the thread prepare the next one
  if (!s.ok()) return s;
  return f;
}

void SegmentPipeline::Close() {
  {
    MutexLock lock(&mu_);
    if (closing_) return;
    closing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(&mu_);  // uncontended: the thread is gone
  if (have_ready_ && ready_file_) {
    ready_file_->Close().IgnoreError();
    ready_file_.reset();
  }
  have_ready_ = false;
  // Remove the prepared file, and a stale one left by a crash that the
  // thread had no time to reuse (etcd always reuses, then removes, it). The
  // WAL's locks keep other writers out of this directory, and every file
  // taken from the pipeline has been renamed by now. Best effort: an unused
  // .tmp is harmless.
  for (const char* name : {"0.tmp", "1.tmp"}) fs_->RemoveFile(JoinPath(dir_, name)).IgnoreError();
}

}  // namespace wal::internal
