// Status and Result<T>: the library's error values.
//
// The library never throws and builds with -fno-exceptions. Every fallible
// call returns a [[nodiscard]] Status or Result<T>. An OK Status holds no
// allocation; an error holds a code, the saved errno (0 if none), a message
// that says what failed and where (file, offset, index), and, for an error
// at a place in the log, that place as data (place()), so that a tool never
// parses the message.
//
// Thread safety: Status and Result are values; distinct objects may be used
// from distinct threads freely.
#ifndef WAL_STATUS_H_
#define WAL_STATUS_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace wal {

enum class StatusCode : int {
  kOk = 0,
  // One code per etcd error, so callers can branch exactly as etcd's do.
  kMetadataConflict,  // wal.ErrMetadataConflict
  kFileNotFound,      // wal.ErrFileNotFound: no (matching) *.wal file (kNotFound: no such path)
  kIndexNotFound,     // seed wal.ErrIndexNotFound (OpenAtIndex past the end)
  kCrcMismatch,       // wal.ErrCRCMismatch / walpb.ErrCRCMismatch
  kSnapshotMismatch,  // wal.ErrSnapshotMismatch
  kSnapshotNotFound,  // wal.ErrSnapshotNotFound
  kSliceOutOfRange,   // wal.ErrSliceOutOfRange (a gap in entry indexes)
  kDecoderNotFound,   // wal.ErrDecoderNotFound (ReadAll when not in read mode)
  kAlreadyExists,     // os.ErrExist (Create on an existing WAL)
  kLocked,            // fileutil.ErrLocked (another process holds the lock)
  kUnexpectedEof,     // io.ErrUnexpectedEOF: a torn last record (repairable)
  // General codes.
  kCorruption,          // bytes that cannot be a valid WAL (not repairable)
  kIoError,             // an operating-system call failed
  kNoSpace,             // ENOSPC / EDQUOT
  kInvalidArgument,     // a caller passed a bad value
  kFailedPrecondition,  // wrong mode, closed, or poisoned by an earlier I/O error
  kNotFound,            // a path that does not exist (ENOENT; kFileNotFound: no segment)
  kPermissionDenied,    // EACCES / EPERM
};

// Returns the enumerator name without the leading 'k' ("CrcMismatch").
std::string_view StatusCodeName(StatusCode code);

// Where in the log an error was found. The message names it too, for
// people; this is for programs.
struct ErrorPlace {
  std::string what;                // the reason alone: no "wal: " prefix, no place
  std::string file;                // segment file (base name) or path; "" if none
  std::optional<uint64_t> offset;  // byte offset in `file` (of the record's frame)
  std::optional<uint64_t> index;   // the raft entry index concerned
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, int sys_errno = 0);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status Ok() { return Status(); }
  // An error at `place`; its message is "wal: <what> in <file> at offset
  // <offset>" (the parts that are set).
  static Status At(StatusCode code, ErrorPlace place, int sys_errno = 0);

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The errno saved when an OS call failed, else 0.
  int sys_errno() const { return rep_ ? rep_->sys_errno : 0; }
  // The message alone, without the code name.
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  // The place in the log, when the error has one; nullptr else.
  const ErrorPlace* place() const { return rep_ && rep_->place ? &*rep_->place : nullptr; }
  // "CrcMismatch: wal: crc mismatch in 0000...-0000....wal at offset 4096".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` + ": " (the
  // place, if any, is kept).
  Status WithContext(std::string_view context) const;

  // The only sanctioned way to drop an error; greppable on purpose.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, StatusCode c) { return a.code() == c; }

 private:
  struct Rep {
    StatusCode code;
    int sys_errno;
    std::string message;
    std::optional<ErrorPlace> place;
  };
  std::unique_ptr<Rep> rep_;
};

namespace internal {
[[noreturn]] void DieBadResultAccess(const Status& status);
}  // namespace internal

// Holds a T or a non-OK Status. Shaped like std::expected<T, Status>.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status(StatusCode::kFailedPrecondition, "Result built from OK Status");
  }
  template <class U, class = std::enable_if_t<std::is_convertible_v<U&&, T> &&
                                              !std::is_same_v<std::decay_t<U>, Status> &&
                                              !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : value_(T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return value_.has_value(); }
  explicit operator bool() const { return has_value(); }

  // Aborts (never throws) when there is no value.
  T& value() & {
    if (!value_) internal::DieBadResultAccess(status_);
    return *value_;
  }
  const T& value() const& {
    if (!value_) internal::DieBadResultAccess(status_);
    return *value_;
  }
  T&& value() && {
    if (!value_) internal::DieBadResultAccess(status_);
    return std::move(*value_);
  }
  template <class U>
  T value_or(U&& other) const& {
    return value_ ? *value_ : T(std::forward<U>(other));
  }
  // The error; an OK Status when there is a value.
  const Status& error() const { return status_; }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace wal

#define WAL_STATUS_CONCAT_INNER_(a, b) a##b
#define WAL_STATUS_CONCAT_(a, b) WAL_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (a Status) is not OK.
#define WAL_RETURN_IF_ERROR(expr)                      \
  do {                                                 \
    ::wal::Status wal_status_tmp_ = (expr);            \
    if (!wal_status_tmp_.ok()) return wal_status_tmp_; \
  } while (0)

// `lhs = value of expr` or return its error. `lhs` may declare a variable
// ("auto x"). Expands to several statements: do not use as the body of an
// unbraced if/else.
#define WAL_ASSIGN_OR_RETURN(lhs, expr) \
  WAL_ASSIGN_OR_RETURN_IMPL_(WAL_STATUS_CONCAT_(wal_result_, __LINE__), lhs, expr)
#define WAL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.has_value()) return tmp.error();        \
  lhs = std::move(tmp).value()

// Always-on invariant check guarding on-disk data. Aborts with a message.
#define WAL_CHECK(cond)                                                                 \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: WAL_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

#endif  // WAL_STATUS_H_
