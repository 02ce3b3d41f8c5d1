// Writes the seed corpus of the fuzz targets:
//   wal_fuzz_gen_corpus fuzz/corpus
// creates fuzz/corpus/<target>/<name> (overwriting files of the same name).
// Deterministic: valid segments come from the library on a MemFileSystem,
// hostile ones are framed by hand (including the inputs of etcd's 2020
// security audit: huge length words, entry indexes far past the log).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "fuzz/directory_input.h"
#include "src/coding.h"
#include "src/crc32c.h"
#include "src/proto.h"
#include "src/segment_names.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace {

using walfuzz::DirInputBuilder;
using walfuzz::Frame;

std::filesystem::path g_root;
int g_files = 0;

void Put(const std::string& target, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(g_root / target);
  std::ofstream out(g_root / target / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s/%s\n", target.c_str(), name.c_str());
    std::exit(1);
  }
  ++g_files;
  std::printf("%-24s %-44s %6zu bytes\n", target.c_str(), name.c_str(), bytes.size());
}

void Check(const wal::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// A segment framed by hand, with the CRC chain.
class SegmentBuilder {
 public:
  explicit SegmentBuilder(uint32_t chain = 0) : chain_(chain) {}
  SegmentBuilder& Crc() {
    bytes_ += Frame(wal::internal::kCrcType, chain_, false, {});
    return *this;
  }
  SegmentBuilder& Record(int64_t type, std::string_view data, bool has_data = true) {
    chain_ = wal::internal::Crc32cExtend(chain_, data);
    bytes_ += Frame(type, chain_, has_data, data);
    return *this;
  }
  SegmentBuilder& Metadata(std::string_view md) { return Record(wal::internal::kMetadataType, md); }
  SegmentBuilder& Snap(uint64_t index, uint64_t term) {
    return Record(wal::internal::kSnapshotType, wal::internal::EncodeSnapshotToString({index, term}));
  }
  SegmentBuilder& Ent(uint64_t term, uint64_t index, std::string_view data) {
    wal::Entry e{term, index, wal::EntryType::kNormal, std::string(data)};
    return Record(wal::internal::kEntryType, wal::internal::EncodeEntryToString(e));
  }
  SegmentBuilder& State(uint64_t term, uint64_t vote, uint64_t commit) {
    return Record(wal::internal::kStateType, wal::internal::EncodeHardStateToString({term, vote, commit}));
  }
  // The head Create writes.
  SegmentBuilder& Head(std::string_view md) { return Crc().Metadata(md).Snap(0, 0); }
  SegmentBuilder& Word(uint64_t w) {
    uint8_t b[8];
    wal::internal::EncodeFixed64LE(b, w);
    bytes_.append(reinterpret_cast<const char*>(b), 8);
    return *this;
  }
  SegmentBuilder& Raw(std::string_view s) {
    bytes_ += s;
    return *this;
  }
  SegmentBuilder& Zeros(size_t n) {
    bytes_.append(n, '\0');
    return *this;
  }
  // A pre-v3.0 frame: no padding, bit 63 clear.
  SegmentBuilder& Unpadded(int64_t type, std::string_view data) {
    chain_ = wal::internal::Crc32cExtend(chain_, data);
    std::string rec = wal::internal::EncodeRecordToString(type, chain_, true, data);
    Word(rec.size());
    bytes_ += rec;
    return *this;
  }
  const std::string& bytes() const { return bytes_; }
  uint32_t chain() const { return chain_; }

 private:
  uint32_t chain_;
  std::string bytes_;
};

std::string Payload(uint64_t index, size_t len) {
  std::string s(len, '\0');
  uint64_t x = index * 0x9E3779B97F4A7C15ull + 1;
  for (auto& c : s) {
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    c = static_cast<char>('a' + (x * 0x2545F4914F6CDD1Dull >> 59));
  }
  return s;
}

// A WAL written by the library: (name, bytes) of every segment, in order.
std::vector<std::pair<std::string, std::string>> LibraryWal(uint64_t segment_size, int saves,
                                                            size_t entry_bytes, bool cut_each_save = false) {
  wal::MemFileSystem fs;
  wal::Options o;
  o.file_system = &fs;
  o.segment_size_bytes = segment_size;
  o.background_segment_preparation = false;
  auto w = wal::WAL::Create("/w", "fuzz-metadata", o);
  Check(w.error(), "Create");
  uint64_t index = 0;
  for (int s = 0; s < saves; ++s) {
    std::vector<wal::Entry> ents;
    for (int i = 0; i < 3; ++i) {
      ++index;
      ents.push_back({1, index, wal::EntryType::kNormal, Payload(index, entry_bytes)});
    }
    Check((*w)->Save(wal::HardState{1, 1, index}, ents), "Save");
    if (s == 1) Check((*w)->SaveSnapshot(wal::Snapshot{2, 1}), "SaveSnapshot");
    if (cut_each_save) Check((*w)->Cut(), "Cut");
  }
  Check((*w)->Close(), "Close");
  auto segs = wal::internal::ListSegments(&fs, "/w");
  Check(segs.error(), "ListSegments");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : *segs) {
    auto c = fs.ReadFileToString("/w/" + s.name);
    Check(c.error(), "read");
    out.emplace_back(s.name, *c);
  }
  return out;
}

