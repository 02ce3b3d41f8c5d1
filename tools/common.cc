#include "tools/common.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tools/etcd_snap.h"
#include "tools/text.h"
#include "wal/file_system.h"
#include "wal/wal.h"

namespace walctl {

using wal::Status;
using wal::StatusCode;

int ExitCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kLocked:
      return kExitLocked;
    case StatusCode::kIoError:
    case StatusCode::kPermissionDenied:
    case StatusCode::kNoSpace:
      return kExitIo;
    case StatusCode::kNotFound:
      return kExitNoSuchPath;
    case StatusCode::kFileNotFound:
      return kExitNotWal;
    case StatusCode::kSnapshotNotFound:
    case StatusCode::kSnapshotMismatch:
    case StatusCode::kIndexNotFound:
      return kExitNoSnapshot;
    case StatusCode::kUnexpectedEof:
      return kExitTorn;
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
      return kExitUsage;
    default:
      return kExitCorrupt;
  }
}

int ReportError(const Status& s) {
  std::fflush(stdout);
  std::fprintf(stderr, "walctl: %.*s\n", static_cast<int>(s.message().size()), s.message().data());
  return ExitCodeFor(s.code());
}

void Warn(std::string_view message) {
  std::fflush(stdout);
  std::fprintf(stderr, "walctl: warning: %.*s\n", static_cast<int>(message.size()), message.data());
}

void Note(std::string_view message) {
  std::fflush(stdout);
  std::fprintf(stderr, "walctl: note: %.*s\n", static_cast<int>(message.size()), message.data());
}

Status Rephrase(const Status& s, const std::string& where) {
  if (const wal::ErrorPlace* p = s.place(); p != nullptr && !p->file.empty()) {
    // The library's place, as data: "<what>: <where>/<segment> at offset <n>".
    std::string out = p->what + ": " + wal::JoinPath(where, p->file);
    if (p->offset) out += " at offset " + std::to_string(*p->offset);
    return Status(s.code(), out, s.sys_errno());
  }
  std::string out(Reason(s));
  if (out.find(where) == std::string::npos) out += ": " + where;
  return Status(s.code(), out, s.sys_errno());
}

std::string Reason(const Status& s) {
  if (const wal::ErrorPlace* p = s.place()) return p->what;
  std::string_view m = s.message();
  if (m.starts_with("wal: ")) m.remove_prefix(5);
  return std::string(m);
}

namespace {

// The operator's phrasing of an OS failure on `path`.
Status OsError(const Status& s, const std::string& path) {
  switch (s.code()) {
    case StatusCode::kPermissionDenied:
      return Status(s.code(), "permission denied: " + path, s.sys_errno());
    case StatusCode::kNotFound:
      return Status(s.code(), "no such file or directory: " + path, s.sys_errno());
    default:
      return Rephrase(s, path);
  }
}

Status InspectSegment(const std::string& path, uint64_t* size) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    StatusCode code = StatusCode::kIoError;
    if (err == EACCES || err == EPERM) code = StatusCode::kPermissionDenied;
    if (err == ENOENT) code = StatusCode::kNotFound;  // e.g. a dangling symlink
    return OsError(Status(code, std::string(std::strerror(err)), err), path);
  }
  // A FIFO or device would block or never end: refuse anything that is not
  // a plain file before the library opens it.
  if (!S_ISREG(st.st_mode)) return Status(StatusCode::kCorruption, "segment is not a regular file: " + path);
  // Readable? (Opens read-only; never creates or writes.)
  auto f = wal::FileSystem::Default()->Open(path, wal::OpenOptions{});
  if (!f.has_value()) return OsError(f.error(), path);
  (*f)->Close().IgnoreError();
  *size = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

}  // namespace

