// Runs fio (or another measuring program: the bench drivers) as a child
// process (child_process.hpp: no shell, a group of its own, killed if
// diobench dies, a time limit) and puts its JSON in place only when it
// succeeded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace diobench {

struct FioInvocation {
  std::string program;            // empty: fio, from PATH or $DIOBENCH_FIO
  std::vector<std::string> args;  // without the program itself
  std::vector<std::string> env;   // NAME=value, added to fio's environment
  std::string log_file;           // fio's stdout and stderr go here
  // fio's JSON report: fio writes it under a temporary name beside it
  // (--output), which is put in place (fsync, rename, fsync the directory)
  // only once fio exited 0. Empty: the args say where output goes.
  std::string output_file;
  // The time limit; 0: derived from the args (fio_time_limit_s), which
  // must then say what fio is asked to do.
  double timeout_s = 0;
  bool first_signal_stops = false;  // SIGINT/SIGTERM stop it at once (interrupt.hpp)
};

struct FioExit {
  int status = 0;          // exit status, or 128 + signal
  bool timed_out = false;  // killed when its time limit was up
  std::string reason;      // why it failed ("timed out after 75 s", ...); empty if it exited 0
  std::string log;         // the tail of fio's own output, for messages
  // The CPU it took: the machine's non-idle seconds over all CPUs from
  // just before the child was started to just after it was reaped
  // (cpu_usage.hpp), that window's wall seconds, and the child's own user
  // + system seconds with those of the children it waited for (wait4).
  std::optional<double> cpu_busy_s;
  double cpu_window_s = 0;
  double child_cpu_s = 0;
  bool ok() const { return status == 0 && !timed_out; }
};

// What an fio job is asked to do, as far as its duration goes.
struct FioWork {
  double ramp_s = 0;
  std::optional<double> runtime_s;
  bool time_based = false;
  std::optional<std::uint64_t> bytes;  // what all jobs move (size or io_size x loops x numjobs)
  std::uint64_t verify_bytes = 0;      // what a verify phase reads back
};

// Read from fio's command-line options (--runtime, --ramp_time,
// --time_based, --size, --io_size, --loops, --numjobs, --verify,
// --do_verify); nullopt when they say neither a runtime nor a size.
std::optional<FioWork> fio_work_from_args(const std::vector<std::string>& args);

// The longest a healthy fio takes for `work`: its ramp and runtime (or,
// without time_based, its bytes at a floor of 1 MiB/s, whichever ends the
// job first), a verify phase at that floor, and 60 s to start (our engine
// may ask zfs) and to exit.
double fio_time_limit_s(const FioWork& work);

// The bench drivers' time limit: they are asked for the drivers that
// `args` select (counted with --benchmark_list_tests, itself limited to
// 60 s), each `repetitions` times at least `min_time_s`; per driver four
// times that plus 2 s of set-up per repetition, and writing its data file
// at a floor of 4 MiB/s; two minutes to start and exit.
double bench_drivers_time_limit_s(const std::string& program, const std::vector<std::string>& args,
                                  unsigned repetitions, double min_time_s, unsigned file_size_mib);

// Spawns the program, waits (killing it when its time is up), and returns
// how it ended. Throws std::system_error when it cannot be started at all,
// std::invalid_argument when no time limit is given or derivable.
FioExit run_fio(const FioInvocation& invocation);

}  // namespace diobench