// Trims a preallocated tail of zeros down to `keep` zero bytes.
std::string TrimZeros(std::string s, size_t keep) {
  size_t end = s.size();
  while (end > 0 && s[end - 1] == '\0') --end;
  end = (end + 7) / 8 * 8;
  s.resize(std::min(s.size(), end + keep));
  return s;
}

void RecordDecoderCorpus() {
  const std::string t = "record_decoder_fuzzer";
  auto lib = LibraryWal(4096, 4, 120);
  Put(t, "valid_first_segment", TrimZeros(lib[0].second, 520));
  auto cut = LibraryWal(1024, 3, 100, true);
  Put(t, "valid_later_segment_after_cut", TrimZeros(cut[1].second, 64));

  Put(t, "audit_length_00ffffffffffffff",
      SegmentBuilder().Head("m").Word(0x00FFFFFFFFFFFFFFull).Raw(std::string(64, 'x')).bytes());
  Put(t, "audit_length_13563782407139376",
      SegmentBuilder().Head("m").Word(13563782407139376ull).Raw(std::string(48, '0')).bytes());
  Put(t, "audit_entry_index_13038096702221461993",
      SegmentBuilder().Head("m").Ent(1, 13038096702221461993ull, "x").Zeros(64).bytes());
  Put(t, "entry_index_2p63_minus_1",
      SegmentBuilder().Head("m").Ent(1, 1, "a").Ent(1, (uint64_t{1} << 63) - 1, "b").Zeros(64).bytes());
  {
    std::string s = SegmentBuilder().Head("m").Ent(1, 1, Payload(1, 200)).Ent(1, 2, Payload(2, 200)).bytes();
    Put(t, "truncated_frame", s.substr(0, s.size() - 97));
  }
  {
    SegmentBuilder b;
    b.Head("m");
    for (uint64_t i = 1; i <= 6; ++i) b.Ent(1, i, Payload(i, 300));
    std::string s = b.bytes();
    s.append(512, '\0');
    std::fill(s.begin() + 512, s.begin() + 1024, '\0');
    Put(t, "zeroed_sector", s);
  }
  {
    SegmentBuilder b;
    b.Head("m").Ent(1, 1, Payload(1, 100)).Ent(1, 2, Payload(2, 700));
    std::string s = b.bytes();
    // The last record's final sector is garbage; zeros follow (kZeroTail: torn).
    size_t from = (s.size() - 1) / 512 * 512;
    for (size_t i = std::max(from, s.size() - 200); i < s.size(); ++i) s[i] = static_cast<char>(0xA5 ^ i);
    s.append(1024, '\0');
    Put(t, "torn_garbage_last_sector", s);
  }
  Put(t, "pre_v3_unpadded_frames",
      SegmentBuilder()
          .Unpadded(wal::internal::kMetadataType, "old")
          .Unpadded(wal::internal::kSnapshotType, wal::internal::EncodeSnapshotToString({0, 0}))
          .Unpadded(wal::internal::kEntryType, wal::internal::EncodeEntryToString({1, 1, {}, "abc"}))
          .Unpadded(wal::internal::kStateType, wal::internal::EncodeHardStateToString({1, 1, 1}))
          .Zeros(16)
          .bytes());
  Put(t, "partial_length_word", std::string("\x12\x00\x00\x00\x00", 5));
  Put(t, "empty", "");
  {
    SegmentBuilder b;
    b.Head("m").Ent(1, 1, Payload(1, 64)).Ent(1, 2, Payload(2, 64)).Ent(1, 3, Payload(3, 64));
    std::string s = b.bytes();
    s[s.size() / 2] = static_cast<char>(s[s.size() / 2] ^ 0x10);
    Put(t, "crc_mismatch_middle", s);
  }
  Put(t, "pad_bits_zero_length", SegmentBuilder().Head("m").Word(0x8700000000000000ull).Zeros(24).bytes());
}

