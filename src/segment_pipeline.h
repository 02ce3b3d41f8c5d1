// Keeps the next segment ready so that a cut does not wait for file creation
// and fallocate (etcd's file pipeline, #4773): "<dir>/<n%2>.tmp", locked,
// preallocated to the segment size. Unlike etcd, a stale tmp file left by a
// crash is truncated before reuse, so no old bytes can follow a new head.
#ifndef WAL_SRC_SEGMENT_PIPELINE_H_
#define WAL_SRC_SEGMENT_PIPELINE_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "src/mutex.h"
#include "wal/file_system.h"

namespace wal::internal {

// Writes real zeros over [0, bytes) of `f` (Options::prezero_segments): the
// preallocated extents become written ones, so a later fdatasync of data in
// them has no extent conversion to journal. The caller syncs.
Status WriteZeros(File* f, uint64_t bytes);

class SegmentPipeline {
 public:
  // `fs` must outlive this object. With `background`, a thread prepares the
  // next file ahead of time; otherwise Take() prepares it synchronously.
  SegmentPipeline(FileSystem* fs, std::string dir, uint64_t segment_bytes, bool background,
                  bool prezero = false);
  ~SegmentPipeline();
  SegmentPipeline(const SegmentPipeline&) = delete;
  SegmentPipeline& operator=(const SegmentPipeline&) = delete;

  // A locked, preallocated, empty file and its path.
  Result<std::unique_ptr<File>> Take(std::string* path);
  // The same, preallocated to `bytes` instead of the segment size (a file
  // that replaces a segment of another size, keeping its size as etcd's
  // zero-to-end does). A file the thread prepared is cut back to `bytes`.
  Result<std::unique_ptr<File>> TakeSized(std::string* path, uint64_t bytes);
  // Stops the thread and removes a prepared file nobody took.
  void Close();

 private:
  Result<std::unique_ptr<File>> Prepare(const std::string& path, uint64_t bytes);
  std::string NextPath();
  void Run();

  FileSystem* fs_;
  std::string dir_;
  uint64_t segment_bytes_;
  bool background_;
  bool prezero_;
  uint64_t count_ = 0;

  Mutex mu_;
  std::condition_variable cv_;
  bool closing_ WAL_GUARDED_BY(mu_) = false;
  bool have_ready_ WAL_GUARDED_BY(mu_) = false;
  Status ready_status_ WAL_GUARDED_BY(mu_);
  std::unique_ptr<File> ready_file_ WAL_GUARDED_BY(mu_);
  std::string ready_path_ WAL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace wal::internal

#endif  // WAL_SRC_SEGMENT_PIPELINE_H_
