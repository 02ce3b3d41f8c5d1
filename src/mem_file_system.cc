// MemFileSystem: see wal/mem_file_system.h for the model.
//
// Representation notes:
// - A file image is a vector of 4 KiB copy-on-write pages; a null page reads
//   as zeros. Live and durable images share pages until one side writes, so
//   Sync copies pointers, not bytes, and a preallocated 64 MB segment costs a
//   vector of null pointers rather than 64 MB (twice).
// - Each inode keeps the page range written since its last Sync; outside that
//   range live and durable pages are the same pointers, so Sync only adopts
//   the pages in the range.
// - Directories hold shared_ptrs to their children in both entry tables. A
//   rename of directories followed by partial SyncDirs can make durable
//   tables form a cycle, so the state keeps weak references to every
//   directory and clears unreachable tables after a crash and at destruction.
#include "wal/mem_file_system.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <unordered_set>
#include <utility>
#include <vector>

#include "src/errno_status.h"
#include "src/format.h"
#include "src/mutex.h"

namespace wal {

namespace {

using internal::ErrnoStatus;
using internal::MutexLock;

using internal::kPageBytes;
using internal::kSectorBytes;
// Files larger than this are refused (EFBIG) so that a stray huge offset
// fails instead of allocating a page table the size of the address space.
constexpr uint64_t kMaxFileSize = uint64_t{1} << 36;

using Page = std::array<std::byte, kPageBytes>;
using PagePtr = std::shared_ptr<Page>;

uint64_t PagesFor(uint64_t size) { return (size + kPageBytes - 1) / kPageBytes; }

// The bytes of one file. Invariants: pages_.size() == PagesFor(size_), and
// bytes of the last page at or past size_ are zero (so growing never has to
// clear anything).
class Image {
 public:
  uint64_t size() const { return size_; }
  uint64_t page_count() const { return pages_.size(); }

  std::byte ByteAt(uint64_t pos) const {
    const PagePtr& p = pages_[pos / kPageBytes];
    return p ? (*p)[pos % kPageBytes] : std::byte{0};
  }

  size_t Read(uint64_t offset, std::span<std::byte> out) const {
    if (offset >= size_) return 0;
    uint64_t n = std::min<uint64_t>(out.size(), size_ - offset);
    uint64_t done = 0;
    while (done < n) {
      uint64_t pos = offset + done;
      uint64_t in_page = pos % kPageBytes;
      uint64_t chunk = std::min(n - done, kPageBytes - in_page);
      const PagePtr& p = pages_[pos / kPageBytes];
      if (p) {
        std::memcpy(out.data() + done, p->data() + in_page, chunk);
      } else {
        std::memset(out.data() + done, 0, chunk);
      }
      done += chunk;
    }
    return static_cast<size_t>(n);
  }

  void Write(uint64_t offset, std::span<const std::byte> data) {
    if (data.empty()) return;  // pwrite of 0 bytes does not extend
    uint64_t end = offset + data.size();
    if (end > size_) Resize(end);
    uint64_t done = 0;
    while (done < data.size()) {
      uint64_t pos = offset + done;
      uint64_t in_page = pos % kPageBytes;
      uint64_t chunk = std::min<uint64_t>(data.size() - done, kPageBytes - in_page);
      std::memcpy(MutablePage(pos / kPageBytes).data() + in_page, data.data() + done, chunk);
      done += chunk;
    }
  }

  void Resize(uint64_t size) {
    if (size < size_ && size % kPageBytes != 0) {
      // Keep the "zeros past the end" invariant for the new last page.
      const PagePtr& last = pages_[size / kPageBytes];
      if (last) {
        uint64_t from = size % kPageBytes;
        uint64_t to = std::min(kPageBytes, size_ - size / kPageBytes * kPageBytes);
        bool dirty = false;
        for (uint64_t i = from; i < to && !dirty; ++i) dirty = (*last)[i] != std::byte{0};
        if (dirty) std::memset(MutablePage(size / kPageBytes).data() + from, 0, kPageBytes - from);
      }
    }
    pages_.resize(PagesFor(size));
    size_ = size;
  }

  // Copies bytes [begin, end) of `src` to the same offsets here. Requires
  // end <= size() and end <= src.size(). Whole pages are shared, not copied.
  void CopyFrom(const Image& src, uint64_t begin, uint64_t end) {
    uint64_t pos = begin;
    while (pos < end) {
      uint64_t index = pos / kPageBytes;
      uint64_t in_page = pos % kPageBytes;
      uint64_t chunk = std::min(end - pos, kPageBytes - in_page);
      if (chunk == kPageBytes) {
        pages_[index] = src.pages_[index];
      } else {
        Page& dst = MutablePage(index);
        for (uint64_t i = 0; i < chunk; ++i) dst[in_page + i] = src.ByteAt(pos + i);
      }
      pos += chunk;
    }
  }

