// Little-endian fixed-width and protobuf varint coding, memcpy-based so the
// format never depends on host byte order or alignment.
#ifndef WAL_SRC_CODING_H_
#define WAL_SRC_CODING_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace wal::internal {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

inline void EncodeFixed64LE(uint8_t* dst, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(dst, &v, 8);
  } else {
    for (int i = 0; i < 8; ++i) dst[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}

inline uint64_t DecodeFixed64LE(const uint8_t* src) {
  if constexpr (std::endian::native == std::endian::little) {
    uint64_t v;
    std::memcpy(&v, src, 8);
    return v;
  } else {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(src[i]) << (8 * i);
    return v;
  }
}

// Bytes a varint of `v` takes: 1..10.
constexpr size_t VarintLength(uint64_t v) {
  // 7 payload bits per byte: ceil(significant bits / 7), at least 1. The
  // `| 1` makes v = 0 count one bit; (bits * 9 + 64) / 64 == ceil(bits / 7)
  // for 1..64 bits, without a loop or a division.
  const unsigned bits = 64u - static_cast<unsigned>(std::countl_zero(v | 1));
  return (bits * 9 + 64) / 64;
}
static_assert(VarintLength(0) == 1 && VarintLength(127) == 1 && VarintLength(128) == 2 &&
              VarintLength((uint64_t{1} << 28) - 1) == 4 && VarintLength(uint64_t{1} << 28) == 5 &&
              VarintLength(uint64_t{1} << 63) == 10 && VarintLength(~uint64_t{0}) == 10);

// Writes `v` as a varint at `dst`; returns the byte after it.
inline uint8_t* EncodeVarint(uint8_t* dst, uint64_t v) {
  while (v >= 0x80) {
    *dst++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<uint8_t>(v);
  return dst;
}

// Reads a varint from [*p, end). Returns false on truncation or when it runs
// past 10 bytes (protobuf's overflow rule). Bits past 64 are dropped, as
// protobuf parsers do for a 10th byte above 1.
inline bool DecodeVarint(const uint8_t** p, const uint8_t* end, uint64_t* out) {
  uint64_t v = 0;
  const uint8_t* q = *p;
  for (int shift = 0; shift < 70; shift += 7) {
    if (q >= end) return false;
    uint8_t b = *q++;
    if (shift < 64) v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *p = q;
      *out = v;
      return true;
    }
  }
  return false;
}

}  // namespace wal::internal

#endif  // WAL_SRC_CODING_H_
