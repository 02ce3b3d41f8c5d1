// Options::direct_io (issue 14, part 5): the tail written through an
// O_DIRECT descriptor in whole 4 KiB blocks. What must hold:
// - the page writer flushes at exactly the buffered writer's points (the
//   segment cut is decided on them) and leaves exactly its bytes in the
//   file, whatever the sizes of the writes and wherever it starts;
// - a WAL written with it holds the same segment files, byte for byte, as
//   one written without it (so etcd reads them: tests/interop checks the
//   buffered bytes against etcd), and reads back the same;
// - a file system that refuses O_DIRECT gets buffered writes;
// - on the real file system here, it writes, syncs and reads back.
// MemFileSystem's direct files refuse any misaligned offset, length or
// buffer (EINVAL), so every test here also checks the alignment. Crash
// safety: the crash enumeration's *_direct workloads.
#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/format.h"
#include "src/page_writer.h"
#include "src/segment_names.h"
#include "tests/test_util.h"
#include "tests/wal_test_helpers.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace wal {
namespace {

using internal::PageWriter;
using testutil::IsOk;

std::unique_ptr<File> OpenFile(MemFileSystem* fs, const std::string& path, bool direct) {
  OpenOptions o;
  o.read = !direct;
  o.write = true;
  o.create = !direct;
  o.direct = direct;
  auto f = fs->Open(path, o);
  EXPECT_TRUE(IsOk(f));
  return f.has_value() ? std::move(f).value() : nullptr;
}

// Random writes (1 B .. 3 pages, sometimes more than the buffer), flushes
// and durable flushes, from a random start offset (mid-block, with bytes
// before it), through a buffered and a direct writer over identical files.
TEST(DirectIo, PageWriterFlushesWhereAndWhatTheBufferedOneDoes) {
  const uint64_t seed = testutil::Seed();
  for (int round = 0; round < 40; ++round) {
    std::mt19937_64 rng(seed + round);
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round));
    MemFileSystem fs;
    const uint64_t start = round == 0 ? 0 : rng() % 20000;
    const std::string prefix = testutil::RandomBytes(rng, start);
    ASSERT_TRUE(IsOk(fs.WriteFileFromString("/buffered", prefix)));
    ASSERT_TRUE(IsOk(fs.WriteFileFromString("/direct", prefix)));
    auto fb = OpenFile(&fs, "/buffered", false);
    auto fd = OpenFile(&fs, "/direct", false);
    ASSERT_TRUE(fb && fd);
    const size_t watermark = 4096 * (1 + rng() % 8) + (rng() % 2 ? 0 : rng() % 4096);
    PageWriter bw(fb.get(), start, watermark);
    const std::string head = prefix.substr(start / 4096 * 4096);
    PageWriter dw(fd.get(), OpenFile(&fs, "/direct", true), start, watermark,
                  std::span(reinterpret_cast<const uint8_t*>(head.data()), head.size()));
    ASSERT_TRUE(dw.direct());
    std::string written = prefix;
    for (int op = 0; op < 200; ++op) {
      const int kind = static_cast<int>(rng() % 10);
      if (kind < 7) {
        const size_t n = rng() % 4 == 0 ? 1 + rng() % (3 * watermark) : 1 + rng() % 300;
        const std::string bytes = testutil::RandomBytes(rng, n);
        const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
        ASSERT_TRUE(IsOk(bw.Write(p, n)));
        ASSERT_TRUE(IsOk(dw.Write(p, n)));
        written += bytes;
      } else if (kind < 8) {
        ASSERT_TRUE(IsOk(bw.Flush()));
        ASSERT_TRUE(IsOk(dw.Flush()));
      } else if (kind < 9) {
        ASSERT_TRUE(IsOk(bw.Flush()));
        auto durable = dw.FlushDurable();
        ASSERT_TRUE(IsOk(durable));
      } else {
        dw.MarkSynced();
      }
      ASSERT_EQ(bw.flushed_offset(), dw.flushed_offset()) << "op " << op;
      ASSERT_EQ(bw.end_offset(), dw.end_offset());
      // What is not flushed yet reads back from either buffer alike.
      const uint64_t from = bw.flushed_offset() > 100 ? bw.flushed_offset() - 100 : 0;
      std::string a(bw.end_offset() - from, '\0'), b = a;
      ASSERT_EQ(bw.CopyBuffered(from, bw.end_offset(), reinterpret_cast<uint8_t*>(a.data())),
                dw.CopyBuffered(from, dw.end_offset(), reinterpret_cast<uint8_t*>(b.data())));
      ASSERT_EQ(a, b);
    }
    ASSERT_TRUE(IsOk(bw.Flush()));
    ASSERT_TRUE(IsOk(dw.Flush()));
    auto a = fs.ReadFileToString("/buffered");
    auto b = fs.ReadFileToString("/direct");
    ASSERT_TRUE(IsOk(a) && IsOk(b));
    ASSERT_EQ(*a, written);
    // The direct file: the same bytes, then zeros to the end of its block.
    ASSERT_GE(b->size(), a->size());
    ASSERT_LT(b->size() - a->size(), 4096u);
    EXPECT_EQ(b->substr(0, a->size()), *a);
    EXPECT_EQ(b->substr(a->size()), std::string(b->size() - a->size(), '\0'));
  }
}

