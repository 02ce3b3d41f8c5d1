// walctl: the operator's tool for inspecting, verifying and repairing a WAL.
// Everything but the out-of-memory guard lives in cli.cc and cmd_*.cc.
#include <cstdio>
#include <new>

#include "tools/commands.h"

int main(int argc, char** argv) {
  try {
    return walctl::Main(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fputs("walctl: out of memory\n", stderr);
    return 3;
  }
}
