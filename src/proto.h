// Hand-written protobuf wire coding for etcd's five fixed messages:
// walpb.Record, raftpb.Entry, raftpb.HardState, walpb.Snapshot (and the
// record frame). Encoders write etcd v3.4's (gogoproto) bytes exactly: fields
// in ascending number order, Entry/HardState/Snapshot scalars always present,
// Entry.Data and Record.data only when present. Decoders accept any field
// order, repeated fields (last wins) and unknown fields, like gogo does, and
// never read outside the input. See doc/format.md.
#ifndef WAL_SRC_PROTO_H_
#define WAL_SRC_PROTO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "src/format.h"
#include "wal/status.h"
#include "wal/types.h"

namespace wal::internal {

// walpb record types: the public wal::RecordType, under the codec's names.
inline constexpr int64_t kMetadataType = kRecordMetadata;
inline constexpr int64_t kEntryType = kRecordEntry;
inline constexpr int64_t kStateType = kRecordState;
inline constexpr int64_t kCrcType = kRecordCrc;
inline constexpr int64_t kSnapshotType = kRecordSnapshot;

// A decoded walpb.Record. `data` points into the decoder's buffer.
struct RecordView {
  int64_t type = 0;
  uint32_t crc = 0;
  bool has_data = false;  // Go: Data != nil
  std::string_view data;
};

// ---- sizes and encoders. Each Encode* writes exactly *EncodedSize() bytes
// at `out` and returns the end pointer.
size_t EntryEncodedSize(const Entry& e);
uint8_t* EncodeEntry(const Entry& e, uint8_t* out);
// Everything of EncodeEntry but the data bytes themselves (which follow):
// at most kMaxEntryHeaderBytes.
uint8_t* EncodeEntryHeader(const Entry& e, uint8_t* out);
uint8_t* EncodeEntryHeader(const EntryView& e, uint8_t* out);
inline constexpr size_t kMaxEntryHeaderBytes = 3 * (1 + 10) + 1 + 10;
size_t HardStateEncodedSize(const HardState& s);
uint8_t* EncodeHardState(const HardState& s, uint8_t* out);
size_t SnapshotEncodedSize(const Snapshot& s);
uint8_t* EncodeSnapshot(const Snapshot& s, uint8_t* out);

// walpb.Record {type, crc, data}: the bytes before `data` and the total.
size_t RecordEncodedSize(int64_t type, uint32_t crc, bool has_data, size_t data_len);
// Writes type, crc and (if has_data) the data tag and length; the caller
// writes `data_len` bytes of data right after.
uint8_t* EncodeRecordPrefix(int64_t type, uint32_t crc, bool has_data, size_t data_len, uint8_t* out);

// Convenience for tests and tools (allocate).
std::string EncodeEntryToString(const Entry& e);
std::string EncodeHardStateToString(const HardState& s);
std::string EncodeSnapshotToString(const Snapshot& s);
std::string EncodeRecordToString(int64_t type, uint32_t crc, bool has_data, std::string_view data);

// ---- decoders. On malformed input they return kCorruption with a message
// naming the field; the caller adds file and offset.
Status DecodeRecord(std::string_view bytes, RecordView* out);
// Entry, state and snapshot records always carry a payload: etcd (gogoproto,
// non-nullable fields) and this library always encode Entry.{Type,Term,Index},
// HardState.{Term,Vote,Commit} and Snapshot.{Index,Term}. A record of such a
// type without payload was never written: it is damage that the CRC cannot
// see (the CRC of no bytes is the chain itself, so a crc record whose type
// byte was hit passes the check). kCorruption, or Ok.
Status CheckRecordPayload(const RecordView& rec);
// The entry's fields; `data` points into `bytes` (no copy). DecodeEntry is
// this plus a copy of the data.
Status DecodeEntryView(std::string_view bytes, EntryView* out);
Status DecodeEntry(std::string_view bytes, Entry* out);
Status DecodeHardState(std::string_view bytes, HardState* out);
Status DecodeSnapshot(std::string_view bytes, Snapshot* out);

// ---- frames (v3.0+): 8-byte little-endian length word, top byte 0x80|pad
// when pad != 0, record bytes, then pad zero bytes to an 8-byte boundary.
inline constexpr uint64_t kFrameLengthMask = 0x00FF'FFFF'FFFF'FFFFull;
inline constexpr size_t PadBytes(size_t len) {
  return (kFrameAlignBytes - len % kFrameAlignBytes) % kFrameAlignBytes;
}
inline constexpr uint64_t EncodeFrameWord(uint64_t len) {
  uint64_t pad = PadBytes(len);
  return pad == 0 ? len : len | ((0x80 | pad) << 56);
}
struct FrameSize {
  uint64_t record_bytes;
  uint64_t pad_bytes;
};
// Reads a length word as etcd does: length = low 56 bits; pad = bits 56..58
// only when bit 63 is set (pre-3.0 unpadded frames have it clear).
inline constexpr FrameSize DecodeFrameWord(uint64_t word) {
  uint64_t pad = (word >> 63) ? (word >> 56) & 7 : 0;
  return {word & kFrameLengthMask, pad};
}

}  // namespace wal::internal

#endif  // WAL_SRC_PROTO_H_