  // Overwrites [begin, end) (end <= size()) with bytes from `next`.
  template <class Gen>
  void Fill(uint64_t begin, uint64_t end, Gen&& next) {
    for (uint64_t pos = begin; pos < end; ++pos) MutablePage(pos / kPageBytes)[pos % kPageBytes] = next();
  }

  // Becomes `src` while reusing this image's pointers outside the page range
  // [lo, hi), which the caller guarantees are already equal to src's.
  void AdoptFrom(const Image& src, uint64_t lo, uint64_t hi) {
    size_ = src.size_;
    pages_.resize(src.pages_.size());
    for (uint64_t i = lo; i < std::min<uint64_t>(hi, pages_.size()); ++i) pages_[i] = src.pages_[i];
  }

  // The first and one-past-last differing positions, or {0, 0} when equal.
  // A position inside one image but past the other's end differs.
  static std::pair<uint64_t, uint64_t> DiffRange(const Image& a, const Image& b) {
    uint64_t common = std::min(a.size_, b.size_);
    uint64_t longest = std::max(a.size_, b.size_);
    uint64_t first = common;
    bool found = false;
    uint64_t last_end = 0;
    for (uint64_t index = 0; index < PagesFor(common); ++index) {
      if (a.pages_[index] == b.pages_[index]) continue;  // shared page: equal
      uint64_t from = index * kPageBytes;
      uint64_t to = std::min(common, from + kPageBytes);
      for (uint64_t pos = from; pos < to; ++pos) {
        if (a.ByteAt(pos) != b.ByteAt(pos)) {
          if (!found) first = pos;
          found = true;
          last_end = pos + 1;
        }
      }
    }
    if (a.size_ != b.size_) {
      if (!found) first = common;
      return {first, longest};
    }
    if (!found) return {0, 0};
    return {first, last_end};
  }

  std::string ToString() const {
    std::string s(size_, '\0');
    Read(0, std::as_writable_bytes(std::span<char>(s)));
    return s;
  }

 private:
  // Copy-on-write: a page is shared with the other image (or a crash result)
  // until written. All users hold the file system's mutex, so use_count is
  // exact.
  Page& MutablePage(uint64_t index) {
    PagePtr& p = pages_[index];
    if (!p) {
      p = std::make_shared<Page>();  // value-initialised: zeros
    } else if (p.use_count() > 1) {
      p = std::make_shared<Page>(*p);
    }
    return *p;
  }

  uint64_t size_ = 0;
  std::vector<PagePtr> pages_;
};

struct Inode {
  Inode(bool dir, uint32_t m) : is_dir(dir), mode(m) {}

  void MarkDirty(uint64_t begin_byte, uint64_t end_byte) {
    dirty_lo = std::min(dirty_lo, begin_byte / kPageBytes);
    dirty_hi = std::max(dirty_hi, PagesFor(end_byte));
  }
  void ClearDirty() {
    dirty_lo = std::numeric_limits<uint64_t>::max();
    dirty_hi = 0;
  }
  void Write(uint64_t offset, std::span<const std::byte> data) {
    if (data.empty()) return;
    // From the old end when extending: the hole pages are new too.
    MarkDirty(std::min(offset, live.size()), offset + data.size());
    live.Write(offset, data);
  }
  void Resize(uint64_t size) {
    MarkDirty(std::min(size, live.size()), std::max(size, live.size()));
    live.Resize(size);
  }
  void Sync() {
    if (dirty_lo < dirty_hi || durable.size() != live.size()) durable.AdoptFrom(live, dirty_lo, dirty_hi);
    ClearDirty();
  }
  // RWF_DSYNC: the live bytes [offset, end) become durable, and the size if
  // the range reaches past the durable end; nothing else does (the dirty
  // range stays, so a later Sync still adopts the rest).
  void SyncRange(uint64_t offset, uint64_t end) {
    if (end > durable.size()) durable.Resize(end);
    durable.CopyFrom(live, offset, end);
  }
  // Both images become `image` (after a crash, or for fixtures).
  void SetBoth(const Image& image) {
    live = image;
    durable = image;
    ClearDirty();
  }

  const bool is_dir;
  uint32_t mode;

  // Regular files.
  Image live;
  Image durable;
  // Pages [dirty_lo, dirty_hi) may differ between live and durable.
  uint64_t dirty_lo = std::numeric_limits<uint64_t>::max();
  uint64_t dirty_hi = 0;
  // The OFD lock: the owning MemFile's id, valid only while lock_generation
  // is the current crash generation (a crash drops every lock at once).
  uint64_t lock_owner = 0;
  uint64_t lock_generation = 0;

