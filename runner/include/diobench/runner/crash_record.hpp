// A repetition that takes the kernel down with it (the unfixed OpenZFS in
// the qemu lane) cannot record itself. While a repetition runs, the runner
// keeps RUNDIR/current.json naming it; whoever watched the machine die (the
// host side of the qemu lane, reading the guest's serial console) calls
// `diobench crashed RUNDIR --console FILE`, which stores that repetition
// with the outcome `crash` and the console excerpt. `--resume` then skips
// the whole cell: a cell that crashed the kernel once is not retried.
#pragma once

#include <optional>
#include <string>

namespace diobench {

struct RunningRepetition {
  std::string cell;
  unsigned repetition = 0;
  unsigned position = 0;
  std::string started;  // ISO 8601 UTC
};

// Writes RUNDIR/current.json atomically (temporary file, fsync, rename,
// fsync of the directory): a crash right after leaves the whole record.
void mark_running(const std::string& run_dir, const RunningRepetition& r);
// Removes RUNDIR/current.json (and makes the removal durable).
void clear_running(const std::string& run_dir);
// What RUNDIR/current.json says, or nullopt when there is none. Throws
// std::invalid_argument naming the file when it is there but damaged.
std::optional<RunningRepetition> read_running(const std::string& run_dir);
// The same from current.json's text; `origin` names it in errors.
RunningRepetition parse_running(const std::string& text, const std::string& origin);

// The part of a serial console log that tells what happened: from the
// first line that reports a kernel failure (BUG:, Oops, general protection
// fault, Kernel panic, ...) on, at most `max_lines` lines; empty when the
// log reports none.
std::string crash_excerpt(const std::string& console, std::size_t max_lines = 30);

struct CrashOutcome {
  RunningRepetition repetition;
  std::string message;  // what was stored
};

// Stores the running repetition of RUNDIR as status `crash` with the
// console excerpt (or `reason` when the console shows no failure, e.g. a
// timeout; both when both are given) and clears current.json. Throws
// std::invalid_argument when RUNDIR is not a run directory or nothing was
// running.
CrashOutcome record_crash(const std::string& run_dir, const std::string& console_text,
                          const std::string& reason);

}  // namespace diobench
