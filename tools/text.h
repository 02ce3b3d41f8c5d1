// Small text helpers for walctl's output: JSON strings, base64, hex, and the
// rendering of opaque entry data. No dependency beyond the standard library.
#ifndef WAL_TOOLS_TEXT_H_
#define WAL_TOOLS_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "wal/types.h"

namespace walctl {

// `s` as a quoted JSON string. Valid UTF-8 passes through; control
// characters and bytes that are not valid UTF-8 become \u00XX escapes (so the
// output is always valid JSON, at the price of mapping stray bytes to
// U+0080..U+00FF).
std::string JsonString(std::string_view s);

// RFC 4648 base64 with padding.
std::string Base64(std::string_view bytes);

// Lower-case hex, two digits per byte.
std::string Hex(std::string_view bytes);

// true when every byte is printable ASCII (0x20..0x7e). An empty string is.
bool IsPrintableAscii(std::string_view bytes);

// true when `bytes` is valid UTF-8 without control characters other than
// tab, LF and CR: text a person can read (etcd's keys and values, mostly).
bool IsText(std::string_view bytes);

// `s` in double quotes with \" \\ and \xNN for anything not printable ASCII.
std::string QuotedText(std::string_view bytes);

// How `dump --data` shows entry data and metadata.
enum class DataFormat { kAuto, kText, kHex, kBase64, kRaw };
// kAuto: QuotedText when printable ASCII, else "hex:" + Hex. kText: always
// QuotedText. kHex / kBase64: the encoding. kRaw: the bytes as they are.
std::string RenderData(std::string_view bytes, DataFormat format);

// "Normal", "ConfChange", "ConfChangeV2", or "Type(<n>)" for other values.
std::string EntryTypeName(wal::EntryType type);

// "4194304 B (4.0 MiB)"-style byte counts for humans.
std::string HumanBytes(uint64_t bytes);

// "%08x" of a CRC.
std::string CrcHex(uint32_t crc);

}  // namespace walctl

#endif  // WAL_TOOLS_TEXT_H_
