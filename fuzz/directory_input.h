// The input format of directory_fuzzer: a config byte, then a simple
// type-length-value list of directory entries. Shared by the fuzzer (parse)
// and fuzz/gen_corpus.cc (build), so the committed seeds stay in step.
//
//   byte 0     config
//              bits 0-1  snapshot: 0 {0,0}; 1 {a, b} from the next 2 bytes;
//                        2 {u64 LE from the next 8 bytes, next byte}; 3 {1,1}
//              bit 2     torn_write_rule: 0 kZeroTail, 1 kEtcd
//              bit 3     segment_size_bytes: 0 64,000,000; 1 4096 (appends cut)
//              bit 4     after a successful write-mode ReadAll, Save one entry
//              bit 5     read_chunk_bytes: 0 1 MiB; 1 4096
//   then, until the input ends, entries:
//     kind     1 byte; kind & 7:
//                0, 6, 7  segment file, raw content
//                1        segment file whose content is a list of records
//                         (below), framed with a valid CRC chain
//                2        "0.tmp" (kind & 0x80: "1.tmp")
//                3        "<segment name>.broken"
//                4        junk name: 1 length byte (1..32 after masking), bytes
//                         ('/' and NUL become '_')
//                5        a directory with a segment's name (no content)
//              kind & 0x40  segment names in upper-case hex
//              kind & 0x20  content padded with zeros to a multiple of 4096
//     name     for segment-named kinds (0, 1, 3, 5, 6, 7): seq and index,
//              1 byte each, or 8 bytes LE each when kind & 0x80
//     content  (not for kind 5) 2-byte LE length, then that many bytes (cut
//              short by the end of the input)
//   Record list (kind 1), repeated until the content ends:
//     t = 1 byte; t == 0xff resets the CRC chain to 0; t == 4 is a crc record
//     (no data, holds the running CRC); otherwise type = t & 0x7f, then
//     1 length byte and that many data bytes; t & 0x80 writes no data field
//     (Go nil; the length byte and data are still consumed).
//   The CRC chain runs across all kind-1 segments in input order.
#ifndef WAL_FUZZ_DIRECTORY_INPUT_H_
#define WAL_FUZZ_DIRECTORY_INPUT_H_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "src/coding.h"
#include "src/crc32c.h"
#include "src/proto.h"

namespace walfuzz {

struct DirEntry {
  std::string name;
  bool is_dir = false;
  std::string content;
};

struct DirInput {
  uint8_t config = 0;
  uint64_t snap_index = 0;
  uint64_t snap_term = 0;
  std::vector<DirEntry> entries;
};

inline std::string SegName(uint64_t seq, uint64_t index, bool upper) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), upper ? "%016llX-%016llX.wal" : "%016llx-%016llx.wal",
                static_cast<unsigned long long>(seq), static_cast<unsigned long long>(index));
  return buf;
}