  // Directories.
  std::map<std::string, std::shared_ptr<Inode>> entries;
  std::map<std::string, std::shared_ptr<Inode>> durable_entries;
};

using InodePtr = std::shared_ptr<Inode>;

// A normalised path: its components, without empty, "." or ".." parts.
struct PathParts {
  std::vector<std::string> parts;
  bool is_root() const { return parts.empty(); }
  const std::string& leaf() const { return parts.back(); }
};

PathParts SplitPath(const std::string& path) {
  PathParts p;
  size_t i = 0;
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(i, slash - i);
    if (part == "..") {
      if (!p.parts.empty()) p.parts.pop_back();
    } else if (!part.empty() && part != ".") {
      p.parts.push_back(std::move(part));
    }
    i = slash + 1;
  }
  return p;
}

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

}  // namespace

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kOpen:
      return "Open";
    case OpKind::kWriteAt:
      return "WriteAt";
    case OpKind::kTruncate:
      return "Truncate";
    case OpKind::kAllocate:
      return "Allocate";
    case OpKind::kSync:
      return "Sync";
    case OpKind::kSyncDir:
      return "SyncDir";
    case OpKind::kRename:
      return "Rename";
    case OpKind::kRemoveFile:
      return "RemoveFile";
    case OpKind::kRemoveDir:
      return "RemoveDir";
    case OpKind::kCreateDir:
      return "CreateDir";
  }
  return "Unknown";
}

namespace internal {

struct MemFsState {
  MemFsState() : root(std::make_shared<Inode>(true, 0755)) {}
  ~MemFsState() {
    // Break any cycles among directory tables (see the file comment).
    for (auto& weak : dirs) {
      if (InodePtr d = weak.lock()) {
        d->entries.clear();
        d->durable_entries.clear();
      }
    }
    root->entries.clear();
    root->durable_entries.clear();
  }

  // Counts the op and runs the hook, without holding `mu` so the hook may
  // call back into the file system.
  Status BeforeOp(OpInfo info) {
    std::shared_ptr<const MemFileSystem::OpHook> h;
    {
      MutexLock l(&mu);
      info.index = ops++;
      h = hook;
    }
    if (h && *h) return (*h)(info);
    return Status::Ok();
  }

  // The node at the first `n` components, or nullptr with *err set (ENOENT
  // for a missing component, ENOTDIR for a file used as a directory).
  InodePtr Walk(const PathParts& p, size_t n, int* err) const WAL_REQUIRES(mu) {
    InodePtr cur = root;
    for (size_t i = 0; i < n; ++i) {
      if (!cur->is_dir) {
        *err = ENOTDIR;
        return nullptr;
      }
      auto it = cur->entries.find(p.parts[i]);
      if (it == cur->entries.end()) {
        *err = ENOENT;
        return nullptr;
      }
      cur = it->second;
    }
    return cur;
  }
  InodePtr Lookup(const PathParts& p, int* err) const WAL_REQUIRES(mu) {
    return Walk(p, p.parts.size(), err);
  }
  // The directory that holds (or would hold) p's leaf. p must not be root.
  InodePtr ParentDir(const PathParts& p, int* err) const WAL_REQUIRES(mu) {
    InodePtr dir = Walk(p, p.parts.size() - 1, err);
    if (dir && !dir->is_dir) {
      *err = ENOTDIR;
      return nullptr;
    }
    return dir;
  }

  InodePtr NewDir(uint32_t mode) WAL_REQUIRES(mu) {
    auto d = std::make_shared<Inode>(true, mode);
    if (dirs.size() >= 2 * dirs_after_prune + 64) PruneDirs();
    dirs.push_back(d);
    return d;
  }
  void PruneDirs() WAL_REQUIRES(mu) {
    std::erase_if(dirs, [](const std::weak_ptr<Inode>& w) { return w.expired(); });
    dirs_after_prune = dirs.size();
  }

  void RebuildDir(Inode& dir, const std::string& path, const CrashPolicy& policy,
                  std::unordered_set<const Inode*>& visited) WAL_REQUIRES(mu);
  void RecoverFile(Inode& file, const std::string& path, const CrashPolicy& policy) WAL_REQUIRES(mu);

