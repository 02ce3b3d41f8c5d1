// Purge: etcd's server-side removal of old segments (fileutil.PurgeFile),
// as a library call. The WAL's locks decide what may go: a WAL holds the
// lock of every segment it may still read until ReleaseLockTo lets go.
#include "src/mutants.h"
#include "src/segment_names.h"
#include "src/segment_set.h"
#include "wal/wal.h"

namespace wal {

using namespace internal;  // NOLINT: this file implements one of the internals' users

namespace {

// Purge and PlanPurge: one walk, so that a dry run names exactly what the
// real run would remove at that moment.
Result<std::vector<std::string>> PurgeImpl(const std::string& dir, size_t max_segments,
                                           const Options& options, bool remove) {
  WAL_RETURN_IF_ERROR(CheckOptions(options));
  FileSystem* fs = FileSystemOf(options);
  std::vector<std::string> removed;
  auto listed = ListSegments(fs, dir);
  if (!listed.has_value()) {
    // A directory without segments has nothing to purge.
    if (listed.error().code() == StatusCode::kFileNotFound && fs->Stat(dir).has_value()) return removed;
    return listed.error();
  }
  const std::vector<SegmentName>& segs = *listed;
  // Oldest first, so that what stays is always a continuous run of
  // sequence numbers ending at the tail (IsValidSeq still holds).
  for (size_t i = 0; i + max_segments < segs.size(); ++i) {
    const std::string path = JoinPath(dir, segs[i].name);
    OpenOptions o;
    o.write = true;  // a write lock needs a descriptor open for writing
    auto f = fs->Open(path, o);
    if (!f.has_value()) {
      const StatusCode c = f.error().code();
      if (c == StatusCode::kNotFound || c == StatusCode::kFileNotFound) continue;  // removed meanwhile
      return f.error();
    }
    Status lock = (*f)->TryLock();
    if (lock.code() == StatusCode::kLocked) break;  // still needed by a WAL: stop, as etcd does
    WAL_RETURN_IF_ERROR(lock);
    // Removed while we hold its lock, so no WAL can take it in between.
    Status s = remove ? fs->RemoveFile(path) : Status::Ok();
    (*f)->Close().IgnoreError();  // read nothing, wrote nothing: only the lock goes
    WAL_RETURN_IF_ERROR(s);
    removed.push_back(segs[i].name);
  }
  // An unlink is durable once the directory is synced. Before that, a crash
  // may bring a removed segment back: harmless, it is older than all the
  // segments kept and its lock is free again.
  if (remove && !removed.empty() && !options.unsafe_no_fsync && !MutantActive(Mutant::kSkipPurgeDirSync)) {
    WAL_RETURN_IF_ERROR(fs->SyncDir(dir));
  }
  return removed;
}

}  // namespace

Result<std::vector<std::string>> Purge(const std::string& dir, size_t max_segments, const Options& options) {
  return PurgeImpl(dir, max_segments, options, /*remove=*/true);
}

Result<std::vector<std::string>> PlanPurge(const std::string& dir, size_t max_segments,
                                           const Options& options) {
  return PurgeImpl(dir, max_segments, options, /*remove=*/false);
}

}  // namespace wal
