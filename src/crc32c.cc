#include "src/crc32c.h"

#include <isa-l/crc.h>

#include <array>

namespace wal::internal {

// ISA-L's crc32_iscsi works on the raw (un-inverted) register: the standard
// CRC-32C of `data` is ~crc32_iscsi(data, n, ~0). Feeding back the inverted
// previous result continues the computation, which is what Go's Update does.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n) {
  if (n == 0) return crc;
  // crc32_iscsi takes an int length; split huge buffers.
  auto* p =
      static_cast<unsigned char*>(const_cast<void*>(data));  // ISA-L takes a non-const pointer but only reads
  uint32_t reg = ~crc;
  constexpr size_t kMaxChunk = size_t{1} << 30;
  while (n > 0) {
    size_t chunk = n < kMaxChunk ? n : kMaxChunk;
    reg = crc32_iscsi(p, static_cast<int>(chunk), reg);
    p += chunk;
    n -= chunk;
  }
  return ~reg;
}

namespace {
constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();
}  // namespace

uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t reg = ~crc;
  for (size_t i = 0; i < n; ++i) reg = kTable[(reg ^ p[i]) & 0xff] ^ (reg >> 8);
  return ~reg;
}

}  // namespace wal::internal
