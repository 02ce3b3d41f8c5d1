#include "tools/etcd_decode.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <limits>

#include "etcdserver.pb.h"
#include "raft.pb.h"
#include "raft_internal.pb.h"
#include "tools/text.h"
#include "walctl_options.pb.h"

namespace walctl::etcd {

namespace {

namespace pb = google::protobuf;

constexpr uint64_t kMaxExactJsonInt = uint64_t{1} << 53;

// No unknown fields in `m` or any message inside it: libprotobuf keeps
// fields it does not know (and fields of a known number with the wrong wire
// type) as unknown where etcd's decoder would fail, and they are what
// another application's bytes look like.
bool Exact(const pb::Message& m) {
  const pb::Reflection* r = m.GetReflection();
  if (!r->GetUnknownFields(m).empty()) return false;
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (!Exact(r->GetRepeatedMessage(m, f, i))) return false;
      }
    } else if (!Exact(r->GetMessage(m, f))) {
      return false;
    }
  }
  return true;
}

bool ParseExact(std::string_view data, pb::Message* m) {
  if (data.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return false;
  return m->ParseFromArray(data.data(), static_cast<int>(data.size())) && Exact(*m);
}

// The InternalRaftRequest field that holds the request (the first set one
// in field-number order), or null when there is none.
const pb::FieldDescriptor* RequestField(const pb::Message& irr) {
  std::vector<const pb::FieldDescriptor*> fields;
  irr.GetReflection()->ListFields(irr, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && f->name() != "header") return f;
  }
  return nullptr;
}

bool IsId(const pb::FieldDescriptor* f) { return f->options().GetExtension(walctl::id); }
bool IsSecret(const pb::FieldDescriptor* f) { return f->options().GetExtension(walctl::secret); }

// A proto2 scalar that gogo-protobuf wrote only because it writes every
// non-nullable field: zero, false or empty. Not shown. (proto3 scalars at
// their default are not set at all; enums and oneof members always show.)
bool IsUnsetScalar(const pb::Message& m, const pb::FieldDescriptor* f) {
  if (f->is_repeated() || f->containing_oneof() != nullptr) return false;
  const pb::Reflection* r = m.GetReflection();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return r->GetInt32(m, f) == 0;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return r->GetInt64(m, f) == 0;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      return r->GetUInt32(m, f) == 0;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      return r->GetUInt64(m, f) == 0;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return !r->GetBool(m, f);
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return r->GetString(m, f).empty();
    default:
      return false;
  }
}

// The fields to show, in field-number order but a request's header first,
// with the (walctl.always) ones even when unset; `skip` (may be null) is
// left out.
std::vector<const pb::FieldDescriptor*> Shown(const pb::Message& m, const pb::FieldDescriptor* skip) {
  std::vector<const pb::FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);
  std::erase_if(fields, [&](const pb::FieldDescriptor* f) { return f == skip || IsUnsetScalar(m, f); });
  const pb::Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->options().GetExtension(walctl::always) &&
        std::find(fields.begin(), fields.end(), f) == fields.end())
      fields.push_back(f);
  }
  std::sort(fields.begin(), fields.end(), [](const pb::FieldDescriptor* a, const pb::FieldDescriptor* b) {
    const bool ha = a->name() == "header";
    const bool hb = b->name() == "header";
    return ha != hb ? ha : a->number() < b->number();
  });
  return fields;
}

enum class Style { kText, kJson };

std::string BytesValue(std::string_view b, Style style) {
  if (IsText(b)) return JsonString(b);
  return style == Style::kText ? "hex:" + Hex(b) : "{\"hex\": \"" + Hex(b) + "\"}";
}

void AppendMessage(std::string* out, const pb::Message& m, Style style,
                   const pb::FieldDescriptor* skip = nullptr, bool braces = true);

// Element `index` of repeated field `f`, or the singular value (index < 0).
void AppendValue(std::string* out, const pb::Message& m, const pb::FieldDescriptor* f, int index,
                 Style style) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  const bool json = style == Style::kJson;
  auto number = [&](uint64_t as_unsigned, bool is_signed) {
    if (IsId(f)) {
      *out += json ? "\"" + IdHex(as_unsigned) + "\"" : IdHex(as_unsigned);
    } else if (is_signed) {
      const auto v = static_cast<int64_t>(as_unsigned);
      *out += json ? JsonInt(v) : std::to_string(v);
    } else {
      *out += json ? JsonUint(as_unsigned) : std::to_string(as_unsigned);
    }
  };
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      number(static_cast<uint64_t>(
                 static_cast<int64_t>(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f))),
             true);
      break;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      number(static_cast<uint64_t>(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f)), true);
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      number(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f), false);
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      number(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f), false);
      break;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      *out += (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false";
      break;
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      const int v = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      const pb::EnumValueDescriptor* ev = f->enum_type()->FindValueByNumber(v);
      if (ev != nullptr)
        *out += json ? "\"" + ev->name() + "\"" : ev->name();
      else
        *out += std::to_string(v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_STRING:
      if (IsSecret(f)) {
        *out += json ? "\"<redacted>\"" : "<redacted>";
      } else {
        std::string scratch;
        const std::string& s = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                   : r->GetStringReference(m, f, &scratch);
        *out += BytesValue(s, style);
      }
      break;
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessage(out, rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), style);
      break;
    default:  // float and double: etcd's requests have none
      *out += json ? "null" : "?";
      break;
  }
}

