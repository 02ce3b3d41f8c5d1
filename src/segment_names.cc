#include "src/segment_names.h"

#include <algorithm>
#include <cstdio>

namespace wal::internal {

std::string SegmentFileName(uint64_t seq, uint64_t index) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%016llx-%016llx.wal", static_cast<unsigned long long>(seq),
                static_cast<unsigned long long>(index));
  return buf;
}

namespace {
bool ParseHex16(std::string_view s, uint64_t* out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}
}  // namespace

std::optional<SegmentName> ParseSegmentName(std::string_view name) {
  if (name.size() != 16 + 1 + 16 + 4 || name.substr(33) != ".wal" || name[16] != '-') return std::nullopt;
  SegmentName s;
  if (!ParseHex16(name.substr(0, 16), &s.seq) || !ParseHex16(name.substr(17, 16), &s.index))
    return std::nullopt;
  s.name = std::string(name);
  return s;
}

Result<std::vector<SegmentName>> ListSegments(FileSystem* fs, const std::string& dir) {
  auto names = fs->ListDir(dir);
  if (!names.has_value()) {
    if (names.error().code() == StatusCode::kNotFound)
      return Status(StatusCode::kFileNotFound, "wal: directory " + dir + " does not exist");
    return names.error();
  }
  std::vector<SegmentName> segs;
  for (const auto& n : *names) {
    if (auto s = ParseSegmentName(n)) segs.push_back(std::move(*s));
  }
  if (segs.empty()) return Status(StatusCode::kFileNotFound, "wal: no *.wal file in " + dir);
  std::sort(segs.begin(), segs.end(),
            [](const SegmentName& a, const SegmentName& b) { return a.name < b.name; });
  return segs;
}

std::optional<size_t> SearchIndex(const std::vector<SegmentName>& segs, uint64_t index) {
  for (size_t i = segs.size(); i-- > 0;) {
    if (index >= segs[i].index) return i;
  }
  return std::nullopt;
}

size_t SeqRunStart(const std::vector<SegmentName>& segs, size_t at) {
  size_t start = at;
  // etcd compares a pair only when the earlier sequence is not 0.
  while (start > 0 && (segs[start - 1].seq == 0 || segs[start - 1].seq == segs[start].seq - 1)) --start;
  return start;
}

bool IsValidSeq(const std::vector<SegmentName>& segs, size_t from) {
  return from >= segs.size() || SeqRunStart(segs, segs.size() - 1) <= from;
}

std::string ParentDir(const std::string& path) {
  std::string p = CleanPath(path);
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

}  // namespace wal::internal

namespace wal {

std::string JoinPath(const std::string& dir, std::string_view name) {
  std::string p = dir;
  if (!p.empty() && p.back() != '/') p += '/';
  p += name;
  return p;
}

std::string CleanPath(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace wal
