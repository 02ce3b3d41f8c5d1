// The WAL must flush its tail at exactly the points etcd's page writer
// (pkg/ioutil/pagewriter.go, fed by the encoder with two writes per record:
// the 8-byte length word, then record + padding) would, because a segment is
// cut on the flushed size. The WAL encodes most records straight into its
// write buffer instead; this test replays the frames of a random workload
// through an independent model of etcd's page writer and compares the
// model's writes with the WriteAt calls the WAL made, one for one.
#include "src/page_writer.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "src/coding.h"
#include "src/format.h"
#include "src/proto.h"
#include "tests/test_util.h"
#include "wal/file_system.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace wal {
namespace {

using WriteOp = std::pair<uint64_t, uint64_t>;  // (offset, length)

// etcd's page writer, as its documentation describes it: buffer up to the
// watermark; past it, complete the current page from the input, flush, write
// whole pages straight through, buffer the rest.
class EtcdPageWriterModel {
 public:
  static constexpr uint64_t kPage = internal::kPageBytes, kWatermark = 128 * 1024;  // etcd defaultBufferBytes
  void Write(uint64_t n) {
    if (buffered_ + n <= kWatermark) {
      buffered_ += n;
      return;
    }
    uint64_t slack = kPage - (offset_ + buffered_) % kPage;
    if (slack != kPage) {
      if (slack > n) {  // not enough to complete the page: keep buffering
        buffered_ += n;
        return;
      }
      buffered_ += slack;
      n -= slack;
    }
    Flush();
    if (n > kPage) {
      uint64_t direct = n / kPage * kPage;
      writes.emplace_back(offset_, direct);
      offset_ += direct;
      n -= direct;
    }
    Write(n);
  }
  void Flush() {
    if (buffered_ == 0) return;
    writes.emplace_back(offset_, buffered_);
    offset_ += buffered_;
    buffered_ = 0;
  }
  std::vector<WriteOp> writes;

 private:
  uint64_t offset_ = 0, buffered_ = 0;
};

// The frame lengths of a segment, in order, from its length words.
std::vector<uint64_t> FrameLengths(const std::string& seg) {
  std::vector<uint64_t> out;
  for (uint64_t off = 0; off + 8 <= seg.size();) {
    uint64_t word = internal::DecodeFixed64LE(reinterpret_cast<const uint8_t*>(seg.data() + off));
    if (word == 0) break;
    internal::FrameSize fs = internal::DecodeFrameWord(word);
    out.push_back(8 + fs.record_bytes + fs.pad_bytes);
    off += out.back();
  }
  return out;
}

TEST(FlushPoints, SameWritesAsEtcdsPageWriter) {
  const uint64_t seed = testutil::Seed();
  std::mt19937_64 rng(seed);
  MemFileSystem fs;
  std::vector<WriteOp> actual;
  fs.SetOpHook([&](const OpInfo& op) {
    if (op.kind == OpKind::kWriteAt && op.path.ends_with("0000000000000000-0000000000000000.wal"))
      actual.emplace_back(op.offset, op.length);
    return Status::Ok();
  });
  Options o;
  o.file_system = &fs;
  o.segment_size_bytes = 64 << 20;  // more than the workload writes: no cut
  o.background_segment_preparation = false;
  auto w = WAL::Create("/w", "metadata", o);
  ASSERT_TRUE(w.has_value());
  // Records per synced group: Create's head (crc, metadata, snapshot), then
  // per Save its entries and its state.
  std::vector<size_t> group_records = {3};
  const uint64_t sizes[] = {0, 1, 7, 100, 1000, 4088, 4096, 5000, 40000, 131072, 200000};
  uint64_t index = 0;
  for (int save = 0; save < 150; ++save) {
    std::vector<Entry> batch(rng() % 8 + 1);
    for (Entry& e : batch) {
      const uint64_t size = sizes[rng() % std::size(sizes)] + rng() % 3;
      e = Entry{1, ++index, EntryType::kNormal, std::string(size, static_cast<char>('a' + index % 26))};
    }
    ASSERT_TRUE((*w)->Save(HardState{1, 1, index}, batch).ok());
    group_records.push_back(batch.size() + 1);
  }
  ASSERT_TRUE((*w)->Close().ok());

  auto seg = fs.ReadFileToString("/w/0000000000000000-0000000000000000.wal");
  ASSERT_TRUE(seg.has_value());
  const std::vector<uint64_t> frames = FrameLengths(*seg);
  EtcdPageWriterModel model;
  size_t next = 0;
  for (size_t records : group_records) {
    for (size_t i = 0; i < records; ++i, ++next) {
      ASSERT_LT(next, frames.size()) << "seed " << seed;
      model.Write(8);
      model.Write(frames[next] - 8);
    }
    model.Flush();  // every group ended with a sync
  }
  EXPECT_EQ(next, frames.size()) << "seed " << seed;
  ASSERT_EQ(actual.size(), model.writes.size()) << "seed " << seed;
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i], model.writes[i]) << "write " << i << ", seed " << seed;
  }
}

