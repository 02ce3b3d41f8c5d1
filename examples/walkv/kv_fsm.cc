#include "examples/walkv/kv_fsm.h"

#include <cstring>

namespace walkv {
namespace {

constexpr std::string_view kSnapshotMagic = "WKV1";

constexpr size_t PaddedTo8(size_t n) { return (n + 7) & ~size_t{7}; }

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
// Reads a little-endian integer of `n` bytes at `*pos`, advancing it; false when out of bytes.
bool GetLe(std::string_view in, size_t* pos, int n, uint64_t* v) {
  if (in.size() - *pos < static_cast<size_t>(n)) return false;
  *v = 0;
  for (int i = 0; i < n; ++i) {
    *v |= static_cast<uint64_t>(static_cast<unsigned char>(in[*pos + i])) << (8 * i);
  }
  *pos += n;
  return true;
}

// FNV-1a 64 over the bytes, then a final avalanche (splitmix64's), so that XOR-combining the
// pair hashes does not cancel structure between similar keys.
uint64_t Fnv(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

std::string EncodePut(std::string_view key, std::string_view value) {
  const size_t used = 8 + key.size() + value.size();
  std::string out;
  out.reserve(PaddedTo8(used));
  PutU32(out, static_cast<uint32_t>(key.size()));
  PutU32(out, static_cast<uint32_t>(value.size()));
  out.append(key);
  out.append(value);
  out.resize(PaddedTo8(used), '\0');
  return out;
}

std::optional<PutCommand> DecodePut(std::string_view payload) {
  size_t pos = 0;
  uint64_t key_size = 0, value_size = 0;
  if (!GetLe(payload, &pos, 4, &key_size) || !GetLe(payload, &pos, 4, &value_size)) {
    return std::nullopt;
  }
  if (payload.size() - pos < key_size + value_size) return std::nullopt;
  if (payload.size() != PaddedTo8(pos + key_size + value_size)) return std::nullopt;
  return PutCommand{payload.substr(pos, key_size), payload.substr(pos + key_size, value_size)};
}

uint64_t PairHash(std::string_view key, std::string_view value) {
  // The key's length goes first so that ("ab","c") and ("a","bc") differ.
  char len[8];
  uint64_t n = key.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  uint64_t h = Fnv(14695981039346656037ull, std::string_view(len, 8));
  h = Fnv(h, key);
  h = Fnv(h, value);
  return Mix(h);
}

void KvMap::Put(std::string_view key, std::string_view value) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    map_.emplace(std::string(key), std::string(value));
  } else {
    hash_ ^= PairHash(it->first, it->second);
    it->second.assign(value);
  }
  hash_ ^= PairHash(key, value);
}

const std::string* KvMap::Find(const std::string& key) const {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

std::string KvMap::Serialize() const {
  size_t bytes = kSnapshotMagic.size() + 8;
  for (const auto& [k, v] : map_) bytes += 8 + k.size() + v.size();
  std::string out;
  out.reserve(bytes);
  out.append(kSnapshotMagic);
  PutU64(out, map_.size());
  for (const auto& [k, v] : map_) {
    PutU32(out, static_cast<uint32_t>(k.size()));
    PutU32(out, static_cast<uint32_t>(v.size()));
    out.append(k);
    out.append(v);
  }
  return out;
}

bool KvMap::Restore(std::string_view image) {
  if (image.substr(0, kSnapshotMagic.size()) != kSnapshotMagic) return false;
  size_t pos = kSnapshotMagic.size();
  uint64_t count = 0;
  if (!GetLe(image, &pos, 8, &count)) return false;
  // Every pair takes at least 8 bytes: a count beyond that is a lie, not a reason to loop.
  if (count > (image.size() - pos) / 8) return false;
  KvMap fresh;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t key_size = 0, value_size = 0;
    if (!GetLe(image, &pos, 4, &key_size) || !GetLe(image, &pos, 4, &value_size)) return false;
    if (image.size() - pos < key_size + value_size) return false;
    fresh.Put(image.substr(pos, key_size), image.substr(pos + key_size, value_size));
    pos += key_size + value_size;
  }
  if (pos != image.size() || fresh.size() != count) return false;
  *this = std::move(fresh);
  return true;
}

}  // namespace walkv
