// The command line: subcommands, the exit-code footer, and parse errors
// mapped to exit code 1.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/common.h"

namespace walctl {

namespace {

constexpr const char* kFooter = R"(DIR is a WAL directory or an etcd data dir (walctl reads its member/wal).
Exit codes:
  0  ok
  1  usage: bad or conflicting flags, or a refused request
  2  corruption in synced data: not repairable (replace the member)
  3  I/O error or permission denied
  4  locked: another process (a running etcd member?) holds the WAL's lock
  5  no such file or directory
  6  not a WAL directory, nor an etcd data dir with member/wal
  7  no usable snapshot: the snapshot or index asked for cannot be read from
  8  torn tail: repairable with walctl repair (etcd may repair it itself)
walctl never modifies a WAL, except `walctl repair` and `walctl purge`
without --dry-run (and `walctl demo`, which creates its own).)";

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"walctl: inspect, verify and repair a write-ahead log (etcd v3 format)", "walctl"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.set_version_flag("--version", "walctl 0.1.0");
  std::vector<Command> commands = {
      AddDumpCommand(app),   AddRecordsCommand(app), AddVerifyCommand(app),
      AddRepairCommand(app), AddPurgeCommand(app),   AddInfoCommand(app),
      AddDemoCommand(app),   AddBenchCommand(app),   AddHoldLockCommand(app),
  };
  commands.push_back(AddEtcdFixtureCommand(app));  // hidden
  for (Command& c : commands) c.app->footer(kFooter);
  // One line, as every other error: "walctl: <what>: <where>".
  app.failure_message([&commands](const CLI::App*, const CLI::Error& e) {
    std::string where = "walctl";
    for (const Command& c : commands) {
      if (c.app->parsed()) where += " " + c.app->get_name();
    }
    std::string what = e.what();
    if (what.starts_with("The following argument")) {
      // "The following argument was not expected: X" / "arguments were".
      const size_t colon = what.find(": ");
      what = "unexpected argument" + (colon == std::string::npos ? std::string() : what.substr(colon));
    }
    return "walctl: " + what + ": " + where + " (see " + where + " --help)\n";
  });
  // A mistyped command would otherwise read as a missing one ("A subcommand
  // is required"): name it, and the commands there are.
  std::string names;
  bool known = false;
  for (const Command& c : commands) {
    known = known || (argc > 1 && c.app->get_name() == argv[1]);
    if (!c.app->get_group().empty()) names += (names.empty() ? "" : ", ") + c.app->get_name();
  }
  if (argc == 1) {
    std::fprintf(stderr, "walctl: a command is required (commands: %s; see walctl --help)\n", names.c_str());
    return kExitUsage;
  }
  if (argv[1][0] != '-' && !known) {
    std::fprintf(stderr, "walctl: unknown command: %s (commands: %s; see walctl --help)\n", argv[1],
                 names.c_str());
    return kExitUsage;
  }
  // CLI11 reports parse errors (and --help) by exception; they end here and
  // nowhere else. Every other failure is a wal::Status.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  for (Command& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return kExitUsage;  // unreachable: require_subcommand(1)
}

}  // namespace walctl
