// directory_fuzzer: builds an arbitrary WAL directory (fuzz/directory_input.h)
// in a MemFileSystem and runs every entry point that reads one:
//   1. OpenForRead + ReadAll
//   2. Open + ReadAll (write mode); optionally Save one entry and Close, then
//      OpenForRead + ReadAll again
//   3. Verify, ValidSnapshotEntries
//   4. OpenForRead + ReadAll, Repair, OpenForRead + ReadAll
//   5. OpenAtIndex + ReadAll
// Nothing may crash; every failure must be a Status. Checked as well:
//   - no single allocation exceeds 2x the input + 64 KiB (+ the write
//     buffer, whose size is an option);
//   - a write-mode ReadAll that succeeds returns what read mode returned
//     (read mode may only add kSnapshotNotFound);
//   - after an append to a recovered log, read mode returns the recovered
//     entries with the new one placed by raft's overwrite rule;
//   - read mode succeeding implies Verify succeeds (Verify checks less);
//   - Repair never changes what read mode returns; when it answers false it
//     changes nothing, when true it only shortens the last segment (keeping a
//     prefix) and leaves a .broken copy of the original.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "fuzz/directory_input.h"
#include "fuzz/fuzz_util.h"
#include "src/segment_names.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace {

using wal::StatusCode;

constexpr char kDir[] = "/data/wal";

using walfuzz::ReadOutcome;

ReadOutcome ReadForRead(const wal::Snapshot& snap, const wal::Options& o) {
  return walfuzz::ReadForRead(kDir, snap, o);
}

std::map<std::string, std::string> Snapshot(wal::MemFileSystem& fs) {
  std::map<std::string, std::string> files;
  for (const auto& path : fs.ListAllFiles()) {
    auto c = fs.ReadFileToString(path);
    files[path] = c.has_value() ? *c : "<unreadable: " + c.error().ToString() + ">";
  }
  return files;
}

// The last (sorted) segment name in the directory, as Repair picks it.
std::string LastSegmentPath(wal::MemFileSystem& fs) {
  auto segs = wal::internal::ListSegments(&fs, kDir);
  if (!segs.has_value()) return "";
  return wal::internal::JoinPath(kDir, segs->back().name);
}

void CheckRepair(const std::map<std::string, std::string>& before,
                 const std::map<std::string, std::string>& after, bool repaired, const std::string& last) {
  if (!repaired) {
    FUZZ_CHECK(before == after, "Repair answered false but changed the directory");
    return;
  }
  for (const auto& [path, content] : after) {
    auto it = before.find(path);
    if (path == last) {
      FUZZ_CHECK(it != before.end(), "Repair created the last segment");
      FUZZ_CHECK(content.size() <= it->second.size() && it->second.compare(0, content.size(), content) == 0,
                 "Repair left the last segment something other than a prefix of itself");
    } else if (path == last + ".broken" && (it == before.end() || it->second != content)) {
      // Written by this Repair (an older copy may have been left alone).
      auto orig = before.find(last);
      FUZZ_CHECK(orig != before.end() && content == orig->second,
                 "the .broken copy (" + std::to_string(content.size()) +
                     " bytes) is not the original last segment (" +
                     (orig == before.end() ? std::string("missing")
                                           : std::to_string(orig->second.size()) + " bytes") +
                     ")");
    } else {
      FUZZ_CHECK(it != before.end() && it->second == content, "Repair touched " + path);
    }
  }
  for (const auto& [path, content] : before) {
    FUZZ_CHECK(after.count(path) == 1, "Repair removed " + path);
  }
}

// ReadAll's placement rule for an entry read after the others (snapshot
// index `snap`, exclusive).
void PlaceEntry(std::vector<wal::Entry>* ents, const wal::Entry& e, uint64_t snap) {
  if (e.index <= snap) return;
  uint64_t off = e.index - snap - 1;
  FUZZ_CHECK(off <= ents->size(), "the appended entry would leave a gap");
  ents->resize(static_cast<size_t>(off));
  ents->push_back(e);
}

