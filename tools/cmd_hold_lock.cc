// walctl hold-lock (hidden): take every segment's lock, as a writer does,
// and hold it for a while. For tests of the locked paths, and to fence a WAL
// while copying it. Writes nothing.
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"
#include "wal/file_system.h"

namespace walctl {

namespace {

struct HoldFlags {
  std::string dir;
  double seconds = 10;
};

int RunHoldLock(const HoldFlags& f) {
  auto d = InspectWalDir(f.dir);
  if (!d.has_value()) return ReportError(d.error());
  std::vector<std::unique_ptr<wal::File>> held;
  for (const SegmentFile& seg : d->segments) {
    wal::OpenOptions o;
    o.write = true;  // an OFD write lock needs a descriptor open for writing
    auto file = wal::FileSystem::Default()->Open(seg.path, o);
    if (!file.has_value()) return ReportError(Rephrase(file.error(), seg.path));
    wal::Status s = (*file)->TryLock();
    if (s.code() == wal::StatusCode::kLocked) {
      return ReportError(wal::Status(s.code(), "the WAL is locked by another process: " + seg.path));
    }
    if (!s.ok()) return ReportError(Rephrase(s, seg.path));
    held.push_back(std::move(*file));
  }
  std::printf("locked %zu segments of %s for %.1f s\n", held.size(), d->dir.c_str(), f.seconds);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::duration<double>(f.seconds));
  for (auto& file : held) file->Close().IgnoreError();
  return kExitOk;
}

}  // namespace

Command AddHoldLockCommand(CLI::App& parent) {
  auto f = std::make_shared<HoldFlags>();
  CLI::App* app =
      parent.add_subcommand("hold-lock", "Hold the locks of every segment for --seconds (writes nothing).");
  app->group("");  // hidden
  app->add_option("DIR", f->dir, "WAL directory")->required();
  app->add_option("--seconds", f->seconds, "how long to hold the locks")->check(CLI::Range(0.0, 3600.0));
  return {app, [f] { return RunHoldLock(*f); }};
}

}  // namespace walctl