// A FlushDurable is a single RWF_DSYNC write only while nothing else was
// written since MarkSynced: otherwise earlier, unsynced writes would be
// taken for durable.
TEST(DirectIo, FlushDurableOnlyWhenEverythingSinceTheLastSyncIsBuffered) {
  MemFileSystem fs;
  auto f = OpenFile(&fs, "/f", false);
  PageWriter w(f.get(), OpenFile(&fs, "/f", true), 0, 4096, {});
  const std::string bytes(100, 'x');
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  // A new writer knows nothing of what the file held: not durable.
  const std::string first(5000, 'a');
  ASSERT_TRUE(IsOk(w.Write(reinterpret_cast<const uint8_t*>(first.data()), first.size())));
  auto r = w.FlushDurable();
  ASSERT_TRUE(IsOk(r));
  EXPECT_FALSE(*r);
  w.MarkSynced();  // (the caller's fdatasync, left out here)
  ASSERT_TRUE(IsOk(w.Write(p, 100)));
  r = w.FlushDurable();
  ASSERT_TRUE(IsOk(r));
  EXPECT_TRUE(*r);
  auto durable = fs.ReadDurableFileToString("/f");
  ASSERT_TRUE(IsOk(durable));
  ASSERT_EQ(durable->size(), 8192u);
  EXPECT_EQ(durable->substr(4096, 904), first.substr(4096)) << "the durable write's block";
  EXPECT_EQ(durable->substr(5000, 100), bytes) << "the RWF_DSYNC write's range is durable";
  EXPECT_EQ(durable->substr(0, 4096), std::string(4096, '\0')) << "bytes written before it are not";
  // A plain flush in between: the next one must not be a durable write.
  ASSERT_TRUE(IsOk(w.Write(p, 100)));
  ASSERT_TRUE(IsOk(w.Flush()));
  ASSERT_TRUE(IsOk(w.Write(p, 100)));
  r = w.FlushDurable();
  ASSERT_TRUE(IsOk(r));
  EXPECT_FALSE(*r);
  // Nothing new since a durable one: durable without a write.
  w.MarkSynced();
  r = w.FlushDurable();
  ASSERT_TRUE(IsOk(r));
  EXPECT_TRUE(*r);
}

struct WorkloadRun {
  std::vector<std::string> names;
  std::vector<std::string> files;
  ReadAllResult read;
  WalStats stats;
};

