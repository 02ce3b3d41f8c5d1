#include "src/proto.h"

#include <string>

#include "src/coding.h"

namespace wal::internal {

namespace {

// Wire types.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLengthDelimited = 2;
constexpr uint32_t kFixed32 = 5;

constexpr uint8_t Tag(uint32_t field, uint32_t wire) { return static_cast<uint8_t>(field << 3 | wire); }

inline size_t VarintField(uint64_t v) { return 1 + VarintLength(v); }

inline uint8_t* PutVarintField(uint8_t* out, uint32_t field, uint64_t v) {
  *out++ = Tag(field, kVarint);
  return EncodeVarint(out, v);
}

// A minimal proto2 field scanner over [p, end).
class FieldReader {
 public:
  FieldReader(std::string_view bytes, const char* message)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()), message_(message) {}

  bool done() const { return p_ >= end_; }

  // Reads the next key. On error sets status.
  bool NextKey(uint32_t* field, uint32_t* wire) {
    uint64_t key;
    if (!DecodeVarint(&p_, end_, &key)) return Fail("truncated or overlong field key");
    if ((key >> 3) == 0 || (key >> 3) > 0x1FFFFFFF) return Fail("illegal field number 0");
    *field = static_cast<uint32_t>(key >> 3);
    *wire = static_cast<uint32_t>(key & 7);
    return true;
  }
  bool ReadVarint(uint32_t wire, uint64_t* v) {
    if (wire != kVarint) return Fail("wrong wire type for a varint field");
    if (!DecodeVarint(&p_, end_, v)) return Fail("truncated or overlong varint");
    return true;
  }
  bool ReadBytes(uint32_t wire, std::string_view* v) {
    if (wire != kLengthDelimited) return Fail("wrong wire type for a bytes field");
    uint64_t len;
    if (!DecodeVarint(&p_, end_, &len)) return Fail("truncated length");
    if (len > static_cast<uint64_t>(end_ - p_)) return Fail("length-delimited field runs past the end");
    *v = std::string_view(reinterpret_cast<const char*>(p_), len);
    p_ += len;
    return true;
  }
  bool Skip(uint32_t wire) {
    uint64_t v = 0;
    std::string_view s;
    switch (wire) {
      case kVarint:
        return ReadVarint(wire, &v);
      case kFixed64:
        if (end_ - p_ < 8) return Fail("truncated fixed64");
        p_ += 8;
        return true;
      case kLengthDelimited:
        return ReadBytes(wire, &s);
      case kFixed32:
        if (end_ - p_ < 4) return Fail("truncated fixed32");
        p_ += 4;
        return true;
      default:
        return Fail("unsupported wire type");
    }
  }
  Status status() const { return status_; }

