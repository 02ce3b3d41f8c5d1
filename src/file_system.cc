#include "wal/file_system.h"

#include <string>

namespace wal {

namespace {
std::string Parent(const std::string& path) {
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;
  size_t slash = path.rfind('/', end - 1);
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

bool PathExists(FileSystem* fs, const std::string& path) { return fs->Stat(path).has_value(); }

Status File::WriteAtDurable(uint64_t offset, std::span<const std::byte> data) {
  WAL_RETURN_IF_ERROR(WriteAt(offset, data));
  return Sync();
}

void File::StartWriteback(uint64_t, uint64_t) {}

Result<std::shared_ptr<const FileMapping>> File::Map() {
  return Status(StatusCode::kFailedPrecondition, path() + ": this file system cannot map files");
}

Status CreateDirAll(FileSystem* fs, const std::string& path, uint32_t mode, bool sync_parents) {
  auto st = fs->Stat(path);
  if (st.has_value()) {
    if (!st->is_dir) return Status(StatusCode::kAlreadyExists, path + " exists and is not a directory");
    return Status::Ok();
  }
  if (st.error().code() != StatusCode::kNotFound) return st.error();
  std::string parent = Parent(path);
  if (parent != path) WAL_RETURN_IF_ERROR(CreateDirAll(fs, parent, mode, sync_parents));
  Status s = fs->CreateDir(path, mode);
  if (s.code() == StatusCode::kAlreadyExists) return Status::Ok();  // lost a race; fine
  WAL_RETURN_IF_ERROR(s);
  // A new directory is an entry of its parent: durable only once the parent
  // is synced.
  if (sync_parents) WAL_RETURN_IF_ERROR(fs->SyncDir(parent));
  return Status::Ok();
}

Status RemoveAll(FileSystem* fs, const std::string& path) {
  auto st = fs->Stat(path);
  if (!st.has_value()) return st.error().code() == StatusCode::kNotFound ? Status::Ok() : st.error();
  if (!st->is_dir) {
    Status s = fs->RemoveFile(path);
    return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
  }
  WAL_ASSIGN_OR_RETURN(auto names, fs->ListDir(path));
  for (const auto& n : names) WAL_RETURN_IF_ERROR(RemoveAll(fs, path + "/" + n));
  Status s = fs->RemoveDir(path);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

}  // namespace wal
