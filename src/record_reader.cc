#include "src/record_reader.h"

#include <algorithm>
#include <cstring>

#include "src/coding.h"
#include "src/crc32c.h"
#include "src/format.h"
#include "src/mutants.h"

namespace wal::internal {

RecordDecoder::RecordDecoder(std::vector<SegmentInput> inputs, size_t chunk_bytes, TornWriteRule rule)
    : inputs_(std::move(inputs)), chunk_bytes_(std::max<size_t>(chunk_bytes, kPageBytes)), rule_(rule) {}

const std::string& RecordDecoder::segment_name() const {
  static const std::string kNone = "<none>";
  return seg_ < inputs_.size() ? inputs_[seg_].name : kNone;
}

Status RecordDecoder::Fail(StatusCode code, uint64_t offset, const std::string& what) const {
  fail_reason_ = what;
  return Status::At(code, ErrorPlace{what, segment_name(), offset, std::nullopt});
}

Status RecordDecoder::SizeCurrent() {
  map_ = nullptr;
  if (keep_ != nullptr) {
    auto m = inputs_[seg_].file->Map();
    if (m.has_value()) {
      // The mapping's size is the segment's: bytes appended after it was
      // taken are not read, as with a size taken before chunked reads.
      std::span<const std::byte> bytes = (*m)->bytes();
      seg_size_ = bytes.size();
      map_ = reinterpret_cast<const uint8_t*>(bytes.data());
      keep_->push_back(std::move(m).value());
    }
  }
  if (map_ == nullptr) {
    WAL_ASSIGN_OR_RETURN(seg_size_, inputs_[seg_].file->Size());
  }
  seg_size_known_ = true;
  buf_len_ = 0;
  buf_offset_ = 0;
  return Status::Ok();
}

Status RecordDecoder::EnsureLoaded(uint64_t offset, size_t n, const uint8_t** out) {
  if (offset >= buf_offset_ && offset + n <= buf_offset_ + buf_len_) {
    *out = buf_.data() + (offset - buf_offset_);
    return Status::Ok();
  }
  // Read max(n, chunk) bytes from `offset`, bounded by the file size. The
  // caller has already checked that [offset, offset+n) lies in the file, so
  // `want` is bounded by the file size, never by a length read from disk.
  uint64_t left = seg_size_ - offset;
  size_t want = static_cast<size_t>(std::min<uint64_t>(left, std::max<uint64_t>(n, chunk_bytes_)));
  if (buf_.size() < want) buf_.resize(want);
  WAL_ASSIGN_OR_RETURN(size_t got, inputs_[seg_].file->ReadAt(
                                       offset, std::span(reinterpret_cast<std::byte*>(buf_.data()), want)));
  buf_offset_ = offset;
  buf_len_ = got;
  if (got < n) {
    // The file shrank under us since we took its size.
    return Fail(in_last_segment() ? StatusCode::kUnexpectedEof : StatusCode::kCorruption, offset,
                "file ended while reading a record");
  }
  *out = buf_.data();
  return Status::Ok();
}

bool RecordDecoder::IsTorn(uint64_t data_offset, const uint8_t* data, size_t n) const {
  if (!in_last_segment()) return false;
  // Cut the frame's bytes at absolute 512-byte sector boundaries; a sector
  // piece that is entirely zero was never written (the file is preallocated
  // with zeros), so the record is a torn write, not corruption.
  size_t pos = 0;
  uint64_t file_off = data_offset;
  while (pos < n) {
    size_t piece = static_cast<size_t>(std::min<uint64_t>(kSectorBytes - file_off % kSectorBytes, n - pos));
    bool zero = true;
    for (size_t i = 0; i < piece; ++i) {
      if (data[pos + i] != 0) {
        zero = false;
        break;
      }
    }
    if (zero) return true;
    pos += piece;
    file_off += piece;
  }
  return false;
}

bool RecordDecoder::OnlyZerosAfter(uint64_t frame_end) {
  if (!in_last_segment() || rule_ != TornWriteRule::kZeroTail || MutantActive(Mutant::kSkipZeroTailTornRule))
    return false;
  // A write torn at any byte or sector leaves its last sector partly old,
  // partly new or garbage; past that sector the preallocated segment was
  // never written and is all zeros. A damaged record with nothing but zeros
  // after its last sector is therefore the last thing ever written: a torn
  // write, not damage to data that was followed by more data...
  if (GenuineFrameAt(frame_end)) return false;  // ...unless a real record follows it in that sector
  uint64_t from = (frame_end + kSectorBytes - 1) / kSectorBytes * kSectorBytes;
  if (from >= seg_size_) return true;
  std::vector<uint8_t> chunk(static_cast<size_t>(std::min<uint64_t>(seg_size_ - from, 1 << 20)));
  for (uint64_t pos = from; pos < seg_size_;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(seg_size_ - pos, chunk.size()));
    auto got = inputs_[seg_].file->ReadAt(pos, std::span(reinterpret_cast<std::byte*>(chunk.data()), want));
    if (!got.has_value() || *got == 0) return false;
    for (size_t i = 0; i < *got; ++i) {
      if (chunk[i] != 0) return false;
    }
    pos += *got;
  }
  return true;
}