  // One mutex for the whole file system: the fields below, and every inode
  // reachable from root (their contents, entries and locks are read and
  // changed only under it; the analysis sees the fields here, not inside
  // the inodes).
  mutable Mutex mu;
  std::condition_variable lock_cv;  // signalled when a lock is released or dropped
  InodePtr root WAL_GUARDED_BY(mu);
  std::vector<std::weak_ptr<Inode>> dirs WAL_GUARDED_BY(mu);  // every directory but root, for cycle breaking
  size_t dirs_after_prune WAL_GUARDED_BY(mu) = 0;
  uint64_t generation WAL_GUARDED_BY(mu) = 1;  // bumped by each crash; files opened before are invalid
  uint64_t next_file_id WAL_GUARDED_BY(mu) = 1;
  uint64_t ops WAL_GUARDED_BY(mu) = 0;
  std::shared_ptr<const MemFileSystem::OpHook> hook WAL_GUARDED_BY(mu);
};

void MemFsState::RebuildDir(Inode& dir, const std::string& path, const CrashPolicy& policy,
                            std::unordered_set<const Inode*>& visited) {
  dir.entries = dir.durable_entries;
  for (auto it = dir.entries.begin(); it != dir.entries.end();) {
    Inode& child = *it->second;
    std::string child_path = path + "/" + it->first;
    if (!visited.insert(&child).second) {
      if (child.is_dir) {
        // Partial SyncDirs after directory renames gave it a second parent
        // (or a cycle); a directory has one parent, so drop this entry.
        dir.durable_entries.erase(it->first);
        it = dir.entries.erase(it);
        continue;
      }
      ++it;  // a second name for a file already recovered
      continue;
    }
    if (child.is_dir) {
      RebuildDir(child, child_path, policy, visited);
    } else {
      RecoverFile(child, child_path, policy);
    }
    ++it;
  }
}

void MemFsState::RecoverFile(Inode& file, const std::string& path, const CrashPolicy& policy) {
  if (policy.mode == CrashMode::kDropUnsynced) {
    file.SetBoth(file.durable);
    return;
  }
  const Image& live = file.live;
  const Image& durable = file.durable;
  auto [first, end] = Image::DiffRange(live, durable);
  if (first == end) {
    file.SetBoth(durable);
    return;
  }
  uint64_t rng = policy.seed ^ Fnv1a(path);
  uint64_t n = end - first;
  uint64_t k = SplitMix64(rng) % (n + 1);
  if (policy.keep_until) k = std::min(std::max(*policy.keep_until, first), end) - first;
  Image result;
  uint64_t kept_end;  // bytes [first, kept_end) came from the live image
  if (k == n) {
    result = live;
    kept_end = std::min(end, live.size());
  } else {
    result = durable;
    kept_end = std::min(first + k, live.size());
    if (kept_end > result.size()) result.Resize(kept_end);
    if (kept_end > first) result.CopyFrom(live, first, kept_end);
  }
  if (policy.mode == CrashMode::kTearLastSector && kept_end > first) {
    uint64_t sector = (kept_end - 1) / kSectorBytes * kSectorBytes;
    uint64_t tear_begin = std::max(sector, first);
    uint64_t tear_end = std::min(sector + kSectorBytes, result.size());
    if (policy.tear_with_zeros) {
      result.Fill(tear_begin, tear_end, [] { return std::byte{0}; });
    } else {
      result.Fill(tear_begin, tear_end, [&rng] { return static_cast<std::byte>(SplitMix64(rng)); });
    }
  }
  if (policy.mode == CrashMode::kReorderHole && kept_end > first) {
    // Writeback persisted a later page but not an earlier one (ALICE, etcd
    // #6378): one sector of the kept unsynced range reads as it was before.
    uint64_t first_sector = first / kSectorBytes;
    uint64_t last_sector = (kept_end - 1) / kSectorBytes;
    uint64_t sector = (first_sector + SplitMix64(rng) % (last_sector - first_sector + 1)) * kSectorBytes;
    if (policy.hole_at) sector = *policy.hole_at / kSectorBytes * kSectorBytes;
    uint64_t hole_begin = std::max(sector, first);
    uint64_t hole_end = std::min(sector + kSectorBytes, kept_end);
    if (hole_end > hole_begin) {
      if (hole_begin < durable.size())
        result.CopyFrom(durable, hole_begin, std::min(hole_end, durable.size()));
      if (hole_end > durable.size()) {
        result.Fill(std::max(hole_begin, durable.size()), hole_end, [] { return std::byte{0}; });
      }
    }
  }
  file.SetBoth(result);
}

}  // namespace internal

namespace {

using internal::MemFsState;

struct CopiedMapping final : FileMapping {
  explicit CopiedMapping(size_t n) : data(n) {}
  std::span<const std::byte> bytes() const override { return data; }
  std::vector<std::byte> data;
};

class MemFile final : public File {
 public:
  MemFile(std::shared_ptr<MemFsState> state, InodePtr inode, std::string path, bool readable, bool writable,
          bool direct, uint64_t id, uint64_t generation)
      : state_(std::move(state)),
        inode_(std::move(inode)),
        path_(std::move(path)),
        readable_(readable),
        writable_(writable),
        direct_(direct),
        id_(id),
        generation_(generation) {}
  ~MemFile() override { Close().IgnoreError(); }

  const std::string& path() const override { return path_; }

  Result<std::size_t> ReadAt(uint64_t offset, std::span<std::byte> out) override {
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());
    if (!readable_) return ErrnoStatus("pread", path_, EBADF);
    if (inode_->is_dir) return ErrnoStatus("pread", path_, EISDIR);
    WAL_RETURN_IF_ERROR(CheckAligned("pread", offset, out.data(), out.size()));
    return inode_->live.Read(offset, out);
  }

