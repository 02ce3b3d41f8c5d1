// Creates a WAL, saves, reopens, reads back: the package works end to end.
#include <cstdio>
#include <string>
#include <vector>

#include "wal/wal.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = std::string(argv[1]) + "/wal";
  auto w = wal::WAL::Create(dir, "consumer");
  if (!w) return std::fprintf(stderr, "%s\n", w.error().ToString().c_str()), 1;
  std::vector<wal::Entry> ents = {{.term = 1, .index = 1, .data = "a"}, {.term = 1, .index = 2, .data = "b"}};
  if (!(*w)->Save(wal::HardState{.term = 1, .vote = 1, .commit = 2}, ents).ok()) return 1;
  if (!(*w)->Close().ok()) return 1;
  auto r = wal::WAL::Open(dir, wal::Snapshot{});
  if (!r) return 1;
  auto all = (*r)->ReadAll();
  if (!all || all->entries != ents || all->metadata != "consumer") return 1;
  std::printf("consumer: read %zu entries back through the installed package\n", all->entries.size());
  return 0;
}
