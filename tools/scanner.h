// walctl records and info read the log through the library's tolerant scan
// (wal::ScanLog in wal/inspect.h): the same decoder, CRC chain and torn-write
// rules as ReadAll, Verify and Repair. This file only turns its reports into
// per-segment calls and the operator's wording.
#ifndef WAL_TOOLS_SCANNER_H_
#define WAL_TOOLS_SCANNER_H_

#include <cstddef>
#include <functional>
#include <string>

#include "tools/common.h"
#include "tools/progress.h"
#include "wal/inspect.h"
#include "wal/status.h"

namespace walctl {

struct ScanCallbacks {
  std::function<void(size_t segment)> begin;  // once per segment, before its records
  std::function<void(const wal::ScannedRecord&)> record;
  std::function<void(const wal::SegmentEnd&)> end;  // once per segment, after its records
};

// Scans every segment of `d` in order. Returns an error (rephrased for the
// operator) only when a file cannot be read.
wal::Status ScanWalDir(const WalDir& d, Progress* progress, const ScanCallbacks& callbacks);

// wal::CheckLog over segments [from, end) of `d` (where the library's strict
// decoding stops, and why), with progress; OS errors rephrased.
wal::Result<wal::LogCheck> CheckWalDir(const WalDir& d, size_t from, bool check_bodies, Progress* progress,
                                       wal::TornWriteRule rule = wal::Options{}.torn_write_rule);
// The path of the segment where `c` stopped.
std::string StopPath(const WalDir& d, const wal::LogCheck& c);

// Why a record is bad, for the operator; empty when it is sound.
std::string BadText(const wal::ScannedRecord& r);
// Why a segment end skipped the rest of the file (kStopped), saying when the
// library takes it for a torn write; empty otherwise.
std::string StopText(const wal::SegmentEnd& e);
// A segment end counts as bad when it skipped bytes or found stray data.
bool EndIsBad(const wal::SegmentEnd& e);

}  // namespace walctl

#endif  // WAL_TOOLS_SCANNER_H_
