// walctl repair: cut a torn tail off the last segment (wal::Repair), or
// with --dry-run say what would be cut without touching anything.
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"
#include "tools/log_read.h"
#include "tools/scanner.h"
#include "wal/file_system.h"
#include "wal/wal.h"

namespace walctl {

namespace {

struct RepairFlags {
  std::string dir;
  bool dry_run = false;
};

// What wal::Repair would do: it decodes the last segment alone with the
// library's decoder, and cuts only a torn last record (kUnexpectedEof).
struct RepairPlan {
  enum class Kind { kClean, kTorn, kNotRepairable };
  Kind kind = Kind::kClean;
  const SegmentFile* segment = nullptr;
  LogReadResult analysis;
  uint64_t removed_bytes = 0;
  uint64_t lost_entries = 0;  // decodable entry records in the removed bytes
  std::optional<uint64_t> lost_first, lost_last;
};

// Counts the entry records that still decode in [cut, end) of the file.
wal::Status CountLostEntries(RepairPlan* plan) {
  auto f = wal::FileSystem::Default()->Open(plan->segment->path, wal::OpenOptions{});  // read-only
  if (!f.has_value()) return Rephrase(f.error(), plan->segment->path);
  uint32_t chain = 0;  // CRCs are not the point here
  SegmentEnd end;
  wal::Status s = ScanSegment(
      f->get(), plan->segment->size, true, plan->analysis.stop_offset, &chain, ScanOptions{},
      [&](const ScannedRecord& r) {
        if (!r.entry) return;
        ++plan->lost_entries;
        if (!plan->lost_first) plan->lost_first = r.entry->index;
        plan->lost_last = r.entry->index;
      },
      &end);
  (*f)->Close().IgnoreError();
  return s.ok() ? s : Rephrase(s, plan->segment->path);
}

wal::Result<RepairPlan> PlanRepair(const WalDir& d) {
  RepairPlan plan;
  plan.segment = &d.segments.back();
  LogReadOptions o;
  o.check_bodies = false;  // exactly what wal::Repair looks at
  WAL_ASSIGN_OR_RETURN(plan.analysis, ReadLog(d, d.segments.size() - 1, o));
  if (plan.analysis.stop.ok()) return plan;
  if (!plan.analysis.torn()) {
    plan.kind = RepairPlan::Kind::kNotRepairable;
    return plan;
  }
  plan.kind = RepairPlan::Kind::kTorn;
  plan.removed_bytes = plan.segment->size - plan.analysis.stop_offset;
  WAL_RETURN_IF_ERROR(CountLostEntries(&plan));
  return plan;
}

void PrintCut(const RepairPlan& p, bool done) {
  std::printf("  file: %s (size %llu)\n", p.segment->path.c_str(),
              static_cast<unsigned long long>(p.segment->size));
  std::printf("  torn record at offset %llu: %s\n", static_cast<unsigned long long>(p.analysis.stop_offset),
              std::string(p.analysis.stop.message()).c_str());
  std::printf("  %s at offset %llu, %s %llu bytes\n", done ? "cut" : "would cut",
              static_cast<unsigned long long>(p.analysis.stop_offset), done ? "removed" : "removing",
              static_cast<unsigned long long>(p.removed_bytes));
  std::printf("  entries lost: %llu", static_cast<unsigned long long>(p.lost_entries));
  if (p.lost_first) {
    std::printf(" (index %llu..%llu)", static_cast<unsigned long long>(*p.lost_first),
                static_cast<unsigned long long>(*p.lost_last));
  }
  std::printf(" decodable entry record(s) in the removed bytes; ReadAll already stops before them\n");
  std::printf("  last good entry index in this segment: %s\n",
              p.analysis.last_index ? std::to_string(*p.analysis.last_index).c_str() : "none");
  std::printf("  %s %s.broken\n", done ? "the original is kept at" : "the original would be kept at",
              p.segment->path.c_str());
  if (!done && wal::PathExists(wal::FileSystem::Default(), p.segment->path + ".broken")) {
    std::printf("  note: that replaces the existing %s.broken\n", p.segment->path.c_str());
  }
}

int ReportNotRepairable(const RepairPlan& p) {
  const LogReadResult& a = p.analysis;
  std::printf("not repairable: %s\n  problem: %s\n  offset: %llu\n", a.stop_path.c_str(),
              std::string(a.stop.message()).c_str(), static_cast<unsigned long long>(a.stop_offset));
  return ReportError(wal::Status(
      a.stop.code(),
      "not repairable (corruption in synced data, not a torn tail): " + std::string(a.stop.message()) + ": " +
          a.stop_path + " at offset " + std::to_string(a.stop_offset)));
}

// Repair looks at the last segment only; warn about damage elsewhere.
int CheckRestOfLog(const WalDir& d) {
  auto r = ReadLog(d, 0, LogReadOptions{});
  if (!r.has_value()) return ReportError(r.error());
  if (r->stop.ok() || r->torn()) return kExitOk;
  return ReportError(wal::Status(r->stop.code(), "the log is still corrupt elsewhere (not repairable): " +
                                                     std::string(r->stop.message()) + ": " + r->stop_path +
                                                     " at offset " + std::to_string(r->stop_offset)));
}

int RunDryRun(const WalDir& d, const RepairPlan& plan) {
  std::printf("dry run: nothing was changed\n");
  switch (plan.kind) {
    case RepairPlan::Kind::kClean:
      std::printf("  nothing to repair: %s ends cleanly\n", plan.segment->path.c_str());
      break;
    case RepairPlan::Kind::kTorn:
      PrintCut(plan, false);
      break;
    case RepairPlan::Kind::kNotRepairable:
      return ReportNotRepairable(plan);
  }
  return CheckRestOfLog(d);
}

int RunRepair(const RepairFlags& f) {
  auto d = InspectWalDir(f.dir);
  if (!d.has_value()) return ReportError(d.error());
  auto plan = PlanRepair(*d);
  if (!plan.has_value()) return ReportError(plan.error());
  if (f.dry_run) return RunDryRun(*d, *plan);

  auto repaired = wal::Repair(d->dir);
  if (!repaired.has_value()) {
    if (repaired.error().code() == wal::StatusCode::kLocked) {
      return ReportError(
          wal::Status(wal::StatusCode::kLocked,
                      "the WAL is locked by another process (open for writing): " + plan->segment->path));
    }
    if (repaired.error().code() == wal::StatusCode::kPermissionDenied) {
      return ReportError(
          wal::Status(wal::StatusCode::kPermissionDenied,
                      "permission denied (repair writes the last segment and a .broken copy next to it): " +
                          plan->segment->path));
    }
    return ReportError(Rephrase(repaired.error(), d->dir));
  }
  if (!*repaired) return ReportNotRepairable(*plan);
  if (plan->kind == RepairPlan::Kind::kClean) {
    std::printf("nothing to repair: %s ends cleanly\n", plan->segment->path.c_str());
  } else {
    std::printf("repaired: %s\n", d->dir.c_str());
    PrintCut(*plan, true);
  }
  auto after = InspectWalDir(d->dir);
  if (!after.has_value()) return ReportError(after.error());
  return CheckRestOfLog(*after);
}

}  // namespace

Command AddRepairCommand(CLI::App& parent) {
  auto f = std::make_shared<RepairFlags>();
  CLI::App* app = parent.add_subcommand(
      "repair",
      "Cut a torn tail (a record cut short by a crash) off the last segment, keeping a copy\n"
      "of the segment as <segment>.broken (wal::Repair). Corruption in synced data is never\n"
      "cut away: exit 2. A WAL open for writing by another process: exit 4.\n"
      "--dry-run says what would be cut (file, offset, bytes, entries) and changes nothing.");
  app->add_option("DIR", f->dir, "WAL directory")->required();
  app->add_flag("--dry-run", f->dry_run, "report what would be cut; open files read-only");
  return {app, [f] { return RunRepair(*f); }};
}

}  // namespace walctl
