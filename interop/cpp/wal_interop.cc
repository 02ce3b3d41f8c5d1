// wal_interop: the C++ counterpart of interop/etcd's `etcdwal`. It accepts
// the same commands, workloads and options and prints the same JSON (see
// interop/etcd/README.md, which is the contract), but runs everything through
// this repository's `wal` library, so that the two can be compared
// byte-for-byte and answer-for-answer (interop/interop_test.py).
//
// Error classes: the `class` of an error object is wal::StatusCodeName(code).
// For every code that has an etcd counterpart the name is the etcd class
// string (MetadataConflict, FileNotFound, CrcMismatch, SnapshotMismatch,
// SnapshotNotFound, SliceOutOfRange, DecoderNotFound, UnexpectedEof, Locked,
// AlreadyExists). The library's general codes have no etcd sentinel and are
// printed under their own names (Corruption, IoError, NoSpace,
// InvalidArgument, FailedPrecondition, NotFound, PermissionDenied,
// IndexNotFound); etcd reports such failures as `Other`, `Panic`,
// `UnexpectedBlockType` or `MaxEntrySizeExceeded`, and the test driver maps
// them with an explicit equivalence table (doc/compatibility.md). An op on
// no WAL yet is class `Other`, as in etcdwal.
//
// Differences imposed by the library API (documented in doc/compatibility.md):
//   - `read`: WAL::ReadAll cannot return data together with an error, so on
//     SnapshotNotFound (read mode) the data fields are zero here, while
//     etcdwal prints the data etcd returned with the error.
//   - `repair`: an error from wal::Repair (FileNotFound, Locked, IoError) is
//     printed as {"repaired":false} (what etcd's bool says) and described on
//     stderr.
//   - `bench` is not implemented (bench/ has the library's own benchmarks).
//
// Environment: WAL_INTEROP_TORN_WRITE_RULE=etcd|zero-tail selects
// wal::Options::torn_write_rule for every WAL and call (unset: the library's
// default). `etcd` gives exactly etcd's torn-write classification.
// WAL_INTEROP_DIRECT_IO=1 sets wal::Options::direct_io (O_DIRECT tail
// writes), so the same checks show its files are etcd's.
#include <isa-l/crc.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "interop/cpp/json.h"
#include "wal/wal.h"

namespace {

using walinterop::AppendJsonString;
using walinterop::Base64Decode;
using walinterop::Base64Encode;
using walinterop::JsonValue;

constexpr uint64_t kDefaultSegmentSize = 64'000'000;  // etcd's wal.SegmentSizeBytes

constexpr char kUsage[] =
    "usage:\n"
    "  wal_interop run WORKLOAD.jsonl DIR\n"
    "  wal_interop read DIR [--mode write|read] [--snap-index I --snap-term T] [--data full|digest]\n"
    "  wal_interop verify DIR [--snap-index I --snap-term T]\n"
    "  wal_interop repair DIR\n"
    "  wal_interop valid-snapshots DIR\n"
    "  wal_interop serve   (one JSON array of arguments per stdin line; each answer ends with \"#rc N\")\n";

// wal::Options as etcdwal would have them: default segment size, background
// segment preparation (etcd's file pipeline), and the torn-write rule from
// the environment.
wal::Options BaseOptions() {
  wal::Options o;
  o.background_segment_preparation = true;
  if (const char* d = std::getenv("WAL_INTEROP_DIRECT_IO")) o.direct_io = std::string(d) == "1";
  if (const char* r = std::getenv("WAL_INTEROP_TORN_WRITE_RULE")) {
    std::string rule = r;
    if (rule == "etcd") {
      o.torn_write_rule = wal::TornWriteRule::kEtcd;
    } else if (rule == "zero-tail") {
      o.torn_write_rule = wal::TornWriteRule::kZeroTail;
    } else if (!rule.empty()) {
      std::fprintf(stderr, "wal_interop: bad WAL_INTEROP_TORN_WRITE_RULE=%s (etcd|zero-tail)\n", r);
      std::exit(2);
    }
  }
  return o;
}

int FailUsage(const std::string& msg) {
  std::fprintf(stderr, "wal_interop: %s\n%s", msg.c_str(), kUsage);
  return 2;
}

// Prints one compact JSON line on stdout.
void PrintLine(const std::string& json) {
  std::fwrite(json.data(), 1, json.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// {"class":C,"message":M}
std::string ErrorObject(const std::string& cls, const std::string& message) {
  std::string out = "{\"class\":";
  AppendJsonString(&out, cls);
  out += ",\"message\":";
  AppendJsonString(&out, message);
  out += "}";
  return out;
}

std::string ErrorObject(const wal::Status& s) {
  if (s.ok()) return "null";
  return ErrorObject(std::string(wal::StatusCodeName(s.code())), std::string(s.message()));
}

// ---------------------------------------------------------------------------
// Arguments: positional arguments and "--name value" / "--name=value" options
// in any order, as etcdwal's parseArgs.

struct Args {
  std::vector<std::string> pos;
  std::map<std::string, std::string> opts;
};

bool ParseArgs(const std::vector<std::string>& args, const std::vector<std::string>& allowed, Args* out,
               std::string* err) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      out->pos.push_back(a);
      continue;
    }
    std::string name = a.substr(2), val;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      val = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= args.size()) {
        *err = "option --" + name + " needs a value";
        return false;
      }
      val = args[++i];
    }
    bool ok = false;
    for (const auto& n : allowed) ok = ok || n == name;
    if (!ok) {
      *err = "unknown option --" + name;
      return false;
    }
    out->opts[name] = val;
  }
  return true;
}

