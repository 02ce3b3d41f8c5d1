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
  bool snapshot_given = false;
  std::string torn_write_rule = "zero-tail";
};

constexpr const char* kReplaceMember =
    "not repairable: replace the member (remove it from the cluster, wipe its data dir, add it back)";

std::string IndexText(const std::optional<uint64_t>& i) {
  return i ? std::to_string(*i) : std::string("none");
}

// Where the decoder stopped, for the operator: stdout gets the details and
// what etcd does with it, stderr the one-line error. `etcd_view` is what the
// decoder finds under etcd's own torn-write rule (the same check when that
// rule is the one in use).
int ReportStop(const WalDir& d, const wal::LogCheck& r, const wal::LogCheck& etcd_view) {
  const std::string path = StopPath(d, r);
  std::string verdict;
  std::string next;
  if (!r.torn()) {
    verdict = "corruption in synced data (not repairable)";
    next = kReplaceMember;
  } else if (etcd_view.torn()) {
    verdict = "torn tail (repairable with walctl repair)";
    next = "etcd repairs this by itself at startup (it cuts the torn record, as walctl repair does)";
  } else {
    verdict = "torn tail (repairable with walctl repair)";
    next = "etcd will refuse to start (" + Reason(etcd_view.stop) + "); walctl repair fixes it";
  }
  std::printf(
      "FAILED\n  problem: %s\n  file: %s\n  offset: %llu\n  last good entry index: %s\n  verdict: %s\n"
      "  etcd: %s\n",
      std::string(r.stop.message()).c_str(), path.c_str(), static_cast<unsigned long long>(r.stop_offset),
      IndexText(r.last_index).c_str(), verdict.c_str(), next.c_str());
  ReportError(wal::Status(r.stop.code(), verdict + ": " + std::string(r.stop.message()) + ": " + path +
                                             " at offset " + std::to_string(r.stop_offset) +
                                             " (last good entry index " + IndexText(r.last_index) + ")"));
  return r.torn() ? kExitTorn : kExitCorrupt;
}

int ReportLibraryFailure(const wal::Status& s, const WalDir& d, const wal::LogCheck& pass,
                         const wal::Snapshot& snap) {
  const wal::Status e = Rephrase(s, d.dir);
  std::printf("FAILED\n  problem: %s\n  last good entry index: %s\n", std::string(e.message()).c_str(),
              IndexText(pass.last_index).c_str());
  if (pass.torn()) {
    std::printf("  also: torn tail at %s offset %llu\n", StopPath(d, pass).c_str(),
                static_cast<unsigned long long>(pass.stop_offset));
  }
  const int rc = ReportError(e.WithContext("verify failed"));
  // Every log holds the {0,0} snapshot record in its first segment: when it
  // is missing, the log is damaged, not the request.
  return s.code() == wal::StatusCode::kSnapshotNotFound && snap.index == 0 && snap.term == 0 ? kExitCorrupt
                                                                                             : rc;
}

// What the three checks found. Only an unusable directory is an error.
struct Findings {
  wal::LogCheck pass;       // the library's decoder pass: where it stops, last good index
  wal::LogCheck etcd_view;  // the same under etcd's torn-write rule
  wal::Status startup;      // ValidSnapshotEntries over every segment, as etcd at startup
  wal::Status library;      // wal::Verify, then OpenForRead + ReadAll
  wal::ReadAllResult all;
};

wal::Result<Findings> Check(const WalDir& d, size_t from, const wal::Snapshot& snap, wal::TornWriteRule rule,
                            Progress* progress) {
  Findings out;
  // 1. The library's CheckLog: where its decoder stops, and the last
  //    good entry index before that.
  WAL_ASSIGN_OR_RETURN(out.pass, CheckWalDir(d, from, /*check_bodies=*/true, progress, rule));
  out.etcd_view = out.pass;
  if (out.pass.torn() && rule != wal::TornWriteRule::kEtcd) {
    WAL_ASSIGN_OR_RETURN(out.etcd_view,
                         CheckWalDir(d, from, /*check_bodies=*/true, nullptr, wal::TornWriteRule::kEtcd));
  }
  if (!out.pass.stop.ok() && !out.pass.torn()) return out;
  ProgressFileSystem fs(wal::FileSystem::Default(), progress);
  wal::Options opts;
  opts.file_system = &fs;
  opts.torn_write_rule = rule;
  // 2. What etcd checks at startup: every segment, not only those from the
  //    snapshot on (ValidSnapshotEntries).
  if (auto valid = wal::ValidSnapshotEntries(d.dir, opts); !valid.has_value()) {
    out.startup = valid.error();
    return out;
  }
  // 3. The library's Verify: CRC chain, metadata, record types, snapshot.
  out.library = wal::Verify(d.dir, snap, opts);
  if (!out.library.ok()) return out;
  // 4. A full ReadAll, read-only: entry decoding and index continuity.
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
  std::printf(
      "ok: %s\n  segments: %zu read from the snapshot on, all %zu checked as etcd does at startup (%s)\n",
      d.dir.c_str(), d.segments.size() - from, d.segments.size(), HumanBytes(d.total_bytes).c_str());
  if (ents.empty()) {
    std::printf("  entries: 0\n");
  } else {
    std::printf("  entries: %zu (index %llu..%llu)\n", ents.size(),
                static_cast<unsigned long long>(ents.front().index),
                static_cast<unsigned long long>(ents.back().index));
  }
  std::printf("  hard state: %s\n  snapshot: index=%llu term=%llu found\n", HardStateText(all.state).c_str(),
              static_cast<unsigned long long>(snap.index), static_cast<unsigned long long>(snap.term));
  std::printf("  etcd: will start on this log\n");
}