// Text: {name=value name=[v, v] ...}; JSON: {"name": value, ...}. Without
// the braces for a top-level list of fields.
void AppendMessage(std::string* out, const pb::Message& m, Style style, const pb::FieldDescriptor* skip,
                   bool braces) {
  const bool json = style == Style::kJson;
  if (braces) *out += '{';
  bool first = true;
  for (const pb::FieldDescriptor* f : Shown(m, skip)) {
    if (!first) *out += json ? ", " : " ";
    first = false;
    *out += json ? "\"" + f->name() + "\": " : f->name() + "=";
    if (f->is_repeated()) {
      *out += '[';
      const int n = m.GetReflection()->FieldSize(m, f);
      for (int i = 0; i < n; ++i) {
        if (i > 0) *out += ", ";
        AppendValue(out, m, f, i, style);
      }
      *out += ']';
    } else {
      AppendValue(out, m, f, -1, style);
    }
  }
  if (braces) *out += '}';
}

// The context field of a conf change (left out when it is shown as `member`).
const pb::FieldDescriptor* ContextField(const Decoded& d) {
  return d.member ? d.message->GetDescriptor()->FindFieldByName("context") : nullptr;
}

std::shared_ptr<const pb::Message> ParseMember(const std::string& context) {
  if (context.empty() || context.front() != '{') return nullptr;
  auto member = std::make_shared<walctl::MemberContext>();
  pb::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  if (!pb::util::JsonStringToMessage(context, member.get(), opts).ok()) return nullptr;
  return member;
}

std::string CamelCase(const std::string& snake) {
  std::string out;
  bool up = true;
  for (char c : snake) {
    if (c == '_') {
      up = true;
    } else {
      out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      up = false;
    }
  }
  return out;
}

// "IRR<Kind>" -> InternalRaftRequest field name, for every request field.
std::vector<std::pair<std::string, std::string>> IrrNames() {
  std::vector<std::pair<std::string, std::string>> names;
  const pb::Descriptor* d = etcdserverpb::InternalRaftRequest::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && f->name() != "header")
      names.emplace_back("IRR" + CamelCase(f->name()), f->name());
  }
  return names;
}

}  // namespace

std::optional<Metadata> DecodeMetadata(std::string_view data) {
  etcdserverpb::Metadata m;
  if (!ParseExact(data, &m) || !m.has_nodeid() || !m.has_clusterid()) return std::nullopt;
  return Metadata{m.nodeid(), m.clusterid()};
}

Decoded DecodeEntry(const wal::Entry& e) {
  Decoded d;
  switch (e.type) {
    case wal::EntryType::kNormal: {
      if (e.data.empty()) {
        d.payload = Payload::kEmpty;
        return d;
      }
      auto irr = std::make_shared<etcdserverpb::InternalRaftRequest>();
      if (ParseExact(e.data, irr.get())) {
        if (const pb::FieldDescriptor* f = RequestField(*irr); f != nullptr) {
          d.payload = Payload::kInternalRaftRequest;
          d.kind = f->name();
          d.message = std::move(irr);
          return d;
        }
      }
      auto req = std::make_shared<etcdserverpb::Request>();
      if (ParseExact(e.data, req.get()) && req->has_id() && req->has_method() && req->has_path()) {
        d.payload = Payload::kRequest;
        d.kind = "v2";
        d.message = std::move(req);
      }
      return d;
    }
    case wal::EntryType::kConfChange: {
      auto cc = std::make_shared<raftpb::ConfChange>();
      if (ParseExact(e.data, cc.get()) && cc->has_type() && cc->has_node_id() && cc->has_id()) {
        d.payload = Payload::kConfChange;
        d.member = ParseMember(cc->context());
        d.message = std::move(cc);
      }
      return d;
    }
    case wal::EntryType::kConfChangeV2: {
      auto cc = std::make_shared<raftpb::ConfChangeV2>();
      if (ParseExact(e.data, cc.get()) && cc->has_transition()) {
        d.payload = Payload::kConfChangeV2;
        d.member = ParseMember(cc->context());
        d.message = std::move(cc);
      }
      return d;
    }
  }
  return d;
}

