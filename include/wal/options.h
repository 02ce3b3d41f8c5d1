// Options for opening or creating a WAL.
#ifndef WAL_OPTIONS_H_
#define WAL_OPTIONS_H_

#include <cstdint>

namespace wal {

class FileSystem;

// How a reader tells a torn write (kUnexpectedEof: Repair may cut it off)
// from corruption (kCrcMismatch / kCorruption: nothing is cut) when a record
// of the LAST segment fails to parse or to match its CRC. See doc/recovery.md.
enum class TornWriteRule {
  // etcd v3.x: torn only if some 512-byte sector of the record is all zeros.
  // Use when you need exactly etcd's outcome classes. A write torn mid-sector,
  // or a last sector of garbage, is then unrecoverable without an operator.
  kEtcd,
  // Also torn when nothing but zeros (never-written, preallocated space)
  // follows the sector where the record ends: the record is the last thing
  // ever written, so it cannot be followed by acknowledged data. Recovers
  // from tears at any byte and from garbage last sectors. The price: a bit
  // flip in the very last record of the log is cut off by Repair (kept in
  // the .broken copy) instead of stopping the node.
  kZeroTail,
};

struct Options {
  // etcd's SegmentSizeBytes. Segments are preallocated to this size, and Save
  // cuts to a new segment once the bytes flushed to the tail reach it (so a
  // segment routinely ends a little past it). Must be > 0.
  uint64_t segment_size_bytes = 64'000'000;

  // Where all I/O goes. nullptr = FileSystem::Default() (POSIX). Must
  // outlive every WAL and call that uses it.
  FileSystem* file_system = nullptr;

  // Prepare the next segment (create N.tmp, preallocate, lock) on a
  // background thread, as etcd's file pipeline does, so a cut does not wait
  // for fallocate. false = prepare it synchronously at cut time; every file
  // system operation then happens in a deterministic order (crash tests).
  bool background_segment_preparation = true;

  // Write zeros over each prepared segment (and sync them) on the
  // background thread, instead of only fallocating it: a steady-state
  // fdatasync then writes data blocks without converting unwritten extents.
  // Create zeroes the first segment itself (a slower Create). Costs one
  // extra write of every segment; same bytes on disk.
  bool prezero_segments = false;

  // Skip fdatasync/fsync entirely (etcd's --unsafe-no-fsync). Data is still
  // written to the file. Only for tests and benchmarks: a power loss may
  // lose anything.
  bool unsafe_no_fsync = false;

  // Size of the write buffer. Writes reach the file in 4 KiB-aligned chunks
  // once this many bytes are buffered (etcd's page writer: 128 KiB). The cut
  // decision is made on the flushed size, so this value changes where
  // segments are cut; keep 128 KiB for byte-identical output with etcd.
  uint32_t write_buffer_bytes = 128 * 1024;

  TornWriteRule torn_write_rule = TornWriteRule::kZeroTail;

  // Size of each sequential read issued by readers.
  uint32_t read_chunk_bytes = 1 << 20;

  // fdatasync calls slower than this are counted in WAL::stats().slow_syncs
  // (etcd logs them at 1 s).
  uint32_t slow_sync_warn_ms = 1000;

  // Keep an offset index of the entries (16 bytes each: segment, offset,
  // CRC chain value, frame length) so that WAL::Entries and WAL::Term read
  // them from disk: for logs larger than memory. Create starts it empty;
  // ReadAll and ReadAllArena build it while they read (ReadIndexed always
  // does, without this option). Appends, overwrites, cuts, snapshots and
  // ReleaseLockTo keep it current. See "Reading by index" in wal.h.
  bool index_entries = false;

  // Write the tail with O_DIRECT, through a second descriptor, in whole
  // 4 KiB blocks (the partial last block is rewritten by the next flush,
  // with the same leading bytes; the bytes in the file stay etcd's). A sync
  // that finds every byte since the last one still buffered becomes one
  // RWF_DSYNC write instead of a write + fdatasync. Reads keep the page
  // cache. Where the file system refuses O_DIRECT (tmpfs), the tail is
  // written buffered (WalStats::direct_io tells). Measured against buffered
  // writes in doc/performance.md; pair it with prezero_segments, so the
  // durable writes need no extent conversion. Relies on the disk writing a
  // 512-byte sector atomically (see doc/durability.md).
  bool direct_io = false;

  // Buffered writes: each time this many more bytes have been written to
  // the tail, ask the kernel to start writing them back (sync_file_range
  // SYNC_FILE_RANGE_WRITE, which does not wait), so the device works while
  // a large Save is still encoding and its fdatasync finds less to write.
  // A hint only: durability still comes from the fdatasync, failures are
  // reported by it, and the bytes on disk are the same. 0: leave writeback
  // to the kernel, as etcd does. Not used with direct_io.
  uint64_t writeback_bytes = 1 << 20;
};

}  // namespace wal

#endif  // WAL_OPTIONS_H_