// Go's strconv.ParseUint(s, 0, 64): 0b/0o/0x prefixes, a leading 0 means
// octal, '_' separators allowed after a prefix (not validated further).
std::optional<uint64_t> ParseUintBase0(std::string s) {
  if (s.empty()) return std::nullopt;
  unsigned base = 10;
  if (s[0] == '0') {
    char p = s.size() >= 3 ? static_cast<char>(s[1] | 0x20) : 0;
    if (p == 'b' || p == 'o' || p == 'x') {
      base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
      s = s.substr(2);
    } else {
      base = 8;
      s = s.substr(1);
    }
    std::string t;
    for (char c : s)
      if (c != '_') t.push_back(c);
    s = t;
  }
  uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      d = static_cast<unsigned>((c | 0x20) - 'a' + 10);
    else
      return std::nullopt;
    if (d >= base) return std::nullopt;
    if (v > (UINT64_MAX - d) / base) return std::nullopt;
    v = v * base + d;
  }
  return v;
}

bool UintOpt(const Args& a, const std::string& name, uint64_t def, uint64_t* out, std::string* err) {
  auto it = a.opts.find(name);
  if (it == a.opts.end()) {
    *out = def;
    return true;
  }
  auto v = ParseUintBase0(it->second);
  if (!v) {
    *err = "bad value for --" + name + ": \"" + it->second + "\"";
    return false;
  }
  *out = *v;
  return true;
}

bool SnapOpts(const Args& a, wal::Snapshot* snap, std::string* err) {
  return UintOpt(a, "snap-index", 0, &snap->index, err) && UintOpt(a, "snap-term", 0, &snap->term, err);
}

// ---------------------------------------------------------------------------
// Workload parsing (etcdwal's loadWorkload: Go encoding/json into a struct
// with DisallowUnknownFields; keys match case-insensitively, null leaves the
// zero value).

struct Op {
  std::string op;
  std::optional<std::string> metadata;  // nullopt = Go nil
  int64_t segment_size = 0;
  std::optional<wal::HardState> state;
  std::vector<wal::Entry> entries;
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t snap_index = 0;
  uint64_t snap_term = 0;
};

