// Reading by index (issue "performance, wave 2", part 2): the offset index
// (src/offset_index.h) and WAL::ReadIndexed / Entries / Term / FirstIndex /
// LastIndex. A model of raft's log (written here independently of the
// index) is driven through random appends, overwrites, cuts, snapshots,
// ReleaseLockTo + Purge and reopens, and after every step the WAL must
// answer exactly as the model; after every reopen, ReadIndexed must agree
// with ReadAll of the same log.
#include "src/offset_index.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/proto.h"
#include "tests/test_util.h"
#include "tests/wal_test_helpers.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace wal {
namespace {

using internal::EntryPlace;
using internal::OffsetIndex;
using testutil::Ents;

// ---- the index itself ------------------------------------------------------

TEST(OffsetIndex, AppendTruncateAndTermRuns) {
  OffsetIndex ix;
  ix.Reset(11, 3);
  EXPECT_TRUE(ix.empty());
  EXPECT_EQ(ix.last(), 10u);
  EXPECT_EQ(ix.term(10), 3u);
  for (uint64_t i = 11; i <= 20; ++i) ASSERT_TRUE(ix.Append(i, i < 15 ? 3 : 4, EntryPlace{7, i * 100, 1, 2}));
  EXPECT_EQ(ix.size(), 10u);
  EXPECT_EQ(ix.term(14), 3u);
  EXPECT_EQ(ix.term(15), 4u);
  EXPECT_EQ(ix.place(13).offset, 1300u);
  EXPECT_EQ(ix.place(13).seq, 7u);
  EXPECT_FALSE(ix.Append(22, 4, EntryPlace{7, 1, 1, 1})) << "a gap";
  ix.TruncateTo(3);  // keeps 11..13
  EXPECT_EQ(ix.last(), 13u);
  ASSERT_TRUE(ix.Append(14, 5, EntryPlace{8, 0, 0, 0}));
  EXPECT_EQ(ix.term(13), 3u);
  EXPECT_EQ(ix.term(14), 5u);
  EXPECT_EQ(ix.TermOrderedPrefix(12, 4), 1u) << "12 has term 3 < 4: keep 11 only";
  EXPECT_EQ(ix.TermOrderedPrefix(14, 5), 4u);
}

TEST(OffsetIndex, DropSegmentsBeforeKeepsThePreviousTerm) {
  OffsetIndex ix;
  ix.Reset(1, 0);
  for (uint64_t i = 1; i <= 30; ++i) ASSERT_TRUE(ix.Append(i, 1 + i / 10, EntryPlace{i / 10, i, 0, 0}));
  ix.DropSegmentsBefore(2);  // entries 20.. are in segment 2 and later
  EXPECT_EQ(ix.first(), 20u);
  EXPECT_EQ(ix.term(19), 2u);
  EXPECT_EQ(ix.term(20), 3u);
  EXPECT_EQ(ix.place(25).seq, 2u);
  ix.DropSegmentsBefore(9);
  EXPECT_TRUE(ix.empty());
  EXPECT_EQ(ix.first(), 31u);
  EXPECT_EQ(ix.term(30), 4u);
}

// Across the 1 MiB blocks the slots live in: appends, a truncation, and
// dropping prefixes that free whole blocks.
TEST(OffsetIndex, ManyEntriesAcrossBlocks) {
  OffsetIndex ix;
  ix.Reset(1, 0);
  constexpr uint64_t kN = 300000;  // about 4.6 blocks of 65536
  for (uint64_t i = 1; i <= kN; ++i)
    ASSERT_TRUE(ix.Append(i, 1 + i / 100000, EntryPlace{i / 1000, i * 8, static_cast<uint32_t>(i), 40}));
  EXPECT_EQ(ix.memory_bytes() / (1 << 20), 5u);
  EXPECT_EQ(ix.place(131072).offset, 131072u * 8);
  EXPECT_EQ(ix.place(131073).prev_crc, 131073u);
  ix.TruncateTo(200000);
  ASSERT_TRUE(ix.Append(200001, 9, EntryPlace{300, 1, 2, 3}));
  EXPECT_EQ(ix.last(), 200001u);
  EXPECT_EQ(ix.term(200001), 9u);
  EXPECT_EQ(ix.term(200000), 3u);
  ix.DropSegmentsBefore(150);  // entries 150000.. (segment i / 1000)
  EXPECT_EQ(ix.first(), 150000u);
  EXPECT_EQ(ix.term(149999), 2u);
  EXPECT_EQ(ix.place(150000).seq, 150u);
  EXPECT_EQ(ix.place(199999).offset, 199999u * 8);
  EXPECT_EQ(ix.place(200001).seq, 300u);
  EXPECT_EQ(ix.memory_bytes() / (1 << 20), 3u)
      << "the blocks before entry 150000 are freed (two used, one spare)";
  for (uint64_t i = 200002; i <= 400000; ++i) ASSERT_TRUE(ix.Append(i, 9, EntryPlace{300, i, 0, 0}));
  EXPECT_EQ(ix.place(400000).offset, 400000u);
  EXPECT_EQ(ix.place(150001).offset, 150001u * 8);
}

TEST(OffsetIndex, ASmallIndexStaysSmallAndTrimKeepsWhatIsUsed) {
  OffsetIndex ix;
  ix.Reset(1, 0);
  for (uint64_t i = 1; i <= 10; ++i) ASSERT_TRUE(ix.Append(i, 1, EntryPlace{0, i, 0, 0}));
  EXPECT_LT(ix.memory_bytes(), 17u * 1024) << "a 16 KiB first block";
  for (uint64_t i = 11; i <= 70000; ++i) ASSERT_TRUE(ix.Append(i, 1, EntryPlace{0, i, 0, 0}));
  ix.Trim();
  EXPECT_LT(ix.memory_bytes(), 70000u * 16 + 256);
  for (uint64_t i = 70001; i <= 70100; ++i) ASSERT_TRUE(ix.Append(i, 1, EntryPlace{0, i, 0, 0}));
  for (uint64_t i = 1; i <= 70100; i += 997) ASSERT_EQ(ix.place(i).offset, i);
  ix.TruncateTo(65536);  // exactly one whole block
  ix.Trim();
  EXPECT_LT(ix.memory_bytes(), 65536u * 16 + 256);
  ASSERT_TRUE(ix.Append(65537, 2, EntryPlace{1, 5, 0, 0}));
  EXPECT_EQ(ix.place(65537).offset, 5u);
  EXPECT_EQ(ix.place(65536).offset, 65536u);
}

TEST(OffsetIndex, RefusesPlacesItCannotHold) {
  OffsetIndex ix;
  ix.Reset(1, 0);
  EXPECT_FALSE(ix.Append(1, 1, EntryPlace{0, OffsetIndex::kMaxOffset + 1, 0, 0}));
  ASSERT_TRUE(ix.Append(1, 1, EntryPlace{5, 0, 0, 0}));
  EXPECT_FALSE(ix.Append(2, 1, EntryPlace{5 + OffsetIndex::kMaxSegments + 1, 0, 0, 0}));
  EXPECT_FALSE(ix.Append(2, 1, EntryPlace{4, 0, 0, 0})) << "segments never go back";
  EXPECT_FALSE(ix.Append(2, 1, EntryPlace{5, 64, 0, OffsetIndex::kMaxFrameLen + 1})) << "a frame of 4 GiB";
  ASSERT_TRUE(ix.Append(2, 1, EntryPlace{5, 64, 0, OffsetIndex::kMaxFrameLen}));
  EXPECT_EQ(ix.place(2).frame_len, OffsetIndex::kMaxFrameLen);
  EXPECT_EQ(ix.size(), 2u);
}

// ---- the WAL: a model of raft's log ----------------------------------------

// The log as raft sees it, kept independently of the index: entries
// first..first+size-1, the term of first-1 when known.
struct Model {
  uint64_t first = 1;
  std::optional<uint64_t> prev_term = 0;
  std::vector<Entry> entries;

