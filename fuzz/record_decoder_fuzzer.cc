// record_decoder_fuzzer: the input is one segment file. It is decoded to the
// end by internal::RecordDecoder three times: as the last segment with each
// torn-write rule, and as a non-last segment (followed by an empty one). The
// payload of every record is handed to DecodeEntry, DecodeHardState and
// DecodeSnapshot whatever its type.
//
// Checked, besides "no crash, no out-of-bounds read, no UB":
//   - no single allocation exceeds 2x the input + 64 KiB (a length word is
//     never trusted beyond the file size);
//   - every error is kUnexpectedEof, kCrcMismatch or kCorruption, and a
//     non-last segment never reports kUnexpectedEof (only the tail may be
//     torn);
//   - the torn-write rule and the segment's position change only how the
//     error is classified, never which records are returned; kEtcd's torn
//     verdict implies kZeroTail's (kZeroTail only adds torn cases);
//   - offsets advance, records lie inside the file;
//   - whatever a payload decoder accepts re-encodes to bytes that decode to
//     the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "src/proto.h"
#include "src/record_reader.h"
#include "wal/mem_file_system.h"

namespace {

using wal::StatusCode;
using wal::internal::RecordDecoder;
using wal::internal::RecordView;
using wal::internal::SegmentInput;

struct Decoded {
  std::vector<std::pair<uint64_t, std::string>> records;  // (offset, type:data digest)
  bool failed = false;
  StatusCode code = StatusCode::kOk;
  uint64_t error_offset = 0;
  std::string message;
};

void CheckPayloadDecoders(std::string_view data) {
  wal::Entry e;
  if (wal::internal::DecodeEntry(data, &e).ok()) {
    std::string enc = wal::internal::EncodeEntryToString(e);
    wal::Entry back;
    FUZZ_CHECK(wal::internal::DecodeEntry(enc, &back).ok(), "re-encoded entry does not decode");
    FUZZ_CHECK(back == e, "entry changed through encode/decode");
  }
  wal::HardState hs;
  if (wal::internal::DecodeHardState(data, &hs).ok()) {
    std::string enc = wal::internal::EncodeHardStateToString(hs);
    wal::HardState back;
    FUZZ_CHECK(wal::internal::DecodeHardState(enc, &back).ok(), "re-encoded hard state does not decode");
    FUZZ_CHECK(back == hs, "hard state changed through encode/decode");
  }
  wal::Snapshot snap;
  if (wal::internal::DecodeSnapshot(data, &snap).ok()) {
    std::string enc = wal::internal::EncodeSnapshotToString(snap);
    wal::Snapshot back;
    FUZZ_CHECK(wal::internal::DecodeSnapshot(enc, &back).ok(), "re-encoded snapshot does not decode");
    FUZZ_CHECK(back == snap, "snapshot changed through encode/decode");
  }
}

Decoded Decode(wal::MemFileSystem& fs, const std::vector<std::string>& paths, wal::TornWriteRule rule,
               size_t input_size) {
  std::vector<std::unique_ptr<wal::File>> files;
  std::vector<SegmentInput> inputs;
  for (const auto& p : paths) {
    auto f = fs.Open(p, wal::OpenOptions{});
    FUZZ_CHECK(f.has_value(), "open " + p + ": " + f.error().ToString());
    files.push_back(std::move(f).value());
    inputs.push_back({p.substr(p.rfind('/') + 1), files.back().get()});
  }
  Decoded out;
  const size_t limit = 2 * input_size + 64 * 1024;
  walfuzz::BeginAllocTracking();
  {
    RecordDecoder d(std::move(inputs), 4096, rule);
    RecordView rec;
    uint64_t last_end = 0;
    size_t last_seg = 0;
    while (true) {
      auto r = d.Next(&rec);
      if (!r.has_value()) {
        out.failed = true;
        out.code = r.error().code();
        out.error_offset = d.last_valid_offset();
        out.message = r.error().ToString();
        break;
      }
      if (!*r) break;
      if (d.segment_index() != last_seg) {
        last_seg = d.segment_index();
        last_end = 0;
      }
      FUZZ_CHECK(d.record_offset() >= last_end, "record offsets went backwards");
      FUZZ_CHECK(d.record_frame_bytes() >= 8, "a frame shorter than its length word");
      FUZZ_CHECK(d.last_valid_offset() == d.record_offset() + d.record_frame_bytes(), "offset bookkeeping");
      FUZZ_CHECK(d.last_valid_offset() <= input_size || d.segment_index() > 0,
                 "a record past the end of the file");
      FUZZ_CHECK(rec.data.size() + 8 <= d.record_frame_bytes(), "record data larger than its frame");
      last_end = d.last_valid_offset();
      FUZZ_CHECK(out.records.size() <= input_size / 8, "more records than 8-byte frames fit in the file");
      CheckPayloadDecoders(rec.data);
      std::string digest = std::to_string(rec.type) + ":" + std::to_string(rec.crc) + ":" +
                           (rec.has_data ? "d" : "n") + std::string(rec.data);
      out.records.emplace_back(d.record_offset(), std::move(digest));
    }
  }
  size_t max_alloc = walfuzz::EndAllocTracking();
  FUZZ_CHECK(max_alloc <= limit, "allocated " + std::to_string(max_alloc) + " bytes at once for a " +
                                     std::to_string(input_size) + "-byte file");
  if (out.failed) {
    FUZZ_CHECK(out.code == StatusCode::kUnexpectedEof || out.code == StatusCode::kCrcMismatch ||
                   out.code == StatusCode::kCorruption,
               "unexpected error class: " + out.message);
    FUZZ_CHECK(!out.message.empty(), "an error without a message");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wal::MemFileSystem fs;
  const std::string seg = "/wal/0000000000000000-0000000000000000.wal";
  const std::string next = "/wal/0000000000000001-0000000000000000.wal";
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  FUZZ_CHECK(fs.WriteFileFromString(seg, bytes).ok(), "write the segment");
  FUZZ_CHECK(fs.WriteFileFromString(next, "").ok(), "write the empty next segment");

  Decoded zero_tail = Decode(fs, {seg}, wal::TornWriteRule::kZeroTail, size);
  Decoded etcd = Decode(fs, {seg}, wal::TornWriteRule::kEtcd, size);
  Decoded middle = Decode(fs, {seg, next}, wal::TornWriteRule::kZeroTail, size);

  FUZZ_CHECK(zero_tail.records == etcd.records, "the torn-write rule changed the records returned");
  FUZZ_CHECK(zero_tail.records == middle.records, "the segment's position changed the records returned");
  FUZZ_CHECK(zero_tail.failed == etcd.failed && zero_tail.failed == middle.failed,
             "whether decoding fails depends on the rule or the position: " + zero_tail.message + " / " +
                 etcd.message + " / " + middle.message);
  if (etcd.failed && etcd.code == StatusCode::kUnexpectedEof) {
    FUZZ_CHECK(zero_tail.code == StatusCode::kUnexpectedEof,
               "kEtcd calls it torn but kZeroTail does not: " + zero_tail.message);
  }
  if (zero_tail.failed) {
    FUZZ_CHECK(zero_tail.error_offset == etcd.error_offset && zero_tail.error_offset == middle.error_offset,
               "the error offset depends on the rule or the position");
  }
  FUZZ_CHECK(!middle.failed || middle.code != StatusCode::kUnexpectedEof,
             "a non-last segment reported a torn write: " + middle.message);
  return 0;
}
