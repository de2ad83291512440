// The subcommands main() dispatches to: each takes the arguments after its
// name and returns the exit status; bad usage throws UsageError (common.hpp).
#pragma once

#include <string>
#include <vector>

namespace diobench::cli {

// run: a profile's matrix (run_command.cpp).
int cmd_run(const std::vector<std::string>& args);

}  // namespace diobench::cli
