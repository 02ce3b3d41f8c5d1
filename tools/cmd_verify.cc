// walctl verify: is the log sound? If not, where, and can repair fix it?
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"
#include "tools/progress.h"
#include "tools/scanner.h"
#include "tools/text.h"
#include "wal/wal.h"

namespace walctl {

namespace {

struct VerifyFlags {
  std::string dir;
  uint64_t snapshot_index = 0;
  uint64_t snapshot_term = 0;
};

std::string IndexText(const std::optional<uint64_t>& i) {
  return i ? std::to_string(*i) : std::string("none");
}

// Where the decoder stopped, for the operator: stdout gets the details,
// stderr the one-line error.
int ReportStop(const WalDir& d, const wal::LogCheck& r) {
  const std::string path = StopPath(d, r);
  const char* verdict =
      r.torn() ? "torn tail (repairable with walctl repair)" : "corruption in synced data (not repairable)";
  std::printf(
      "FAILED\n  problem: %s\n  file: %s\n  offset: %llu\n  last good entry index: %s\n  verdict: %s\n",
      std::string(r.stop.message()).c_str(), path.c_str(), static_cast<unsigned long long>(r.stop_offset),
      IndexText(r.last_index).c_str(), verdict);
  return ReportError(
      wal::Status(r.stop.code(), std::string(verdict) + ": " + std::string(r.stop.message()) + ": " + path +
                                     " at offset " + std::to_string(r.stop_offset) +
                                     " (last good entry index " + IndexText(r.last_index) + ")"));
}

int ReportLibraryFailure(const wal::Status& s, const WalDir& d, const wal::LogCheck& pass) {
  const wal::Status e = Rephrase(s, d.dir);
  std::printf("FAILED\n  problem: %s\n  last good entry index: %s\n", std::string(e.message()).c_str(),
              IndexText(pass.last_index).c_str());
  if (pass.torn()) {
    std::printf("  also: torn tail at %s offset %llu\n", StopPath(d, pass).c_str(),
                static_cast<unsigned long long>(pass.stop_offset));
  }
  return ReportError(e.WithContext("verify failed"));
}

// What the three checks found. Only an unusable directory is an error.
struct Findings {
  wal::LogCheck pass;   // the library's decoder pass: where it stops, last good index
  wal::Status library;  // wal::Verify, then OpenForRead + ReadAll
  wal::ReadAllResult all;
};

wal::Result<Findings> Check(const WalDir& d, size_t from, const wal::Snapshot& snap, Progress* progress) {
  Findings out;
  // 1. The library's CheckLog: where its decoder stops, and the last
  //    good entry index before that.
  WAL_ASSIGN_OR_RETURN(out.pass, CheckWalDir(d, from, /*check_bodies=*/true, progress));
  if (!out.pass.stop.ok() && !out.pass.torn()) return out;
  ProgressFileSystem fs(wal::FileSystem::Default(), progress);
  wal::Options opts;
  opts.file_system = &fs;
  // 2. The library's Verify: CRC chain, metadata, record types, snapshot.
  out.library = wal::Verify(d.dir, snap, opts);
  if (!out.library.ok()) return out;
  // 3. A full ReadAll, read-only: entry decoding and index continuity.
  auto w = wal::WAL::OpenForRead(d.dir, snap, opts);
  if (!w.has_value()) {
    out.library = w.error();
    return out;
  }
  auto all = (*w)->ReadAll();
  (*w)->Close().IgnoreError();
  if (!all.has_value()) {
    out.library = all.error();
    return out;
  }
  out.all = std::move(*all);
  return out;
}

void PrintSound(const WalDir& d, size_t from, const wal::Snapshot& snap, const wal::ReadAllResult& all) {
  const auto& ents = all.entries;
  std::printf("ok: %s\n  segments: %zu checked of %zu in the directory (%s in all)\n", d.dir.c_str(),
              d.segments.size() - from, d.segments.size(), HumanBytes(d.total_bytes).c_str());
  if (ents.empty()) {
    std::printf("  entries: 0\n");
  } else {
    std::printf("  entries: %zu (index %llu..%llu)\n", ents.size(),
                static_cast<unsigned long long>(ents.front().index),
                static_cast<unsigned long long>(ents.back().index));
  }
  std::printf("  hard state: %s\n  snapshot: index=%llu term=%llu found\n", HardStateText(all.state).c_str(),
              static_cast<unsigned long long>(snap.index), static_cast<unsigned long long>(snap.term));
}

int RunVerify(const VerifyFlags& f) {
  auto d = InspectWalDir(f.dir);
  if (!d.has_value()) return ReportError(d.error());
  const wal::Snapshot snap{f.snapshot_index, f.snapshot_term};
  auto from = SelectFrom(*d, snap.index);
  if (!from.has_value()) return ReportError(from.error());
  Progress progress("verify", 3 * d->total_bytes);  // up to three passes
  auto found = Check(*d, *from, snap, &progress);
  progress.Finish();
  if (!found.has_value()) return ReportError(found.error());
  const Findings& r = *found;
  if (!r.pass.stop.ok() && !r.pass.torn()) return ReportStop(*d, r.pass);  // corruption
  if (!r.library.ok()) return ReportLibraryFailure(r.library, *d, r.pass);
  if (r.pass.torn()) return ReportStop(*d, r.pass);
  PrintSound(*d, *from, snap, r.all);
  return kExitOk;
}

}  // namespace

Command AddVerifyCommand(CLI::App& parent) {
  auto f = std::make_shared<VerifyFlags>();
  CLI::App* app = parent.add_subcommand(
      "verify",
      "Check the log: CRC chain, metadata, record types, the snapshot record, and that the\n"
      "entries read back without gaps. Exit 0 when sound; otherwise names the file, the\n"
      "offset and the last good entry index, and says whether it is a torn tail (exit 2,\n"
      "repairable with walctl repair) or corruption in synced data (exit 2, not repairable).");
  app->add_option("DIR", f->dir, "WAL directory")->required();
  auto* si = app->add_option("--snapshot-index", f->snapshot_index, "index of the snapshot to verify from");
  auto* st = app->add_option("--snapshot-term", f->snapshot_term, "term of that snapshot");
  si->needs(st);
  st->needs(si);
  return {app, [f] { return RunVerify(*f); }};
}

}  // namespace walctl