// One random workload (Saves of 1 B .. 9 KB entries, overwrites, snapshots,
// cuts by size and by call, reopens) on a fresh MemFileSystem; returns the
// files and what a reopen reads. Synchronous calls only: with SaveAsync the
// syncer's flushes, and so the cut points, depend on timing.
WorkloadRun RandomWorkload(uint64_t seed, bool direct) {
  WorkloadRun out;
  MemFileSystem fs;
  Options o = testutil::SmallOptions(32 * 1024);
  o.file_system = &fs;
  o.background_segment_preparation = false;
  o.direct_io = direct;
  std::mt19937_64 rng(seed);
  // Small buffers flush inside Saves (plain writes before the round's
  // sync), large ones only at the sync (one durable write).
  o.write_buffer_bytes = rng() % 2 ? 8 * 1024 + static_cast<uint32_t>(rng() % 4096) : 128 * 1024;
  auto w = WAL::Create("/wal", "meta", o);
  EXPECT_TRUE(IsOk(w));
  if (!w.has_value()) return out;
  std::unique_ptr<WAL> wal = std::move(w).value();
  uint64_t next = 1, term = 1, durable_writes = 0;
  for (int op = 0; op < 120; ++op) {
    const int kind = static_cast<int>(rng() % 20);
    if (kind == 0) {
      EXPECT_TRUE(IsOk(wal->Cut()));
    } else if (kind == 1 && next > 3) {
      EXPECT_TRUE(IsOk(wal->SaveSnapshot(Snapshot{next - 2, term})));
    } else if (kind == 2) {
      // Reopen: the writer starts again mid-block.
      durable_writes += wal->stats().durable_writes;
      EXPECT_TRUE(IsOk(wal->Close()));
      auto r = WAL::Open("/wal", Snapshot{}, o);
      EXPECT_TRUE(IsOk(r));
      if (!r.has_value()) return out;
      wal = std::move(r).value();
      auto all = wal->ReadAll();
      EXPECT_TRUE(IsOk(all));
    } else {
      if (kind == 3 && next > 5) {
        next -= 1 + rng() % 4;  // an overwrite, as a new leader's log
        ++term;
      }
      std::vector<Entry> es;
      const int n = 1 + static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i)
        es.push_back(
            testutil::Ent(next++, term, testutil::RandomBytes(rng, 1 + rng() % (rng() % 8 ? 300 : 9000))));
      HardState st{term, 1, next - 1};
      EXPECT_TRUE(IsOk(wal->Save(st, std::span<const Entry>(es))));
    }
  }
  EXPECT_TRUE(IsOk(wal->Sync()));
  out.stats = wal->stats();
  out.stats.durable_writes += durable_writes;  // over every reopen
  EXPECT_TRUE(IsOk(wal->Close()));
  for (const std::string& path : fs.ListAllFiles()) {
    out.names.push_back(path);
    auto bytes = fs.ReadFileToString(path);
    EXPECT_TRUE(IsOk(bytes));
    out.files.push_back(bytes.has_value() ? *bytes : "");
  }
  auto r = WAL::OpenForRead("/wal", Snapshot{}, o);
  EXPECT_TRUE(IsOk(r));
  if (r.has_value()) {
    auto all = (*r)->ReadAll();
    EXPECT_TRUE(IsOk(all));
    if (all.has_value()) out.read = std::move(all).value();
  }
  return out;
}

TEST(DirectIo, WalFilesAreTheBufferedWalsBytes) {
  const uint64_t seed = testutil::Seed();
  for (uint64_t round = 0; round < 6; ++round) {
    SCOPED_TRACE("WAL_TEST_SEED=" + std::to_string(seed) + " round " + std::to_string(round));
    WorkloadRun b = RandomWorkload(seed + round, false);
    WorkloadRun d = RandomWorkload(seed + round, true);
    EXPECT_FALSE(b.stats.direct_io);
    EXPECT_TRUE(d.stats.direct_io);
    EXPECT_GT(d.stats.durable_writes, 0u) << "synced Saves made durable by RWF_DSYNC writes";
    EXPECT_EQ(b.stats.durable_writes, 0u);
    ASSERT_EQ(b.names, d.names);
    std::string tail;  // the last segment's path (the names are sorted)
    for (const std::string& n : b.names) {
      if (n.ends_with(".wal")) tail = n;
    }
    for (size_t i = 0; i < b.names.size(); ++i) {
      const std::string& x = b.files[i];
      const std::string& y = d.files[i];
      // Equal, except that a tail grown past its preallocated size may end
      // with up to a block of zeros more.
      ASSERT_GE(y.size(), x.size()) << b.names[i];
      EXPECT_LT(y.size() - x.size(), 4096u) << b.names[i];
      EXPECT_TRUE(y.compare(0, x.size(), x) == 0) << b.names[i] << " differs";
      EXPECT_EQ(y.substr(x.size()), std::string(y.size() - x.size(), '\0')) << b.names[i];
      if (b.names[i] < tail && b.names[i].ends_with(".wal")) {
        EXPECT_EQ(x.size(), y.size()) << "a closed segment " << b.names[i];
      }
    }
    EXPECT_EQ(b.read.entries, d.read.entries);
    EXPECT_EQ(b.read.state, d.read.state);
  }
}

