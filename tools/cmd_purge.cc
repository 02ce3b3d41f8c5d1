// walctl purge: remove the oldest segments as etcd's server does (keep at
// most --keep, stop at the first one a WAL still locks). A thin caller of
// wal::Purge; --dry-run prints wal::PlanPurge, the same walk without the
// removals.
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"
#include "wal/wal.h"

namespace walctl {

namespace {

struct PurgeFlags {
  std::string dir;
  size_t keep = 5;  // etcd's --max-wals default
  bool dry_run = false;
};

int RunPurge(const PurgeFlags& f) {
  auto d = InspectWalDir(f.dir);
  if (!d.has_value()) return ReportError(d.error());
  auto names = f.dry_run ? wal::PlanPurge(d->dir, f.keep) : wal::Purge(d->dir, f.keep);
  if (!names.has_value()) return ReportError(Rephrase(names.error(), d->dir));
  const char* verb = f.dry_run ? "would remove" : "removed";
  for (const std::string& n : *names) std::printf("%s %s/%s\n", verb, d->dir.c_str(), n.c_str());
  const size_t left = d->segments.size() - names->size();
  std::printf("%s %zu of %zu segments; %zu left", verb, names->size(), d->segments.size(), left);
  if (left > f.keep) std::printf(" (the oldest left is locked: a WAL still needs it)");
  std::printf("\n");
  return kExitOk;
}

}  // namespace

Command AddPurgeCommand(CLI::App& parent) {
  auto f = std::make_shared<PurgeFlags>();
  CLI::App* app = parent.add_subcommand(
      "purge",
      "Remove the oldest segments while more than --keep remain, stopping at the first one that is locked "
      "(by a running WAL or etcd), as etcd's server purges. The directory is synced afterwards.");
  app->add_option("DIR", f->dir, "WAL directory")->required();
  app->add_option("--keep", f->keep, "segments to keep (etcd's --max-wals; default 5)")
      ->check(CLI::Range(size_t{0}, size_t{1} << 40));
  app->add_flag("--dry-run", f->dry_run, "print what would be removed; remove nothing");
  return {app, [f] { return RunPurge(*f); }};
}

}  // namespace walctl
