// roundtrip_fuzzer: the input drives a workload (Create, Save batches with
// occasional raft overwrites, SaveEntry/SaveState, SaveSnapshot, Cut, Sync,
// Close) on a MemFileSystem with small segments; then one corruption, drawn
// from the input before the workload, is applied to one segment (truncate,
// zero a 512-byte sector, flip 1-3 bits anywhere near the records or inside
// their data fields, overwrite up to 16 bytes, or nothing) and the log is
// read back with OpenForRead + ReadAll.
//
// Before corrupting, the segments are decoded and checked record by record
// against the workload (every segment starts with crc, metadata and, after a
// cut, the last hard state; then exactly the records the calls wrote), and an
// undamaged read must return the workload's result exactly.
//
// The oracle after the corruption. Let r be the first record whose frame
// (length word + record; padding excluded) changed or no longer fits in its
// file, and Apply(k) the result of replaying records [0, k) with ReadAll's
// rules (overwrite, last hard state, snapshot {0,0} must be seen).
//   - Truncation, a zeroed sector, or flips confined to the data fields and
//     padding of records (at most 3 bits, so CRC-32C, whose Hamming distance
//     is >= 4 at these lengths, always detects them):
//       r == N (nothing changed)            -> OK and Apply(N);
//       r in the last segment, truncate/zero -> OK and Apply(r) (or
//                                             kSnapshotNotFound when Apply(r)
//                                             has not seen snapshot {0,0});
//       r in the last segment, flips        -> an error, or OK and Apply(r);
//       r in an earlier segment             -> an error (flips: always), or OK
//                                             and Apply(N) (a truncation that
//                                             dropped only data-less records).
//     A zeroed sector changes many bits at once: like any random damage it
//     passes CRC-32C with probability 2^-32; the fuzzer cannot steer it, so
//     the exact oracle stays.
//   - Flips elsewhere (length words, record type/crc/length fields, the zero
//     tail) and arbitrary overwrites: only "no crash, errors are Status, and
//     any entries returned are contiguous from 1". The record type field is
//     not covered by etcd's CRC: one bit turns an entry (2) into a hard state
//     (3) with a valid CRC, and a fabricated record with empty data needs no
//     CRC forgery, so nothing stronger holds there.
// In every case, Repair must not change what read mode returns; a successful
// read implies Repair answers true, and that the log then opens in write mode
// with the same result and takes an append that reads back.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "src/proto.h"
#include "src/record_reader.h"
#include "src/segment_names.h"
#include "wal/mem_file_system.h"
#include "wal/wal.h"

namespace {

using wal::StatusCode;
using wal::internal::kCrcType;
using wal::internal::kEntryType;
using wal::internal::kMetadataType;
using wal::internal::kSnapshotType;
using wal::internal::kStateType;

constexpr char kDir[] = "/w";

struct Rec {
  int64_t type = 0;
  bool has_data = false;
  std::string meta;  // metadata record data
  wal::Entry entry;
  wal::HardState state;
  wal::Snapshot snap;
  // Layout, filled when decoded.
  size_t seg = 0;
  uint64_t off = 0;        // the length word
  uint64_t rec_len = 0;    // record bytes, without the length word and padding
  uint64_t frame_len = 0;  // length word + record + padding
  uint64_t data_off = 0;   // the data field's bytes (canonical encoding: last field)
  uint64_t data_len = 0;
};

std::string DescribeRec(const Rec& r) {
  switch (r.type) {
    case kCrcType:
      return "crc";
    case kMetadataType:
      return r.has_data ? "metadata(" + std::to_string(r.meta.size()) + " bytes)" : "metadata(nil)";
    case kEntryType:
      return "entry{term " + std::to_string(r.entry.term) + ", index " + std::to_string(r.entry.index) +
             ", " + std::to_string(r.entry.data.size()) + " bytes}";
    case kStateType:
      return "state" + walfuzz::Describe(r.state);
    case kSnapshotType:
      return "snapshot{" + std::to_string(r.snap.index) + ", " + std::to_string(r.snap.term) + "}";
  }
  return "type " + std::to_string(r.type);
}

bool SameRecord(const Rec& a, const Rec& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case kMetadataType:
      return a.has_data == b.has_data && a.meta == b.meta;
    case kEntryType:
      return a.entry == b.entry;
    case kStateType:
      return a.state == b.state;
    case kSnapshotType:
      return a.snap == b.snap;
  }
  return true;
}

