// walctl records: the raw record stream, frame by frame, bad ones included.
#include <memory>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"
#include "tools/etcd_decode.h"
#include "tools/progress.h"
#include "tools/scanner.h"
#include "tools/text.h"
#include "wal/inspect.h"

namespace walctl {

namespace {

using wal::ScannedRecord;
using wal::SegmentEnd;
using SegmentEndKind = wal::SegmentEnd::Kind;

struct RecordsFlags {
  std::string dir;
  std::string format = "text";
};

constexpr size_t kPreviewBytes = 32;

std::string Preview(std::string_view data) {
  if (data.size() <= kPreviewBytes) return RenderData(data, DataFormat::kAuto);
  return RenderData(data.substr(0, kPreviewBytes), DataFormat::kAuto) + "...";
}

// What an entry holds when it is etcd's ("decoded=put"), else nothing.
std::string KindText(const wal::Entry& e) {
  const std::string kind = etcd::DecodedKind(etcd::DecodeEntry(e));
  return kind.empty() ? kind : " decoded=" + kind;
}
std::string KindJson(const wal::Entry& e) {
  const std::string kind = etcd::DecodedKind(etcd::DecodeEntry(e));
  return kind.empty() ? kind : ", \"decoded\": " + JsonString(kind);
}

std::string TypeLabel(int64_t type) {
  return std::string(wal::RecordTypeName(type)) + "(" + std::to_string(type) + ")";
}

// What a record holds, in text.
std::string FieldsText(const ScannedRecord& r) {
  if (r.entry) {
    const wal::Entry& e = *r.entry;
    return " entry: index=" + std::to_string(e.index) + " term=" + std::to_string(e.term) +
           " type=" + EntryTypeName(e.type) + " size=" + std::to_string(e.data.size()) +
           " data=" + Preview(e.data) + KindText(e);
  }
  if (r.state) return " state: " + HardStateText(*r.state);
  if (r.snapshot) {
    return " snapshot: index=" + std::to_string(r.snapshot->index) +
           " term=" + std::to_string(r.snapshot->term);
  }
  if (r.decoded && r.type == wal::kRecordMetadata) {
    return r.has_data ? " metadata: " + Preview(r.data) : std::string(" metadata: nil");
  }
  return "";
}

std::string RecordText(const ScannedRecord& r) {
  std::string s = "  offset=" + std::to_string(r.offset) + " len=" + std::to_string(r.length) +
                  " pad=" + std::to_string(r.padding);
  if (r.decoded) {
    s += " type=" + TypeLabel(r.type) + " stored_crc=" + CrcHex(r.stored_crc) +
         " computed_crc=" + (r.crc_checked ? CrcHex(r.computed_crc) : std::string("-"));
    s += FieldsText(r);
  }
  if (!r.problem.ok()) s += " BAD: " + BadText(r);
  return s + "\n";
}

std::string FieldsJson(const ScannedRecord& r) {
  if (r.entry) {
    const wal::Entry& e = *r.entry;
    return ", \"entry\": {\"index\": " + std::to_string(e.index) + ", \"term\": " + std::to_string(e.term) +
           ", \"type\": " + std::to_string(static_cast<int32_t>(e.type)) +
           ", \"data\": " + JsonString(Base64(e.data)) + KindJson(e) + "}";
  }
  if (r.state) {
    return ", \"state\": {\"term\": " + std::to_string(r.state->term) +
           ", \"vote\": " + std::to_string(r.state->vote) +
           ", \"commit\": " + std::to_string(r.state->commit) + "}";
  }
  if (r.snapshot) {
    return ", \"snapshot\": {\"index\": " + std::to_string(r.snapshot->index) +
           ", \"term\": " + std::to_string(r.snapshot->term) + "}";
  }
  if (r.decoded && r.type == wal::kRecordMetadata) {
    return ", \"metadata\": " + (r.has_data ? JsonString(Base64(r.data)) : std::string("null"));
  }
  return "";
}

std::string RecordJson(const ScannedRecord& r) {
  std::string s = "{\"offset\": " + std::to_string(r.offset) + ", \"length\": " + std::to_string(r.length) +
                  ", \"padding\": " + std::to_string(r.padding);
  if (r.decoded) {
    s += ", \"type\": " + std::to_string(r.type) +
         ", \"type_name\": " + JsonString(wal::RecordTypeName(r.type)) +
         ", \"stored_crc\": " + std::to_string(r.stored_crc) +
         ", \"computed_crc\": " + (r.crc_checked ? std::to_string(r.computed_crc) : std::string("null"));
    s += FieldsJson(r);
  } else {
    s += ", \"type\": null, \"type_name\": null, \"stored_crc\": null, \"computed_crc\": null";
  }
  s += ", \"bad\": " + (r.problem.ok() ? std::string("null") : JsonString(BadText(r))) + "}";
  return s;
}

std::string EndText(const SegmentEnd& e, uint64_t size) {
  switch (e.kind) {
    case SegmentEndKind::kEndOfFile:
      return "  end: end of file at offset " + std::to_string(e.offset) + "\n";
    case SegmentEndKind::kZeroWord: {
      std::string s = "  end: zero length word at offset " + std::to_string(e.offset) + "; ";
      if (e.nonzero_at)
        return s + "BAD: non-zero byte at offset " + std::to_string(*e.nonzero_at) + " after it\n";
      s += std::to_string(e.zeros_checked) + " zero bytes follow";
      if (!e.checked_to_end)
        s += " (checked; " + std::to_string(size - e.offset - 8 - e.zeros_checked) + " more not)";
      return s + "\n";
    }
    case SegmentEndKind::kStopped:
      return "  end: BAD: " + StopText(e) + " at offset " + std::to_string(e.offset) +
             "; the rest of the file is skipped\n";
  }
  return "\n";
}

std::string EndJson(const SegmentEnd& e) {
  const char* kind = e.kind == SegmentEndKind::kEndOfFile  ? "end_of_file"
                     : e.kind == SegmentEndKind::kZeroWord ? "zero_length_word"
                                                           : "stopped";
  std::string s = "{\"kind\": \"" + std::string(kind) + "\", \"offset\": " + std::to_string(e.offset);
  if (e.kind == SegmentEndKind::kZeroWord) {
    s += ", \"zeros_checked\": " + std::to_string(e.zeros_checked) +
         ", \"nonzero_at\": " + (e.nonzero_at ? std::to_string(*e.nonzero_at) : std::string("null"));
  }
  s += ", \"bad\": " + (e.kind == SegmentEndKind::kStopped ? JsonString(StopText(e)) : std::string("null")) +
       "}";
  return s;
}

struct Totals {
  uint64_t records = 0;
  uint64_t bad = 0;
  wal::Status io_error;
};

int RunRecords(const RecordsFlags& f) {
  const bool json = f.format == "json";
  auto d = InspectWalDir(f.dir);
  if (!d.has_value()) return ReportFailure(d.error(), json);
  Progress progress("records", d->total_bytes, /*streams_stdout=*/true);
  Output out;
  Totals t;
  if (json) out << "{\"segments\": [";
  bool first = true;        // no record printed yet in this segment
  bool in_segment = false;  // a segment was begun and not yet ended
  const SegmentFile* seg = nullptr;
  ScanCallbacks cb;
  cb.begin = [&](size_t i) {
    seg = &d->segments[i];
    first = true;
    in_segment = true;
    if (json) {
      out << (i == 0 ? "\n" : ",\n") << "{\"file\": " << JsonString(seg->name.name)
          << ", \"size\": " << seg->size << ", \"records\": [";
    } else {
      out << seg->name.name << " (size " << seg->size << ")\n";
    }
  };
  cb.record = [&](const ScannedRecord& r) {
    ++t.records;
    if (!r.problem.ok()) ++t.bad;
    if (json)
      out << (first ? "\n" : ",\n") << RecordJson(r);
    else
      out << RecordText(r);
    first = false;
  };
  cb.end = [&](const SegmentEnd& e) {
    in_segment = false;
    if (EndIsBad(e)) ++t.bad;
    if (json)
      out << (first ? "]" : "\n]") << ", \"end\": " << EndJson(e) << "}";
    else
      out << EndText(e, seg->size);
    if (e.records == 0) {  // every segment starts with a crc record
      ++t.bad;
      if (!json) out << "  BAD: the segment holds no records\n";
    }
  };
  t.io_error = ScanWalDir(*d, &progress, cb);
  progress.Finish();
  // A read error stops the scan inside a segment: close its JSON object (its
  // end is unknown) so the output stays valid JSON; the error goes to stderr.
  if (json && in_segment) out << (first ? "]" : "\n]") << ", \"end\": null}";
  if (json) {
    out << "\n], \"records\": " << t.records << ", \"bad\": " << t.bad << "}\n";
  } else {
    out << "summary: " << static_cast<uint64_t>(d->segments.size()) << " files, " << t.records << " records, "
        << t.bad << " bad\n";
  }
  wal::Status s = out.Finish();
  if (!s.ok()) return ReportError(s);
  if (!t.io_error.ok()) return ReportError(t.io_error);
  if (t.bad > 0) {
    return ReportError(wal::Status(wal::StatusCode::kCorruption,
                                   std::to_string(t.bad) + " bad record(s), marked BAD above: " + d->dir));
  }
  return kExitOk;
}

}  // namespace

Command AddRecordsCommand(CLI::App& parent) {
  auto f = std::make_shared<RecordsFlags>();
  CLI::App* app = parent.add_subcommand(
      "records",
      "Print the raw record stream of every segment in file order: offset, frame length,\n"
      "padding, record type, stored and computed (chained) CRC, and the fields of entries,\n"
      "states and snapshots. Bad records are marked BAD and the scan goes on where the\n"
      "frame boundaries can still be trusted. Exit 2 if any record is bad.");
  app->add_option("DIR", f->dir, "WAL directory")->required();
  app->add_option("--format", f->format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return {app, [f] { return RunRecords(*f); }};
}

}  // namespace walctl
