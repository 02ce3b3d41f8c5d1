// walctl info: an overview of a WAL directory.
#include <array>
#include <memory>
#include <optional>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"
#include "tools/etcd_snap.h"
#include "tools/progress.h"
#include "tools/scanner.h"
#include "tools/text.h"
#include "wal/file_system.h"
#include "wal/inspect.h"

namespace walctl {

namespace {

using wal::ScannedRecord;
using wal::SegmentEnd;

struct InfoFlags {
  std::string dir;
};

struct SegmentStats {
  uint64_t records = 0;
  std::array<uint64_t, 6> by_type{};  // [1..5] = walpb record types, [0] = other
  std::optional<uint64_t> first_entry, last_entry;
  SegmentEnd end;
  std::string lock;
};

struct LogStats {
  bool has_metadata = false;
  std::string metadata;
  std::optional<wal::HardState> state;
  std::vector<wal::Snapshot> snapshots;
  uint64_t entries = 0;
  std::optional<uint64_t> first_entry, last_entry;
  uint64_t bad = 0;
  uint64_t locked = 0;
  uint64_t lock_unknown = 0;
  std::string first_bad;  // "<reason>: <file> at offset <n>"
  wal::Status io_error;
};

void NoteBad(LogStats* log, const std::string& reason, const std::string& path, uint64_t offset) {
  if (log->bad++ == 0) log->first_bad = reason + ": " + path + " at offset " + std::to_string(offset);
}

void Account(const ScannedRecord& r, const std::string& path, SegmentStats* seg, LogStats* log) {
  ++seg->records;
  if (!r.problem.ok()) NoteBad(log, BadText(r), path, r.offset);
  if (!r.decoded) return;
  ++seg->by_type[r.type >= 1 && r.type <= 5 ? static_cast<size_t>(r.type) : 0];
  if (r.type == wal::kRecordMetadata) {
    log->has_metadata = r.has_data;
    log->metadata = std::string(r.data);
  }
  if (r.state) log->state = *r.state;
  if (r.snapshot) log->snapshots.push_back(*r.snapshot);
  if (r.entry) {
    const uint64_t i = r.entry->index;
    if (!seg->first_entry) seg->first_entry = i;
    seg->last_entry = i;
    if (!log->first_entry) log->first_entry = i;
    log->last_entry = i;
    ++log->entries;
  }
}

// What the segment's end adds to the log's health.
void AccountEnd(const SegmentFile& seg, const SegmentEnd& end, LogStats* log) {
  if (end.kind == SegmentEnd::Kind::kStopped) NoteBad(log, StopText(end), seg.path, end.offset);
  if (end.records == 0) NoteBad(log, "the segment holds no records", seg.path, 0);
  if (end.nonzero_at) NoteBad(log, "non-zero bytes after the end of the records", seg.path, *end.nonzero_at);
}

std::string RangeText(const std::optional<uint64_t>& a, const std::optional<uint64_t>& b) {
  return a ? std::to_string(*a) + ".." + std::to_string(*b) : std::string("none");
}

void PrintSegment(const SegmentFile& seg, const SegmentStats& st) {
  static const char* kNames[] = {"other", "metadata", "entry", "state", "crc", "snapshot"};
  std::string counts;
  for (size_t t : {4, 1, 5, 2, 3, 0}) {
    if (st.by_type[t] == 0) continue;
    counts += (counts.empty() ? "" : ", ") + std::string(kNames[t]) + " " + std::to_string(st.by_type[t]);
  }
  if (!counts.empty()) counts = " (" + counts + ")";
  std::printf("  %s  seq=%llu first_index=%llu size=%llu records=%llu%s entries=%s lock=%s\n",
              seg.name.name.c_str(), static_cast<unsigned long long>(seg.name.seq),
              static_cast<unsigned long long>(seg.name.index), static_cast<unsigned long long>(seg.size),
              static_cast<unsigned long long>(st.records), counts.c_str(),
              RangeText(st.first_entry, st.last_entry).c_str(), st.lock.c_str());
}

void PrintLog(const WalDir& d, const LogStats& log) {
  std::string others;
  for (const auto& n : d.other_files) others += (others.empty() ? "" : ", ") + n;
  std::printf("other files: %s\n", others.empty() ? "none" : others.c_str());
  std::printf("metadata: %s\n",
              log.has_metadata ? RenderData(log.metadata, DataFormat::kAuto).c_str() : "none");
  std::printf("hard state: %s\n",
              log.state ? (HardStateText(*log.state) + " (last state record)").c_str() : "none");
  // A long-running member records thousands of snapshots: the first three
  // and the last three, with the count.
  constexpr size_t kShown = 3;
  std::string snaps;
  const size_t n = log.snapshots.size();
  for (size_t i = 0; i < n; ++i) {
    if (n > 2 * kShown && i == kShown) {
      snaps += ", ... (" + std::to_string(n - 2 * kShown) + " more)";
      i = n - kShown;
    }
    const wal::Snapshot& s = log.snapshots[i];
    snaps += (snaps.empty() ? "" : ", ") + std::string("{index=") + std::to_string(s.index) +
             " term=" + std::to_string(s.term) + "}";
  }
  std::printf("snapshots: %s\n", snaps.empty() ? "none" : (std::to_string(n) + " records: " + snaps).c_str());
  if (!d.snap_dir.empty()) {
    const std::vector<SnapFile> files = ListSnapFiles(d);
    std::printf("etcd snapshot files: %s: %zu%s\n", d.snap_dir.c_str(), files.size(),
                files.empty() ? "" : ", newest first:");
    for (size_t i = 0; i < files.size() && i < kShown; ++i) {
      auto h = ReadSnapFile(wal::JoinPath(d.snap_dir, files[i].name));
      std::printf("  %s %s\n", files[i].name.c_str(),
                  h.has_value() ? SnapHeaderText(*h).c_str() : ("unreadable: " + Reason(h.error())).c_str());
    }
    if (files.size() > kShown) std::printf("  ... (%zu older)\n", files.size() - kShown);
  }
  std::printf("entries: %llu records, index %s\n", static_cast<unsigned long long>(log.entries),
              RangeText(log.first_entry, log.last_entry).c_str());
  if (log.locked > 0) {
    std::printf("locked: yes, %llu of %zu segments are locked by a process\n",
                static_cast<unsigned long long>(log.locked), d.segments.size());
  } else if (log.lock_unknown > 0) {
    std::printf("locked: unknown, %llu of %zu segments could not be checked\n",
                static_cast<unsigned long long>(log.lock_unknown), d.segments.size());
  } else {
    std::printf("locked: no\n");
  }
  if (log.bad == 0) {
    std::printf("health: no bad records (walctl verify checks the rest)\n");
  } else {
    std::printf("health: %llu bad record(s); first: %s\n", static_cast<unsigned long long>(log.bad),
                log.first_bad.c_str());
  }
}

int RunInfo(const InfoFlags& f) {
  auto d = InspectWalDir(f.dir);
  if (!d.has_value()) return ReportError(d.error());
  Progress progress("info", d->total_bytes);
  LogStats log;
  std::vector<SegmentStats> stats(d->segments.size());
  for (size_t i = 0; i < d->segments.size(); ++i) {
    SegmentStats& st = stats[i];
    st.lock = ProbeLock(d->segments[i].path);
    if (st.lock == "LOCKED") ++log.locked;
    if (st.lock.starts_with("unknown")) ++log.lock_unknown;
  }
  ScanCallbacks cb;
  cb.begin = [](size_t) {};
  cb.record = [&](const ScannedRecord& r) {
    Account(r, d->segments[r.segment].path, &stats[r.segment], &log);
  };
  cb.end = [&](const SegmentEnd& e) {
    stats[e.segment].end = e;
    AccountEnd(d->segments[e.segment], e, &log);
  };
  log.io_error = ScanWalDir(*d, &progress, cb);
  progress.Finish();
  std::printf("directory: %s\nsegments: %zu, %s\n", d->dir.c_str(), d->segments.size(),
              HumanBytes(d->total_bytes).c_str());
  for (size_t i = 0; i < d->segments.size(); ++i) PrintSegment(d->segments[i], stats[i]);
  PrintLog(*d, log);
  if (log.bad == 0 && log.io_error.ok()) {
    // Where etcd would start (and dump / verify without flags do).
    if (auto start = DefaultStart(*d); start.has_value()) {
      std::printf("etcd starts from: snapshot {index=%llu term=%llu}%s%s\n",
                  static_cast<unsigned long long>(start->snap.index),
                  static_cast<unsigned long long>(start->snap.term), start->why.empty() ? "" : ": ",
                  start->why.c_str());
    } else {
      std::printf("etcd starts from: nowhere: %s\n", std::string(start.error().message()).c_str());
    }
  }
  std::fflush(stdout);
  if (!log.io_error.ok()) return ReportError(log.io_error);
  if (log.bad > 0)
    return ReportError(wal::Status(wal::StatusCode::kCorruption, "bad record: " + log.first_bad));
  return kExitOk;
}

}  // namespace

Command AddInfoCommand(CLI::App& parent) {
  auto f = std::make_shared<InfoFlags>();
  CLI::App* app = parent.add_subcommand(
      "info",
      "Summarise a WAL directory: each segment's sequence, first index, size, record counts,\n"
      "entry range and lock state; the metadata, the last hard state, the snapshot records,\n"
      "the entry count, and whether a process holds the WAL's lock. Exit 2 if a bad record\n"
      "is found (walctl records shows it).");
  app->add_option("DIR", f->dir, "WAL directory, or an etcd data dir (its member/wal)")->required();
  return {app, [f] { return RunInfo(*f); }};
}

}  // namespace walctl
