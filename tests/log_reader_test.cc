// LogReader streams what ReadAll returns, record by record.
#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace wal {
namespace {

TEST(LogReader, StreamsEveryRecordInOrderAcrossSegments) {
  MemFileSystem fs;
  Options o;
  o.file_system = &fs;
  o.segment_size_bytes = 16 * 1024;
  auto w = WAL::Create("/w", "md", o);
  ASSERT_TRUE(w.has_value());
  std::vector<Entry> saved;
  for (uint64_t i = 1; i <= 300; i += 3) {
    std::vector<Entry> b;
    for (uint64_t j = i; j < i + 3; ++j)
      b.push_back(Entry{2, j, EntryType::kNormal, std::string(j % 400, 'x')});
    ASSERT_TRUE((*w)->Save(HardState{2, 1, i}, b).ok());
    saved.insert(saved.end(), b.begin(), b.end());
  }
  ASSERT_TRUE((*w)->SaveSnapshot(Snapshot{100, 2}).ok());
  ASSERT_TRUE((*w)->Close().ok());

  auto r = LogReader::Open("/w", Snapshot{}, o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  std::vector<Entry> got;
  HardState last;
  int metadata = 0, snapshots = 0;
  std::string seg;
  LogRecord rec;
  while (true) {
    auto n = (*r)->Next(&rec);
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    if (!*n) break;
    switch (rec.kind) {
      case LogRecord::Kind::kEntry:
        got.push_back(rec.entry);
        break;
      case LogRecord::Kind::kState:
        last = rec.state;
        break;
      case LogRecord::Kind::kMetadata:
        EXPECT_EQ(rec.metadata, "md");
        ++metadata;
        break;
      case LogRecord::Kind::kSnapshot:
        ++snapshots;
        break;
    }
    EXPECT_FALSE(rec.segment.empty());
  }
  EXPECT_FALSE((*r)->torn());
  EXPECT_EQ(got, saved);
  EXPECT_EQ(last, (HardState{2, 1, 298}));
  EXPECT_GT(metadata, 1) << "one per segment";
  EXPECT_EQ(snapshots, 2) << "{0,0} from Create and {100,2}";
}

TEST(LogReader, EndsCleanlyAtATornTailAndSaysSo) {
  MemFileSystem fs;
  Options o;
  o.file_system = &fs;
  o.segment_size_bytes = 1 << 20;
  auto w = WAL::Create("/w", "md", o);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(
      (*w)->Save(HardState{1, 1, 1}, std::vector<Entry>{Entry{1, 1, EntryType::kNormal, "abc"}}).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto bytes = fs.ReadFileToString("/w/0000000000000000-0000000000000000.wal");
  ASSERT_TRUE(bytes.has_value());
  std::string b = *bytes;
  b.resize(b.find_last_not_of('\0') + 1 - 3);  // cut into the last record
  ASSERT_TRUE(fs.WriteFileFromString("/w/0000000000000000-0000000000000000.wal", b).ok());
  auto r = LogReader::Open("/w", Snapshot{}, o);
  ASSERT_TRUE(r.has_value());
  LogRecord rec;
  int n = 0;
  while (true) {
    auto more = (*r)->Next(&rec);
    ASSERT_TRUE(more.has_value()) << more.error().ToString();
    if (!*more) break;
    ++n;
  }
  EXPECT_TRUE((*r)->torn());
  EXPECT_GE(n, 2);
}

}  // namespace
}  // namespace wal

namespace wal {
namespace {

// Pre-zeroed segments hold the same bytes as fallocated ones.
TEST(PrezeroSegments, SameBytesAsFallocatedSegments) {
  std::string bytes[2];
  uint64_t ops[2] = {0, 0};
  for (int prezero = 0; prezero < 2; ++prezero) {
    MemFileSystem fs;
    Options o;
    o.file_system = &fs;
    o.segment_size_bytes = 64 * 1024;
    o.prezero_segments = prezero == 1;
    auto w = WAL::Create("/w", "md", o);
    ASSERT_TRUE(w.has_value());
    for (uint64_t i = 1; i <= 400; ++i)
      ASSERT_TRUE((*w)->Save(HardState{1, 1, i},
                             std::vector<Entry>{Entry{1, i, EntryType::kNormal, std::string(300, 'k')}})
                      .ok());
    ASSERT_TRUE((*w)->Close().ok());
    for (const auto& f : fs.ListAllFiles()) bytes[prezero] += f + "=" + *fs.ReadFileToString(f) + ";";
    ops[prezero] = fs.op_count();
  }
  EXPECT_EQ(bytes[0], bytes[1]);
  EXPECT_GT(ops[1], ops[0]) << "pre-zeroing writes (and syncs) the prepared segments";
}

}  // namespace
}  // namespace wal
