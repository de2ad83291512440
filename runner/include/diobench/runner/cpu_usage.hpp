// The CPU a repetition used. fio's own user + system time leaves out the
// work the kernel does for it elsewhere (the loop driver's worker
// threads, ZFS's taskq threads, interrupts), so the runner also takes the
// whole machine's busy time over the same window.
#pragma once

#include <optional>
#include <string_view>

namespace diobench {

// Non-idle CPU seconds summed over all CPUs since boot, from the "cpu"
// line of /proc/stat: user + nice + system + irq + softirq + steal (guest
// time is already inside user and nice; idle and iowait are not busy).
// nullopt when /proc/stat cannot be read.
std::optional<double> system_busy_seconds();
// The same from the text of a /proc/stat (for tests).
std::optional<double> busy_seconds_from_proc_stat(std::string_view text);

}  // namespace diobench
