// The snapshot side files (format in snapshot_store.h and doc/raft.md).
#include "raft/snapshot_store.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "src/coding.h"
#include "src/crc32c.h"
#include "src/segment_names.h"

namespace wal::internal {

namespace {

constexpr std::string_view kMagic = "WRSNAP01";
constexpr std::string_view kSuffix = ".raftsnap";
constexpr std::string_view kTmpSuffix = ".tmp";
static_assert(kMagic.size() == 8, "the magic is one u64-sized field");

void PutU64(std::string* out, uint64_t v) {
  uint8_t b[8];
  EncodeFixed64LE(b, v);
  out->append(reinterpret_cast<const char*>(b), 8);
}

// A bounds-checked cursor over a loaded file.
class Cursor {
 public:
  explicit Cursor(std::string_view data) : data_(data) {}
  bool U64(uint64_t* v) {
    if (data_.size() - pos_ < 8) return false;
    *v = DecodeFixed64LE(reinterpret_cast<const uint8_t*>(data_.data() + pos_));
    pos_ += 8;
    return true;
  }
  bool Bytes(uint64_t n, std::string_view* out) {
    if (data_.size() - pos_ < n) return false;
    *out = data_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

std::span<const std::byte> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

bool ParseName(std::string_view name, SnapshotId* id) {
  // <16 hex>-<16 hex>.raftsnap
  if (name.size() != 16 + 1 + 16 + kSuffix.size() || name[16] != '-' || !name.ends_with(kSuffix))
    return false;
  auto hex = [](std::string_view s, uint64_t* v) {
    *v = 0;
    for (char c : s) {
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else {
        return false;
      }
      *v = (*v << 4) | static_cast<uint64_t>(d);
    }
    return true;
  };
  return hex(name.substr(0, 16), &id->index) && hex(name.substr(17, 16), &id->term);
}

}  // namespace

SnapshotStore::SnapshotStore(FileSystem* fs, std::string dir, bool sync)
    : fs_(fs), dir_(std::move(dir)), sync_(sync) {}

std::string SnapshotStore::FileName(const SnapshotId& id) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 "-%016" PRIx64, id.index, id.term);
  return std::string(buf) + std::string(kSuffix);
}

std::string SnapshotStore::PathOf(const SnapshotId& id) const { return JoinPath(dir_, FileName(id)); }

Status SnapshotStore::Init() {
  WAL_RETURN_IF_ERROR(CreateDirAll(fs_, dir_, 0700, /*sync_parents=*/sync_));
  WAL_ASSIGN_OR_RETURN(auto names, fs_->ListDir(dir_));
  bool removed = false;
  for (const std::string& n : names) {
    if (std::string_view(n).ends_with(kTmpSuffix)) {
      WAL_RETURN_IF_ERROR(fs_->RemoveFile(JoinPath(dir_, n)));
      removed = true;
    }
  }
  if (removed && sync_) WAL_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return Status::Ok();
}

Result<std::vector<SnapshotId>> SnapshotStore::List() const {
  WAL_ASSIGN_OR_RETURN(auto names, fs_->ListDir(dir_));
  std::vector<SnapshotId> ids;
  for (const std::string& n : names) {
    SnapshotId id;
    if (ParseName(n, &id)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end(), [](const SnapshotId& a, const SnapshotId& b) {
    return a.index != b.index ? a.index > b.index : a.term > b.term;
  });
  return ids;
}

Status SnapshotStore::Put(const SnapshotMeta& meta, std::span<const std::string_view> payload) {
  std::string head(kMagic);
  PutU64(&head, meta.index);
  PutU64(&head, meta.term);
  PutU64(&head, meta.configuration_index);
  PutU64(&head, meta.servers.size());
  for (const SnapshotServer& s : meta.servers) {
    PutU64(&head, s.id);
    PutU64(&head, s.role);
    PutU64(&head, s.address.size());
    head += s.address;
  }
  uint64_t payload_bytes = 0;
  for (std::string_view p : payload) payload_bytes += p.size();
  PutU64(&head, payload_bytes);

  // The payload pieces are written where raft handed them over (no copy);
  // the CRC runs over the same bytes in the same order.
  uint32_t crc = Crc32c(head);
  for (std::string_view p : payload) crc = Crc32cExtend(crc, p);
  std::string tail;
  PutU64(&tail, crc);

  const SnapshotId id{meta.index, meta.term};
  const std::string path = PathOf(id);
  const std::string tmp = path + std::string(kTmpSuffix);
  OpenOptions o;
  o.write = true;
  o.create = true;
  o.truncate = true;
  o.mode = 0600;
  WAL_ASSIGN_OR_RETURN(auto f, fs_->Open(tmp, o));
  uint64_t off = 0;
  WAL_RETURN_IF_ERROR(f->WriteAt(off, AsBytes(head)));
  off += head.size();
  for (std::string_view p : payload) {
    if (p.empty()) continue;
    WAL_RETURN_IF_ERROR(f->WriteAt(off, AsBytes(p)));
    off += p.size();
  }
  WAL_RETURN_IF_ERROR(f->WriteAt(off, AsBytes(tail)));
  // The data must be durable before the rename makes the name visible, or a
  // crash could leave a complete-looking name over missing bytes.
  if (sync_) WAL_RETURN_IF_ERROR(f->Sync());
  WAL_RETURN_IF_ERROR(f->Close());
  WAL_RETURN_IF_ERROR(fs_->Rename(tmp, path));
  // The rename is durable only once the directory is: the WAL's snapshot
  // record, written after this returns, must never point at a name a crash
  // could take back.
  if (sync_) WAL_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return Status::Ok();
}

Result<StoredSnapshot> SnapshotStore::Load(const SnapshotId& id) const {
  const std::string path = PathOf(id);
  WAL_ASSIGN_OR_RETURN(auto f, fs_->Open(path, OpenOptions{}));
  WAL_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  std::string data(static_cast<size_t>(size), '\0');
  WAL_ASSIGN_OR_RETURN(size_t got, f->ReadAt(0, {reinterpret_cast<std::byte*>(data.data()), data.size()}));
  f->Close().IgnoreError();  // read only
  auto corrupt = [&](const char* what) {
    return Status(StatusCode::kCorruption, std::string("walraft: snapshot ") + path + ": " + what);
  };
  if (got != size) return corrupt("short read");
  if (data.size() < kMagic.size() + 8) return corrupt("too short");
  std::string_view body(data.data(), data.size() - 8);
  const uint64_t want = DecodeFixed64LE(reinterpret_cast<const uint8_t*>(data.data() + body.size()));
  if (Crc32c(body) != want) return corrupt("crc mismatch");
  if (!body.starts_with(kMagic)) return corrupt("bad magic");
  Cursor c(body.substr(kMagic.size()));
  StoredSnapshot out;
  uint64_t n = 0;
  if (!c.U64(&out.meta.index) || !c.U64(&out.meta.term) || !c.U64(&out.meta.configuration_index) ||
      !c.U64(&n)) {
    return corrupt("truncated header");
  }
  // Every server takes at least 24 bytes: a count past that is corrupt, and
  // is rejected before anything is allocated for it.
  if (n > c.remaining() / 24) return corrupt("server count exceeds the file");
  for (uint64_t i = 0; i < n; ++i) {
    SnapshotServer s;
    uint64_t len = 0;
    std::string_view addr;
    if (!c.U64(&s.id) || !c.U64(&s.role) || !c.U64(&len) || !c.Bytes(len, &addr))
      return corrupt("truncated server");
    s.address = std::string(addr);
    out.meta.servers.push_back(std::move(s));
  }
  uint64_t len = 0;
  std::string_view payload;
  if (!c.U64(&len) || !c.Bytes(len, &payload)) return corrupt("truncated payload");
  if (c.remaining() != 0) return corrupt("trailing bytes");
  if (out.meta.index != id.index || out.meta.term != id.term)
    return corrupt("index/term differ from the name");
  out.payload = std::string(payload);
  return out;
}

Status SnapshotStore::Prune(size_t keep) {
  WAL_ASSIGN_OR_RETURN(auto ids, List());
  if (ids.size() <= keep) return Status::Ok();
  for (size_t i = keep; i < ids.size(); ++i) WAL_RETURN_IF_ERROR(fs_->RemoveFile(PathOf(ids[i])));
  // Not required for correctness (a file that comes back after a crash is an
  // older snapshot, never chosen over a newer recorded one); keeps the
  // directory's state what the caller was told.
  if (sync_) WAL_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return Status::Ok();
}

}  // namespace wal::internal