namespace {

// "name=" in text, "\"name\": " in JSON.
std::string Key(std::string_view name, Style style) {
  return style == Style::kText ? std::string(name) + "=" : "\"" + std::string(name) + "\": ";
}

std::string DecodedIn(const Decoded& d, Style style) {
  const bool json = style == Style::kJson;
  std::string out;
  switch (d.payload) {
    case Payload::kInternalRaftRequest:
    case Payload::kRequest: {
      const bool irr = d.payload == Payload::kInternalRaftRequest;
      if (json) {
        out = "\"request\": {\"kind\": " + JsonString(d.kind) + ", \"message\": \"" +
              (irr ? "InternalRaftRequest" : "Request") + "\", ";
      } else {
        out = "request=" + d.kind + " ";
      }
      // An InternalRaftRequest's fields are the request's; a bare Request
      // is shown as the v2 field it would be in one.
      if (!irr) out += Key("v2", style);
      AppendMessage(&out, *d.message, style, nullptr, /*braces=*/!irr);
      if (json) out += "}";
      break;
    }
    case Payload::kConfChange:
    case Payload::kConfChangeV2:
      out = Key("conf_change", style);
      AppendMessage(&out, *d.message, style, ContextField(d));
      if (d.member) {
        out += (json ? ", " : " ") + Key("member", style);
        AppendMessage(&out, *d.member, style);
      }
      break;
    case Payload::kNone:
    case Payload::kEmpty:
      break;
  }
  return out;
}

}  // namespace

std::string DecodedText(const Decoded& d) { return DecodedIn(d, Style::kText); }

std::string DecodedJson(const Decoded& d) { return DecodedIn(d, Style::kJson); }

std::string DecodedKind(const Decoded& d) {
  switch (d.payload) {
    case Payload::kInternalRaftRequest:
    case Payload::kRequest:
      return d.kind;
    case Payload::kConfChange:
      return raftpb::ConfChangeType_Name(static_cast<const raftpb::ConfChange&>(*d.message).type());
    case Payload::kConfChangeV2:
      return "ConfChangeV2";
    case Payload::kNone:
    case Payload::kEmpty:
      break;
  }
  return "";
}

std::string JsonUint(uint64_t v) {
  return v <= kMaxExactJsonInt ? std::to_string(v) : "\"" + std::to_string(v) + "\"";
}

std::string JsonInt(int64_t v) {
  const bool exact =
      v >= -static_cast<int64_t>(kMaxExactJsonInt) && v <= static_cast<int64_t>(kMaxExactJsonInt);
  return exact ? std::to_string(v) : "\"" + std::to_string(v) + "\"";
}

std::string IdHex(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string EntryTypeEnumName(wal::EntryType type) {
  const int v = static_cast<int>(type);
  if (raftpb::EntryType_IsValid(v)) return raftpb::EntryType_Name(static_cast<raftpb::EntryType>(v));
  return "EntryType(" + std::to_string(v) + ")";
}

wal::Result<EntryTypeFilter> EntryTypeFilter::Parse(std::string_view list) {
  EntryTypeFilter filter;
  const auto irr = IrrNames();
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    const std::string name(list.substr(start, end - start));
    start = end + 1;
    if (name == "Normal") {
      filter.normal_ = true;
    } else if (name == "ConfigChange") {
      filter.conf_change_ = true;
    } else if (name == "Request") {
      filter.request_ = true;
    } else if (name == "InternalRaftRequest") {
      filter.internal_raft_request_ = true;
    } else if (auto it = std::find_if(irr.begin(), irr.end(), [&](const auto& p) { return p.first == name; });
               it != irr.end()) {
      filter.kinds_.push_back(it->second);
    } else {
      return wal::Status(wal::StatusCode::kInvalidArgument, "--entry-type: unknown entry type \"" + name +
                                                                "\" (valid: " + ValidNames() + "): dump");
    }
  }
  return filter;
}

bool EntryTypeFilter::Matches(const wal::Entry& e, const Decoded& d) const {
  if (normal_ && e.type == wal::EntryType::kNormal) return true;
  if (conf_change_ && (e.type == wal::EntryType::kConfChange || e.type == wal::EntryType::kConfChangeV2))
    return true;
  if (request_ && d.payload == Payload::kRequest) return true;
  // etcd-dump-logs counts an empty entry as an InternalRaftRequest (it
  // decodes as one, with nothing set).
  if (internal_raft_request_ && (d.payload == Payload::kInternalRaftRequest || d.payload == Payload::kEmpty))
    return true;
  return d.payload == Payload::kInternalRaftRequest &&
         std::find(kinds_.begin(), kinds_.end(), d.kind) != kinds_.end();
}

std::string EntryTypeFilter::ValidNames() {
  std::string out = "Normal, ConfigChange, Request, InternalRaftRequest";
  for (const auto& [name, field] : IrrNames()) out += ", " + name;
  return out;
}

}  // namespace walctl::etcd