wal::Result<WalDir> InspectWalDir(const std::string& dir_in) {
  wal::FileSystem* fs = wal::FileSystem::Default();
  WalDir out;
  out.dir = dir_in.empty() ? dir_in : wal::CleanPath(dir_in);
  if (out.dir.empty()) return Status(StatusCode::kInvalidArgument, "empty directory name: \"\"");
  auto info = fs->Stat(out.dir);
  if (!info.has_value()) {
    if (info.error().code() == StatusCode::kNotFound)
      return Status(StatusCode::kNotFound, "no such directory: " + out.dir);
    return OsError(info.error(), out.dir);
  }
  if (!info->is_dir)
    return Status(StatusCode::kFileNotFound, "not a WAL directory (not a directory): " + out.dir);
  auto names = fs->ListDir(out.dir);
  if (!names.has_value()) return OsError(names.error(), out.dir);
  std::sort(names->begin(), names->end());
  for (const std::string& n : *names) {
    auto seg = wal::ParseSegmentFileName(n);
    if (!seg) {
      if (n.ends_with(".wal"))
        Warn("ignoring a *.wal file whose name is not <seq>-<index>.wal: " + wal::JoinPath(out.dir, n));
      out.other_files.push_back(n);
      continue;
    }
    SegmentFile f{std::move(*seg), wal::JoinPath(out.dir, n), 0};
    WAL_RETURN_IF_ERROR(InspectSegment(f.path, &f.size));
    out.total_bytes += f.size;
    out.segments.push_back(std::move(f));
  }
  if (out.segments.empty()) {
    // An etcd data dir holds its WAL in member/wal (and snapshots in
    // member/snap): read that, and say so.
    const std::string member_wal = wal::JoinPath(out.dir, "member/wal");
    if (auto st = fs->Stat(member_wal); st.has_value() && st->is_dir) {
      WAL_ASSIGN_OR_RETURN(WalDir inner, InspectWalDir(member_wal));
      inner.data_dir = out.dir;
      Note("etcd data dir: reading its WAL in " + inner.dir);
      return inner;
    }
    return Status(StatusCode::kFileNotFound,
                  "not a WAL directory (no *.wal files, and no member/wal): " + out.dir);
  }
  // etcd's layout: <data dir>/member/{wal,snap}.
  if (const size_t slash = out.dir.rfind('/');
      out.dir.substr(slash == std::string::npos ? 0 : slash + 1) == "wal") {
    const std::string snap =
        wal::JoinPath(slash == std::string::npos ? "." : out.dir.substr(0, slash), "snap");
    if (auto st = fs->Stat(snap); st.has_value() && st->is_dir) out.snap_dir = snap;
  }
  return out;
}

wal::Result<size_t> SelectFrom(const WalDir& d, uint64_t index) {
  std::vector<wal::SegmentFileInfo> names;
  for (const auto& s : d.segments) names.push_back(s.name);
  auto r = wal::SelectSegmentFiles(names, index, d.dir);
  if (!r.has_value() && r.error().code() == StatusCode::kFileNotFound) {
    // Older than the oldest segment: no usable snapshot. Else a segment is
    // missing in the middle of the run, which is damage.
    const bool purged = d.segments.front().name.index > index;
    return Status(purged ? StatusCode::kSnapshotNotFound : StatusCode::kCorruption, Reason(r.error()));
  }
  return r;
}

std::vector<SnapFile> ListSnapFiles(const WalDir& d) {
  std::vector<SnapFile> out;
  if (d.snap_dir.empty()) return out;
  auto names = wal::FileSystem::Default()->ListDir(d.snap_dir);
  if (!names.has_value()) return out;
  for (const std::string& n : *names) {
    // etcd names them %016x-%016x.snap: term, then index.
    unsigned long long term = 0, index = 0;
    char tail = 0;
    if (n.size() != 16 + 1 + 16 + 5 || !n.ends_with(".snap")) continue;
    if (std::sscanf(n.c_str(), "%16llx-%16llx.sna%c", &term, &index, &tail) != 3 || tail != 'p') continue;
    out.push_back(SnapFile{n, term, index});
  }
  std::sort(out.begin(), out.end(), [](const SnapFile& a, const SnapFile& b) { return a.index > b.index; });
  return out;
}

