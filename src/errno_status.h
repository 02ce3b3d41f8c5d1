// The one errno -> StatusCode mapping, shared by the POSIX and in-memory
// file systems so callers (and the conformance tests) see identical codes.
#ifndef WAL_SRC_ERRNO_STATUS_H_
#define WAL_SRC_ERRNO_STATUS_H_

#include <string>
#include <string_view>

#include "wal/status.h"

namespace wal::internal {

// "<op> <path>: <strerror>" with the code for `err` and `err` saved.
Status ErrnoStatus(std::string_view op, const std::string& path, int err);

}  // namespace wal::internal

#endif  // WAL_SRC_ERRNO_STATUS_H_
