// walctl demo: the library end to end. Creates a WAL, saves entries with
// hard states across several segments, closes, reopens with Open, reads
// everything back, checks it and reports the speed of both directions.
#include <chrono>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"
#include "tools/text.h"
#include "wal/file_system.h"
#include "wal/inspect.h"
#include "wal/wal.h"

namespace walctl {

namespace {

struct DemoFlags {
  std::string dir = "walctl-demo";
  uint64_t entries = 200'000;
  uint64_t entry_size = 100;
  uint64_t batch = 1000;
  uint64_t segment_size = 4ull << 20;
  uint64_t seed = 1;
  uint64_t cut_every = 0;    // batches; 0 = cut by size only
  uint64_t snapshot_at = 0;  // record a snapshot at this index once saved; 0 = none
  bool no_fsync = false;
};

// splitmix64: a tiny deterministic generator, so a seed always gives the
// same log byte for byte.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t TermOf(const DemoFlags& f, uint64_t index) { return 1 + (index - 1) / f.batch / 10; }

// The entry at `index`: mostly printable Normal entries; every 16th a
// ConfChange and every 16th (offset 8) a ConfChangeV2, both binary.
wal::Entry MakeEntry(const DemoFlags& f, uint64_t index) {
  wal::Entry e;
  e.index = index;
  e.term = TermOf(f, index);
  uint64_t state = Mix(f.seed ^ Mix(index));
  std::string data(f.entry_size, '\0');
  if (index % 16 == 0 || index % 16 == 8) {
    e.type = index % 16 == 0 ? wal::EntryType::kConfChange : wal::EntryType::kConfChangeV2;
    for (char& c : data) c = static_cast<char>((state = Mix(state)) & 0xff);
  } else {
    const std::string prefix = "e" + std::to_string(index) + ":";
    for (size_t i = 0; i < data.size(); ++i) {
      data[i] = i < prefix.size() ? prefix[i] : static_cast<char>('a' + (state = Mix(state)) % 26);
    }
  }
  e.data = std::move(data);
  return e;
}

std::string EntryLine(const wal::Entry& e) {
  constexpr size_t kShown = 32;
  std::string line = "index=" + std::to_string(e.index) + " term=" + std::to_string(e.term) +
                     " type=" + EntryTypeName(e.type) + " size=" + std::to_string(e.data.size()) +
                     " data=" + RenderData(std::string_view(e.data).substr(0, kShown), DataFormat::kAuto);
  return e.data.size() > kShown ? line + "..." : line;
}

// The demo directory (and Create's <dir>.tmp) may be removed only when it
// is a previous demo: nothing in it but *.wal and *.tmp files.
wal::Status CheckRemovable(const std::string& path) {
  wal::FileSystem* fs = wal::FileSystem::Default();
  auto info = fs->Stat(path);
  if (!info.has_value()) {
    if (info.error().code() == wal::StatusCode::kNotFound) return wal::Status::Ok();
    return Rephrase(info.error(), path);
  }
  if (!info->is_dir) {
    return wal::Status(wal::StatusCode::kInvalidArgument,
                       "refusing to replace a file that is not a directory: " + path);
  }
  auto names = fs->ListDir(path);
  if (!names.has_value()) return Rephrase(names.error(), path);
  for (const std::string& n : *names) {
    auto st = fs->Stat(wal::JoinPath(path, n));
    const bool plain = st.has_value() && !st->is_dir;
    if (!plain || !(n.ends_with(".wal") || n.ends_with(".tmp"))) {
      return wal::Status(
          wal::StatusCode::kInvalidArgument,
          "refusing to remove a directory that holds more than *.wal/*.tmp files (" + n + "): " + path);
    }
  }
  return wal::Status::Ok();
}

wal::Status PrepareDir(const std::string& dir) {
  WAL_RETURN_IF_ERROR(CheckRemovable(dir));
  WAL_RETURN_IF_ERROR(CheckRemovable(dir + ".tmp"));
  wal::FileSystem* fs = wal::FileSystem::Default();
  WAL_RETURN_IF_ERROR(wal::RemoveAll(fs, dir + ".tmp"));
  return wal::RemoveAll(fs, dir);
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void PrintRate(double secs, uint64_t entries, uint64_t bytes) {
  const double s = secs > 0 ? secs : 1e-9;
  std::printf("  took %.3f s: %.0f entries/s, %.1f MB/s of entry data\n", secs,
              static_cast<double>(entries) / s, static_cast<double>(bytes) / 1e6 / s);
}

wal::Options DemoOptions(const DemoFlags& f) {
  wal::Options o;
  o.segment_size_bytes = f.segment_size;
  o.unsafe_no_fsync = f.no_fsync;
  return o;
}

wal::Status WritePhase(const DemoFlags& f) {
  const std::string metadata = "walctl-demo seed=" + std::to_string(f.seed);
  const auto t0 = std::chrono::steady_clock::now();
  WAL_ASSIGN_OR_RETURN(auto w, wal::WAL::Create(f.dir, metadata, DemoOptions(f)));
  std::vector<wal::Entry> batch;
  uint64_t batches = 0;
  for (uint64_t next = 1; next <= f.entries;) {
    batch.clear();
    for (uint64_t i = 0; i < f.batch && next <= f.entries; ++i) batch.push_back(MakeEntry(f, next++));
    const wal::HardState hs{TermOf(f, batch.back().index), 1, batch.back().index};
    WAL_RETURN_IF_ERROR(w->Save(hs, batch));
    ++batches;
    if (f.snapshot_at != 0 && batch.front().index <= f.snapshot_at && f.snapshot_at <= batch.back().index) {
      WAL_RETURN_IF_ERROR(w->SaveSnapshot(wal::Snapshot{f.snapshot_at, TermOf(f, f.snapshot_at)}));
    }
    if (f.cut_every != 0 && batches % f.cut_every == 0 && next <= f.entries) WAL_RETURN_IF_ERROR(w->Cut());
  }
  const wal::WalStats stats = w->stats();
  WAL_RETURN_IF_ERROR(w->Close());
  const double secs = Seconds(t0);
  std::printf("write: %llu entries of %llu B in %llu Save calls of up to %llu, each with a hard state%s\n",
              static_cast<unsigned long long>(f.entries), static_cast<unsigned long long>(f.entry_size),
              static_cast<unsigned long long>(batches), static_cast<unsigned long long>(f.batch),
              f.no_fsync ? " (no fsync)" : " and an fdatasync");
  PrintRate(secs, f.entries, f.entries * f.entry_size);
  std::printf("  %s of records written, %llu fdatasyncs, %llu segment cuts (segment size %s)\n",
              HumanBytes(stats.bytes_written).c_str(), static_cast<unsigned long long>(stats.syncs),
              static_cast<unsigned long long>(stats.cuts), HumanBytes(f.segment_size).c_str());
  return wal::Status::Ok();
}

wal::Status PrintSegments(const std::string& dir) {
  WAL_ASSIGN_OR_RETURN(WalDir d, InspectWalDir(dir));
  std::printf("segments: %zu in %s\n", d.segments.size(), d.dir.c_str());
  for (const auto& s : d.segments) std::printf("  %s  %s\n", s.name.name.c_str(), HumanBytes(s.size).c_str());
  return wal::Status::Ok();
}

// Reopens, reads everything back and compares it with what was written.
wal::Status ReadPhase(const DemoFlags& f, bool* matched) {
  const auto t0 = std::chrono::steady_clock::now();
  WAL_ASSIGN_OR_RETURN(auto w, wal::WAL::Open(f.dir, wal::Snapshot{}, DemoOptions(f)));
  WAL_ASSIGN_OR_RETURN(wal::ReadAllResult all, w->ReadAll());
  const double secs = Seconds(t0);
  WAL_RETURN_IF_ERROR(w->Close());
  std::printf("read: WAL::Open + ReadAll\n");
  PrintRate(secs, all.entries.size(), all.entries.size() * f.entry_size);
  std::printf("  metadata: %s\n  hard state: %s\n  entries: %zu",
              RenderData(all.metadata, DataFormat::kAuto).c_str(), HardStateText(all.state).c_str(),
              all.entries.size());
  if (!all.entries.empty()) {
    std::printf(" (index %llu..%llu)\n  first: %s\n  last:  %s\n",
                static_cast<unsigned long long>(all.entries.front().index),
                static_cast<unsigned long long>(all.entries.back().index),
                EntryLine(all.entries.front()).c_str(), EntryLine(all.entries.back()).c_str());
  } else {
    std::printf("\n");
  }
  *matched = all.entries.size() == f.entries;
  for (uint64_t i = 0; *matched && i < f.entries; ++i) *matched = all.entries[i] == MakeEntry(f, i + 1);
  const wal::HardState want{f.entries ? TermOf(f, f.entries) : 0, f.entries ? 1u : 0u, f.entries};
  *matched = *matched && all.state == want;
  if (*matched) {
    std::printf("  check: all %llu entries and the hard state match what was written\n",
                static_cast<unsigned long long>(f.entries));
  } else {
    std::printf("  check: MISMATCH between what was written and what was read\n");
  }
  return wal::Status::Ok();
}

int RunDemo(const DemoFlags& f) {
  wal::Status s = PrepareDir(f.dir);
  if (!s.ok()) return ReportError(s);
  std::printf("walctl demo: %s\n", f.dir.c_str());
  s = WritePhase(f);
  if (!s.ok()) return ReportError(Rephrase(s, f.dir));
  s = PrintSegments(f.dir);
  if (!s.ok()) return ReportError(s);
  bool matched = false;
  s = ReadPhase(f, &matched);
  if (!s.ok()) return ReportError(Rephrase(s, f.dir));
  std::fflush(stdout);
  if (!matched)
    return ReportError(
        wal::Status(wal::StatusCode::kCorruption, "read back differs from what was written: " + f.dir));
  return kExitOk;
}

}  // namespace

Command AddDemoCommand(CLI::App& parent) {
  auto f = std::make_shared<DemoFlags>();
  CLI::App* app = parent.add_subcommand(
      "demo",
      "Create a WAL in DIR (default ./walctl-demo; a previous demo there is removed, any\n"
      "other content is refused), save 200,000 entries of 100 B in batches of 1000 with hard\n"
      "states across 4 MiB segments, close, reopen with Open, read everything back, check it,\n"
      "and print what came back and how fast.");
  app->add_option("DIR", f->dir, "directory to create the demo WAL in")->capture_default_str();
  // Hidden knobs, for tests (small, fast, deterministic logs).
  app->add_option("--entries", f->entries)->group("")->check(CLI::Range(uint64_t{0}, uint64_t{100'000'000}));
  app->add_option("--entry-size", f->entry_size)
      ->group("")
      ->check(CLI::Range(uint64_t{0}, uint64_t{64} << 20));
  app->add_option("--batch", f->batch)->group("")->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
  app->add_option("--segment-size", f->segment_size)
      ->group("")
      ->check(CLI::Range(uint64_t{4096}, uint64_t{1} << 32));
  app->add_option("--seed", f->seed)->group("");
  app->add_option("--cut-every", f->cut_every)->group("");
  app->add_option("--snapshot-at", f->snapshot_at)->group("");
  app->add_flag("--no-fsync", f->no_fsync)->group("");
  return {app, [f] { return RunDemo(*f); }};
}

}  // namespace walctl