wal::Result<StartPoint> DefaultStart(const WalDir& d, const wal::Options& options) {
  const std::vector<SnapFile> files = ListSnapFiles(d);
  const bool from_zero = SelectFrom(d, 0).has_value();
  if (files.empty() && from_zero) return StartPoint{};  // the whole log, no note
  auto valid = wal::ValidSnapshotEntries(d.dir, options);
  if (!valid.has_value()) return Rephrase(valid.error(), d.dir);
  auto recorded = [&](uint64_t index, uint64_t term) {
    return std::any_of(valid->begin(), valid->end(),
                       [&](const wal::Snapshot& s) { return s.index == index && s.term == term; });
  };
  for (const SnapFile& f : files) {
    if (!recorded(f.index, f.term) || !SelectFrom(d, f.index).has_value()) continue;
    // etcd loads the file and skips (renames .broken) one it cannot read.
    auto header = ReadSnapFile(wal::JoinPath(d.snap_dir, f.name));
    if (!header.has_value() || header->index != f.index || header->term != f.term) {
      Warn("skipping " + wal::JoinPath(d.snap_dir, f.name) + ": " +
           (header.has_value() ? "its header says " + SnapHeaderText(*header) : Reason(header.error())) +
           " (etcd skips it too, renaming it .broken)");
      continue;
    }
    StartPoint p{{f.index, f.term},
                 "the newest snapshot file the WAL records, " + f.name + " (etcd starts there)"};
    Note("reading from snapshot {index=" + std::to_string(f.index) + " term=" + std::to_string(f.term) +
         "}: " + p.why);
    return p;
  }
  if (from_zero) return StartPoint{};
  for (auto it = valid->rbegin(); it != valid->rend(); ++it) {
    if (!SelectFrom(d, it->index).has_value()) continue;
    StartPoint p{*it, "the newest valid snapshot record; the oldest segment starts at index " +
                          std::to_string(d.segments.front().name.index) + " (older segments were purged)"};
    Note("reading from snapshot {index=" + std::to_string(it->index) + " term=" + std::to_string(it->term) +
         "}: " + p.why);
    return p;
  }
  return Status(StatusCode::kSnapshotNotFound,
                "no usable snapshot: the oldest segment starts at index " +
                    std::to_string(d.segments.front().name.index) +
                    " and no valid snapshot record lies in the segments left: " + d.dir);
}

// Is the segment locked by a writer? Takes the (OFD) lock for a moment on a
// read/write descriptor, which a write lock needs; nothing is written.
std::string ProbeLock(const std::string& path) {
  wal::OpenOptions o;
  o.write = true;
  auto f = wal::FileSystem::Default()->Open(path, o);
  if (!f.has_value()) return "unknown (" + std::string(f.error().message()) + ")";
  wal::Status s = (*f)->TryLock();
  (*f)->Close().IgnoreError();
  if (s.ok()) return "free";
  if (s.code() == wal::StatusCode::kLocked) return "LOCKED";
  return "unknown (" + std::string(s.message()) + ")";
}

void WarnIfLocked(const WalDir& d) {
  if (ProbeLock(d.segments.back().path) == "LOCKED")
    Warn(
        "a running process holds the WAL's lock (a live etcd member?): it may append while walctl reads, "
        "and the last records may be in flight: " +
        d.segments.back().path);
}

wal::TornWriteRule ParseTornWriteRule(const std::string& name) {
  return name == "etcd" ? wal::TornWriteRule::kEtcd : wal::TornWriteRule::kZeroTail;
}

int ReportFailure(const Status& s, bool json) {
  if (json) {
    std::string out = "{\"error\": {\"code\": " + JsonString(wal::StatusCodeName(s.code())) +
                      ", \"message\": " + JsonString(s.message()) + "}}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return ReportError(s);
}

Output::~Output() { Flush(); }

Output& Output::operator<<(std::string_view s) {
  buf_.append(s);
  if (buf_.size() >= (1u << 20)) Flush();
  return *this;
}

Output& Output::operator<<(uint64_t v) { return *this << std::string_view(std::to_string(v)); }

void Output::Flush() {
  if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), stdout);
  buf_.clear();
}

Status Output::Finish() {
  Flush();
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    return Status(StatusCode::kIoError,
                  std::string("cannot write the output (") + std::strerror(errno) + "): stdout");
  }
  return Status::Ok();
}

std::string HardStateText(const wal::HardState& s) {
  return "term=" + std::to_string(s.term) + " vote=" + std::to_string(s.vote) +
         " commit=" + std::to_string(s.commit);
}

}  // namespace walctl