struct Applied {
  wal::ReadAllResult result;
  bool snap_found = false;
};

// Replays recs[0, k) with ReadAll's rules for OpenForRead(dir, {0, 0}).
Applied Apply(const std::vector<Rec>& recs, size_t k) {
  Applied a;
  for (size_t i = 0; i < k; ++i) {
    const Rec& r = recs[i];
    switch (r.type) {
      case kMetadataType:
        a.result.metadata = r.has_data ? r.meta : std::string();
        break;
      case kEntryType: {
        if (r.entry.index == 0) break;
        uint64_t off = r.entry.index - 1;
        FUZZ_CHECK(off <= a.result.entries.size(), "the workload wrote a gap");
        a.result.entries.resize(static_cast<size_t>(off));
        a.result.entries.push_back(r.entry);
        break;
      }
      case kStateType:
        a.result.state = r.state;
        break;
      case kSnapshotType:
        if (r.snap.index == 0 && r.snap.term == 0) a.snap_found = true;
        break;
    }
  }
  return a;
}

using walfuzz::ReadOutcome;

ReadOutcome ReadForRead(const wal::Options& o) { return walfuzz::ReadForRead(kDir, wal::Snapshot{}, o); }

// The workload. Returns the records the calls wrote, excluding the heads of
// segments (crc, metadata, state), which Decode checks separately.
struct Workload {
  std::optional<std::string> metadata;
  std::vector<Rec> writes;
  std::string log;  // the calls, for failure messages
};

Rec EntryRec(const wal::Entry& e) {
  Rec r;
  r.type = kEntryType;
  r.has_data = true;
  r.entry = e;
  return r;
}
Rec StateRec(const wal::HardState& s) {
  Rec r;
  r.type = kStateType;
  r.has_data = true;
  r.state = s;
  return r;
}

Workload RunWorkload(FuzzedDataProvider& p, const wal::Options& o) {
  Workload w;
  if (!p.ConsumeBool()) w.metadata = p.ConsumeRandomLengthString(32);
  auto created = wal::WAL::Create(kDir, w.metadata ? std::string_view(*w.metadata) : std::string_view(), o);
  FUZZ_CHECK(created.has_value(), "Create: " + created.error().ToString());
  std::unique_ptr<wal::WAL> wl = std::move(created).value();
  uint64_t last = 0;
  uint64_t term = 1;
  const int ops = p.ConsumeIntegralInRange(1, 40);
  for (int op = 0; op < ops && p.remaining_bytes() > 0; ++op) {
    const int kind = p.ConsumeIntegralInRange(0, 11);
    wal::Status s;
    if (kind <= 6 || kind == 11) {  // Save
      const int n = kind == 11 ? p.ConsumeIntegralInRange(5, 40) : p.ConsumeIntegralInRange(0, 6);
      uint64_t start = last + 1;
      if (last > 0 && p.ConsumeIntegralInRange(0, 5) == 0)
        start = p.ConsumeIntegralInRange<uint64_t>(1, last + 1);
      term += p.ConsumeIntegralInRange(0, 1);
      std::vector<wal::Entry> ents;
      for (int i = 0; i < n; ++i) {
        wal::Entry e;
        e.term = term;
        e.index = start + static_cast<uint64_t>(i);
        e.type = static_cast<wal::EntryType>(p.ConsumeIntegralInRange(0, 2));
        const size_t len = p.ConsumeBool() ? p.ConsumeIntegralInRange<size_t>(0, 40)
                                           : p.ConsumeIntegralInRange<size_t>(0, 1500);
        e.data = p.ConsumeBytesAsString(len);
        ents.push_back(std::move(e));
      }
      wal::HardState hs;
      if (p.ConsumeBool()) {
        uint64_t top = ents.empty() ? last : ents.back().index;
        hs = wal::HardState{term, p.ConsumeIntegralInRange<uint64_t>(0, 3),
                            p.ConsumeIntegralInRange<uint64_t>(0, top)};
      }
      s = wl->Save(hs, ents);
      w.log += "Save(" + std::to_string(ents.size()) + " from " + std::to_string(start) + ", " +
               walfuzz::Describe(hs) + ") ";
      for (const auto& e : ents) w.writes.push_back(EntryRec(e));
      if (!hs.empty()) w.writes.push_back(StateRec(hs));
      if (!ents.empty()) last = ents.back().index;
    } else if (kind == 7) {  // SaveSnapshot at or below the last index (index 0 would mismatch {0,0})
      if (last == 0) continue;
      wal::Snapshot snap{p.ConsumeIntegralInRange<uint64_t>(1, last), term};
      s = wl->SaveSnapshot(snap);
      w.log += "SaveSnapshot(" + std::to_string(snap.index) + ") ";
      Rec r;
      r.type = kSnapshotType;
      r.has_data = true;
      r.snap = snap;
      w.writes.push_back(r);
    } else if (kind == 8) {
      s = wl->Cut();
      w.log += "Cut ";
    } else if (kind == 9) {  // the seed's unsynced single-record appends
      wal::Entry e{term, last + 1, wal::EntryType::kNormal, p.ConsumeRandomLengthString(64)};
      s = wl->SaveEntry(e);
      w.writes.push_back(EntryRec(e));
      last = e.index;
      if (s.ok() && p.ConsumeBool()) {
        wal::HardState hs{term, 1, last};
        s = wl->SaveState(hs);
        w.writes.push_back(StateRec(hs));
      }
      w.log += "SaveEntry ";
    } else {
      s = wl->Sync();
      w.log += "Sync ";
    }
    FUZZ_CHECK(s.ok(), "workload call failed: " + s.ToString() + " after " + w.log);
  }
  wal::Status s = wl->Close();
  FUZZ_CHECK(s.ok(), "Close: " + s.ToString());
  return w;
}

