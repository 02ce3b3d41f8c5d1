// Mutation testing of the durability steps (crash tests, issue "the harness
// catches real bugs"). With WAL_ENABLE_MUTANTS, a test may switch off ONE
// durability step at a time and check that the crash-point enumeration then
// reports a loss. Without it (builds that do not build tests), every check
// is a compile-time false and costs nothing.
#ifndef WAL_SRC_MUTANTS_H_
#define WAL_SRC_MUTANTS_H_

#include <atomic>

namespace wal::internal {

enum class Mutant : int {
  kNone = 0,
  kSkipSaveSync,                // the fdatasync that acknowledges Save/Sync/SaveSnapshot
  kSkipCutOldTailSync,          // cut: fdatasync of the finished segment
  kSkipCutHeadSync,             // cut: fdatasync of the new segment's head before the rename
  kSkipCutDirSync,              // cut: fsync of the directory after the rename
  kSkipCreateFileSync,          // Create: fdatasync of the first segment
  kSkipCreateTmpDirSync,        // Create: fsync of <dir>.tmp before it is renamed
  kSkipCreateParentSync,        // Create: fsync of the parent after the rename
  kSkipZeroToEnd,               // write-mode ReadAll: zeroing what follows the last valid record
  kSkipOverwriteBelowSnapshot,  // ReadAll: an entry at or below the snapshot keeps the stale tail (etcd v3.4)
  kSkipTermOrderRule,           // ReadAll: entries with a term below the snapshot's or a predecessor's kept
  kSkipPurgeDirSync,            // Purge: fsync of the directory after the removals
  // Issue 15: the rest of the steps durability depends on.
  kSkipZeroToEndSync,       // write-mode ReadAll: the fdatasync of the zeros before any append
  kSkipCreateDirsSync,      // Create: fsync of each parent of a directory it creates (CreateDirAll)
  kCutDirSyncBeforeRename,  // cut: the directory fsync moved before the rename (ordering)
  kSkipHeadlessTailHead,    // write-mode ReadAll: no crc+metadata head on a headless tail before appends
  kSkipOverwriteRule,       // ReadAll: an entry at index i no longer drops the collected entries >= i
  kSkipZeroTailTornRule,    // reader: a damaged last record with only zeros after it is corruption
  kSkipRepairBrokenSync,    // Repair: fdatasync of the .broken copy
  kSkipRepairDirSync,       // Repair: fsync of the directory after creating the .broken copy
  kSkipRepairTruncateSync,  // Repair: fdatasync of the segment after the truncate
  // Issue 14 (direct I/O): an RWF_DSYNC write taken to cover earlier writes.
  kDurableWriteCoversEarlierWrites,
  kCount,
};

#ifdef WAL_ENABLE_MUTANTS
inline std::atomic<int> g_mutant{0};
inline bool MutantActive(Mutant m) { return g_mutant.load(std::memory_order_relaxed) == static_cast<int>(m); }
#else
constexpr bool MutantActive(Mutant) { return false; }
#endif

}  // namespace wal::internal

#endif  // WAL_SRC_MUTANTS_H_