  uint64_t last() const { return first + entries.size() - 1; }
  std::optional<uint64_t> term(uint64_t i) const {
    if (i + 1 == first) return prev_term;
    if (i < first || i > last()) return std::nullopt;
    return entries[i - first].term;
  }
  void Append(const Entry& e) {
    if (e.index < first) {
      entries.clear();
      return;
    }
    entries.resize(e.index - first);
    entries.push_back(e);
  }
  // A snapshot that does not match the log drops everything up to it; the
  // entries after it are kept as ReadAll keeps them: terms >= the
  // snapshot's, never decreasing.
  void Snapshot(const wal::Snapshot& s) {
    if (s.index + 1 < first) return;
    if (term(s.index) != s.term && !(s.index + 1 == first && !prev_term)) {
      if (s.index > last()) {
        first = s.index + 1;
        entries.clear();
      } else {
        DropBefore(s.index + 1);
      }
    }
    if (s.index + 1 == first) prev_term = s.term;
    uint64_t floor = s.term;
    for (size_t k = 0; k < entries.size(); ++k) {
      if (entries[k].index <= s.index) continue;
      if (entries[k].term < floor) {
        entries.resize(k);
        break;
      }
      floor = entries[k].term;
    }
  }
  void DropBefore(uint64_t new_first) {
    if (new_first <= first) return;
    prev_term = term(new_first - 1);
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(new_first - first));
    first = new_first;
  }
  // raft's limitSize: at least one, then while the total encoded size fits.
  std::vector<Entry> Range(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
    std::vector<Entry> out;
    uint64_t total = 0;
    for (uint64_t i = lo; i < hi; ++i) {
      const Entry& e = entries[i - first];
      total += internal::EntryEncodedSize(e);
      if (!out.empty() && total > max_bytes) break;
      out.push_back(e);
    }
    return out;
  }
};