// WALFUZZ_DUMP=1: prints the directory an input builds (for debugging a
// reproducer with the replay binary).
void DumpDirectory(wal::MemFileSystem& fs, const walfuzz::DirInput& in) {
  std::fprintf(stderr, "config %u snap {%llu, %llu}\n", static_cast<unsigned>(in.config),
               static_cast<unsigned long long>(in.snap_index), static_cast<unsigned long long>(in.snap_term));
  for (const auto& [path, content] : Snapshot(fs)) {
    std::fprintf(stderr, "%s (%zu bytes):", path.c_str(), content.size());
    for (size_t i = 0; i < content.size() && i < 256; ++i) {
      std::fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n  " : " ", static_cast<unsigned char>(content[i]));
    }
    std::fprintf(stderr, "\n");
  }
  // Directories too: one named like a segment is listed as a segment.
  for (const auto& e : in.entries) {
    if (e.is_dir) std::fprintf(stderr, "%s/ (directory)\n", wal::internal::JoinPath(kDir, e.name).c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const walfuzz::DirInput in =
      walfuzz::ParseDirInput(std::string_view(reinterpret_cast<const char*>(data), size));
  wal::MemFileSystem fs;
  FUZZ_CHECK(wal::CreateDirAll(&fs, kDir, 0700).ok(), "create the directory");
  for (const auto& e : in.entries) {
    const std::string path = wal::internal::JoinPath(kDir, e.name);
    if (e.is_dir) {
      fs.CreateDir(path, 0700).IgnoreError();  // may exist already
    } else {
      fs.WriteFileFromString(path, e.content).IgnoreError();  // may be a directory
    }
  }

  if (const char* v = std::getenv("WALFUZZ_DUMP"); v != nullptr && v[0] == '1') DumpDirectory(fs, in);

  wal::Options o;
  o.file_system = &fs;
  o.background_segment_preparation = false;
  o.torn_write_rule = (in.config & 4) ? wal::TornWriteRule::kEtcd : wal::TornWriteRule::kZeroTail;
  o.segment_size_bytes = (in.config & 8) ? 4096 : 64'000'000;
  o.read_chunk_bytes = (in.config & 32) ? 4096 : 1 << 20;
  const bool append = in.config & 16;
  const wal::Snapshot snap{in.snap_index, in.snap_term};

  walfuzz::BeginAllocTracking();

  // 1. Read mode.
  const ReadOutcome r1 = ReadForRead(snap, o);

  // 2. Write mode, and an append after it.
  {
    auto w = wal::WAL::Open(kDir, snap, o);
    if (w.has_value()) {
      auto r2 = (*w)->ReadAll();
      if (r2.has_value()) {
        FUZZ_CHECK((r1.status.ok() && walfuzz::SameResult(r1.result, *r2)) ||
                       r1.status.code() == StatusCode::kSnapshotNotFound,
                   "write mode read " + walfuzz::Describe(*r2) + ", read mode " + r1.Describe());
        const uint64_t last = (*w)->last_index();
        if (append && last < std::numeric_limits<uint64_t>::max()) {
          // Raft never appends a term below the last entry's (or the snapshot's): ReadAll's
          // term-order rule would rightly drop such an entry.
          const uint64_t term =
              std::max<uint64_t>({1, snap.term, r2->entries.empty() ? 0 : r2->entries.back().term});
          wal::Entry e{
              .term = term, .index = last + 1, .type = wal::EntryType::kNormal, .data = "fuzz-append"};
          wal::Status s = (*w)->Save(wal::HardState{}, std::span<const wal::Entry>(&e, 1));
          FUZZ_CHECK(s.ok(), "Save after a successful ReadAll: " + s.ToString());
          const bool cut = (*w)->stats().cuts > 0;
          s = (*w)->Close();
          FUZZ_CHECK(s.ok(), "Close after Save: " + s.ToString());
          w->reset();
          wal::ReadAllResult want = *r2;
          PlaceEntry(&want.entries, e, snap.index);
          const ReadOutcome r3 = ReadForRead(snap, o);
          if (r3.status.ok()) {
            FUZZ_CHECK(walfuzz::SameResult(r3.result, want), "after the append read mode returned " +
                                                                 r3.Describe() + ", expected " +
                                                                 walfuzz::Describe(want));
          } else {
            FUZZ_CHECK(r3.status.code() == StatusCode::kSnapshotNotFound &&
                           (cut || r1.status.code() == StatusCode::kSnapshotNotFound),
                       "read after the append failed: " + r3.Describe());
          }
        }
      }
    }
  }

  // 3. The stand-alone checks.
  const wal::Status verified = wal::Verify(kDir, snap, o);
  auto snaps = wal::ValidSnapshotEntries(kDir, o);
  (void)snaps;

  // 4. Repair between two reads.
  const ReadOutcome ra = ReadForRead(snap, o);
  FUZZ_CHECK(!ra.status.ok() || verified.ok(),
             "read mode succeeded but Verify failed: " + verified.ToString());
  const std::string last = LastSegmentPath(fs);
  const auto before = Snapshot(fs);
  auto repaired = wal::Repair(kDir, o);
  const auto after = Snapshot(fs);
  const ReadOutcome rb = ReadForRead(snap, o);
  if (repaired.has_value()) {
    CheckRepair(before, after, *repaired, last);
    FUZZ_CHECK(ra.status.code() == rb.status.code() &&
                   (!ra.status.ok() || walfuzz::SameResult(ra.result, rb.result)),
               "Repair changed what read mode returns: before " + ra.Describe() + ", after " + rb.Describe());
  }

  // 5. The seed's semantics.
  {
    auto w = wal::WAL::OpenAtIndex(kDir, snap.index, o);
    if (w.has_value()) {
      auto r = (*w)->ReadAll();
      (void)r;
    }
  }

  const size_t max_alloc = walfuzz::EndAllocTracking();
  // Write mode also allocates its write buffer (write_buffer_bytes + a page).
  FUZZ_CHECK(max_alloc <= 2 * size + 64 * 1024 + o.write_buffer_bytes + 4096,
             "allocated " + std::to_string(max_alloc) + " bytes at once for a " + std::to_string(size) +
                 "-byte input");
  return 0;
}