// A segment before the snapshot's (read only by etcd's startup check) is bad.
int ReportStartupFailure(const wal::Status& s, const WalDir& d) {
  const wal::Status e = Rephrase(s, d.dir);
  std::printf(
      "FAILED\n  problem: %s\n  etcd: will refuse to start (its startup check reads every segment)\n"
      "  verdict: %s\n",
      std::string(e.message()).c_str(), kReplaceMember);
  ReportError(e.WithContext("etcd will refuse to start"));
  return kExitCorrupt;
}

int RunVerify(const VerifyFlags& f) {
  auto d = InspectWalDir(f.dir);
  if (!d.has_value()) return ReportError(d.error());
  WarnIfLocked(*d);
  const wal::TornWriteRule rule = ParseTornWriteRule(f.torn_write_rule);
  wal::Snapshot snap{f.snapshot_index, f.snapshot_term};
  if (!f.snapshot_given) {
    wal::Options o;
    o.torn_write_rule = rule;
    auto start = DefaultStart(*d, o);
    if (!start.has_value()) return ReportError(start.error());
    snap = start->snap;
  }
  auto from = SelectFrom(*d, snap.index);
  if (!from.has_value()) return ReportError(from.error());
  Progress progress("verify", 4 * d->total_bytes);  // up to four passes
  auto found = Check(*d, *from, snap, rule, &progress);
  progress.Finish();
  if (!found.has_value()) return ReportError(found.error());
  const Findings& r = *found;
  if (!r.pass.stop.ok() && !r.pass.torn()) return ReportStop(*d, r.pass, r.etcd_view);  // corruption
  if (!r.startup.ok()) return ReportStartupFailure(r.startup, *d);
  if (!r.library.ok()) return ReportLibraryFailure(r.library, *d, r.pass, snap);
  if (r.pass.torn()) return ReportStop(*d, r.pass, r.etcd_view);
  PrintSound(*d, *from, snap, r.all);
  return kExitOk;
}

}  // namespace

Command AddVerifyCommand(CLI::App& parent) {
  auto f = std::make_shared<VerifyFlags>();
  CLI::App* app = parent.add_subcommand(
      "verify",
      "Check the log as etcd would before it starts on it: every segment's CRC chain and\n"
      "records, the metadata, the snapshot record, and that the entries read back without\n"
      "gaps. Exit 0 (\"etcd: will start on this log\") when sound. Otherwise it names the\n"
      "file, the offset and the last good entry index, and says what to do: a torn tail\n"
      "(exit 8) is repairable with walctl repair, and says whether etcd repairs it by itself\n"
      "at startup or refuses to start; corruption in synced data (exit 2) is not repairable\n"
      "(replace the member). Without snapshot flags it starts where etcd would (see dump).");
  app->add_option("DIR", f->dir, "WAL directory, or an etcd data dir (its member/wal)")->required();
  auto* si = app->add_option("--snapshot-index", f->snapshot_index, "index of the snapshot to verify from");
  auto* st = app->add_option("--snapshot-term", f->snapshot_term, "term of that snapshot");
  si->needs(st);
  st->needs(si);
  app->add_option("--torn-write-rule", f->torn_write_rule,
                  "which damage counts as a torn tail: zero-tail (this library's default) or etcd\n"
                  "(exactly etcd v3.4's classes)")
      ->check(CLI::IsMember({"zero-tail", "etcd"}))
      ->capture_default_str();
  return {app, [f, si] {
            f->snapshot_given = si->count() > 0;
            return RunVerify(*f);
          }};
}

}  // namespace walctl
