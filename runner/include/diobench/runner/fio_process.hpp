// Runs the fio binary as a child process.
#pragma once

#include <string>
#include <vector>

namespace diobench {

struct FioInvocation {
  std::vector<std::string> args;  // without the leading "fio"
  std::vector<std::string> env;   // NAME=value, added to fio's environment
  std::string log_file;           // fio's stdout and stderr go here
};

struct FioExit {
  int status = 0;     // exit status, or 128 + signal
  std::string log;    // the tail of fio's own output, for messages
};

// Spawns `fio` from PATH (or $DIOBENCH_FIO), waits, and returns how it
// ended. Throws std::system_error when fio cannot be started at all.
FioExit run_fio(const FioInvocation& invocation);

}  // namespace diobench