 private:
  bool Fail(const char* why) {
    status_ = Status(StatusCode::kCorruption, std::string("malformed ") + message_ + ": " + why);
    return false;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  const char* message_;
  Status status_;
};

}  // namespace

// raftpb.Entry as gogo writes it (etcd v2.1-v3.6): Type, Term, Index always;
// Data only when non-empty (raft hands nil for empty data).
size_t EntryEncodedSize(const Entry& e) {
  size_t n = VarintField(static_cast<uint64_t>(static_cast<int64_t>(e.type))) + VarintField(e.term) +
             VarintField(e.index);
  if (!e.data.empty()) n += 1 + VarintLength(e.data.size()) + e.data.size();
  return n;
}

uint8_t* EncodeEntryHeader(const Entry& e, uint8_t* out) {
  return EncodeEntryHeader(EntryView{e.term, e.index, e.type, e.data}, out);
}

uint8_t* EncodeEntryHeader(const EntryView& e, uint8_t* out) {
  // An enum is an int32 on the wire, sign-extended to 64 bits when negative.
  out = PutVarintField(out, 1, static_cast<uint64_t>(static_cast<int64_t>(e.type)));
  out = PutVarintField(out, 2, e.term);
  out = PutVarintField(out, 3, e.index);
  if (!e.data.empty()) {
    *out++ = Tag(4, kLengthDelimited);
    out = EncodeVarint(out, e.data.size());
  }
  return out;
}

uint8_t* EncodeEntry(const Entry& e, uint8_t* out) {
  out = EncodeEntryHeader(e, out);
  std::memcpy(out, e.data.data(), e.data.size());
  return out + e.data.size();
}

size_t HardStateEncodedSize(const HardState& s) {
  return VarintField(s.term) + VarintField(s.vote) + VarintField(s.commit);
}

uint8_t* EncodeHardState(const HardState& s, uint8_t* out) {
  out = PutVarintField(out, 1, s.term);
  out = PutVarintField(out, 2, s.vote);
  return PutVarintField(out, 3, s.commit);
}

size_t SnapshotEncodedSize(const Snapshot& s) { return VarintField(s.index) + VarintField(s.term); }

uint8_t* EncodeSnapshot(const Snapshot& s, uint8_t* out) {
  out = PutVarintField(out, 1, s.index);
  return PutVarintField(out, 2, s.term);
}

size_t RecordEncodedSize(int64_t type, uint32_t crc, bool has_data, size_t data_len) {
  size_t n = VarintField(static_cast<uint64_t>(type)) + VarintField(crc);
  if (has_data) n += 1 + VarintLength(data_len) + data_len;
  return n;
}

uint8_t* EncodeRecordPrefix(int64_t type, uint32_t crc, bool has_data, size_t data_len, uint8_t* out) {
  out = PutVarintField(out, 1, static_cast<uint64_t>(type));
  out = PutVarintField(out, 2, crc);
  if (has_data) {
    *out++ = Tag(3, kLengthDelimited);
    out = EncodeVarint(out, data_len);
  }
  return out;
}

namespace {
template <class T, class SizeFn, class EncFn>
std::string EncodeToString(const T& v, SizeFn size, EncFn enc) {
  std::string s(size(v), '\0');
  uint8_t* end = enc(v, reinterpret_cast<uint8_t*>(s.data()));
  WAL_CHECK(end == reinterpret_cast<uint8_t*>(s.data()) + s.size());
  return s;
}
}  // namespace

std::string EncodeEntryToString(const Entry& e) { return EncodeToString(e, EntryEncodedSize, EncodeEntry); }
std::string EncodeHardStateToString(const HardState& s) {
  return EncodeToString(s, HardStateEncodedSize, EncodeHardState);
}
std::string EncodeSnapshotToString(const Snapshot& s) {
  return EncodeToString(s, SnapshotEncodedSize, EncodeSnapshot);
}
std::string EncodeRecordToString(int64_t type, uint32_t crc, bool has_data, std::string_view data) {
  size_t total = RecordEncodedSize(type, crc, has_data, data.size());
  std::string s(total, '\0');
  uint8_t* p = EncodeRecordPrefix(type, crc, has_data, data.size(), reinterpret_cast<uint8_t*>(s.data()));
  if (has_data) std::memcpy(p, data.data(), data.size());
  return s;
}

namespace {
// Fast paths for the layout every etcd writes (fields 1, 2[, 3] in order,
// each once): a handful of branches instead of the generic field loop.
// Anything else falls through to the generic decoder, which is the
// reference; both give the same result on the inputs the fast path takes.
inline bool TakeTag(const uint8_t** p, const uint8_t* end, uint8_t tag) {
  if (*p < end && **p == tag) {
    ++*p;
    return true;
  }
  return false;
}

bool FastDecodeRecord(std::string_view bytes, RecordView* out) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* end = p + bytes.size();
  uint64_t type, crc, len;
  if (!TakeTag(&p, end, 0x08) || !DecodeVarint(&p, end, &type)) return false;
  if (!TakeTag(&p, end, 0x10) || !DecodeVarint(&p, end, &crc)) return false;
  out->type = static_cast<int64_t>(type);
  out->crc = static_cast<uint32_t>(crc);
  if (p == end) {
    out->has_data = false;
    out->data = {};
    return true;
  }
  if (!TakeTag(&p, end, 0x1a) || !DecodeVarint(&p, end, &len)) return false;
  if (len != static_cast<uint64_t>(end - p)) return false;
  out->has_data = true;
  out->data = std::string_view(reinterpret_cast<const char*>(p), len);
  return true;
}

bool FastDecodeEntry(std::string_view bytes, EntryView* out) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* end = p + bytes.size();
  uint64_t type, term, index, len;
  if (!TakeTag(&p, end, 0x08) || !DecodeVarint(&p, end, &type)) return false;
  if (!TakeTag(&p, end, 0x10) || !DecodeVarint(&p, end, &term)) return false;
  if (!TakeTag(&p, end, 0x18) || !DecodeVarint(&p, end, &index)) return false;
  if (p != end) {
    if (!TakeTag(&p, end, 0x22) || !DecodeVarint(&p, end, &len)) return false;
    if (len != static_cast<uint64_t>(end - p)) return false;
    out->data = std::string_view(reinterpret_cast<const char*>(p), len);
  } else {
    out->data = {};
  }
  out->type = static_cast<EntryType>(static_cast<int32_t>(type));
  out->term = term;
  out->index = index;
  return true;
}
}  // namespace