  Status WriteAt(uint64_t offset, std::span<const std::byte> data) override {
    WAL_RETURN_IF_ERROR(PrecheckWrite("pwrite", offset, data));
    WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kWriteAt, path_, "", offset, data.size()}));
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());  // the hook may have crashed the file system
    inode_->Write(offset, data);
    return Status::Ok();
  }

  // Two ops, so that a crash can fall between the write and its
  // durability: a kWriteAt, then a kSync whose offset and length are the
  // range made durable (only that range: see Inode::SyncRange).
  Status WriteAtDurable(uint64_t offset, std::span<const std::byte> data) override {
    WAL_RETURN_IF_ERROR(WriteAt(offset, data));
    WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kSync, path_, "", offset, data.size()}));
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());
    if (!data.empty()) inode_->SyncRange(offset, offset + data.size());
    return Status::Ok();
  }

  Result<uint64_t> Size() override {
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());
    return inode_->is_dir ? uint64_t{0} : inode_->live.size();
  }

  Status Truncate(uint64_t size) override {
    // ftruncate on a descriptor not open for writing fails with EINVAL.
    WAL_RETURN_IF_ERROR(Precheck("ftruncate", /*needs_write=*/true, EINVAL));
    if (size > kMaxFileSize) return ErrnoStatus("ftruncate", path_, EFBIG);
    WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kTruncate, path_, "", 0, size}));
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());
    inode_->Resize(size);
    return Status::Ok();
  }

  Status Allocate(uint64_t size) override {
    WAL_RETURN_IF_ERROR(Precheck("fallocate", /*needs_write=*/true));
    if (size > kMaxFileSize) return ErrnoStatus("fallocate", path_, EFBIG);
    WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kAllocate, path_, "", 0, size}));
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());
    if (size > inode_->live.size()) inode_->Resize(size);
    return Status::Ok();
  }

  Status Sync() override {
    WAL_RETURN_IF_ERROR(Precheck("fdatasync", /*needs_write=*/false));
    WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kSync, path_, "", 0, 0}));
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());
    if (inode_->is_dir) {
      // fsync on a directory descriptor is what SyncDir does.
      inode_->durable_entries = inode_->entries;
    } else {
      inode_->Sync();
    }
    return Status::Ok();
  }

  Status TryLock() override {
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());
    // An F_WRLCK needs a descriptor open for writing.
    if (!writable_) return ErrnoStatus("fcntl(F_OFD_SETLK)", path_, EBADF);
    if (HeldByOther()) {
      return Status(StatusCode::kLocked, "lock " + path_ + ": file already locked by another process",
                    EAGAIN);
    }
    TakeLock();
    return Status::Ok();
  }

  Status Lock() override {
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());
    if (!writable_) return ErrnoStatus("fcntl(F_OFD_SETLKW)", path_, EBADF);
    while (CheckUsable().ok() && HeldByOther()) state_->mu.Wait(state_->lock_cv);
    WAL_RETURN_IF_ERROR(CheckUsable());
    TakeLock();
    return Status::Ok();
  }

  // A copy of the bytes as they are now: later writes do not show in it
  // (the interface allows either), and no later call can make it fault.
  Result<std::shared_ptr<const FileMapping>> Map() override {
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());
    if (!readable_) return ErrnoStatus("mmap", path_, EACCES);
    if (inode_->is_dir) return ErrnoStatus("mmap", path_, ENODEV);
    auto copy = std::make_shared<CopiedMapping>(static_cast<size_t>(inode_->live.size()));
    inode_->live.Read(0, copy->data);
    return std::shared_ptr<const FileMapping>(std::move(copy));
  }

  Status Close() override {
    MutexLock l(&state_->mu);
    if (closed_) return Status::Ok();
    closed_ = true;
    if (inode_->lock_owner == id_ && inode_->lock_generation == state_->generation) {
      inode_->lock_owner = 0;
      state_->lock_cv.notify_all();
    }
    return Status::Ok();
  }

 private:
  Status CheckUsable() const WAL_REQUIRES(state_->mu) {
    if (closed_) return Status(StatusCode::kFailedPrecondition, path_ + ": file is closed");
    if (generation_ != state_->generation) {
      return Status(StatusCode::kIoError, path_ + ": file invalidated by crash");
    }
    return Status::Ok();
  }
  // O_DIRECT's rule (stricter than Linux's logical-block one, so a
  // misaligned write fails here even where a 512-byte disk would take it).
  Status CheckAligned(std::string_view op, uint64_t offset, const void* p, size_t n) const {
    constexpr uint64_t a = kDirectIoAlignment;
    if (direct_ && (offset % a != 0 || n % a != 0 || reinterpret_cast<uintptr_t>(p) % a != 0))
      return ErrnoStatus(op, path_, EINVAL);
    return Status::Ok();
  }
  Status PrecheckWrite(std::string_view op, uint64_t offset, std::span<const std::byte> data) const {
    WAL_RETURN_IF_ERROR(Precheck(op, /*needs_write=*/true));
    if (offset > kMaxFileSize || data.size() > kMaxFileSize - offset) return ErrnoStatus(op, path_, EFBIG);
    return CheckAligned(op, offset, data.data(), data.size());
  }
  // Checks done before the hook, so ops on dead files are not counted.
  Status Precheck(std::string_view op, bool needs_write, int not_writable_errno = EBADF) const {
    MutexLock l(&state_->mu);
    WAL_RETURN_IF_ERROR(CheckUsable());
    if (needs_write && !writable_) return ErrnoStatus(op, path_, not_writable_errno);
    return Status::Ok();
  }
  bool HeldByOther() const WAL_REQUIRES(state_->mu) {
    return inode_->lock_owner != 0 && inode_->lock_owner != id_ &&
           inode_->lock_generation == state_->generation;
  }
  void TakeLock() WAL_REQUIRES(state_->mu) {
    inode_->lock_owner = id_;
    inode_->lock_generation = state_->generation;
  }

  std::shared_ptr<MemFsState> state_;
  InodePtr inode_;
  std::string path_;
  bool readable_;
  bool writable_;
  bool direct_;  // OpenOptions::direct: offsets, lengths and buffers aligned
  uint64_t id_;
  uint64_t generation_;
  bool closed_ WAL_GUARDED_BY(state_->mu) = false;
};

}  // namespace