std::string Payload(std::mt19937_64& rng, uint64_t index, uint64_t term) {
  // Mostly small; now and then larger than the write buffer (4 KiB here).
  const size_t n = rng() % 40 == 0 ? 5000 + rng() % 9000 : rng() % 300;
  std::string s = "i=" + std::to_string(index) + " t=" + std::to_string(term) + " ";
  while (s.size() < n) s += static_cast<char>('a' + rng() % 26);
  return s;
}

// Every question the index answers, against the model.
void ExpectMatches(const WAL& w, const Model& m, std::mt19937_64& rng, const std::string& when) {
  SCOPED_TRACE(when);
  auto first = w.FirstIndex();
  auto last = w.LastIndex();
  WAL_ASSERT_OK(first);
  WAL_ASSERT_OK(last);
  ASSERT_EQ(*first, m.first);
  ASSERT_EQ(*last, m.last());
  for (uint64_t i = m.first - 1; i <= m.last() && i + 1 != 0; ++i) {
    auto t = w.Term(i);
    if (auto want = m.term(i)) {
      WAL_ASSERT_OK(t) << "Term(" << i << ")";
      ASSERT_EQ(*t, *want) << "Term(" << i << ")";
    } else {
      WAL_EXPECT_CODE(t, StatusCode::kIndexNotFound);
    }
  }
  WAL_EXPECT_CODE(w.Term(m.last() + 1), StatusCode::kIndexNotFound);
  auto all = w.Entries(m.first, m.last() + 1);
  WAL_ASSERT_OK(all);
  ASSERT_EQ(*all, m.entries);
  for (int k = 0; k < 5 && !m.entries.empty(); ++k) {
    const uint64_t lo = m.first + rng() % m.entries.size();
    const uint64_t hi = lo + 1 + rng() % (m.last() + 1 - lo);
    const uint64_t max_bytes = rng() % 3 == 0 ? UINT64_MAX : rng() % 2000;
    auto got = w.Entries(lo, hi, max_bytes);
    WAL_ASSERT_OK(got);
    ASSERT_EQ(*got, m.Range(lo, hi, max_bytes)) << "Entries(" << lo << ", " << hi << ", " << max_bytes << ")";
  }
  if (m.first > 1) {
    WAL_EXPECT_CODE(w.Entries(m.first - 1, m.first), StatusCode::kIndexNotFound);
  }
  WAL_EXPECT_CODE(w.Entries(m.first, m.last() + 2), StatusCode::kIndexNotFound);
}

Options IndexedOptions(FileSystem* fs) {
  Options o;
  o.file_system = fs;
  o.segment_size_bytes = 16 * 1024;  // a cut every few dozen entries
  o.write_buffer_bytes = 4096;       // records often still in the buffer
  o.background_segment_preparation = false;
  o.index_entries = true;
  return o;
}

