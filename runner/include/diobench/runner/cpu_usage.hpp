// The CPU a repetition used. fio's own user + system time leaves out the
// work the kernel does for it elsewhere (the loop driver's worker
// threads, ZFS's taskq threads, interrupts), so the runner also takes the
// whole machine's busy time over the same window.
#pragma once

#include <optional>
#include <string_view>

namespace diobench {

// Idle CPU seconds summed over all CPUs since boot, from the "cpu" line of
// /proc/stat: idle + iowait. On a tickless kernel these are measured
// exactly, while user and system are sampled at each tick and miss the
// short bursts of a psync workload (measured here: the ticks' busy time
// came out 0.2-0.4 s under the exact figure over a 3.3 s fio run, below
// fio's own rusage). nullopt when /proc/stat cannot be read.
std::optional<double> system_idle_seconds();
// The same from the text of a /proc/stat (for tests).
std::optional<double> idle_seconds_from_proc_stat(std::string_view text);
// Busy CPU seconds over a window of `window_s` wall seconds on `cpus`
// online CPUs, from the idle seconds at its start and end: every CPU
// second of the window that was not idle (user, system, interrupts,
// steal, the loop driver's and ZFS's kernel threads alike).
double busy_seconds(double window_s, long cpus, double idle_before, double idle_after);

}  // namespace diobench
