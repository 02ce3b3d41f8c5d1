// walctl repair: cut a torn tail off the last segment (wal::Repair), or
// with --dry-run say what would be cut without touching anything.
#include <unistd.h>

#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"
#include "tools/scanner.h"
#include "wal/file_system.h"
#include "wal/inspect.h"
#include "wal/wal.h"

namespace walctl {

namespace {

struct RepairFlags {
  std::string dir;
  bool dry_run = false;
  std::string torn_write_rule = "zero-tail";
};

using wal::RepairPlan;
using Action = wal::RepairPlan::Action;

void PrintCut(const RepairPlan& p, bool done) {
  std::printf("  file: %s (size %llu)\n", p.segment.c_str(), static_cast<unsigned long long>(p.segment_size));
  std::printf("  torn record at offset %llu: %s\n", static_cast<unsigned long long>(p.offset),
              std::string(p.problem.message()).c_str());
  std::printf("  %s at offset %llu, %s %llu bytes\n", done ? "cut" : "would cut",
              static_cast<unsigned long long>(p.offset), done ? "removed" : "removing",
              static_cast<unsigned long long>(p.segment_size - p.offset));
  std::printf("  entries lost: %llu", static_cast<unsigned long long>(p.lost_entries));
  if (p.lost_first) {
    std::printf(" (index %llu..%llu)", static_cast<unsigned long long>(*p.lost_first),
                static_cast<unsigned long long>(*p.lost_last));
  }
  std::printf(" decodable entry record(s) in the removed bytes; ReadAll already stops before them\n");
  std::printf("  last good entry index in this segment: %s\n",
              p.last_good_index ? std::to_string(*p.last_good_index).c_str() : "none");
  std::printf("  %s %s\n", done ? "the original is kept at" : "the original would be kept at",
              p.broken_copy.c_str());
  if (!done && wal::PathExists(wal::FileSystem::Default(), p.broken_copy)) {
    std::printf("  note: that replaces the existing %s\n", p.broken_copy.c_str());
  }
}

int ReportNotRepairable(const RepairPlan& p) {
  std::printf(
      "not repairable: %s\n  problem: %s\n  offset: %llu\n"
      "  next step: replace the member (remove it from the cluster, wipe its data dir, add it back)\n",
      p.segment.c_str(), std::string(p.problem.message()).c_str(), static_cast<unsigned long long>(p.offset));
  return ReportError(wal::Status(
      p.problem.code(),
      "not repairable (corruption in synced data, not a torn tail): " + std::string(p.problem.message()) +
          ": " + p.segment + " at offset " + std::to_string(p.offset)));
}

// Repair looks at the last segment only; report damage elsewhere, with
// what walctl verify checks: every record, and the entries read back
// without gaps from where etcd would start.
int CheckRestOfLog(const WalDir& d, const wal::Options& opts) {
  auto r = CheckWalDir(d, 0, /*check_bodies=*/true, nullptr, opts.torn_write_rule);
  if (!r.has_value()) return ReportError(r.error());
  if (!r->stop.ok() && !r->torn()) {
    return ReportError(
        wal::Status(r->stop.code(),
                    "the log is still corrupt elsewhere (not repairable): " + std::string(r->stop.message()) +
                        ": " + StopPath(d, *r) + " at offset " + std::to_string(r->stop_offset)));
  }
  auto start = DefaultStart(d, opts);
  if (!start.has_value()) return kExitOk;  // nothing to read from: not damage
  wal::Status read;
  if (auto w = wal::WAL::OpenForRead(d.dir, start->snap, opts); w.has_value()) {
    auto all = (*w)->ReadAll();
    (*w)->Close().IgnoreError();
    if (!all.has_value()) read = all.error();
  } else {
    read = w.error();
  }
  if (read.ok() || read.code() == wal::StatusCode::kUnexpectedEof) return kExitOk;
  ReportError(wal::Status(read.code(), "the log is still corrupt elsewhere (not repairable): " +
                                           std::string(Rephrase(read, d.dir).message())));
  return kExitCorrupt;
}

// Prints what `plan` does (dry run) or did, then checks the rest of the log.
int Report(const WalDir& d, const RepairPlan& plan, bool done, const wal::Options& opts) {
  switch (plan.action) {
    case Action::kNothing:
      std::printf("%snothing to repair: %s ends cleanly\n", done ? "" : "  ", plan.segment.c_str());
      break;
    case Action::kCut:
      if (done) std::printf("repaired: %s\n", d.dir.c_str());
      PrintCut(plan, done);
      break;
    case Action::kRefuse:
      return ReportNotRepairable(plan);
  }
  if (!done) return CheckRestOfLog(d, opts);
  auto after = InspectWalDir(d.dir);
  if (!after.has_value()) return ReportError(after.error());
  return CheckRestOfLog(*after, opts);
}

// Would a real run be allowed to do what the plan says? It writes the last
// segment and creates the .broken copy beside it, under the WAL's lock.
int CheckCanRepair(const RepairPlan& plan, const std::string& dir) {
  if (plan.action != Action::kCut) return kExitOk;
  for (const std::string& path : {plan.segment, dir}) {
    if (::access(path.c_str(), W_OK) != 0) {
      return ReportError(wal::Status(wal::StatusCode::kPermissionDenied,
                                     "a real repair would fail: permission denied (repair writes the last "
                                     "segment and a .broken copy next to it): " +
                                         path));
    }
  }
  if (ProbeLock(plan.segment) == "LOCKED") {
    return ReportError(wal::Status(wal::StatusCode::kLocked,
                                   "a real repair would fail: the WAL is locked by another process (open for "
                                   "writing; stop the etcd member first): " +
                                       plan.segment));
  }
  return kExitOk;
}

int RunRepair(const RepairFlags& f) {
  auto d = InspectWalDir(f.dir);
  if (!d.has_value()) return ReportError(d.error());
  const std::string last = d->segments.back().path;
  wal::Options opts;
  opts.torn_write_rule = ParseTornWriteRule(f.torn_write_rule);
  if (f.dry_run) {
    // The same decision wal::Repair makes (wal::PlanRepair), read-only.
    auto plan = wal::PlanRepair(d->dir, opts);
    if (!plan.has_value()) return ReportError(Rephrase(plan.error(), d->dir));
    std::printf("dry run: nothing was changed\n");
    const int rc = Report(*d, *plan, /*done=*/false, opts);
    return rc != kExitOk ? rc : CheckCanRepair(*plan, d->dir);
  }
  // What is printed is the plan Repair carried out, never a separate guess.
  auto repaired = wal::RepairWithPlan(d->dir, opts);
  if (!repaired.has_value()) {
    if (repaired.error().code() == wal::StatusCode::kLocked) {
      return ReportError(wal::Status(wal::StatusCode::kLocked,
                                     "the WAL is locked by another process (open for writing): " + last));
    }
    if (repaired.error().code() == wal::StatusCode::kPermissionDenied) {
      return ReportError(wal::Status(
          wal::StatusCode::kPermissionDenied,
          "permission denied (repair writes the last segment and a .broken copy next to it): " + last));
    }
    return ReportError(Rephrase(repaired.error(), d->dir));
  }
  return Report(*d, *repaired, /*done=*/true, opts);
}

}  // namespace

Command AddRepairCommand(CLI::App& parent) {
  auto f = std::make_shared<RepairFlags>();
  CLI::App* app = parent.add_subcommand(
      "repair",
      "Cut a torn tail (a record cut short by a crash) off the last segment, keeping a copy\n"
      "of the segment as <segment>.broken (wal::Repair). Corruption in synced data is never\n"
      "cut away: exit 2 (replace the member). A WAL open for writing by another process\n"
      "(a running etcd member): exit 4. --dry-run says what would be cut (file, offset,\n"
      "bytes, entries), checks that a real run may write there, and changes nothing.");
  app->add_option("DIR", f->dir, "WAL directory, or an etcd data dir (its member/wal)")->required();
  app->add_flag("--dry-run", f->dry_run, "report what would be cut; open files read-only");
  app->add_option("--torn-write-rule", f->torn_write_rule,
                  "which damage counts as a torn tail: zero-tail (this library's default) or etcd")
      ->check(CLI::IsMember({"zero-tail", "etcd"}))
      ->capture_default_str();
  return {app, [f] { return RunRepair(*f); }};
}

}  // namespace walctl