Status CheckRecordPayload(const RecordView& rec) {
  if (!rec.data.empty()) return Status::Ok();
  if (rec.type == kEntryType || rec.type == kStateType || rec.type == kSnapshotType) {
    return Status(StatusCode::kCorruption,
                  std::string(RecordTypeName(rec.type)) + " record without payload (never written)");
  }
  return Status::Ok();
}

Status DecodeRecord(std::string_view bytes, RecordView* out) {
  if (FastDecodeRecord(bytes, out)) return Status::Ok();
  *out = RecordView{};
  FieldReader r(bytes, "walpb.Record");
  uint32_t field = 0, wire = 0;
  while (!r.done()) {
    if (!r.NextKey(&field, &wire)) return r.status();
    uint64_t v = 0;
    bool ok;
    switch (field) {
      case 1:
        ok = r.ReadVarint(wire, &v);
        out->type = static_cast<int64_t>(v);
        break;
      case 2:
        ok = r.ReadVarint(wire, &v);
        out->crc = static_cast<uint32_t>(v);  // gogo keeps the low 32 bits
        break;
      case 3:
        ok = r.ReadBytes(wire, &out->data);
        out->has_data = true;
        break;
      default:
        ok = r.Skip(wire);
    }
    if (!ok) return r.status();
  }
  return Status::Ok();
}

Status DecodeEntryView(std::string_view bytes, EntryView* out) {
  if (FastDecodeEntry(bytes, out)) return Status::Ok();
  *out = EntryView{};
  FieldReader r(bytes, "raftpb.Entry");
  uint32_t field = 0, wire = 0;
  while (!r.done()) {
    if (!r.NextKey(&field, &wire)) return r.status();
    uint64_t v = 0;
    bool ok;
    switch (field) {
      case 1:
        ok = r.ReadVarint(wire, &v);
        out->type = static_cast<EntryType>(static_cast<int32_t>(v));
        break;
      case 2:
        ok = r.ReadVarint(wire, &out->term);
        break;
      case 3:
        ok = r.ReadVarint(wire, &out->index);
        break;
      case 4:
        ok = r.ReadBytes(wire, &out->data);  // repeated: the last one wins, as in gogo
        break;
      default:
        ok = r.Skip(wire);
    }
    if (!ok) return r.status();
  }
  return Status::Ok();
}

Status DecodeEntry(std::string_view bytes, Entry* out) {
  EntryView v;
  WAL_RETURN_IF_ERROR(DecodeEntryView(bytes, &v));
  out->term = v.term;
  out->index = v.index;
  out->type = v.type;
  out->data.assign(v.data.data(), v.data.size());
  return Status::Ok();
}

Status DecodeHardState(std::string_view bytes, HardState* out) {
  *out = HardState{};
  FieldReader r(bytes, "raftpb.HardState");
  uint32_t field = 0, wire = 0;
  while (!r.done()) {
    if (!r.NextKey(&field, &wire)) return r.status();
    bool ok;
    switch (field) {
      case 1:
        ok = r.ReadVarint(wire, &out->term);
        break;
      case 2:
        ok = r.ReadVarint(wire, &out->vote);
        break;
      case 3:
        ok = r.ReadVarint(wire, &out->commit);
        break;
      default:
        ok = r.Skip(wire);
    }
    if (!ok) return r.status();
  }
  return Status::Ok();
}

Status DecodeSnapshot(std::string_view bytes, Snapshot* out) {
  *out = Snapshot{};
  FieldReader r(bytes, "walpb.Snapshot");
  uint32_t field = 0, wire = 0;
  while (!r.done()) {
    if (!r.NextKey(&field, &wire)) return r.status();
    bool ok;
    switch (field) {
      case 1:
        ok = r.ReadVarint(wire, &out->index);
        break;
      case 2:
        ok = r.ReadVarint(wire, &out->term);
        break;
      default:  // conf_state (3, v3.5+) and anything newer
        ok = r.Skip(wire);
    }
    if (!ok) return r.status();
  }
  return Status::Ok();
}

}  // namespace wal::internal

namespace wal {

std::string_view RecordTypeName(int64_t type) {
  switch (type) {
    case kRecordMetadata:
      return "metadata";
    case kRecordEntry:
      return "entry";
    case kRecordState:
      return "state";
    case kRecordCrc:
      return "crc";
    case kRecordSnapshot:
      return "snapshot";
    default:
      return "unknown";
  }
}

}  // namespace wal