// A file system without O_DIRECT (tmpfs answers EINVAL): buffered writes.
class NoDirectFileSystem final : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& o) override {
    if (o.direct) return Status(StatusCode::kIoError, "open " + path + ": Invalid argument", EINVAL);
    return FileSystemWrapper::Open(path, o);
  }
};

TEST(DirectIo, FallsBackToBufferedWritesWhereODirectIsRefused) {
  MemFileSystem mem;
  NoDirectFileSystem fs(&mem);
  Options o = testutil::SmallOptions();
  o.file_system = &fs;
  o.direct_io = true;
  auto w = WAL::Create("/wal", "m", o);
  ASSERT_TRUE(IsOk(w));
  const auto es = testutil::Ents(1, 50);
  ASSERT_TRUE(IsOk((*w)->Save(HardState{1, 1, 50}, std::span<const Entry>(es))));
  EXPECT_FALSE((*w)->stats().direct_io);
  EXPECT_EQ((*w)->stats().durable_writes, 0u);
  ASSERT_TRUE(IsOk((*w)->Close()));
  auto r = testutil::OpenReadAll("/wal", {}, o);
  ASSERT_TRUE(IsOk(r));
  EXPECT_EQ(r->entries, es);
}

// The real file system under the test directory: O_DIRECT and RWF_DSYNC
// for real (ext4 here; where the file system refuses O_DIRECT the WAL
// falls back, which the test reports).
TEST(DirectIo, RealFilesWriteSyncAndReadBack) {
  testutil::TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  Options o = testutil::SmallOptions(256 * 1024);
  o.direct_io = true;
  o.prezero_segments = true;
  auto w = WAL::Create(dir, "m", o);
  ASSERT_TRUE(IsOk(w));
  std::mt19937_64 rng(testutil::Seed());
  std::vector<Entry> all;
  for (uint64_t i = 1; i <= 600; i += 3) {
    std::vector<Entry> es;
    for (uint64_t j = i; j < i + 3; ++j)
      es.push_back(testutil::Ent(j, 1, testutil::RandomBytes(rng, 1 + rng() % 2000)));
    ASSERT_TRUE(IsOk((*w)->Save(HardState{1, 1, i + 2}, std::span<const Entry>(es))));
    all.insert(all.end(), es.begin(), es.end());
  }
  const WalStats st = (*w)->stats();
  std::printf("[direct_io] %s: direct_io %d, durable writes %llu of %llu syncs, cuts %llu\n", dir.c_str(),
              st.direct_io, static_cast<unsigned long long>(st.durable_writes),
              static_cast<unsigned long long>(st.syncs), static_cast<unsigned long long>(st.cuts));
  EXPECT_GT(st.cuts, 0u);
  if (st.direct_io) {
    EXPECT_GT(st.durable_writes, 0u);
  }
  ASSERT_TRUE(IsOk((*w)->Close()));
  // Reopen for appending (mid-block start), append, read everything back.
  auto w2 = WAL::Open(dir, Snapshot{}, o);
  ASSERT_TRUE(IsOk(w2));
  ASSERT_TRUE(IsOk((*w2)->ReadAll()));
  const auto more = testutil::Ents(601, 650);
  ASSERT_TRUE(IsOk((*w2)->Save(HardState{1, 1, 650}, std::span<const Entry>(more))));
  all.insert(all.end(), more.begin(), more.end());
  ASSERT_TRUE(IsOk((*w2)->Close()));
  auto r = testutil::OpenReadAll(dir, {}, o);
  ASSERT_TRUE(IsOk(r));
  EXPECT_EQ(r->entries, all);
}

}  // namespace
}  // namespace wal