// Records the StartWriteback hints a writer gives.
class WritebackLog : public FileWrapper {
 public:
  using FileWrapper::FileWrapper;
  void StartWriteback(uint64_t offset, uint64_t length) override {
    hints.emplace_back(offset, length);
    FileWrapper::StartWriteback(offset, length);
  }
  std::vector<WriteOp> hints;
};

// Options::writeback_bytes: each hint starts where the last one ended (the
// first at the writer's start), covers at least the step and only flushed
// bytes, and comes at a flush; the writes, and so the file's bytes, are
// those of a writer without hints.
TEST(Writeback, HintsCoverFlushedBytesInStepsAndChangeNoWrite) {
  const uint64_t seed = testutil::Seed();
  std::mt19937_64 rng(seed);
  MemFileSystem fs;
  std::vector<WriteOp> writes[2];
  fs.SetOpHook([&](const OpInfo& op) {
    if (op.kind == OpKind::kWriteAt) writes[op.path == "/b" ? 1 : 0].emplace_back(op.offset, op.length);
    return Status::Ok();
  });
  OpenOptions rw;
  rw.write = rw.create = true;
  auto opened_a = fs.Open("/a", rw);
  auto opened_b = fs.Open("/b", rw);
  ASSERT_TRUE(opened_a.has_value() && opened_b.has_value());
  WritebackLog a(std::move(opened_a).value()), b(std::move(opened_b).value());
  const uint64_t start = rng() % 10000, step = 64 * 1024 + rng() % 100000;
  internal::PageWriter hinted(&a, start, 128 * 1024), plain(&b, start, 128 * 1024);
  hinted.set_writeback_bytes(step);
  std::string chunk;
  uint64_t covered = start;
  for (int i = 0; i < 2000; ++i) {
    chunk.assign(rng() % 3 == 0 ? rng() % 300000 : rng() % 2000, static_cast<char>('a' + i % 26));
    const auto* p = reinterpret_cast<const uint8_t*>(chunk.data());
    ASSERT_TRUE(hinted.Write(p, chunk.size()).ok());
    ASSERT_TRUE(plain.Write(p, chunk.size()).ok());
    if (rng() % 10 == 0) {
      ASSERT_TRUE(hinted.Flush().ok());
      ASSERT_TRUE(plain.Flush().ok());
    }
    for (; !a.hints.empty(); a.hints.erase(a.hints.begin())) {
      const auto [off, len] = a.hints.front();
      ASSERT_EQ(off, covered) << "seed " << seed;
      ASSERT_GE(len, step) << "seed " << seed;
      covered += len;
      ASSERT_LE(covered, hinted.flushed_offset()) << "seed " << seed;
      ASSERT_TRUE(std::any_of(writes[0].begin(), writes[0].end(),
                              [&](const WriteOp& w) { return w.first + w.second == covered; }))
          << "a hint ends where a write ended; seed " << seed;
    }
    ASSERT_LT(hinted.flushed_offset() - covered, step) << "seed " << seed;
  }
  EXPECT_GT(covered, start + 10 * step) << "the workload gave hints; seed " << seed;
  EXPECT_EQ(writes[0], writes[1]) << "seed " << seed;
  EXPECT_TRUE(b.hints.empty()) << "writeback_bytes 0 gives no hint";
}

}  // namespace
}  // namespace wal