void DirectoryCorpus() {
  const std::string t = "directory_fuzzer";
  using B = DirInputBuilder;
  auto small = LibraryWal(1024, 5, 90);
  auto trimmed = [&](size_t i) { return TrimZeros(small[i].second, 256); };
  auto seg_of = [&](size_t i) { return wal::internal::ParseSegmentName(small[i].first).value(); };
  {
    B b(0x10);  // snapshot {0,0}, append after recovery
    for (size_t i = 0; i < small.size(); ++i) b.Segment(seg_of(i).seq, seg_of(i).index, trimmed(i));
    Put(t, "valid_wal_append", b.bytes());
  }
  {
    B b(0x18);  // small segments: the append cuts
    for (size_t i = 0; i < small.size(); ++i) b.Segment(seg_of(i).seq, seg_of(i).index, trimmed(i));
    b.Tmp(false, "stale tmp").Broken(seg_of(0).seq, seg_of(0).index, "old copy").Junk("notes.txt", "hello");
    Put(t, "valid_wal_tmp_broken_junk", b.bytes());
  }
  {
    B b(0x10);
    for (size_t i = 0; i + 1 < small.size(); ++i) b.Segment(seg_of(i).seq, seg_of(i).index, trimmed(i));
    std::string last = TrimZeros(small.back().second, 0);
    b.Segment(seg_of(small.size() - 1).seq, seg_of(small.size() - 1).index, last.substr(0, last.size() - 37));
    Put(t, "torn_tail", b.bytes());
  }
  {
    B b(0x01 | 0x10);  // snapshot {2, 1}
    b.SnapSmall(2, 1);
    for (size_t i = 0; i < small.size(); ++i) b.Segment(seg_of(i).seq, seg_of(i).index, trimmed(i));
    Put(t, "valid_wal_open_at_snapshot", b.bytes());
  }
  {
    // Segment 1 of 3+ loses its first sector: the chain breaks at segment 2.
    auto more = LibraryWal(1024, 8, 90);
    B b(0x10);
    for (size_t i = 0; i < more.size(); ++i) {
      std::string c = TrimZeros(more[i].second, 64);
      if (i == 1) std::fill(c.begin(), c.begin() + std::min<size_t>(512, c.size()), '\0');
      auto name = wal::internal::ParseSegmentName(more[i].first).value();
      b.Segment(name.seq, name.index, c);
    }
    Put(t, "zeroed_sector_middle_segment", b.bytes());
  }
  const std::string snap00 = wal::internal::EncodeSnapshotToString({0, 0});
  auto entry = [](uint64_t index, std::string_view d) {
    return wal::internal::EncodeEntryToString({1, index, wal::EntryType::kNormal, std::string(d)});
  };
  {
    B b(0x10);
    b.Segment(
        0, 0,
        B::CrcRec() + B::Rec(1, "m") + B::Rec(5, snap00) + B::Rec(2, entry(13038096702221461993ull, "x")), 0,
        true);
    Put(t, "audit_entry_index_13038096702221461993", b.bytes());
  }
  {
    B b(0x10);
    b.Segment(0, 0,
              B::CrcRec() + B::Rec(1, "m") + B::Rec(5, snap00) + B::Rec(2, entry(1, "a")) +
                  B::Rec(2, entry((uint64_t{1} << 63) - 1, "b")),
              0, true);
    Put(t, "entry_index_2p63_minus_1", b.bytes());
  }
  {
    B b(0x10);
    b.Segment(0, 0,
              B::CrcRec() + B::Rec(1, "m") + B::Rec(5, snap00) + B::Rec(2, entry(1, "a")) +
                  B::Rec(2, entry(2, "b")) + B::Rec(2, entry(3, "c")) + B::Rec(2, entry(2, "B")) +
                  B::Rec(3, wal::internal::EncodeHardStateToString({1, 1, 2})),
              0x20, true);
    Put(t, "overwrite_in_log", b.bytes());
  }
  {
    B b(0x00);
    b.Segment(0, 0, B::CrcRec() + B::Rec(1, "a") + B::Rec(5, snap00) + B::Rec(2, entry(1, "x")), 0, true);
    b.Segment(1, 2, B::CrcRec() + B::Rec(1, "b") + B::Rec(2, entry(2, "y")), 0, true);
    Put(t, "metadata_conflict", b.bytes());
  }
  {
    B b(0x03);  // snapshot {1,1} requested, {1,2} recorded
    b.Segment(0, 0,
              B::CrcRec() + B::Rec(1, "m") + B::Rec(5, snap00) + B::Rec(2, entry(1, "x")) +
                  B::Rec(5, wal::internal::EncodeSnapshotToString({1, 2})),
              0, true);
    Put(t, "snapshot_term_mismatch", b.bytes());
  }
  {
    B b(0x00);
    b.Segment(0, 0, B::CrcRec() + B::Rec(1, "m") + B::Rec(5, snap00), 0, true);
    b.Segment(2, 1, B::CrcRec() + B::Rec(1, "m") + B::Rec(2, entry(1, "x")), 0, true);
    b.Segment(3, 2, B::CrcRec() + B::Rec(1, "m") + B::Rec(2, entry(2, "y")), 0, true);
    b.Segment(5, 3, B::CrcRec() + B::Rec(1, "m"), 0, true);
    Put(t, "sequence_gaps", b.bytes());
  }
  {
    B b(0x10);
    b.Segment(0, 0, B::CrcRec() + B::Rec(1, "m") + B::Rec(5, snap00) + B::Rec(2, entry(1, "x")), 0x40, true);
    b.Segment(10, 2, B::CrcRec() + B::Rec(1, "m"), 0x40, true);
    b.Segment(11, 2, B::CrcRec() + B::Rec(1, "m"), 0, true);
    Put(t, "upper_case_names", b.bytes());
  }
  {
    B b(0x10);
    b.Segment(0, 0, B::CrcRec() + B::Rec(1, "m") + B::Rec(5, snap00), 0, true);
    b.Dir(1, 1);
    Put(t, "directory_named_like_a_segment", b.bytes());
  }
  {
    B b(0x14);  // kEtcd rule
    b.Segment(0, 0, SegmentBuilder().Head("m").Word(0x00FFFFFFFFFFFFFFull).Raw(std::string(40, 'z')).bytes());
    Put(t, "audit_length_00ffffffffffffff", b.bytes());
  }
  {
    B b(0x02 | 0x10 | 0x20);  // a wide snapshot index, small read chunks
    b.SnapWide(13038096702221461993ull, 1);
    b.Segment(0, 0, B::CrcRec() + B::Rec(1, "m") + B::Rec(5, snap00) + B::Rec(2, entry(1, "x")), 0x20, true);
    b.Segment(1, 13038096702221461993ull, B::CrcRec() + B::Rec(1, "m") + B::Rec(2, entry(2, "y")), 0x20,
              true);
    Put(t, "wide_segment_index", b.bytes());
  }
}

void RoundtripCorpus() {
  // Random workloads; FuzzedDataProvider takes integers from the end of the
  // input, and the 5th byte from the end picks the damage (roundtrip_fuzzer.cc:
  // segment size, write buffer, torn rule, read chunk, then the damage kind).
  const std::string t = "roundtrip_fuzzer";
  const char* kinds[] = {"truncate", "zero_sector", "flip_bits", "flip_data_bits", "overwrite", "no_damage"};
  std::mt19937_64 rng(20240917);
  for (int kind = 0; kind < 6; ++kind) {
    for (size_t size : {900, 3000}) {
      std::string s(size, '\0');
      for (auto& c : s) c = static_cast<char>(rng());
      s[size - 5] = static_cast<char>(kind);
      Put(t, std::string(kinds[kind]) + "_" + std::to_string(size), s);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (e.g. fuzz/corpus)\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  RecordDecoderCorpus();
  DirectoryCorpus();
  RoundtripCorpus();
  std::printf("%d files\n", g_files);
  return 0;
}