// One framed record, as the library writes it (v3 frames, padded).
inline std::string Frame(int64_t type, uint32_t crc, bool has_data, std::string_view data) {
  std::string rec = wal::internal::EncodeRecordToString(type, crc, has_data, data);
  uint8_t word[8];
  wal::internal::EncodeFixed64LE(word, wal::internal::EncodeFrameWord(rec.size()));
  std::string out(reinterpret_cast<const char*>(word), 8);
  out += rec;
  out.append(wal::internal::PadBytes(rec.size()), '\0');
  return out;
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view s) : s_(s) {}
  bool empty() const { return pos_ >= s_.size(); }
  uint8_t U8() { return pos_ < s_.size() ? static_cast<uint8_t>(s_[pos_++]) : 0; }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{U8()} << (8 * i);
    return v;
  }
  std::string_view Take(size_t n) {
    n = std::min(n, s_.size() - std::min(pos_, s_.size()));
    std::string_view out = s_.substr(std::min(pos_, s_.size()), n);
    pos_ += n;
    return out;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Expands a kind-1 record list into framed records, extending *chain.
inline std::string SynthesizeRecords(std::string_view list, uint32_t* chain) {
  ByteReader r(list);
  std::string out;
  while (!r.empty()) {
    uint8_t t = r.U8();
    if (t == 0xff) {
      *chain = 0;
      continue;
    }
    if (t == 4) {
      out += Frame(4, *chain, false, {});
      continue;
    }
    int64_t type = t & 0x7f;
    bool has_data = (t & 0x80) == 0;
    std::string_view data = r.Take(r.U8());
    if (!has_data) data = {};
    *chain = wal::internal::Crc32cExtend(*chain, data);
    out += Frame(type, *chain, has_data, data);
  }
  return out;
}

inline DirInput ParseDirInput(std::string_view bytes) {
  DirInput in;
  ByteReader r(bytes);
  in.config = r.U8();
  switch (in.config & 3) {
    case 0:
      break;
    case 1:
      in.snap_index = r.U8();
      in.snap_term = r.U8();
      break;
    case 2:
      in.snap_index = r.U64();
      in.snap_term = r.U8();
      break;
    case 3:
      in.snap_index = 1;
      in.snap_term = 1;
      break;
  }
  uint32_t chain = 0;
  while (!r.empty()) {
    uint8_t kind = r.U8();
    int k = kind & 7;
    bool wide = kind & 0x80;
    bool upper = kind & 0x40;
    DirEntry e;
    auto seg_name = [&] {
      uint64_t seq = wide ? r.U64() : r.U8();
      uint64_t idx = wide ? r.U64() : r.U8();
      return SegName(seq, idx, upper);
    };
    switch (k) {
      case 2:
        e.name = wide ? "1.tmp" : "0.tmp";
        break;
      case 3:
        e.name = seg_name() + ".broken";
        break;
      case 4: {
        std::string_view n = r.Take((r.U8() & 31) + 1);
        e.name.assign(n.data(), n.size());
        for (char& c : e.name) {
          if (c == '/' || c == '\0') c = '_';
        }
        if (e.name.empty() || e.name == "." || e.name == "..") e.name = "_";
        break;
      }
      case 5:
        e.name = seg_name();
        e.is_dir = true;
        break;
      default:  // 0, 1, 6, 7
        e.name = seg_name();
        break;
    }
    if (!e.is_dir) {
      size_t len = r.U8();
      len |= size_t{r.U8()} << 8;
      std::string_view c = r.Take(len);
      e.content = k == 1 ? SynthesizeRecords(c, &chain) : std::string(c);
      if (kind & 0x20) e.content.resize((e.content.size() + 4095) / 4096 * 4096, '\0');
    }
    in.entries.push_back(std::move(e));
  }
  return in;
}

// Builder for gen_corpus.cc.
class DirInputBuilder {
 public:
  explicit DirInputBuilder(uint8_t config) { out_.push_back(static_cast<char>(config)); }
  DirInputBuilder& SnapSmall(uint8_t index, uint8_t term) {
    out_.push_back(static_cast<char>(index));
    out_.push_back(static_cast<char>(term));
    return *this;
  }
  DirInputBuilder& SnapWide(uint64_t index, uint8_t term) {
    U64(index);
    out_.push_back(static_cast<char>(term));
    return *this;
  }
  // kind 0 (or 1 with records = true): a segment with a small or wide name.
  DirInputBuilder& Segment(uint64_t seq, uint64_t index, std::string_view content, uint8_t flags = 0,
                           bool records = false) {
    bool wide = seq > 255 || index > 255;
    out_.push_back(static_cast<char>((records ? 1 : 0) | flags | (wide ? 0x80 : 0)));
    Name(seq, index, wide);
    Content(content);
    return *this;
  }
  DirInputBuilder& Tmp(bool one, std::string_view content) {
    out_.push_back(static_cast<char>(2 | (one ? 0x80 : 0)));
    Content(content);
    return *this;
  }
  DirInputBuilder& Broken(uint64_t seq, uint64_t index, std::string_view content) {
    bool wide = seq > 255 || index > 255;
    out_.push_back(static_cast<char>(3 | (wide ? 0x80 : 0)));
    Name(seq, index, wide);
    Content(content);
    return *this;
  }
  DirInputBuilder& Junk(std::string_view name, std::string_view content) {
    out_.push_back(4);
    out_.push_back(static_cast<char>(name.size() - 1));
    out_ += name;
    Content(content);
    return *this;
  }
  DirInputBuilder& Dir(uint64_t seq, uint64_t index) {
    bool wide = seq > 255 || index > 255;
    out_.push_back(static_cast<char>(5 | (wide ? 0x80 : 0)));
    Name(seq, index, wide);
    return *this;
  }
  const std::string& bytes() const { return out_; }

  // Record-list items for kind-1 content.
  static std::string Rec(uint8_t type, std::string_view data) {
    std::string s(1, static_cast<char>(type));
    s.push_back(static_cast<char>(data.size()));
    s += data;
    return s;
  }
  static std::string CrcRec() { return std::string(1, '\x04'); }
  static std::string ResetChain() { return std::string(1, '\xff'); }

 private:
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void Name(uint64_t seq, uint64_t index, bool wide) {
    if (wide) {
      U64(seq);
      U64(index);
    } else {
      out_.push_back(static_cast<char>(seq));
      out_.push_back(static_cast<char>(index));
    }
  }
  void Content(std::string_view c) {
    size_t n = std::min<size_t>(c.size(), 0xffff);
    out_.push_back(static_cast<char>(n & 0xff));
    out_.push_back(static_cast<char>(n >> 8));
    out_.append(c.substr(0, n));
  }
  std::string out_;
};

}  // namespace walfuzz

#endif  // WAL_FUZZ_DIRECTORY_INPUT_H_
