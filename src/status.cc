#include "wal/status.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "src/errno_status.h"

namespace wal {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "Ok";
    case StatusCode::kMetadataConflict:
      return "MetadataConflict";
    case StatusCode::kFileNotFound:
      return "FileNotFound";
    case StatusCode::kIndexNotFound:
      return "IndexNotFound";
    case StatusCode::kCrcMismatch:
      return "CrcMismatch";
    case StatusCode::kSnapshotMismatch:
      return "SnapshotMismatch";
    case StatusCode::kSnapshotNotFound:
      return "SnapshotNotFound";
    case StatusCode::kSliceOutOfRange:
      return "SliceOutOfRange";
    case StatusCode::kDecoderNotFound:
      return "DecoderNotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kLocked:
      return "Locked";
    case StatusCode::kUnexpectedEof:
      return "UnexpectedEof";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kIoError:
      return "IoError";
    case StatusCode::kNoSpace:
      return "NoSpace";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kFailedPrecondition:
      return "FailedPrecondition";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kPermissionDenied:
      return "PermissionDenied";
  }
  return "Unknown";
}

Status::Status(StatusCode code, std::string message, int sys_errno) {
  if (code != StatusCode::kOk) rep_.reset(new Rep{code, sys_errno, std::move(message)});
}

Status Status::At(StatusCode code, ErrorPlace place, int sys_errno) {
  std::string m = "wal: " + place.what;
  if (!place.file.empty()) m += " in " + place.file;
  if (place.offset) m += " at offset " + std::to_string(*place.offset);
  Status s(code, std::move(m), sys_errno);
  if (s.rep_) s.rep_->place = std::move(place);
  return s;
}

Status::Status(const Status& other) : rep_(other.rep_ ? new Rep(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_.reset(other.rep_ ? new Rep(*other.rep_) : nullptr);
  return *this;
}

std::string Status::ToString() const {
  if (!rep_) return "OK";
  std::string s(StatusCodeName(rep_->code));
  s += ": ";
  s += rep_->message;
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (!rep_) return Status();
  std::string m(context);
  m += ": ";
  m += rep_->message;
  Status s(rep_->code, std::move(m), rep_->sys_errno);
  if (s.rep_) s.rep_->place = rep_->place;
  return s;
}

namespace internal {

Status ErrnoStatus(std::string_view op, const std::string& path, int err) {
  StatusCode code = StatusCode::kIoError;
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      code = StatusCode::kNoSpace;
      break;
    case ENOENT:
      code = StatusCode::kNotFound;
      break;
    case EEXIST:
    case ENOTEMPTY:
      code = StatusCode::kAlreadyExists;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = StatusCode::kPermissionDenied;
      break;
    default:
      break;
  }
  return Status(code, std::string(op) + " " + path + ": " + std::strerror(err), err);
}

void DieBadResultAccess(const Status& status) {
  std::fprintf(stderr, "wal: value() called on a Result holding an error: %s\n", status.ToString().c_str());
  std::abort();
}
}  // namespace internal

}  // namespace wal
