// The sizes of etcd v3.4's on-disk format (doc/format.md), in one place:
// every file of the library, the tools, the tests and the fuzzers that needs
// one takes it from here. The defaults a user can change (segment size,
// write buffer) are in wal/options.h.
#ifndef WAL_SRC_FORMAT_H_
#define WAL_SRC_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace wal::internal {

// etcd's minSectorSize: the unit of torn-write detection. A record of the
// last segment with a sector of zeros is a torn write (TornWriteRule).
inline constexpr uint64_t kSectorBytes = 512;

// etcd's pageBytes (8 sectors): the page writer flushes page-aligned chunks
// of the file, so a torn flush tears whole sectors. Also the smallest read a
// reader issues, and the page of MemFileSystem's model of a file.
inline constexpr size_t kPageBytes = 8 * kSectorBytes;

// Each frame starts with an 8-byte little-endian length word; the record
// after it is padded with zeros to a multiple of 8 bytes.
inline constexpr size_t kFrameHeaderBytes = 8;
inline constexpr size_t kFrameAlignBytes = 8;

// `n` rounded up to a multiple of `unit` (> 0).
inline constexpr uint64_t RoundUpTo(uint64_t n, uint64_t unit) { return (n + unit - 1) / unit * unit; }

static_assert(kSectorBytes % kFrameAlignBytes == 0, "a length word must never straddle a sector");
static_assert(kPageBytes % kSectorBytes == 0, "a page is whole sectors");

}  // namespace wal::internal

#endif  // WAL_SRC_FORMAT_H_