bool RecordDecoder::GenuineFrameAt(uint64_t pos) {
  // A frame that fits in the file and parses as a record of a known type is
  // taken for real data (its CRC cannot be checked: the chain broke before
  // it). Garbage from a torn sector essentially never passes this, and
  // erring this way only reports corruption instead of cutting.
  if (pos + kFrameHeaderBytes > seg_size_) return false;
  std::vector<uint8_t> word(kFrameHeaderBytes);
  auto got =
      inputs_[seg_].file->ReadAt(pos, std::span(reinterpret_cast<std::byte*>(word.data()), word.size()));
  if (!got.has_value() || *got != word.size()) return false;
  FrameSize fs = DecodeFrameWord(DecodeFixed64LE(word.data()));
  if (fs.record_bytes == 0) return false;
  uint64_t room = seg_size_ - pos - kFrameHeaderBytes;
  if (fs.record_bytes > room || fs.pad_bytes > room - fs.record_bytes) return false;
  std::vector<uint8_t> body(static_cast<size_t>(fs.record_bytes));
  got = inputs_[seg_].file->ReadAt(pos + kFrameHeaderBytes,
                                   std::span(reinterpret_cast<std::byte*>(body.data()), body.size()));
  if (!got.has_value() || *got != body.size()) return false;
  RecordView rec;
  if (!DecodeRecord(std::string_view(reinterpret_cast<const char*>(body.data()), body.size()), &rec).ok() ||
      !CheckRecordPayload(rec).ok())
    return false;
  return rec.type >= kMetadataType && rec.type <= kSnapshotType;
}

bool RecordDecoder::EndSegment(SegmentEnd::Kind kind, uint64_t offset, Status problem) {
  if (end_sink_) {
    SegmentEnd end;
    end.segment = seg_;
    end.kind = kind;
    end.offset = offset;
    end.problem = std::move(problem);
    end_sink_->SegmentEnded(end);
  }
  if (in_last_segment()) {
    ended_ = true;
    return false;
  }
  ++seg_;
  offset_ = 0;
  seg_size_known_ = false;
  return true;
}

bool RecordDecoder::ReturnBad(StatusCode code, std::string why, uint64_t off, uint64_t frame_bytes) {
  problem_ = Status(code, std::move(why));
  record_offset_ = off;
  frame_bytes_ = frame_bytes;
  offset_ = off + frame_bytes;
  return true;
}

