// walctl's subcommands. Each Add*Command registers its flags on `parent`
// and returns the function to run once the command line has been parsed.
#ifndef WAL_TOOLS_COMMANDS_H_
#define WAL_TOOLS_COMMANDS_H_

#include <functional>

namespace CLI {
class App;
}  // namespace CLI

namespace walctl {

struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command AddDumpCommand(CLI::App& parent);
Command AddRecordsCommand(CLI::App& parent);
Command AddVerifyCommand(CLI::App& parent);
Command AddRepairCommand(CLI::App& parent);
Command AddPurgeCommand(CLI::App& parent);
Command AddInfoCommand(CLI::App& parent);
Command AddDemoCommand(CLI::App& parent);
Command AddBenchCommand(CLI::App& parent);
Command AddHoldLockCommand(CLI::App& parent);  // hidden; for tests and fencing
// Hidden; writes a WAL with etcd's payloads, for tests.
Command AddEtcdFixtureCommand(CLI::App& parent);

// Builds the CLI, parses argv and runs the chosen command; returns the exit
// code (see the --help footer).
int Main(int argc, char** argv);

}  // namespace walctl

#endif  // WAL_TOOLS_COMMANDS_H_