MemFileSystem::MemFileSystem() : state_(std::make_shared<MemFsState>()) {}
MemFileSystem::~MemFileSystem() = default;

Result<std::unique_ptr<File>> MemFileSystem::Open(const std::string& path, const OpenOptions& o) {
  if (o.create || o.truncate) WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kOpen, path, "", 0, 0}));
  MutexLock l(&state_->mu);
  if (path.empty()) return ErrnoStatus("open", path, ENOENT);
  PathParts p = SplitPath(path);
  int err = 0;
  InodePtr inode;
  if (p.is_root()) {
    inode = state_->root;
    if (o.create && o.exclusive) return ErrnoStatus("open", path, EEXIST);
  } else {
    InodePtr dir = state_->ParentDir(p, &err);
    if (!dir) return ErrnoStatus("open", path, err);
    auto it = dir->entries.find(p.leaf());
    if (it == dir->entries.end()) {
      if (!o.create) return ErrnoStatus("open", path, ENOENT);
      // A new file gets exactly the requested mode (the POSIX side fchmods
      // past the umask).
      inode = std::make_shared<Inode>(false, o.mode);
      dir->entries.emplace(p.leaf(), inode);
    } else {
      if (o.create && o.exclusive) return ErrnoStatus("open", path, EEXIST);
      inode = it->second;
    }
  }
  // Linux refuses a directory for writing, creation or truncation.
  if (inode->is_dir && (o.write || o.create || o.truncate)) return ErrnoStatus("open", path, EISDIR);
  if (o.truncate && inode->live.size() != 0) inode->Resize(0);
  uint64_t id = state_->next_file_id++;
  return std::unique_ptr<File>(new MemFile(state_, std::move(inode), path, /*readable=*/o.read || !o.write,
                                           o.write, o.direct, id, state_->generation));
}

Result<std::vector<std::string>> MemFileSystem::ListDir(const std::string& dir) {
  MutexLock l(&state_->mu);
  if (dir.empty()) return ErrnoStatus("opendir", dir, ENOENT);
  int err = 0;
  InodePtr d = state_->Lookup(SplitPath(dir), &err);
  if (!d) return ErrnoStatus("opendir", dir, err);
  if (!d->is_dir) return ErrnoStatus("opendir", dir, ENOTDIR);
  std::vector<std::string> names;
  names.reserve(d->entries.size());
  for (const auto& [name, child] : d->entries) names.push_back(name);
  return names;
}

Result<FileInfo> MemFileSystem::Stat(const std::string& path) {
  MutexLock l(&state_->mu);
  if (path.empty()) return ErrnoStatus("stat", path, ENOENT);
  int err = 0;
  InodePtr n = state_->Lookup(SplitPath(path), &err);
  if (!n) return ErrnoStatus("stat", path, err);
  FileInfo info;
  info.is_dir = n->is_dir;
  info.size = n->is_dir ? 0 : n->live.size();
  info.mode = n->mode;
  return info;
}

Status MemFileSystem::CreateDir(const std::string& path, uint32_t mode) {
  WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kCreateDir, path, "", 0, 0}));
  MutexLock l(&state_->mu);
  if (path.empty()) return ErrnoStatus("mkdir", path, ENOENT);
  PathParts p = SplitPath(path);
  if (p.is_root()) return ErrnoStatus("mkdir", path, EEXIST);
  int err = 0;
  InodePtr dir = state_->ParentDir(p, &err);
  if (!dir) return ErrnoStatus("mkdir", path, err);
  if (dir->entries.contains(p.leaf())) return ErrnoStatus("mkdir", path, EEXIST);
  dir->entries.emplace(p.leaf(), state_->NewDir(mode));
  return Status::Ok();
}

