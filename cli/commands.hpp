// The subcommands main() dispatches to: each takes the arguments after its
// name and returns the exit status; bad usage throws UsageError (common.hpp).
#pragma once

#include <string>
#include <vector>

namespace diobench::cli {

// run: a profile's matrix (run_command.cpp).
int cmd_run(const std::vector<std::string>& args);

// On this machine: undo a killed run, a fleet host's set-up, a dead guest
// (machine_commands.cpp).
int cmd_restore(const std::vector<std::string>& args);
int cmd_host(const std::vector<std::string>& args);
int cmd_crashed(const std::vector<std::string>& args);

// Reading what runs stored, and the engine's path (reading_commands.cpp).
int cmd_report(const std::vector<std::string>& args);
int cmd_check(const std::vector<std::string>& args);
int cmd_compare(const std::vector<std::string>& args);
int cmd_bench_table(const std::vector<std::string>& args);
int cmd_engine_path(const std::vector<std::string>& args);

}  // namespace diobench::cli
