// A minimal JSON reader/writer for the interop driver (wal_interop), just
// enough for the workload format and the output contract of
// interop/etcd/README.md. Not part of the library.
//
// Reading: RFC 8259 values; object members keep their order; numbers are kept
// as their literal text so that the caller can parse them exactly as Go's
// encoding/json does (uint64 over the full range, int32, int64).
// Writing: compact, Go's json.Encoder with SetEscapeHTML(false).
#ifndef WAL_INTEROP_JSON_H_
#define WAL_INTEROP_JSON_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace walinterop {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // number literal, or decoded string
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members;
};

// Parses exactly one JSON value (surrounded by optional white space) from
// `in`. Returns nullopt and sets *error on malformed input.
std::optional<JsonValue> ParseJson(std::string_view in, std::string* error);

// Go's strconv.ParseUint(s, 10, 64) / ParseInt(s, 10, bits) on a JSON number
// literal, as encoding/json does for integer fields: no fraction, no
// exponent, in range.
std::optional<uint64_t> JsonToUint64(const std::string& literal);
std::optional<int64_t> JsonToInt64(const std::string& literal, int bits);

// Appends `s` as a JSON string literal (quotes included).
void AppendJsonString(std::string* out, std::string_view s);

// Standard base64 with padding (RFC 4648 section 4), as Go's
// base64.StdEncoding. Decode ignores '\r' and '\n' as Go does.
std::string Base64Encode(std::string_view in);
std::optional<std::string> Base64Decode(std::string_view in);

}  // namespace walinterop

#endif  // WAL_INTEROP_JSON_H_