Status MemFileSystem::RemoveFile(const std::string& path) {
  WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kRemoveFile, path, "", 0, 0}));
  MutexLock l(&state_->mu);
  if (path.empty()) return ErrnoStatus("unlink", path, ENOENT);
  PathParts p = SplitPath(path);
  if (p.is_root()) return ErrnoStatus("unlink", path, EISDIR);
  int err = 0;
  InodePtr dir = state_->ParentDir(p, &err);
  if (!dir) return ErrnoStatus("unlink", path, err);
  auto it = dir->entries.find(p.leaf());
  if (it == dir->entries.end()) return ErrnoStatus("unlink", path, ENOENT);
  if (it->second->is_dir) return ErrnoStatus("unlink", path, EISDIR);  // Linux's errno for unlink(dir)
  dir->entries.erase(it);
  return Status::Ok();
}

Status MemFileSystem::RemoveDir(const std::string& path) {
  WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kRemoveDir, path, "", 0, 0}));
  MutexLock l(&state_->mu);
  if (path.empty()) return ErrnoStatus("rmdir", path, ENOENT);
  PathParts p = SplitPath(path);
  if (p.is_root()) return ErrnoStatus("rmdir", path, EBUSY);
  int err = 0;
  InodePtr dir = state_->ParentDir(p, &err);
  if (!dir) return ErrnoStatus("rmdir", path, err);
  auto it = dir->entries.find(p.leaf());
  if (it == dir->entries.end()) return ErrnoStatus("rmdir", path, ENOENT);
  if (!it->second->is_dir) return ErrnoStatus("rmdir", path, ENOTDIR);
  if (!it->second->entries.empty()) return ErrnoStatus("rmdir", path, ENOTEMPTY);
  dir->entries.erase(it);
  return Status::Ok();
}

Status MemFileSystem::Rename(const std::string& from, const std::string& to) {
  WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kRename, from, to, 0, 0}));
  MutexLock l(&state_->mu);
  const std::string op = "rename " + from + " to";
  if (from.empty() || to.empty()) return ErrnoStatus(op, to, ENOENT);
  PathParts src = SplitPath(from);
  PathParts dst = SplitPath(to);
  int err = 0;
  if (src.is_root()) {
    if (!state_->Lookup(dst, &err)) return ErrnoStatus(op, to, err);
    return ErrnoStatus(op, to, EBUSY);
  }
  InodePtr src_dir = state_->ParentDir(src, &err);
  if (!src_dir) return ErrnoStatus(op, to, err);
  auto src_it = src_dir->entries.find(src.leaf());
  if (src_it == src_dir->entries.end()) return ErrnoStatus(op, to, ENOENT);
  InodePtr node = src_it->second;
  if (dst.is_root()) return ErrnoStatus(op, to, EBUSY);
  InodePtr dst_dir = state_->ParentDir(dst, &err);
  if (!dst_dir) return ErrnoStatus(op, to, err);
  auto dst_it = dst_dir->entries.find(dst.leaf());
  if (dst_it != dst_dir->entries.end() && dst_it->second == node) return Status::Ok();  // same file: no-op
  if (node->is_dir) {
    // No symlinks and no hard-linked directories, so "inside itself" is a
    // lexical prefix test.
    if (dst.parts.size() > src.parts.size() &&
        std::equal(src.parts.begin(), src.parts.end(), dst.parts.begin())) {
      return ErrnoStatus(op, to, EINVAL);
    }
  }
  if (dst_it != dst_dir->entries.end()) {
    const Inode& target = *dst_it->second;
    if (node->is_dir && !target.is_dir) return ErrnoStatus(op, to, ENOTDIR);
    if (!node->is_dir && target.is_dir) return ErrnoStatus(op, to, EISDIR);
    if (target.is_dir && !target.entries.empty()) return ErrnoStatus(op, to, ENOTEMPTY);
  }
  // Erase first: when src and dst share a directory, the insert must not be
  // undone by it.
  src_dir->entries.erase(src_it);
  dst_dir->entries.insert_or_assign(dst.leaf(), std::move(node));
  return Status::Ok();
}

Status MemFileSystem::SyncDir(const std::string& dir) {
  WAL_RETURN_IF_ERROR(state_->BeforeOp({OpKind::kSyncDir, dir, "", 0, 0}));
  MutexLock l(&state_->mu);
  if (dir.empty()) return ErrnoStatus("open directory", dir, ENOENT);
  int err = 0;
  InodePtr d = state_->Lookup(SplitPath(dir), &err);
  if (!d) return ErrnoStatus("open directory", dir, err);
  if (!d->is_dir) return ErrnoStatus("open directory", dir, ENOTDIR);
  d->durable_entries = d->entries;
  return Status::Ok();
}

