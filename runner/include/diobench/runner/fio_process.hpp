// Runs fio (or another measuring program: the bench drivers) as a child
// process in a group of its own, killed if diobench dies.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace diobench {

struct FioInvocation {
  std::string program;            // empty: fio, from PATH or $DIOBENCH_FIO
  std::vector<std::string> args;  // without the program itself
  std::vector<std::string> env;   // NAME=value, added to fio's environment
  std::string log_file;           // fio's stdout and stderr go here
  bool first_signal_stops = false; // SIGINT/SIGTERM stop it at once (interrupt.hpp)
};

struct FioExit {
  int status = 0;     // exit status, or 128 + signal
  std::string log;    // the tail of fio's own output, for messages
  // The CPU it took: the machine's non-idle seconds over all CPUs from
  // just before the child was started to just after it was reaped
  // (cpu_usage.hpp), that window's wall seconds, and the child's own user
  // + system seconds with those of the children it waited for (wait4).
  std::optional<double> cpu_busy_s;
  double cpu_window_s = 0;
  double child_cpu_s = 0;
};

// Spawns the program, waits, and returns how it ended. Throws
// std::system_error when it cannot be started at all.
FioExit run_fio(const FioInvocation& invocation);

}  // namespace diobench