bool KeyIs(const std::string& key, const char* want) {
  size_t n = std::char_traits<char>::length(want);
  if (key.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    char a = key[i], b = want[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

bool GetUint(const JsonValue& v, const std::string& key, uint64_t* out, std::string* err) {
  if (v.kind == JsonValue::Kind::kNull) return true;
  if (v.kind == JsonValue::Kind::kNumber) {
    if (auto u = walinterop::JsonToUint64(v.text)) {
      *out = *u;
      return true;
    }
  }
  *err = "cannot decode field \"" + key + "\" as uint64";
  return false;
}

bool GetInt(const JsonValue& v, const std::string& key, int bits, int64_t* out, std::string* err) {
  if (v.kind == JsonValue::Kind::kNull) return true;
  if (v.kind == JsonValue::Kind::kNumber) {
    if (auto i = walinterop::JsonToInt64(v.text, bits)) {
      *out = *i;
      return true;
    }
  }
  *err = "cannot decode field \"" + key + "\" as int" + std::to_string(bits);
  return false;
}

// []byte: a base64 string, or null (nil).
bool GetBytes(const JsonValue& v, const std::string& key, std::optional<std::string>* out, std::string* err) {
  if (v.kind == JsonValue::Kind::kNull) {
    out->reset();
    return true;
  }
  if (v.kind == JsonValue::Kind::kString) {
    if (auto b = Base64Decode(v.text)) {
      *out = std::move(*b);
      return true;
    }
  }
  *err = "cannot decode field \"" + key + "\" as base64 bytes";
  return false;
}

bool ParseState(const JsonValue& v, std::optional<wal::HardState>* out, std::string* err) {
  if (v.kind == JsonValue::Kind::kNull) {
    out->reset();
    return true;
  }
  if (v.kind != JsonValue::Kind::kObject) {
    *err = "field \"state\" must be an object";
    return false;
  }
  wal::HardState st;
  for (const auto& [k, f] : v.members) {
    bool ok;
    if (KeyIs(k, "term"))
      ok = GetUint(f, k, &st.term, err);
    else if (KeyIs(k, "vote"))
      ok = GetUint(f, k, &st.vote, err);
    else if (KeyIs(k, "commit"))
      ok = GetUint(f, k, &st.commit, err);
    else {
      *err = "unknown field \"" + k + "\"";
      return false;
    }
    if (!ok) return false;
  }
  *out = st;
  return true;
}

bool ParseEntries(const JsonValue& v, std::vector<wal::Entry>* out, std::string* err) {
  out->clear();
  if (v.kind == JsonValue::Kind::kNull) return true;
  if (v.kind != JsonValue::Kind::kArray) {
    *err = "field \"entries\" must be an array";
    return false;
  }
  for (const JsonValue& item : v.items) {
    wal::Entry e;
    if (item.kind != JsonValue::Kind::kNull) {
      if (item.kind != JsonValue::Kind::kObject) {
        *err = "an entry must be an object";
        return false;
      }
      for (const auto& [k, f] : item.members) {
        bool ok;
        if (KeyIs(k, "index")) {
          ok = GetUint(f, k, &e.index, err);
        } else if (KeyIs(k, "term")) {
          ok = GetUint(f, k, &e.term, err);
        } else if (KeyIs(k, "type")) {
          int64_t t = static_cast<int64_t>(e.type);
          ok = GetInt(f, k, 32, &t, err);
          e.type = static_cast<wal::EntryType>(static_cast<int32_t>(t));
        } else if (KeyIs(k, "data")) {
          std::optional<std::string> d;
          ok = GetBytes(f, k, &d, err);
          // null, absent and "" are all stored without a Data field.
          e.data = d.value_or(std::string());
        } else {
          *err = "unknown field \"" + k + "\"";
          return false;
        }
        if (!ok) return false;
      }
    }
    out->push_back(std::move(e));
  }
  return true;
}

bool ParseOp(const JsonValue& v, Op* op, std::string* err) {
  if (v.kind == JsonValue::Kind::kNull) return true;  // Go: no-op; op "" is rejected later
  if (v.kind != JsonValue::Kind::kObject) {
    *err = "an op must be a JSON object";
    return false;
  }
  for (const auto& [k, f] : v.members) {
    bool ok = true;
    if (KeyIs(k, "op")) {
      if (f.kind == JsonValue::Kind::kString)
        op->op = f.text;
      else if (f.kind != JsonValue::Kind::kNull)
        ok = false, *err = "field \"op\" must be a string";
    } else if (KeyIs(k, "metadata")) {
      ok = GetBytes(f, k, &op->metadata, err);
    } else if (KeyIs(k, "segment_size")) {
      ok = GetInt(f, k, 64, &op->segment_size, err);
    } else if (KeyIs(k, "state")) {
      ok = ParseState(f, &op->state, err);
    } else if (KeyIs(k, "entries")) {
      ok = ParseEntries(f, &op->entries, err);
    } else if (KeyIs(k, "index")) {
      ok = GetUint(f, k, &op->index, err);
    } else if (KeyIs(k, "term")) {
      ok = GetUint(f, k, &op->term, err);
    } else if (KeyIs(k, "snap_index")) {
      ok = GetUint(f, k, &op->snap_index, err);
    } else if (KeyIs(k, "snap_term")) {
      ok = GetUint(f, k, &op->snap_term, err);
    } else {
      *err = "json: unknown field \"" + k + "\"";
      return false;
    }
    if (!ok) return false;
  }
  return true;
}

bool LoadWorkload(const std::string& path, std::vector<Op>* ops, std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = "open " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    // bufio.ScanLines drops a trailing '\r'; bytes.TrimSpace the rest.
    size_t b = 0, e = line.size();
    while (b < e && std::isspace(static_cast<unsigned char>(line[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(line[e - 1]))) --e;
    if (b == e) continue;
    std::string perr;
    auto v = walinterop::ParseJson(std::string_view(line).substr(b, e - b), &perr);
    Op op;
    if (!v || !ParseOp(*v, &op, &perr)) {
      *err = path + ":" + std::to_string(lineno) + ": " + perr;
      return false;
    }
    static const char* kOps[] = {"create", "save", "snapshot", "sync", "release_lock_to", "close", "open"};
    bool known = false;
    for (const char* k : kOps) known = known || op.op == k;
    if (!known) {
      *err = path + ":" + std::to_string(lineno) + ": unknown op \"" + op.op + "\"";
      return false;
    }
    ops->push_back(std::move(op));
  }
  if (in.bad()) {
    *err = path + ": read error";
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Commands.

struct OpError {
  std::string cls;
  std::string message;
};

int CmdRun(const std::vector<std::string>& argv) {
  Args a;
  std::string err;
  if (!ParseArgs(argv, {}, &a, &err)) return FailUsage(err);
  if (a.pos.size() != 2)
    return FailUsage("expected 2 positional argument(s), got " + std::to_string(a.pos.size()));
  std::vector<Op> ops;
  if (!LoadWorkload(a.pos[0], &ops, &err)) return FailUsage(err);
  const std::string dir = a.pos[1];

  // Like etcdwal: the WAL most recently returned by create/open gets the
  // ops; no WAL is ever closed implicitly. Every WAL object is kept alive
  // and the process ends with _exit, so that records still buffered at the
  // end are lost and locks are simply dropped, as when etcdwal exits.
  std::vector<std::unique_ptr<wal::WAL>> wals;
  wal::WAL* w = nullptr;
  uint64_t segment_size = kDefaultSegmentSize;  // etcd's process-global SegmentSizeBytes

  auto options = [&] {
    wal::Options o = BaseOptions();
    o.segment_size_bytes = segment_size;
    return o;
  };

  auto apply = [&](const Op& op) -> std::optional<OpError> {
    auto fail = [](const wal::Status& s) -> std::optional<OpError> {
      if (s.ok()) return std::nullopt;
      return OpError{std::string(wal::StatusCodeName(s.code())), std::string(s.message())};
    };
    if (op.op == "create") {
      segment_size = op.segment_size > 0 ? static_cast<uint64_t>(op.segment_size) : kDefaultSegmentSize;
      std::string_view md;  // nil
      if (op.metadata)
        md = std::string_view(op.metadata->data(), op.metadata->size());  // non-null, maybe empty
      auto r = wal::WAL::Create(dir, md, options());
      if (!r.has_value()) return fail(r.error());
      wals.push_back(std::move(r).value());
      w = wals.back().get();
      return std::nullopt;
    }
    if (op.op == "open") {
      if (op.segment_size > 0) segment_size = static_cast<uint64_t>(op.segment_size);
      auto r = wal::WAL::Open(dir, wal::Snapshot{op.snap_index, op.snap_term}, options());
      if (!r.has_value()) return fail(r.error());
      wals.push_back(std::move(r).value());
      w = wals.back().get();
      auto rr = w->ReadAll();
      if (!rr.has_value()) return fail(rr.error());
      return std::nullopt;
    }
    if (w == nullptr) return OpError{"Other", "wal_interop: no WAL (" + op.op + " before create/open)"};
    if (op.op == "save") return fail(w->Save(op.state.value_or(wal::HardState{}), op.entries));
    if (op.op == "snapshot") return fail(w->SaveSnapshot(wal::Snapshot{op.index, op.term}));
    if (op.op == "sync") return fail(w->Sync());
    if (op.op == "release_lock_to") return fail(w->ReleaseLockTo(op.index));
    if (op.op == "close") return fail(w->Close());
    return OpError{"Other", "wal_interop: unknown op \"" + op.op + "\""};
  };

  for (size_t k = 0; k < ops.size(); ++k) {
    if (auto e = apply(ops[k])) {
      PrintLine("{\"ok\":false,\"op_index\":" + std::to_string(k) +
                ",\"error\":" + ErrorObject(e->cls, e->message) + "}");
      std::fflush(stderr);
      _exit(1);
    }
  }
  PrintLine("{\"ok\":true}");
  std::fflush(stderr);
  _exit(0);
}

// --data digest: an entry's data longer than this prints as
// "crc32:XXXXXXXX:len:N" (IEEE CRC-32, as zlib's and Go's hash/crc32)
// instead of base64, as etcdwal does (interop/etcd/read.go).
constexpr size_t kDigestOver = 256;

std::string EntryData(std::string_view d, bool digest) {
  if (!digest || d.size() <= kDigestOver) return Base64Encode(d);
  char buf[64];
  const uint32_t crc = crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(d.data()), d.size());
  std::snprintf(buf, sizeof buf, "crc32:%08x:len:%zu", crc, d.size());
  return buf;
}

std::string ReadOutput(const wal::ReadAllResult* r, const wal::Status& err, bool digest) {
  std::string out = "{\"metadata\":";
  if (r != nullptr && !r->metadata.empty()) {
    out += '"' + Base64Encode(r->metadata) + '"';
  } else {
    out += "null";
  }
  wal::HardState st = r ? r->state : wal::HardState{};
  out += ",\"hard_state\":{\"term\":" + std::to_string(st.term) + ",\"vote\":" + std::to_string(st.vote) +
         ",\"commit\":" + std::to_string(st.commit) + "},\"entries\":[";
  if (r != nullptr) {
    bool first = true;
    for (const wal::Entry& e : r->entries) {
      if (!first) out += ',';
      first = false;
      out += "{\"index\":" + std::to_string(e.index) + ",\"term\":" + std::to_string(e.term) +
             ",\"type\":" + std::to_string(static_cast<int32_t>(e.type)) + ",\"data\":\"" +
             EntryData(e.data, digest) + "\"}";
    }
  }
  out += "],\"error\":" + ErrorObject(err) + "}";
  return out;
}

int CmdRead(const std::vector<std::string>& argv) {
  Args a;
  std::string err;
  if (!ParseArgs(argv, {"mode", "snap-index", "snap-term", "data"}, &a, &err)) return FailUsage(err);
  if (a.pos.size() != 1)
    return FailUsage("expected 1 positional argument(s), got " + std::to_string(a.pos.size()));
  wal::Snapshot snap;
  if (!SnapOpts(a, &snap, &err)) return FailUsage(err);
  std::string mode = a.opts.count("mode") ? a.opts["mode"] : "write";
  if (mode != "write" && mode != "read") return FailUsage("--mode must be write or read");
  const std::string data = a.opts.count("data") ? a.opts["data"] : "full";
  if (data != "full" && data != "digest") return FailUsage("--data must be full or digest");
  const bool digest = data == "digest";

  wal::Options o = BaseOptions();  // default segment size, as etcdwal
  // Every read also fills the offset index; reading the entries back
  // through it (Entries) must give what ReadAll returned, or the output
  // carries an error that etcd's side does not.
  o.index_entries = true;
  auto w = mode == "write" ? wal::WAL::Open(a.pos[0], snap, o) : wal::WAL::OpenForRead(a.pos[0], snap, o);
  if (!w.has_value()) {
    PrintLine(ReadOutput(nullptr, w.error(), digest));
    return 0;
  }
  auto r = (*w)->ReadAll();
  if (r.has_value()) {
    auto first = (*w)->FirstIndex();
    auto back = first.has_value() ? (*w)->Entries(*first, *first + r->entries.size())
                                  : wal::Result<std::vector<wal::Entry>>(first.error());
    if (!back.has_value() || *back != r->entries) {
      r = wal::Status(wal::StatusCode::kCorruption,
                      "interop: the offset index does not read back ReadAll's entries" +
                          (back.has_value() ? std::string() : ": " + back.error().ToString()));
    }
  }
  (*w)->Close().IgnoreError();
  // Read mode changes nothing on disk, so a second reader can check that
  // ReadAllMapped (views into the mapped segments) gives ReadAll's answer:
  // the same entries, state and metadata, or an error of the same class.
  if (mode == "read") {
    auto m = wal::WAL::OpenForRead(a.pos[0], snap, BaseOptions());
    auto mr = m.has_value() ? (*m)->ReadAllMapped() : wal::Result<wal::ReadAllArenaResult>(m.error());
    std::string why;
    if (mr.has_value() != r.has_value()) {
      why = mr.has_value() ? "succeeds where ReadAll fails" : "fails: " + mr.error().ToString();
    } else if (!r.has_value() && mr.error().code() != r.error().code()) {
      why = "fails with " + mr.error().ToString() + " where ReadAll fails with " + r.error().ToString();
    } else if (r.has_value() &&
               (mr->ToEntries() != r->entries || mr->state != r->state || mr->metadata != r->metadata)) {
      why = "returns other entries, state or metadata";
    }
    if (!why.empty()) r = wal::Status(wal::StatusCode::kCorruption, "interop: ReadAllMapped " + why);
  }
  if (r.has_value()) {
    PrintLine(ReadOutput(&r.value(), wal::Status::Ok(), digest));
  } else {
    PrintLine(ReadOutput(nullptr, r.error(), digest));
  }
  return 0;
}

int CmdVerify(const std::vector<std::string>& argv) {
  Args a;
  std::string err;
  if (!ParseArgs(argv, {"snap-index", "snap-term"}, &a, &err)) return FailUsage(err);
  if (a.pos.size() != 1)
    return FailUsage("expected 1 positional argument(s), got " + std::to_string(a.pos.size()));
  wal::Snapshot snap;
  if (!SnapOpts(a, &snap, &err)) return FailUsage(err);
  wal::Status s = wal::Verify(a.pos[0], snap, BaseOptions());
  PrintLine("{\"error\":" + ErrorObject(s) + "}");
  return 0;
}

int CmdRepair(const std::vector<std::string>& argv) {
  Args a;
  std::string err;
  if (!ParseArgs(argv, {}, &a, &err)) return FailUsage(err);
  if (a.pos.size() != 1)
    return FailUsage("expected 1 positional argument(s), got " + std::to_string(a.pos.size()));
  auto r = wal::Repair(a.pos[0], BaseOptions());
  bool ok = r.has_value() && r.value();
  if (!r.has_value()) std::fprintf(stderr, "wal_interop: repair: %s\n", r.error().ToString().c_str());
  PrintLine(ok ? "{\"repaired\":true}" : "{\"repaired\":false}");
  return 0;
}

int CmdValidSnapshots(const std::vector<std::string>& argv) {
  Args a;
  std::string err;
  if (!ParseArgs(argv, {}, &a, &err)) return FailUsage(err);
  if (a.pos.size() != 1)
    return FailUsage("expected 1 positional argument(s), got " + std::to_string(a.pos.size()));
  auto r = wal::ValidSnapshotEntries(a.pos[0], BaseOptions());
  std::string out = "{\"snapshots\":[";
  if (r.has_value()) {
    bool first = true;
    for (const wal::Snapshot& s : r.value()) {
      if (!first) out += ',';
      first = false;
      out += "{\"index\":" + std::to_string(s.index) + ",\"term\":" + std::to_string(s.term) + "}";
    }
  }
  out += "],\"error\":" + (r.has_value() ? std::string("null") : ErrorObject(r.error())) + "}";
  PrintLine(out);
  return 0;
}

int Dispatch(const std::string& cmd, const std::vector<std::string>& rest);

// serve: one command per stdin line, a JSON array of its arguments (e.g.
// ["read","DIR","--mode","read"]); prints the command's output, then
// "#rc N" with its exit status. `run` is not served (it ends the process).
// The test harness uses it to spare a process start per check.
int CmdServe() {
  std::string line, err;
  while (std::getline(std::cin, line)) {
    auto v = walinterop::ParseJson(line, &err);
    std::vector<std::string> args;
    if (v && v->kind == walinterop::JsonValue::Kind::kArray) {
      for (const auto& item : v->items) args.push_back(item.text);
    }
    int rc = 2;
    if (args.empty() || args[0] == "run" || args[0] == "serve") {
      FailUsage("serve: a request is a JSON array of a subcommand (not run or serve) and its arguments");
    } else {
      rc = Dispatch(args[0], std::vector<std::string>(args.begin() + 1, args.end()));
    }
    std::fflush(stderr);
    std::printf("#rc %d\n", rc);
    std::fflush(stdout);
  }
  return 0;
}

int Dispatch(const std::string& cmd, const std::vector<std::string>& rest) {
  if (cmd == "run") return CmdRun(rest);
  if (cmd == "serve") return CmdServe();
  if (cmd == "read") return CmdRead(rest);
  if (cmd == "verify") return CmdVerify(rest);
  if (cmd == "repair") return CmdRepair(rest);
  if (cmd == "valid-snapshots") return CmdValidSnapshots(rest);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return FailUsage("unknown subcommand \"" + cmd + "\"");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return FailUsage("missing subcommand");
  return Dispatch(argv[1], std::vector<std::string>(argv + 2, argv + argc));
}