struct DamagePlan {
  int kind = 0;
  bool last_file = false;
  uint32_t file = 0;
  int flips = 1;
  uint64_t pos[3] = {0, 0, 0};
  int bit[3] = {0, 0, 0};
  std::string patch;
};

struct Segment {
  std::string path;
  std::string bytes;
  uint64_t used = 0;  // end of the last record
};

// Decodes the untouched segments and checks them against the workload.
std::vector<Rec> DecodeAndCheck(wal::MemFileSystem& fs, const Workload& w, std::vector<Segment>* segs) {
  auto names = wal::internal::ListSegments(&fs, kDir);
  FUZZ_CHECK(names.has_value(), "list segments: " + names.error().ToString());
  std::vector<std::unique_ptr<wal::File>> files;
  std::vector<wal::internal::SegmentInput> inputs;
  for (const auto& n : *names) {
    Segment seg;
    seg.path = wal::internal::JoinPath(kDir, n.name);
    auto c = fs.ReadFileToString(seg.path);
    FUZZ_CHECK(c.has_value(), "read " + seg.path);
    seg.bytes = *c;
    segs->push_back(std::move(seg));
    auto f = fs.Open(segs->back().path, wal::OpenOptions{});
    FUZZ_CHECK(f.has_value(), "open " + segs->back().path);
    files.push_back(std::move(f).value());
    inputs.push_back({n.name, files.back().get()});
  }
  wal::internal::RecordDecoder d(std::move(inputs), 4096, wal::TornWriteRule::kZeroTail);
  std::vector<Rec> recs;
  size_t next_write = 0;
  wal::HardState hs_so_far;
  size_t cur_seg = SIZE_MAX;
  size_t head_pos = 0;  // records seen in the current segment
  wal::internal::RecordView rv;
  while (true) {
    auto r = d.Next(&rv);
    FUZZ_CHECK(r.has_value(),
               "the untouched log does not decode: " + r.error().ToString() + " after " + w.log);
    if (!*r) break;
    Rec rec;
    rec.type = rv.type;
    rec.has_data = rv.has_data;
    rec.seg = d.segment_index();
    rec.off = d.record_offset();
    rec.frame_len = d.record_frame_bytes();
    rec.data_len = rv.data.size();
    rec.rec_len = wal::internal::RecordEncodedSize(rv.type, rv.crc, rv.has_data, rv.data.size());
    rec.data_off = rec.off + 8 + rec.rec_len - rec.data_len;
    FUZZ_CHECK(rec.frame_len == 8 + rec.rec_len + wal::internal::PadBytes(rec.rec_len),
               "a record not in canonical encoding");
    switch (rv.type) {
      case kMetadataType:
        rec.meta = std::string(rv.data);
        break;
      case kEntryType:
        FUZZ_CHECK(wal::internal::DecodeEntry(rv.data, &rec.entry).ok(), "entry payload");
        break;
      case kStateType:
        FUZZ_CHECK(wal::internal::DecodeHardState(rv.data, &rec.state).ok(), "state payload");
        break;
      case kSnapshotType:
        FUZZ_CHECK(wal::internal::DecodeSnapshot(rv.data, &rec.snap).ok(), "snapshot payload");
        break;
    }
    if (rec.seg != cur_seg) {
      cur_seg = rec.seg;
      head_pos = 0;
    }
    (*segs)[rec.seg].used = rec.off + rec.frame_len;
    // Segment heads: crc, metadata, then snapshot {0,0} (first segment) or
    // the last hard state saved, if any (later segments).
    const std::string where = " at record " + std::to_string(recs.size()) + " (" + DescribeRec(rec) +
                              ") of segment " + std::to_string(rec.seg) + " after " + w.log;
    bool is_head = true;
    if (head_pos == 0) {
      FUZZ_CHECK(rec.type == kCrcType, "a segment does not start with a crc record" + where);
    } else if (head_pos == 1) {
      FUZZ_CHECK(rec.type == kMetadataType && rec.has_data == w.metadata.has_value() &&
                     rec.meta == w.metadata.value_or(""),
                 "the second record of a segment is not the metadata" + where);
    } else if (head_pos == 2 && rec.seg == 0) {
      FUZZ_CHECK(rec.type == kSnapshotType && rec.snap == wal::Snapshot{},
                 "no snapshot {0,0} after Create" + where);
    } else if (head_pos == 2 && !hs_so_far.empty()) {
      FUZZ_CHECK(rec.type == kStateType && rec.state == hs_so_far,
                 "a cut did not repeat the hard state" + where);
    } else {
      is_head = false;
    }
    ++head_pos;
    if (!is_head) {
      FUZZ_CHECK(next_write < w.writes.size(), "more records than the workload wrote" + where);
      FUZZ_CHECK(SameRecord(rec, w.writes[next_write]),
                 "expected " + DescribeRec(w.writes[next_write]) + where);
      if (rec.type == kStateType) hs_so_far = rec.state;
      ++next_write;
    }
    recs.push_back(std::move(rec));
  }
  FUZZ_CHECK(next_write == w.writes.size(), "records missing from the log after " + w.log);
  return recs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  wal::MemFileSystem fs;
  wal::Options o;
  o.file_system = &fs;
  o.background_segment_preparation = false;
  o.segment_size_bytes = p.PickValueInArray<uint64_t>({512, 1024, 2048, 4096, 16384});
  o.write_buffer_bytes = p.PickValueInArray<uint32_t>({4096, 16384, 128 * 1024});
  o.torn_write_rule = p.ConsumeBool() ? wal::TornWriteRule::kEtcd : wal::TornWriteRule::kZeroTail;
  o.read_chunk_bytes = p.PickValueInArray<uint32_t>({4096, 1 << 20});
  // The damage is drawn first, so a long workload cannot starve it of bytes.
  DamagePlan plan;
  plan.kind = p.ConsumeIntegralInRange(0, 5);  // truncate, zero, flips, flips in data, overwrite, none
  plan.last_file = p.ConsumeBool();
  plan.file = p.ConsumeIntegral<uint16_t>();
  plan.flips = p.ConsumeIntegralInRange(1, 3);
  for (int i = 0; i < 3; ++i) {
    plan.pos[i] = p.ConsumeIntegral<uint32_t>();
    plan.bit[i] = p.ConsumeIntegralInRange(0, 7);
  }
  plan.patch = p.ConsumeBytesAsString(p.ConsumeIntegralInRange<size_t>(1, 16));

  const Workload w = RunWorkload(p, o);
  std::vector<Segment> segs;
  const std::vector<Rec> recs = DecodeAndCheck(fs, w, &segs);
  const size_t n = recs.size();
  const Applied full = Apply(recs, n);
  FUZZ_CHECK(full.snap_found, "no snapshot {0,0}");
  {
    const ReadOutcome r = ReadForRead(o);
    FUZZ_CHECK(r.status.ok() && walfuzz::SameResult(r.result, full.result),
               "the undamaged log read back as " + r.Describe() + ", expected " +
                   walfuzz::Describe(full.result) + " after " + w.log);
  }

  // One corruption, as planned before the workload.
  const size_t fi = plan.last_file ? segs.size() - 1 : plan.file % segs.size();
  Segment& seg = segs[fi];
  std::string bytes = seg.bytes;
  const uint64_t size0 = bytes.size();
  // Aim at the records (the last segment has a long zero tail), a little past them.
  const uint64_t span = std::max<uint64_t>(1, std::min<uint64_t>(size0, seg.used + 16));
  auto pick = [](uint64_t x, uint64_t lo, uint64_t hi) { return lo + x % (hi - lo + 1); };
  auto protected_byte = [&](uint64_t pos) {  // inside a record's data field or its padding
    for (const Rec& r : recs) {
      if (r.seg != fi) continue;
      if ((pos >= r.data_off && pos < r.data_off + r.data_len) ||
          (pos >= r.off + 8 + r.rec_len && pos < r.off + r.frame_len)) {
        return true;
      }
    }
    return false;
  };
  bool strict = true;
  std::string what;
  switch (plan.kind) {
    case 0: {
      bytes.resize(std::min<uint64_t>(pick(plan.pos[0], 0, span), size0));
      what = "truncate to " + std::to_string(bytes.size());
      break;
    }
    case 1: {
      const uint64_t sector = pick(plan.pos[0], 0, (span - 1) / 512);
      for (uint64_t i = sector * 512; i < std::min<uint64_t>(size0, sector * 512 + 512); ++i) bytes[i] = '\0';
      what = "zero sector " + std::to_string(sector);
      break;
    }
    case 2:    // 1-3 bits anywhere near the records
    case 3: {  // 1-3 bits inside the data fields of this segment's records
      std::vector<uint64_t> data_bytes;
      if (plan.kind == 3) {
        for (const Rec& r : recs) {
          for (uint64_t i = 0; r.seg == fi && i < r.data_len; ++i) data_bytes.push_back(r.data_off + i);
        }
      }
      what = "flip";
      for (int i = 0; i < plan.flips && size0 > 0; ++i) {
        const uint64_t pos = data_bytes.empty() ? pick(plan.pos[i], 0, std::min(span, size0) - 1)
                                                : data_bytes[plan.pos[i] % data_bytes.size()];
        bytes[pos] = static_cast<char>(bytes[pos] ^ (1 << plan.bit[i]));
        what += " " + std::to_string(pos) + "." + std::to_string(plan.bit[i]);
        if (!protected_byte(pos)) strict = false;
      }
      break;
    }
    case 4: {
      if (size0 == 0) break;
      const uint64_t pos = pick(plan.pos[0], 0, std::min(span, size0) - 1);
      for (size_t i = 0; i < plan.patch.size() && pos + i < size0; ++i) bytes[pos + i] = plan.patch[i];
      what = "overwrite " + std::to_string(plan.patch.size()) + " bytes at " + std::to_string(pos);
      strict = false;
      break;
    }
    default:
      what = "none";
      break;
  }
  what += " in segment " + std::to_string(fi) + " of " + std::to_string(segs.size());
  FUZZ_CHECK(fs.WriteFileFromString(seg.path, bytes).ok(), "write back the damaged segment");

  // r: the first record whose frame changed or no longer fits.
  size_t r = n;
  for (size_t i = 0; i < n && r == n; ++i) {
    const Rec& rec = recs[i];
    if (rec.seg != fi) continue;
    if (bytes.size() < rec.off + rec.frame_len) {
      r = i;
    } else if (bytes.compare(rec.off, 8 + rec.rec_len, seg.bytes, rec.off, 8 + rec.rec_len) != 0) {
      r = i;
    }
  }
  const bool in_last = r < n && recs[r].seg + 1 == segs.size();
  const ReadOutcome got = ReadForRead(o);
  const std::string ctx = " [damage: " + what + "; first changed record " + std::to_string(r) + " of " +
                          std::to_string(n) + (r < n ? " (" + DescribeRec(recs[r]) + ")" : std::string()) +
                          "; workload: " + w.log + "]";

  if (strict) {
    if (r == n) {
      FUZZ_CHECK(got.status.ok() && walfuzz::SameResult(got.result, full.result),
                 "undamaged records read as " + got.Describe() + ctx);
    } else if (in_last) {
      const Applied want = Apply(recs, r);
      if (got.status.ok()) {
        FUZZ_CHECK(
            want.snap_found && walfuzz::SameResult(got.result, want.result),
            "read " + got.Describe() + ", expected the prefix " + walfuzz::Describe(want.result) + ctx);
      } else if (plan.kind == 0 || plan.kind == 1) {
        FUZZ_CHECK(!want.snap_found && got.status.code() == StatusCode::kSnapshotNotFound,
                   "a cut-off tail must read as its prefix, got " + got.Describe() + ctx);
      }
    } else {
      FUZZ_CHECK(plan.kind != 2 && plan.kind != 3 ? true : !got.status.ok(),
                 "flipped bits in a complete segment went unnoticed" + ctx);
      FUZZ_CHECK(!got.status.ok() || walfuzz::SameResult(got.result, full.result),
                 "damage to an earlier segment read as " + got.Describe() + ctx);
    }
  } else if (got.status.ok()) {
    for (size_t i = 0; i < got.result.entries.size(); ++i) {
      FUZZ_CHECK(got.result.entries[i].index == i + 1, "entries not contiguous from 1" + ctx);
    }
  }

  // Repair must not change what read mode returns.
  auto repaired = wal::Repair(kDir, o);
  const ReadOutcome after = ReadForRead(o);
  if (got.status.ok()) {
    FUZZ_CHECK(repaired.has_value() && *repaired,
               "read mode succeeded but Repair answered " +
                   (repaired.has_value() ? std::string("false") : repaired.error().ToString()) + ctx);
  }
  if (repaired.has_value()) {
    FUZZ_CHECK(after.status.code() == got.status.code() &&
                   (!got.status.ok() || walfuzz::SameResult(after.result, got.result)),
               "Repair changed the read from " + got.Describe() + " to " + after.Describe() + ctx);
  }
  if (!after.status.ok()) return 0;

  // The recovered log opens for writing with the same content and takes an append.
  auto wl = wal::WAL::Open(kDir, wal::Snapshot{}, o);
  FUZZ_CHECK(wl.has_value(), "Open after Repair: " + wl.error().ToString() + ctx);
  auto all = (*wl)->ReadAll();
  FUZZ_CHECK(all.has_value(), "write-mode ReadAll after Repair: " + all.error().ToString() + ctx);
  FUZZ_CHECK(walfuzz::SameResult(*all, after.result),
             "write mode read " + walfuzz::Describe(*all) + ", read mode " + after.Describe() + ctx);
  // In the last entry's term (at least 1): raft terms never decrease along a
  // log, and ReadAll cuts the result before an entry that breaks that.
  const uint64_t term = all->entries.empty() ? 1 : std::max<uint64_t>(1, all->entries.back().term);
  wal::Entry e{term, (*wl)->last_index() + 1, wal::EntryType::kNormal, "after-recovery"};
  wal::Status s = (*wl)->Save(wal::HardState{}, std::span<const wal::Entry>(&e, 1));
  FUZZ_CHECK(s.ok(), "append after recovery: " + s.ToString() + ctx);
  s = (*wl)->Close();
  FUZZ_CHECK(s.ok(), "close after recovery: " + s.ToString() + ctx);
  wl->reset();
  wal::ReadAllResult want = after.result;
  FUZZ_CHECK(e.index == want.entries.size() + 1,
             "last_index " + std::to_string(e.index - 1) + " does not follow the " +
                 std::to_string(want.entries.size()) + " entries read" + ctx);
  want.entries.push_back(e);
  const ReadOutcome last = ReadForRead(o);
  FUZZ_CHECK(
      last.status.ok() && walfuzz::SameResult(last.result, want),
      "after recovery and an append read " + last.Describe() + ", expected " + walfuzz::Describe(want) + ctx);
  return 0;
}