// Random raft-like traffic: terms only grow, an append starts anywhere from
// just below the first index to just past the last (an overwrite, or raft
// re-sending what a snapshot covers), snapshots are local (an entry's own
// index and term) or installed (ahead of, or over, what the log holds).
void RunModel(const Options& o, const std::string& dir, uint64_t seed, int steps) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto created = WAL::Create(dir, "meta", o);
  WAL_ASSERT_OK(created);
  std::unique_ptr<WAL> w = std::move(created).value();
  Model m;
  uint64_t term = 1;
  Snapshot snap;  // the last one saved: where a reopen starts
  for (int step = 0; step < steps; ++step) {
    const std::string when = "step " + std::to_string(step);
    const int op = static_cast<int>(rng() % 100);
    if (op < 60) {
      if (rng() % 6 == 0) ++term;
      // raft never appends at or below a snapshot it saved (committed
      // entries); etcd's segment selection relies on it.
      const uint64_t lowest = std::max(m.first > 3 ? m.first - 2 : 1, snap.index + 1);
      if (lowest > m.last() + 1) continue;
      const uint64_t from = lowest + rng() % (m.last() + 2 - lowest);
      std::vector<Entry> es;
      for (uint64_t i = from, n = 1 + rng() % 12; i < from + n; ++i)
        es.push_back(Entry{term, i, EntryType::kNormal, Payload(rng, i, term)});
      const int how = static_cast<int>(rng() % 4);
      if (how == 0) {
        for (const Entry& e : es) WAL_ASSERT_OK(w->SaveEntry(e)) << when;  // no sync: may stay buffered
      } else if (how == 1) {
        WAL_ASSERT_OK(w->SaveAsync(HardState{term, 1, 0}, es)) << when;
      } else {
        WAL_ASSERT_OK(w->Save(HardState{term, 1, 0}, es)) << when;
      }
      for (const Entry& e : es) m.Append(e);
    } else if (op < 65) {
      WAL_ASSERT_OK(w->Cut()) << when;
    } else if (op < 75) {
      Snapshot s;
      if (!m.entries.empty() && rng() % 2 == 0) {
        const Entry& e = m.entries[rng() % m.entries.size()];
        s = Snapshot{e.index, e.term};  // local
      } else {
        const uint64_t ahead = m.last() + rng() % 4;  // installed: from 2 below the last to 1 past it
        if (ahead < 3) continue;
        s = Snapshot{ahead - 2, term};
        if (s.index + 1 < m.first) continue;
      }
      // raft's snapshots only move forward, and one index has one term.
      if (s.index <= snap.index || s.term < snap.term) continue;
      WAL_ASSERT_OK(w->SaveSnapshot(s)) << when;
      m.Snapshot(s);
      snap = s;
    } else if (op < 82) {
      if (snap.index == 0) continue;
      const uint64_t x = 1 + rng() % snap.index;
      const uint64_t before = m.first;
      WAL_ASSERT_OK(w->ReleaseLockTo(x)) << when;
      WAL_ASSERT_OK(Purge(dir, 0, o)) << when;
      auto first = w->FirstIndex();
      WAL_ASSERT_OK(first);
      ASSERT_GE(*first, before) << when;
      ASSERT_LE(*first, std::max(before, x)) << when << ": ReleaseLockTo(" << x << ") dropped entries >= it";
      m.DropBefore(*first);
    } else if (op < 86) {
      // Reopen at the last snapshot: ReadIndexed must agree with ReadAll.
      WAL_ASSERT_OK(w->Close()) << when;
      w.reset();
      auto ro = WAL::OpenForRead(dir, snap, o);
      WAL_ASSERT_OK(ro);
      auto want = (*ro)->ReadAll();
      WAL_ASSERT_OK(want) << when;
      auto opened = WAL::Open(dir, snap, o);
      WAL_ASSERT_OK(opened);
      w = std::move(opened).value();
      auto r = w->ReadIndexed();
      WAL_ASSERT_OK(r) << when;
      EXPECT_EQ(r->metadata, want->metadata);
      EXPECT_EQ(r->state, want->state);
      ASSERT_EQ(r->first_index, snap.index + 1) << when;
      // What the live model holds after the snapshot is what a reader of
      // the log gets: the index never answers what a reopen would not.
      std::vector<Entry> after;
      for (const Entry& e : m.entries)
        if (e.index > snap.index) after.push_back(e);
      ASSERT_EQ(want->entries, after) << when;
      m = Model{snap.index + 1, snap.term, want->entries};
    } else {
      // A gap is refused before anything is written.
      const uint64_t gap = m.last() + 2 + rng() % 3;
      WAL_EXPECT_CODE(w->Save(HardState{}, Ents(gap, gap + 1, term)), StatusCode::kInvalidArgument) << when;
      WAL_EXPECT_CODE(w->SaveEntry(Entry{term, gap, EntryType::kNormal, "x"}), StatusCode::kInvalidArgument);
    }
    ExpectMatches(*w, m, rng, when);
    if (::testing::Test::HasFatalFailure()) return;
  }
  WAL_ASSERT_OK(w->Close());
}

