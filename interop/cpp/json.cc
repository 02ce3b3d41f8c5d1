#include "interop/cpp/json.h"

#include <cstdio>

namespace walinterop {

namespace {

class Parser {
 public:
  Parser(std::string_view in, std::string* error) : in_(in), error_(error) {}

  std::optional<JsonValue> ParseDocument() {
    SkipSpace();
    JsonValue v;
    if (!ParseValue(&v, 0)) return std::nullopt;
    SkipSpace();
    if (pos_ != in_.size()) return Fail("trailing data after the JSON value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  std::nullopt_t Fail(const std::string& what) {
    if (error_->empty()) *error_ = what + " at offset " + std::to_string(pos_);
    return std::nullopt;
  }
  bool FailB(const std::string& what) {
    Fail(what);
    return false;
  }

  void SkipSpace() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r'))
      ++pos_;
  }

  bool Literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return FailB("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool ParseValue(JsonValue* v, int depth) {
    if (depth > kMaxDepth) return FailB("nesting too deep");
    if (pos_ >= in_.size()) return FailB("unexpected end of input");
    char c = in_[pos_];
    switch (c) {
      case 'n':
        v->kind = JsonValue::Kind::kNull;
        return Literal("null");
      case 't':
        v->kind = JsonValue::Kind::kBool;
        v->boolean = true;
        return Literal("true");
      case 'f':
        v->kind = JsonValue::Kind::kBool;
        v->boolean = false;
        return Literal("false");
      case '"':
        v->kind = JsonValue::Kind::kString;
        return ParseString(&v->text);
      case '[':
        return ParseArray(v, depth);
      case '{':
        return ParseObject(v, depth);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          v->kind = JsonValue::Kind::kNumber;
          return ParseNumber(&v->text);
        }
        return FailB(std::string("unexpected character '") + c + "'");
    }
  }

  bool ParseNumber(std::string* out) {
    size_t start = pos_;
    auto digit = [&] { return pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9'; };
    if (in_[pos_] == '-') ++pos_;
    if (!digit()) return FailB("invalid number");
    if (in_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      if (!digit()) return FailB("invalid number");
      while (digit()) ++pos_;
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      if (!digit()) return FailB("invalid number");
      while (digit()) ++pos_;
    }
    *out = std::string(in_.substr(start, pos_ - start));
    return true;
  }

  static void AppendUtf8(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool Hex4(uint32_t* out) {
    if (in_.size() - pos_ < 4) return FailB("short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = in_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return FailB("bad \\u escape");
    }
    *out = v;
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // opening quote
    out->clear();
    while (true) {
      if (pos_ >= in_.size()) return FailB("unterminated string");
      char c = in_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return FailB("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) return FailB("unterminated escape");
      char e = in_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && in_.substr(pos_, 2) == "\\u") {
            size_t save = pos_;
            pos_ += 2;
            uint32_t lo;
            if (!Hex4(&lo)) return false;
            if (lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              pos_ = save;
              cp = 0xFFFD;
            }
          } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;  // lone surrogate, as Go
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return FailB("bad escape");
      }
    }
  }

  bool ParseArray(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kArray;
    ++pos_;
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      JsonValue item;
      if (!ParseValue(&item, depth + 1)) return false;
      v->items.push_back(std::move(item));
      SkipSpace();
      if (pos_ >= in_.size()) return FailB("unterminated array");
      char c = in_[pos_++];
      if (c == ']') return true;
      if (c != ',') return FailB("expected ',' or ']'");
    }
  }

  bool ParseObject(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kObject;
    ++pos_;
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (pos_ >= in_.size() || in_[pos_] != '"') return FailB("expected a member name");
      std::string key;
      if (!ParseString(&key)) return false;
      SkipSpace();
      if (pos_ >= in_.size() || in_[pos_] != ':') return FailB("expected ':'");
      ++pos_;
      SkipSpace();
      JsonValue item;
      if (!ParseValue(&item, depth + 1)) return false;
      v->members.emplace_back(std::move(key), std::move(item));
      SkipSpace();
      if (pos_ >= in_.size()) return FailB("unterminated object");
      char c = in_[pos_++];
      if (c == '}') return true;
      if (c != ',') return FailB("expected ',' or '}'");
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string* error_;
};

}  // namespace

std::optional<JsonValue> ParseJson(std::string_view in, std::string* error) {
  error->clear();
  Parser p(in, error);
  return p.ParseDocument();
}

std::optional<uint64_t> JsonToUint64(const std::string& literal) {
  if (literal.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : literal) {
    if (c < '0' || c > '9') return std::nullopt;  // '-', '.', 'e'
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<int64_t> JsonToInt64(const std::string& literal, int bits) {
  bool neg = !literal.empty() && literal[0] == '-';
  auto mag = JsonToUint64(neg ? literal.substr(1) : literal);
  if (!mag) return std::nullopt;
  const uint64_t limit = uint64_t{1} << (bits - 1);  // |min|
  if (neg) {
    if (*mag > limit) return std::nullopt;
    return *mag == limit ? static_cast<int64_t>(-static_cast<int64_t>(limit - 1) - 1)
                         : -static_cast<int64_t>(*mag);
  }
  if (*mag >= limit) return std::nullopt;
  return static_cast<int64_t>(*mag);
}

void AppendJsonString(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        *out += "\\\"";
        continue;
      case '\\':
        *out += "\\\\";
        continue;
      case '\n':
        *out += "\\n";
        continue;
      case '\r':
        *out += "\\r";
        continue;
      case '\t':
        *out += "\\t";
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      *out += "\\u00";
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
      continue;
    }
    // U+2028 and U+2029 are escaped by Go even without HTML escaping.
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      *out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    out->push_back(static_cast<char>(c));
  }
  out->push_back('"');
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{static_cast<unsigned char>(in[i])} << 16;
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(in[i + 1])} << 8);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  std::string s;
  s.reserve(in.size());
  for (char c : in)
    if (c != '\r' && c != '\n') s.push_back(c);
  if (s.size() % 4 != 0) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    const bool last = i + 4 == s.size();
    int a = val(s[i]), b = val(s[i + 1]);
    if (a < 0 || b < 0) return std::nullopt;
    if (last && s[i + 2] == '=' && s[i + 3] == '=') {
      out.push_back(static_cast<char>((a << 2) | (b >> 4)));
      break;
    }
    int c = val(s[i + 2]);
    if (c < 0) return std::nullopt;
    if (last && s[i + 3] == '=') {
      out.push_back(static_cast<char>((a << 2) | (b >> 4)));
      out.push_back(static_cast<char>(((b & 15) << 4) | (c >> 2)));
      break;
    }
    int d = val(s[i + 3]);
    if (d < 0) return std::nullopt;
    out.push_back(static_cast<char>((a << 2) | (b >> 4)));
    out.push_back(static_cast<char>(((b & 15) << 4) | (c >> 2)));
    out.push_back(static_cast<char>(((c & 3) << 6) | d));
  }
  return out;
}

}  // namespace walinterop
