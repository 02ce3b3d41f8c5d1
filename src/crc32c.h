// CRC-32C (Castagnoli) as etcd chains it, computed by Intel ISA-L.
#ifndef WAL_SRC_CRC32C_H_
#define WAL_SRC_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wal::internal {

// Go's crc32.Update(crc, castagnoliTable, data): extends a finished CRC-32C
// value with more bytes, so that Extend(Extend(0, a), b) == Crc32c(a ‖ b).
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

inline uint32_t Crc32cExtend(uint32_t crc, std::string_view data) {
  return Crc32cExtend(crc, data.data(), data.size());
}
inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data); }

// A plain table-driven CRC-32C, for cross-checking ISA-L in tests.
uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n);

}  // namespace wal::internal

#endif  // WAL_SRC_CRC32C_H_