Result<bool> RecordDecoder::Next(RecordView* rec) {
  problem_ = Status::Ok();
  decoded_ = false;
  crc_checked_ = false;
  const bool tolerant = end_sink_ != nullptr;
  // Bounded by the number of segments: each pass either returns or moves on.
  while (!ended_ && seg_ < inputs_.size()) {
    if (!seg_size_known_) WAL_RETURN_IF_ERROR(SizeCurrent());
    const uint64_t off = offset_;
    const bool last = in_last_segment();
    const StatusCode short_code = last ? StatusCode::kUnexpectedEof : StatusCode::kCorruption;
    if (off >= seg_size_) {  // clean end of this segment
      if (!EndSegment(SegmentEnd::Kind::kEndOfFile, off, Status::Ok())) return false;
      continue;
    }
    if (seg_size_ - off < kFrameHeaderBytes) {
      if (!tolerant) return Fail(short_code, off, "partial length word");
      const std::string why =
          "partial length word (" + std::to_string(seg_size_ - off) + " bytes at the end of the file)";
      if (!EndSegment(SegmentEnd::Kind::kStopped, off, Status(short_code, why))) return false;
      continue;
    }
    const uint8_t* p;
    Status loaded = EnsureLoaded(off, kFrameHeaderBytes, &p);
    if (!loaded.ok() && tolerant && loaded.code() == short_code) {
      if (!EndSegment(SegmentEnd::Kind::kStopped, off, Status(short_code, "the file ended while reading it")))
        return false;
      continue;
    }
    WAL_RETURN_IF_ERROR(loaded);
    uint64_t word = DecodeFixed64LE(p);
    if (word == 0) {  // preallocated space: end of this segment
      if (!EndSegment(SegmentEnd::Kind::kZeroWord, off, Status::Ok())) return false;
      continue;
    }
    FrameSize fs = DecodeFrameWord(word);
    uint64_t room = seg_size_ - off - kFrameHeaderBytes;
    if (fs.record_bytes > room || fs.pad_bytes > room - fs.record_bytes) {
      const std::string why = "record length " + std::to_string(fs.record_bytes) + " (+" +
                              std::to_string(fs.pad_bytes) + " pad) exceeds the " + std::to_string(room) +
                              " bytes left in the file";
      if (!tolerant) return Fail(short_code, off, why);
      if (!EndSegment(SegmentEnd::Kind::kStopped, off, Status(short_code, why))) return false;
      continue;
    }
    size_t total = static_cast<size_t>(fs.record_bytes + fs.pad_bytes);
    record_bytes_ = fs.record_bytes;
    const uint64_t frame = kFrameHeaderBytes + total;
    loaded = EnsureLoaded(off + kFrameHeaderBytes, total, &p);
    if (!loaded.ok() && tolerant && loaded.code() == short_code) {
      if (!EndSegment(SegmentEnd::Kind::kStopped, off,
                      Status(short_code, "the file ended while reading a record")))
        return false;
      continue;
    }
    WAL_RETURN_IF_ERROR(loaded);
    // Damage that the torn-write rules take for a write that never completed.
    auto torn = [&]() -> const char* {
      if (IsTorn(off + kFrameHeaderBytes, p, total)) return "a zeroed sector";
      if (OnlyZerosAfter(off + frame)) return "only zeros follow it";
      return nullptr;
    };
    std::string_view bytes(reinterpret_cast<const char*>(p), static_cast<size_t>(fs.record_bytes));
    Status s = DecodeRecord(bytes, rec);
    if (s.ok()) s = CheckRecordPayload(*rec);
    if (!s.ok()) {
      const char* t = torn();
      if (!tolerant) {
        if (t) return Fail(StatusCode::kUnexpectedEof, off, "torn record (never completely written)");
        return Fail(StatusCode::kCorruption, off, std::string(s.message()));
      }
      *rec = RecordView{};
      std::string why = "malformed record: " + std::string(s.message());
      if (t) why += " (torn write: " + std::string(t) + ")";
      return ReturnBad(t ? StatusCode::kUnexpectedEof : StatusCode::kCorruption, std::move(why), off, frame);
    }
    decoded_ = true;
    char msg[128];
    if (rec->type != kCrcType) {
      uint32_t want = Crc32cExtend(crc_, rec->data);
      computed_crc_ = want;
      crc_checked_ = true;
      if (want != rec->crc) {
        const char* t = torn();
        if (!tolerant) {
          if (t) return Fail(StatusCode::kUnexpectedEof, off, "torn record (never completely written)");
          std::snprintf(msg, sizeof(msg), "crc mismatch (stored %08x, computed %08x) for a %s record",
                        rec->crc, want, std::string(RecordTypeName(rec->type)).c_str());
          return Fail(StatusCode::kCrcMismatch, off, msg);
        }
        std::snprintf(msg, sizeof(msg), "crc mismatch (stored %08x, computed %08x)", rec->crc, want);
        std::string why = msg;
        if (t) why += " (torn write: " + std::string(t) + ")";
        crc_ = rec->crc;  // the chain goes on from the stored value
        return ReturnBad(t ? StatusCode::kUnexpectedEof : StatusCode::kCrcMismatch, std::move(why), off,
                         frame);
      }
      crc_ = want;
    } else {
      // etcd checks a crc record only when the running value is non-zero (a
      // decoder that started at this segment has nothing to compare with).
      computed_crc_ = crc_;
      crc_checked_ = crc_ != 0;
      if (crc_ != 0 && rec->crc != crc_) {
        if (!tolerant) {
          std::snprintf(msg, sizeof(msg), "crc mismatch: crc record holds %08x, the chain so far is %08x",
                        rec->crc, crc_);
          return Fail(StatusCode::kCrcMismatch, off, msg);
        }
        std::snprintf(msg, sizeof(msg), "crc record holds %08x but the chain so far is %08x", rec->crc, crc_);
        crc_ = rec->crc;
        return ReturnBad(StatusCode::kCrcMismatch, msg, off, frame);
      }
      crc_ = rec->crc;
    }
    record_offset_ = off;
    frame_bytes_ = frame;
    offset_ = off + frame;
    return true;
  }
  return false;
}

}  // namespace wal::internal
