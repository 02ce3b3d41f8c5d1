// Helpers shared by the fuzz targets (fuzz/*_fuzzer.cc): an always-on check
// that aborts with a message (libFuzzer then saves the input), the largest
// single allocation made while a scope is active, and a few formatting
// helpers for failure messages.
#ifndef WAL_FUZZ_FUZZ_UTIL_H_
#define WAL_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "wal/status.h"
#include "wal/types.h"
#include "wal/wal.h"

// Aborts with `msg` (a std::string expression, evaluated only on failure).
#define FUZZ_CHECK(cond, msg)                                                                 \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n  %s\n", __FILE__, __LINE__, #cond, \
                   std::string(msg).c_str());                                                 \
      std::fflush(stderr);                                                                    \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace walfuzz {

// Records the size of the largest single allocation (operator new or, under
// a sanitizer, malloc) made between Begin and End on any thread. Defined in
// fuzz/alloc_tracker.cc; only the targets that link it may call these.
void BeginAllocTracking();
size_t EndAllocTracking();

inline std::string Describe(const wal::Status& s) { return s.ok() ? std::string("OK") : s.ToString(); }

inline std::string Describe(const std::vector<wal::Entry>& ents) {
  std::string out = std::to_string(ents.size()) + " entries";
  if (!ents.empty()) {
    out += " [" + std::to_string(ents.front().index) + ".." + std::to_string(ents.back().index) + "]";
  }
  return out;
}

inline std::string Describe(const wal::HardState& s) {
  return "{term " + std::to_string(s.term) + ", vote " + std::to_string(s.vote) + ", commit " +
         std::to_string(s.commit) + "}";
}

inline std::string Describe(const wal::ReadAllResult& r) {
  return "metadata(" + std::to_string(r.metadata.size()) + " bytes) state " + Describe(r.state) + " " +
         Describe(r.entries);
}

inline bool SameResult(const wal::ReadAllResult& a, const wal::ReadAllResult& b) {
  return a.metadata == b.metadata && a.state == b.state && a.entries == b.entries;
}

// What OpenForRead + ReadAll of `dir` at `snap` returned.
struct ReadOutcome {
  wal::Status status;
  wal::ReadAllResult result;
  std::string Describe() const {
    return status.ok() ? "OK " + walfuzz::Describe(result) : walfuzz::Describe(status);
  }
};

inline ReadOutcome ReadForRead(const std::string& dir, const wal::Snapshot& snap, const wal::Options& o) {
  ReadOutcome out;
  auto w = wal::WAL::OpenForRead(dir, snap, o);
  if (!w.has_value()) {
    out.status = w.error();
    return out;
  }
  auto r = (*w)->ReadAll();
  if (!r.has_value()) {
    out.status = r.error();
    return out;
  }
  out.result = std::move(r).value();
  return out;
}

}  // namespace walfuzz

#endif  // WAL_FUZZ_FUZZ_UTIL_H_
