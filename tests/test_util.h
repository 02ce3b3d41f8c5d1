// Helpers shared by the tests: seeds, temp dirs, hex, file reading.
#ifndef WAL_TESTS_TEST_UTIL_H_
#define WAL_TESTS_TEST_UTIL_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "wal/file_system.h"

namespace wal::testutil {

// The seed for randomised tests: $WAL_TEST_SEED if set, else fixed per run
// from the clock. Always printed so a failure can be replayed.
inline uint64_t Seed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("WAL_TEST_SEED");
    uint64_t s = env ? std::strtoull(env, nullptr, 0) : static_cast<uint64_t>(::time(nullptr));
    std::fprintf(stderr, "[seed] WAL_TEST_SEED=%llu\n", static_cast<unsigned long long>(s));
    return s;
  }();
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

inline std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

inline std::string Hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/waltest.XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() { RemoveAll(FileSystem::Default(), path_).IgnoreError(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace wal::testutil

#endif  // WAL_TESTS_TEST_UTIL_H_
