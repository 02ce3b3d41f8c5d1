// walctl dump: what ReadAll returns, as text or JSON.
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"
#include "tools/dump_view.h"
#include "tools/progress.h"
#include "tools/scanner.h"
#include "tools/text.h"
#include "wal/wal.h"

namespace walctl {

namespace {

struct DumpFlags {
  std::string dir;
  uint64_t snapshot_index = 0;
  uint64_t snapshot_term = 0;
  uint64_t at_index = 0;
  bool use_at_index = false;
  std::string format = "text";
  std::string data = "auto";
  bool data_given = false;
  bool snapshot_given = false;
  std::string decode = "etcd";
  std::string entry_type;
  uint64_t from = 0;
  uint64_t to = 0;
  DumpView view;
};

struct Dumped {
  wal::ReadAllResult result;
};

DataFormat ParseDataFormat(const std::string& s) {
  if (s == "text") return DataFormat::kText;
  if (s == "hex") return DataFormat::kHex;
  if (s == "base64") return DataFormat::kBase64;
  if (s == "raw") return DataFormat::kRaw;
  return DataFormat::kAuto;
}

// A torn last record is silently skipped by ReadAll in read mode; say so.
void WarnIfTornTail(const WalDir& d) {
  auto r = CheckWalDir(d, d.segments.size() - 1, /*check_bodies=*/true, nullptr);
  if (r.has_value() && r->torn()) {
    Warn("the log ends in a torn record, which ReadAll skips (walctl verify / walctl repair): " +
         StopPath(d, *r) + " at offset " + std::to_string(r->stop_offset));
  }
}

// ReadAll of a WAL opened read-only by `open(options)`, with progress.
template <class OpenFn>
wal::Result<Dumped> ReadWith(const WalDir& d, Progress* progress, OpenFn open) {
  ProgressFileSystem fs(wal::FileSystem::Default(), progress);
  wal::Options opts;
  opts.file_system = &fs;
  auto w = open(opts);
  if (!w.has_value()) return Rephrase(w.error(), d.dir);
  auto all = (*w)->ReadAll();
  (*w)->Close().IgnoreError();  // read-only: nothing to flush
  if (!all.has_value()) {
    // The message names no place; the directory is the place (Rephrase
    // would find the directory's name inside "the log" and add nothing).
    if (all.error().code() == wal::StatusCode::kIndexNotFound)
      return wal::Status(all.error().code(), Reason(all.error()) + ": " + d.dir);
    return Rephrase(all.error(), d.dir);
  }
  Dumped out;
  out.result = std::move(*all);
  return out;
}

// ReadAll at a snapshot (OpenForRead): the one given, else where etcd
// would start (DefaultStart).
wal::Result<Dumped> ReadAtSnapshot(const WalDir& d, const DumpFlags& f, Progress* progress) {
  wal::Snapshot snap{f.snapshot_index, f.snapshot_term};
  if (!f.snapshot_given) {
    WAL_ASSIGN_OR_RETURN(StartPoint start, DefaultStart(d));
    snap = start.snap;
  }
  // The library selects the same segments; this names a failure for the operator.
  WAL_RETURN_IF_ERROR(SelectFrom(d, snap.index).error());
  return ReadWith(d, progress, [&](const wal::Options& o) { return wal::WAL::OpenForRead(d.dir, snap, o); });
}

// The seed's OpenAtIndex semantics (entries from the index on, inclusive),
// read-only (OpenAtIndexForRead).
wal::Result<Dumped> ReadFromIndex(const WalDir& d, const DumpFlags& f, Progress* progress) {
  // The library selects the same segments; this names a failure for the operator.
  WAL_RETURN_IF_ERROR(SelectFrom(d, f.at_index).error());
  return ReadWith(d, progress,
                  [&](const wal::Options& o) { return wal::WAL::OpenAtIndexForRead(d.dir, f.at_index, o); });
}

int RunDump(DumpFlags& f) {
  const bool json = f.format == "json";
  f.view.decode = f.decode == "etcd";
  if (!f.entry_type.empty()) {
    auto filter = etcd::EntryTypeFilter::Parse(f.entry_type);
    if (!filter.has_value()) return ReportFailure(filter.error(), json);
    f.view.entry_type = std::move(*filter);
  }
  if (f.view.from.has_value() && f.view.to.has_value() && *f.view.from > *f.view.to) {
    return ReportFailure(wal::Status(wal::StatusCode::kInvalidArgument,
                                     "--from " + std::to_string(*f.view.from) + " is after --to " +
                                         std::to_string(*f.view.to) + ": dump"),
                         json);
  }
  if (json && f.data_given && f.data != "base64") {
    return ReportFailure(
        wal::Status(wal::StatusCode::kInvalidArgument,
                    "--data " + f.data + " conflicts with --format json (JSON data is base64): dump"),
        json);
  }
  auto d = InspectWalDir(f.dir);
  if (!d.has_value()) return ReportFailure(d.error(), json);
  WarnIfLocked(*d);
  Progress progress("dump", d->total_bytes);
  auto dumped = f.use_at_index ? ReadFromIndex(*d, f, &progress) : ReadAtSnapshot(*d, f, &progress);
  progress.Finish();
  if (!dumped.has_value()) {
    const int rc = ReportFailure(dumped.error(), json);
    // Every log holds the {0,0} snapshot record: missing, the log is damaged.
    const bool zero = !f.use_at_index && !f.snapshot_given;
    return zero && dumped.error().code() == wal::StatusCode::kSnapshotNotFound ? kExitCorrupt : rc;
  }
  WarnIfTornTail(*d);
  auto shown = SelectEntries(dumped->result, f.view);
  if (!shown.has_value()) return ReportFailure(shown.error(), json);
  Output out;
  if (json)
    WriteDumpJson(dumped->result, *shown, f.view, &out);
  else
    WriteDumpText(dumped->result, *shown, f.view, ParseDataFormat(f.data), &out);
  wal::Status s = out.Finish();
  return s.ok() ? kExitOk : ReportError(s);
}

}  // namespace

Command AddDumpCommand(CLI::App& parent) {
  auto f = std::make_shared<DumpFlags>();
  CLI::App* app = parent.add_subcommand(
      "dump",
      "Print the log's metadata, last hard state and entries, as etcd reads them when it\n"
      "restarts. Without flags it starts where etcd would: after the newest snapshot file\n"
      "(member/snap) that the WAL records, else from the beginning, else (old segments\n"
      "purged) after the newest snapshot record left; a note says which. --snapshot-index\n"
      "and --snapshot-term start after that snapshot record; --at-index N prints the\n"
      "entries from index N on, inclusive. Reads only; takes no lock.");
  app->add_option("DIR", f->dir, "WAL directory, or an etcd data dir (its member/wal)")->required();
  auto* si = app->add_option("--snapshot-index", f->snapshot_index, "index of the snapshot to read from");
  auto* st = app->add_option("--snapshot-term", f->snapshot_term, "term of that snapshot");
  auto* ai = app->add_option("--at-index", f->at_index, "first entry index to return (inclusive)");
  si->needs(st);
  st->needs(si);
  ai->excludes(si);
  ai->excludes(st);
  app->add_option("--format", f->format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  auto* data =
      app->add_option(
             "--data", f->data,
             "how entry data is shown in text output: auto (text if printable ASCII, else hex),\n"
             "text (escaped), hex, base64, raw (the bytes unchanged, framed as raw:<length>:<bytes>)")
          ->check(CLI::IsMember({"auto", "text", "hex", "base64", "raw"}))
          ->capture_default_str();
  app->add_option("--decode", f->decode,
                  "etcd: show etcd's payloads decoded (InternalRaftRequest, v2 Request, ConfChange,\n"
                  "Metadata; IDs in hex), data that is not etcd's as --data says; none: the raw view")
      ->check(CLI::IsMember({"etcd", "none"}))
      ->capture_default_str();
  app->add_option("--entry-type", f->entry_type,
                  "show only these entry types (etcd-dump-logs' names, comma-separated): Normal,\n"
                  "ConfigChange, Request, InternalRaftRequest, IRRRange, IRRPut, IRRDeleteRange,\n"
                  "IRRTxn, IRRCompaction, IRRLeaseGrant, IRRLeaseRevoke, IRRLeaseCheckpoint, and\n"
                  "IRR<Kind> for every other request (IRRAlarm, IRRAuthUserAdd, ...)");
  auto* from = app->add_option("--from", f->from, "show only entries from this index on (inclusive)");
  auto* to = app->add_option("--to", f->to, "show only entries up to this index (inclusive)");
  app->add_option("--stream-decoder", f->view.stream_decoder,
                  "a program (split on spaces, no shell) that reads each shown entry's data as a hex\n"
                  "line on stdin and answers one line \"<status>|<decoded>\" on stdout\n"
                  "(etcd-dump-logs' -stream-decoder)");
  app->add_option("--stream-decoder-timeout", f->view.stream_decoder_timeout,
                  "seconds to wait for each answer of the stream decoder, and for its exit")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  return {app, [f, ai, si, data, from, to] {
            f->use_at_index = ai->count() > 0;
            f->snapshot_given = si->count() > 0;
            f->data_given = data->count() > 0;
            if (from->count() > 0) f->view.from = f->from;
            if (to->count() > 0) f->view.to = f->to;
            return RunDump(*f);
          }};
}

}  // namespace walctl