TEST(ReadByIndex, FollowsRaftsLogThroughEveryCall) {
  const uint64_t seed = testutil::Seed();
  for (uint64_t k = 0; k < 6; ++k) {
    MemFileSystem fs;
    RunModel(IndexedOptions(&fs), "/wal", seed + k, 250);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(ReadByIndex, FollowsRaftsLogOnRealFiles) {
  testutil::TempDir tmp;
  Options o = IndexedOptions(nullptr);
  o.file_system = nullptr;
  RunModel(o, tmp.path() + "/wal", testutil::Seed() + 100, 200);
}

// The goal: a random Entries(i, i + 1) costs one pread (the frame's offset
// and length are in the index), a range one per segment it spans.
TEST(ReadByIndex, OneReadPerEntryAndPerSegment) {
  MemFileSystem fs;
  Options o = IndexedOptions(&fs);
  {
    auto w = WAL::Create("/wal", "meta", o);
    WAL_ASSERT_OK(w);
    for (uint64_t i = 1; i <= 2000; i += 50)
      WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 0}, Ents(i, i + 49, 1)));
  }
  auto w = WAL::Open("/wal", Snapshot{}, o);
  WAL_ASSERT_OK(w);
  auto r = (*w)->ReadIndexed();
  WAL_ASSERT_OK(r);
  EXPECT_EQ(r->first_index, 1u);
  EXPECT_EQ(r->last_index, 2000u);
  const WalStats before = (*w)->stats();
  EXPECT_EQ(before.index_entries, 2000u);
  EXPECT_LE(before.index_memory_bytes, 2000u * 16 + 256)
      << "16 bytes per entry: the read trims its last block";
  std::mt19937_64 rng(testutil::Seed());
  for (int k = 0; k < 100; ++k) {
    const uint64_t i = 1 + rng() % 2000;
    const uint64_t reads = (*w)->stats().index_reads;
    auto got = (*w)->Entries(i, i + 1);
    WAL_ASSERT_OK(got);
    ASSERT_EQ(*got, Ents(i, i, 1));
    EXPECT_EQ((*w)->stats().index_reads - reads, 1u) << "Entries(" << i << ", " << i + 1 << ")";
  }
  const uint64_t reads = (*w)->stats().index_reads;
  auto all = (*w)->Entries(1, 2001);
  WAL_ASSERT_OK(all);
  EXPECT_EQ(*all, Ents(1, 2000, 1));
  uint64_t segments = 0;
  auto names = fs.ListDir("/wal");
  WAL_ASSERT_OK(names);
  for (const std::string& n : *names) {
    // <seq>-<first index>.wal: a segment a cut started after entry 2000 holds none.
    if (n.ends_with(".wal")) segments += std::stoull(n.substr(17, 16), nullptr, 16) <= 2000;
  }
  EXPECT_GE(segments, 4u);
  EXPECT_EQ((*w)->stats().index_reads - reads, segments) << "one read per segment holding entries";
}

// Appends go on while another thread reads: every answer is a consistent
// piece of the log (consecutive indexes; each entry's payload names its own
// index and term).
TEST(ReadByIndex, ReadsWhileAppendsAndOverwritesContinue) {
  MemFileSystem fs;
  Options o = IndexedOptions(&fs);
  auto created = WAL::Create("/wal", "meta", o);
  WAL_ASSERT_OK(created);
  std::unique_ptr<WAL> w = std::move(created).value();
  std::atomic<bool> done{false};
  std::atomic<uint64_t> checked{0};
  std::thread reader([&] {
    std::mt19937_64 rng(testutil::Seed());
    for (int k = 0; k < 200000 && !done.load(); ++k) {
      auto first = w->FirstIndex();
      auto last = w->LastIndex();
      if (!first || !last || *last < *first) continue;
      const uint64_t lo = *first + rng() % (*last - *first + 1);
      auto got = w->Entries(lo, std::min(*last + 1, lo + 1 + rng() % 20), 1 + rng() % 4000);
      if (!got) {
        // The range may have been overwritten away between the calls.
        EXPECT_EQ(got.error().code(), StatusCode::kIndexNotFound) << got.error().ToString();
        continue;
      }
      for (size_t j = 0; j < got->size(); ++j) {
        const Entry& e = (*got)[j];
        ASSERT_EQ(e.index, lo + j);
        ASSERT_EQ(e.data.substr(0, e.data.find(' ', e.data.find(' ') + 1)),
                  "i=" + std::to_string(e.index) + " t=" + std::to_string(e.term));
      }
      checked.fetch_add(1);
    }
  });
  std::mt19937_64 rng(testutil::Seed() + 1);
  uint64_t last = 0;
  uint64_t term = 1;
  for (int k = 0; k < 1500; ++k) {
    uint64_t from = last + 1;
    if (k % 50 == 49 && last > 10) {
      from = last - rng() % 10;  // a new leader overwrites the tail
      ++term;
    }
    std::vector<Entry> es;
    for (uint64_t i = from; i < from + 1 + rng() % 8; ++i)
      es.push_back(Entry{term, i, EntryType::kNormal, Payload(rng, i, term)});
    WAL_ASSERT_OK(w->SaveAsync(HardState{term, 1, 0}, es));
    last = es.back().index;
  }
  done.store(true);
  reader.join();
  EXPECT_GT(checked.load(), 0u);
  WAL_ASSERT_OK(w->Close());
}