void MemFileSystem::SimulateCrash(const CrashPolicy& policy) {
  MutexLock l(&state_->mu);
  ++state_->generation;  // invalidates every open File and every lock
  if (policy.mode != CrashMode::kKeepAll) {
    std::unordered_set<const Inode*> visited{state_->root.get()};
    state_->RebuildDir(*state_->root, "", policy, visited);
    // Directories that did not survive: clear their tables so nothing (not
    // even a cycle) keeps their subtrees alive.
    for (auto& weak : state_->dirs) {
      InodePtr d = weak.lock();
      if (d && !visited.contains(d.get())) {
        d->entries.clear();
        d->durable_entries.clear();
      }
    }
    state_->PruneDirs();
  }
  state_->lock_cv.notify_all();
}

void MemFileSystem::SetOpHook(OpHook hook) {
  auto h = hook ? std::make_shared<const OpHook>(std::move(hook)) : nullptr;
  MutexLock l(&state_->mu);
  state_->hook = std::move(h);
}

uint64_t MemFileSystem::op_count() const {
  MutexLock l(&state_->mu);
  return state_->ops;
}

namespace {
// Calls f(path, inode) for every regular file reachable through live entries
// (requires mu).
template <class F>
void ForEachLiveFile(const Inode& root, F f) {
  std::vector<std::pair<std::string, const Inode*>> stack{{"", &root}};
  while (!stack.empty()) {
    auto [path, dir] = stack.back();
    stack.pop_back();
    for (const auto& [name, child] : dir->entries) {
      std::string child_path = path + "/" + name;
      if (child->is_dir) {
        stack.emplace_back(std::move(child_path), child.get());
      } else {
        f(std::move(child_path), *child);
      }
    }
  }
}
}  // namespace

std::vector<std::string> MemFileSystem::ListAllFiles() const {
  MutexLock l(&state_->mu);
  std::vector<std::string> out;
  ForEachLiveFile(*state_->root, [&](std::string path, const Inode&) { out.push_back(std::move(path)); });
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<UnsyncedRange> MemFileSystem::UnsyncedRanges() const {
  MutexLock l(&state_->mu);
  std::vector<UnsyncedRange> out;
  std::unordered_set<const Inode*> seen;
  ForEachLiveFile(*state_->root, [&](std::string path, const Inode& file) {
    if (!seen.insert(&file).second) return;
    auto [first, end] = Image::DiffRange(file.live, file.durable);
    if (first != end) out.push_back(UnsyncedRange{std::move(path), first, end});
  });
  std::sort(out.begin(), out.end(),
            [](const UnsyncedRange& a, const UnsyncedRange& b) { return a.path < b.path; });
  return out;
}

Result<std::string> MemFileSystem::ReadFileToString(const std::string& path) const {
  MutexLock l(&state_->mu);
  int err = ENOENT;
  InodePtr n = path.empty() ? nullptr : state_->Lookup(SplitPath(path), &err);
  if (!n) return ErrnoStatus("read", path, err);
  if (n->is_dir) return ErrnoStatus("read", path, EISDIR);
  return n->live.ToString();
}

Result<std::string> MemFileSystem::ReadDurableFileToString(const std::string& path) const {
  MutexLock l(&state_->mu);
  int err = ENOENT;
  InodePtr n = path.empty() ? nullptr : state_->Lookup(SplitPath(path), &err);
  if (!n) return ErrnoStatus("read", path, err);
  if (n->is_dir) return ErrnoStatus("read", path, EISDIR);
  return n->durable.ToString();
}

Status MemFileSystem::WriteFileFromString(const std::string& path, std::string_view bytes, uint32_t mode) {
  MutexLock l(&state_->mu);
  PathParts p = SplitPath(path);
  if (p.is_root()) return ErrnoStatus("write", path, path.empty() ? ENOENT : EISDIR);
  if (bytes.size() > kMaxFileSize) return ErrnoStatus("write", path, EFBIG);
  InodePtr dir = state_->root;
  for (size_t i = 0; i + 1 < p.parts.size(); ++i) {
    auto it = dir->entries.find(p.parts[i]);
    InodePtr next;
    if (it == dir->entries.end()) {
      next = state_->NewDir(0700);
      dir->entries.emplace(p.parts[i], next);
    } else {
      next = it->second;
      if (!next->is_dir) return ErrnoStatus("write", path, ENOTDIR);
    }
    dir->durable_entries.insert_or_assign(p.parts[i], next);
    dir = std::move(next);
  }
  auto it = dir->entries.find(p.leaf());
  InodePtr file;
  if (it == dir->entries.end()) {
    file = std::make_shared<Inode>(false, mode);
    dir->entries.emplace(p.leaf(), file);
  } else {
    file = it->second;
    if (file->is_dir) return ErrnoStatus("write", path, EISDIR);
    file->mode = mode;
  }
  dir->durable_entries.insert_or_assign(p.leaf(), file);
  Image image;
  image.Write(0, std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
  file->SetBoth(image);
  return Status::Ok();
}

}  // namespace wal
