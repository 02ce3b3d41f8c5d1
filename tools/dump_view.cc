#include "tools/dump_view.h"

#include <memory>

namespace walctl {

namespace {

std::string Vote(uint64_t vote, const DumpView& v) {
  return v.decode ? etcd::IdHex(vote) : std::to_string(vote);
}

}  // namespace

wal::Result<std::vector<ShownEntry>> SelectEntries(const wal::ReadAllResult& r, const DumpView& v) {
  std::vector<ShownEntry> shown;
  const bool need_decode = v.decode || v.entry_type.has_value();
  for (const wal::Entry& e : r.entries) {
    if (v.from.has_value() && e.index < *v.from) continue;
    if (v.to.has_value() && e.index > *v.to) continue;
    ShownEntry s;
    s.entry = &e;
    if (need_decode) s.decoded = etcd::DecodeEntry(e);
    if (v.entry_type.has_value() && !v.entry_type->Matches(e, s.decoded)) continue;
    shown.push_back(std::move(s));
  }
  if (v.stream_decoder.empty()) return shown;
  WAL_ASSIGN_OR_RETURN(auto decoder, StreamDecoder::Start(v.stream_decoder, v.stream_decoder_timeout));
  for (ShownEntry& s : shown) {
    WAL_ASSIGN_OR_RETURN(std::string line, decoder->Decode(s.entry->data, s.entry->index));
    s.answer = ParseDecoderAnswer(line);
  }
  WAL_RETURN_IF_ERROR(decoder->Finish());
  return shown;
}

void WriteDumpText(const wal::ReadAllResult& r, const std::vector<ShownEntry>& shown, const DumpView& v,
                   DataFormat df, Output* out) {
  const std::optional<etcd::Metadata> md = v.decode ? etcd::DecodeMetadata(r.metadata) : std::nullopt;
  if (md.has_value())
    *out << "metadata: node_id=" << etcd::IdHex(md->node_id) << " cluster_id=" << etcd::IdHex(md->cluster_id)
         << "\n";
  else if (r.metadata.empty())
    *out << "metadata: none\n";
  else
    *out << "metadata: " << RenderData(r.metadata, df) << "\n";
  *out << "hard state: term=" << r.state.term << " vote=" << Vote(r.state.vote, v)
       << " commit=" << r.state.commit << "\n";
  *out << "entries: " << static_cast<uint64_t>(r.entries.size());
  if (!r.entries.empty())
    *out << " (index " << r.entries.front().index << ".." << r.entries.back().index << ")";
  *out << "\n";
  if (v.filtered()) *out << "shown: " << static_cast<uint64_t>(shown.size()) << "\n";
  for (const ShownEntry& s : shown) {
    const wal::Entry& e = *s.entry;
    *out << "index=" << e.index << " term=" << e.term << " type=" << EntryTypeName(e.type) << " ";
    const bool decoded =
        v.decode && s.decoded.payload != etcd::Payload::kNone && s.decoded.payload != etcd::Payload::kEmpty;
    if (decoded)
      *out << etcd::DecodedText(s.decoded);
    else
      *out << "data=" << RenderData(e.data, df);
    if (s.answer.has_value())
      *out << " decoder_status=" << JsonString(s.answer->status)
           << " decoded_data=" << JsonString(s.answer->data);
    *out << "\n";
  }
}

void WriteDumpJson(const wal::ReadAllResult& r, const std::vector<ShownEntry>& shown, const DumpView& v,
                   Output* out) {
  // Through the public ReadAllResult an empty metadata and a nil one look
  // the same; both are reported as null.
  *out << "{\"metadata\": " << (r.metadata.empty() ? std::string("null") : JsonString(Base64(r.metadata)));
  const auto u64 = [&](uint64_t x) { return v.decode ? etcd::JsonUint(x) : std::to_string(x); };
  if (v.decode) {
    if (auto md = etcd::DecodeMetadata(r.metadata); md.has_value()) {
      *out << ", \"etcd_metadata\": {\"node_id\": \"" << etcd::IdHex(md->node_id) << "\", \"cluster_id\": \""
           << etcd::IdHex(md->cluster_id) << "\"}";
    }
  }
  *out << ", \"hard_state\": {\"term\": " << u64(r.state.term) << ", \"vote\": "
       << (v.decode ? "\"" + etcd::IdHex(r.state.vote) + "\"" : std::to_string(r.state.vote))
       << ", \"commit\": " << u64(r.state.commit) << "}, \"entries\": [";
  bool first = true;
  for (const ShownEntry& s : shown) {
    const wal::Entry& e = *s.entry;
    *out << (first ? "\n" : ",\n") << "{\"index\": " << u64(e.index) << ", \"term\": " << u64(e.term)
         << ", \"type\": "
         << (v.decode ? "\"" + etcd::EntryTypeEnumName(e.type) + "\""
                      : std::to_string(static_cast<int32_t>(e.type)))
         << ", \"data\": " << JsonString(Base64(e.data));
    if (v.decode && s.decoded.payload != etcd::Payload::kNone && s.decoded.payload != etcd::Payload::kEmpty)
      *out << ", " << etcd::DecodedJson(s.decoded);
    if (s.answer.has_value()) {
      *out << ", \"decoder\": {\"status\": " << JsonString(s.answer->status)
           << ", \"data\": " << JsonString(s.answer->data) << "}";
    }
    *out << "}";
    first = false;
  }
  *out << (first ? "]}\n" : "\n]}\n");
}

}  // namespace walctl