// Bytes that changed under the index are caught by the record's CRC (the
// index keeps the chain value it was written after) and named by place.
TEST(ReadByIndex, ChangedBytesAreACrcMismatchWithThePlace) {
  testutil::TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  Options o;
  o.index_entries = true;
  {
    auto w = WAL::Create(dir, "meta", o);
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 0}, Ents(1, 100, 1)));
  }
  auto w = WAL::OpenForRead(dir, Snapshot{}, o);
  WAL_ASSERT_OK(w);
  WAL_ASSERT_OK((*w)->ReadIndexed());
  const std::string seg = testutil::WalNames(dir).front();
  const std::string bytes = testutil::ReadFile(dir + "/" + seg);
  const size_t at = bytes.find("data57");
  ASSERT_NE(at, std::string::npos);
  testutil::WriteAt(dir + "/" + seg, at + 4, "X");
  auto bad = (*w)->Entries(50, 60);
  WAL_ASSERT_CODE(bad, StatusCode::kCrcMismatch);
  ASSERT_NE(bad.error().place(), nullptr);
  EXPECT_EQ(bad.error().place()->file, seg);
  EXPECT_EQ(bad.error().place()->index, 57u);
  EXPECT_LT(*bad.error().place()->offset, at);
  auto good = (*w)->Entries(58, 101);
  WAL_ASSERT_OK(good);
  EXPECT_EQ(*good, Ents(58, 100, 1));
}

TEST(ReadByIndex, WithoutAnIndexEveryCallSaysSo) {
  MemFileSystem fs;
  Options o = IndexedOptions(&fs);
  o.index_entries = false;
  auto w = WAL::Create("/wal", "meta", o);
  WAL_ASSERT_OK(w);
  WAL_EXPECT_CODE((*w)->Entries(1, 2), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->Term(0), StatusCode::kFailedPrecondition);
  WAL_EXPECT_CODE((*w)->FirstIndex(), StatusCode::kFailedPrecondition);
  WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 0}, Ents(1, 5, 1)));
  WAL_EXPECT_OK((*w)->Save(HardState{}, Ents(9, 9, 1))) << "gaps are etcd's business without an index";
  WAL_ASSERT_OK((*w)->Close());
  // ReadIndexed builds one whatever the option says.
  auto r = WAL::Open("/wal", Snapshot{}, o);
  WAL_ASSERT_OK(r);
  WAL_EXPECT_CODE((*r)->ReadIndexed(), StatusCode::kSliceOutOfRange);
}

TEST(ReadByIndex, ReadAllWithTheOptionIndexesToo) {
  MemFileSystem fs;
  Options o = IndexedOptions(&fs);
  {
    auto w = WAL::Create("/wal", "meta", o);
    WAL_ASSERT_OK(w);
    WAL_ASSERT_OK((*w)->Save(HardState{1, 1, 0}, Ents(1, 300, 1)));
    WAL_ASSERT_OK((*w)->Save(HardState{2, 1, 0}, Ents(200, 250, 2)));
  }
  for (int arena = 0; arena < 2; ++arena) {
    auto w = WAL::Open("/wal", Snapshot{}, o);
    WAL_ASSERT_OK(w);
    std::vector<Entry> got;
    if (arena) {
      auto r = (*w)->ReadAllArena();
      WAL_ASSERT_OK(r);
      got = r->ToEntries();
    } else {
      auto r = (*w)->ReadAll();
      WAL_ASSERT_OK(r);
      got = r->entries;
    }
    auto again = (*w)->Entries(1, 251);
    WAL_ASSERT_OK(again);
    EXPECT_EQ(*again, got);
    EXPECT_EQ(*(*w)->Term(199), 1u);
    EXPECT_EQ(*(*w)->Term(200), 2u);
  }
}

}  // namespace
}  // namespace wal
