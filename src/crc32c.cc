#include "src/crc32c.h"

#include <isa-l/crc.h>

#include <array>

// ISA-L's SSE4.2 variant (the crc32 instruction), exported by its x86-64
// builds but not declared in its header. Weak: where the build has no such
// symbol it is null and the dispatcher is used for every length.
extern "C" unsigned int crc32_iscsi_00(unsigned char* buffer, int len, unsigned int init_crc)
    __attribute__((weak));

namespace wal::internal {

namespace {

// ISA-L's dispatcher picks the widest folding code the CPU has (here
// AVX-512 + VPCLMULQDQ), which needs a few hundred bytes to pay for its
// setup: on 117-byte records (100-byte entries) it ran at 4.0 GB/s where
// the crc32-instruction variant ran at 8.2 GB/s; at 384 bytes and up the
// dispatcher wins (16 vs 14 GB/s, 33 vs 23 at 64 KiB; measured here). Every
// record of a log is CRC'd separately, so short lengths are the common case.
constexpr int kShortCrcBytes = 384;

bool HaveSse42() {
  static const bool have = crc32_iscsi_00 != nullptr && __builtin_cpu_supports("sse4.2");
  return have;
}

}  // namespace

// ISA-L's crc32_iscsi works on the raw (un-inverted) register: the standard
// CRC-32C of `data` is ~crc32_iscsi(data, n, ~0). Feeding back the inverted
// previous result continues the computation, which is what Go's Update does.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n) {
  if (n == 0) return crc;
  // crc32_iscsi takes an int length; split huge buffers.
  auto* p =
      static_cast<unsigned char*>(const_cast<void*>(data));  // ISA-L takes a non-const pointer but only reads
  uint32_t reg = ~crc;
  if (n < kShortCrcBytes && HaveSse42()) return ~crc32_iscsi_00(p, static_cast<int>(n), reg);
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
